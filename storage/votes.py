"""Votes (one rating per person per entry, enforced by UNIQUE) and ballot exposures."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from storage.db import to_iso, transaction
from storage.models import Rating, RatingCounts
from storage.shards import ShardSet, on_shards


def count_columns(votes_alias: str = "v") -> str:
    """SQL for one entry's rating counts, in :class:`RatingCounts` order and with its field
    names (``funny, somewhat_funny, unfunny``); the votes table is ``votes_alias``."""
    return ", ".join(
        f"coalesce(sum({votes_alias}.rating = {rating.value}), 0) AS {name}"
        for rating, name in zip(Rating, RatingCounts._fields, strict=True)
    )


@dataclass(frozen=True)
class Vote:
    """One stored rating: who rated which entry how, by emoji or ballot."""

    entry_id: int
    voter_id: int
    rating: Rating
    source: str


def record_vote(
    db: Database, entry_id: int, voter_id: int, rating: int, source: str, now: datetime
) -> None:
    """Store a rating; a later rating by the same person on the same entry replaces the earlier."""
    db.execute(
        "INSERT INTO votes (entry_id, voter_id, rating, source, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (entry_id, voter_id) DO UPDATE SET"
        " rating = excluded.rating, source = excluded.source, updated_at = excluded.updated_at",
        [entry_id, voter_id, rating, source, to_iso(now), to_iso(now)],
    )


def remove_vote(db: Database, entry_id: int, voter_id: int, rating: int | None = None) -> bool:
    """Delete a person's rating of an entry; with ``rating``, only if that is the stored one.

    Removing the 😂 reaction after switching to 🙂 must not delete the 🙂 vote.
    """
    if rating is None:
        cursor = db.execute(
            "DELETE FROM votes WHERE entry_id = ? AND voter_id = ?", [entry_id, voter_id]
        )
    else:
        cursor = db.execute(
            "DELETE FROM votes WHERE entry_id = ? AND voter_id = ? AND rating = ?",
            [entry_id, voter_id, rating],
        )
    return cursor.rowcount > 0


def contest_ratings(db: Database, contest_id: int, *, source: str | None = None) -> list[Vote]:
    """Every rating on the contest's entries (live or not), optionally of one source."""
    sql = (
        "SELECT v.entry_id, v.voter_id, v.rating, v.source FROM votes v"
        " JOIN entries e ON e.id = v.entry_id WHERE e.contest_id = ?"
    )
    params: list = [contest_id]
    if source is not None:
        sql, params = sql + " AND v.source = ?", [*params, source]
    rows = db.execute(sql + " ORDER BY v.id", params).fetchall()
    return [Vote(entry, voter, Rating(rating), source) for entry, voter, rating, source in rows]


def rating_counts(db: Database, contest_id: int) -> dict[int, RatingCounts]:
    """Per entry of the contest (that has any), its rating counts (counted by SQLite).

    What choosing the next ballot caption needs on every button press: building every
    :class:`Vote` of a large contest instead grows each press with the contest's size.
    """
    rows = db.execute(
        f"SELECT v.entry_id, {count_columns()} FROM votes v"
        " JOIN entries e ON e.id = v.entry_id WHERE e.contest_id = ? GROUP BY v.entry_id",
        [contest_id],
    ).fetchall()
    return {entry_id: RatingCounts(*counts) for entry_id, *counts in rows}


def replace_emoji_votes(
    db: Database,
    contest_id: int,
    observed: Iterable[Vote],
    now: datetime,
    left_alone: Collection[tuple[int, int]] = (),
) -> tuple[int, int]:
    """Make the contest's emoji votes equal to what the reactions show now; returns (upserted, deleted).

    Used when the bot starts and before closing: votes cast while it was offline are added,
    reactions removed while it was offline take their votes with them. Ballot votes are untouched,
    and so are the ``left_alone`` (entry, voter) pairs: votes that changed live meanwhile.
    """
    left_alone = set(left_alone)
    wanted = {(r.entry_id, r.voter_id): r.rating for r in observed}
    wanted = {key: rating for key, rating in wanted.items() if key not in left_alone}
    with transaction(db):
        stored = {
            (r.entry_id, r.voter_id): r.rating
            for r in contest_ratings(db, contest_id, source="emoji")
        }
        deleted = 0
        for key in stored.keys() - wanted.keys() - left_alone:
            deleted += remove_vote(db, *key)
        upserted = 0
        for (entry_id, voter_id), rating in wanted.items():
            if stored.get((entry_id, voter_id)) != rating:
                record_vote(db, entry_id, voter_id, rating, "emoji", now)
                upserted += 1
    return upserted, deleted


