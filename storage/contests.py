"""Contests: one per guild per local day, moving SUBMISSIONS → VOTING → CLOSED."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from storage.db import to_iso
from storage.models import Contest, RatingCounts
from storage.shards import ShardSet, on_shards
from storage.votes import count_columns

_COLUMNS = (
    "id, guild_id, day, prompt_id, season_id, phase, opens_at, voting_at, closes_at, "
    "channel_id, prompt_message_id, thread_id, results_message_id"
)
_MESSAGE_FIELDS = {"channel_id", "prompt_message_id", "thread_id", "results_message_id"}


def open_contest(
    db: Database,
    *,
    guild_id: int,
    day: str,
    prompt_id: int | None,
    season_id: int | None,
    opens_at: datetime,
    voting_at: datetime,
    closes_at: datetime,
    channel_id: int | None,
    now: datetime,
) -> tuple[Contest, bool]:
    """Create the guild's contest for ``day``; returns (contest, created).

    A second call for the same guild and day (a job that fired twice, a catch-up racing the
    schedule) returns the existing contest with ``created=False``: UNIQUE(guild_id, day) decides.
    """
    cursor = db.execute(
        "INSERT INTO contests (guild_id, day, prompt_id, season_id, phase, opens_at, voting_at,"
        " closes_at, channel_id, created_at) VALUES (?, ?, ?, ?, 'submissions', ?, ?, ?, ?, ?)"
        " ON CONFLICT (guild_id, day) DO NOTHING",
        [
            guild_id,
            day,
            prompt_id,
            season_id,
            to_iso(opens_at),
            to_iso(voting_at),
            to_iso(closes_at),
            channel_id,
            to_iso(now),
        ],
    )
    created = cursor.rowcount == 1
    return contest_for_day(db, guild_id, day), created  # type: ignore[return-value]


def _one(db: Database, where: str, params: list) -> Contest | None:
    rows = list(db.query(f"SELECT {_COLUMNS} FROM contests WHERE {where} LIMIT 1", params))
    return Contest.from_row(rows[0]) if rows else None


def get_contest(db: Database, contest_id: int) -> Contest | None:
    return _one(db, "id = ?", [contest_id])


def contest_for_day(db: Database, guild_id: int, day: str) -> Contest | None:
    return _one(db, "guild_id = ? AND day = ?", [guild_id, day])


def latest_contest(db: Database, guild_id: int) -> Contest | None:
    """The guild's most recent contest (by day), whatever its phase."""
    return _one(db, "guild_id = ? ORDER BY day DESC", [guild_id])


def contest_by_message(db: Database, message_id: int) -> Contest | None:
    """The contest whose prompt or results message has this id."""
    return _one(db, "prompt_message_id = ? OR results_message_id = ?", [message_id, message_id])


def unfinished_contests(db: Database, shards: ShardSet | None = None) -> list[Contest]:
    """Every contest not yet closed, oldest first (what a restart must pick up), of the guilds
    on ``shards`` (all guilds without)."""
    on, params = on_shards(shards)
    rows = db.query(
        f"SELECT {_COLUMNS} FROM contests WHERE phase != 'closed' AND {on} ORDER BY closes_at",
        params,
    )
    return [Contest.from_row(row) for row in rows]


def guild_contests(db: Database, guild_id: int, *, season_id: int | None = None) -> list[Contest]:
    where, params = "guild_id = ?", [guild_id]
    if season_id is not None:
        where, params = where + " AND season_id = ?", [*params, season_id]
    rows = db.query(f"SELECT {_COLUMNS} FROM contests WHERE {where} ORDER BY day", params)
    return [Contest.from_row(row) for row in rows]


def advance_phase(db: Database, contest_id: int, from_phase: str, to_phase: str) -> bool:
    """Compare-and-set the phase; returns False when another run already moved it."""
    cursor = db.execute(
        "UPDATE contests SET phase = ? WHERE id = ? AND phase = ?",
        [to_phase, contest_id, from_phase],
    )
    return cursor.rowcount == 1


def set_times(
    db: Database,
    contest_id: int,
    *,
    voting_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> None:
    """Move a contest's deadlines (a moderator extending it)."""
    if voting_at is not None:
        db.execute(
            "UPDATE contests SET voting_at = ? WHERE id = ?", [to_iso(voting_at), contest_id]
        )
    if closes_at is not None:
        db.execute(
            "UPDATE contests SET closes_at = ? WHERE id = ?", [to_iso(closes_at), contest_id]
        )


def set_message_ids(db: Database, contest_id: int, **ids: int | None) -> None:
    """Remember the Discord ids of the contest's channel, prompt, thread and results messages."""
    unknown = set(ids) - _MESSAGE_FIELDS
    if unknown:
        raise ValueError(f"unknown message field(s): {', '.join(sorted(unknown))}")
    for name, value in ids.items():
        db.execute(f"UPDATE contests SET {name} = ? WHERE id = ?", [value, contest_id])


def unannounced_contests(db: Database, shards: ShardSet | None = None) -> list[Contest]:
    """Closed contests whose results were never posted (a crash between closing and posting),
    of the guilds on ``shards`` (all guilds without)."""
    on, params = on_shards(shards)
    rows = db.query(
        f"SELECT {_COLUMNS} FROM contests WHERE phase = 'closed' AND results_message_id IS NULL"
        f" AND {on} ORDER BY closes_at",
        params,
    )
    return [Contest.from_row(row) for row in rows]


def reopen_voting(db: Database, contest_id: int, closes_at: datetime) -> None:
    """Put a closed contest back into voting until ``closes_at``; its results will be posted anew."""
    db.execute(
        "UPDATE contests SET phase = 'voting', closes_at = ?, results_message_id = NULL"
        " WHERE id = ? AND phase = 'closed'",
        [to_iso(closes_at), contest_id],
    )


def closed_contest_votes(db: Database, guild_id: int) -> list[dict]:
    """Per closed contest of the guild, oldest first: its day, prompt description, and each live
    entry's text with its :class:`RatingCounts`."""
    rows = db.query(
        "SELECT c.id AS contest_id, c.day, coalesce(p.description, '') AS description, e.text, "
        + count_columns()
        + " FROM contests c JOIN entries e ON e.contest_id = c.id AND e.status = 'active'"
        # an erased member's captions (author < 0) keep their place, but not as something to learn from
        " AND e.author_id > 0"
        " LEFT JOIN prompts p ON p.id = c.prompt_id LEFT JOIN votes v ON v.entry_id = e.id"
        " WHERE c.guild_id = ? AND c.phase = 'closed' GROUP BY e.id ORDER BY c.day, c.id, e.id",
        [guild_id],
    )
    contests: dict[int, dict] = {}
    for row in rows:
        contest = contests.setdefault(
            row["contest_id"],
            {
                "contest_id": row["contest_id"],
                "day": row["day"],
                "description": row["description"],
                "captions": [],
            },
        )
        counts = RatingCounts(*(row[name] for name in RatingCounts._fields))
        contest["captions"].append((row["text"], counts))
    return list(contests.values())