def log_exposure(
    db: Database, contest_id: int, entry_id: int, voter_id: int, now: datetime
) -> None:
    """Record that a ballot showed this entry to this voter."""
    db.execute(
        "INSERT INTO exposures (contest_id, entry_id, voter_id, shown_at) VALUES (?, ?, ?, ?)",
        [contest_id, entry_id, voter_id, to_iso(now)],
    )


def exposure_counts(db: Database, contest_id: int) -> dict[int, int]:
    """How many times each entry was shown on ballots."""
    rows = db.execute(
        "SELECT entry_id, count(*) FROM exposures WHERE contest_id = ? GROUP BY entry_id",
        [contest_id],
    ).fetchall()
    return dict(rows)


def seen_by(db: Database, contest_id: int, voter_id: int) -> set[int]:
    """The entries a voter has already been shown or has rated in this contest."""
    shown = db.execute(
        "SELECT entry_id FROM exposures WHERE contest_id = ? AND voter_id = ?",
        [contest_id, voter_id],
    ).fetchall()
    rated = db.execute(
        "SELECT v.entry_id FROM votes v JOIN entries e ON e.id = v.entry_id"
        " WHERE e.contest_id = ? AND v.voter_id = ?",
        [contest_id, voter_id],
    ).fetchall()
    return {row[0] for row in shown} | {row[0] for row in rated}


def clear_emoji_votes(db: Database, entry_id: int, rating: int | None = None) -> int:
    """Drop an entry's emoji votes (all, or one rating's) when its reactions are cleared."""
    sql, params = "DELETE FROM votes WHERE entry_id = ? AND source = 'emoji'", [entry_id]
    if rating is not None:
        sql, params = sql + " AND rating = ?", [*params, rating]
    return db.execute(sql, params).rowcount


def shown_to(db: Database, contest_id: int, voter_id: int) -> set[int]:
    """The entries a ballot has shown this voter (a rating button is only theirs if listed here)."""
    rows = db.execute(
        "SELECT DISTINCT entry_id FROM exposures WHERE contest_id = ? AND voter_id = ?",
        [contest_id, voter_id],
    ).fetchall()
    return {row[0] for row in rows}


@dataclass(frozen=True)
class VoteChange:
    """One live rating change: ``rating`` set, or (``rating=None``) ``removed`` withdrawn."""

    entry_id: int
    voter_id: int
    rating: Rating | None
    removed: Rating | None = None
    source: str = "emoji"


_WHILE_VOTING = (
    "EXISTS (SELECT 1 FROM entries e JOIN contests c ON c.id = e.contest_id"
    " WHERE e.id = ? AND e.status = 'active' AND c.phase = 'voting')"
)


def apply_vote_changes(db: Database, changes: Iterable[VoteChange], now: datetime) -> list[bool]:
    """Apply what arrived together in one transaction; per change, whether it took effect.

    A change counts only while its entry is live in a contest that is voting, checked here in the
    same transaction: a vote that reaches the database after the close, or on an entry withdrawn
    meanwhile, changes nothing. A withdrawal deletes the rating only if it is still ``removed``
    (a member who switched 😂 → 🙂 and then took the 😂 off keeps the 🙂).
    """
    applied = []
    with transaction(db):
        for change in changes:
            if change.rating is not None:
                cursor = db.execute(
                    "INSERT INTO votes (entry_id, voter_id, rating, source, created_at, updated_at)"
                    f" SELECT ?, ?, ?, ?, ?, ? WHERE {_WHILE_VOTING}"
                    " ON CONFLICT (entry_id, voter_id) DO UPDATE SET rating = excluded.rating,"
                    " source = excluded.source, updated_at = excluded.updated_at",
                    [
                        change.entry_id,
                        change.voter_id,
                        change.rating,
                        change.source,
                        to_iso(now),
                        to_iso(now),
                        change.entry_id,
                    ],
                )
            else:
                cursor = db.execute(
                    "DELETE FROM votes WHERE entry_id = ? AND voter_id = ? AND rating = ?"
                    f" AND {_WHILE_VOTING}",
                    [change.entry_id, change.voter_id, change.removed, change.entry_id],
                )
            applied.append(cursor.rowcount > 0)
    return applied


def posted_live_entries(
    db: Database, shards: ShardSet | None = None
) -> list[tuple[int, int, int, int]]:
    """(message id, entry id, guild id, author id) of every posted live entry of a contest that
    is voting, in the guilds on ``shards`` (all without): what the bot watches for reactions."""
    on, params = on_shards(shards, "c.guild_id")
    return db.execute(
        "SELECT e.message_id, e.id, c.guild_id, e.author_id FROM entries e"
        " JOIN contests c ON c.id = e.contest_id"
        f" WHERE c.phase = 'voting' AND e.status = 'active' AND e.message_id IS NOT NULL AND {on}",
        params,
    ).fetchall()
