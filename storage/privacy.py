"""A member's own data in one guild: what is held, and erasing it on request.

Erasing a member (:func:`erase_member`):

- in a running contest their entries leave it (withdrawn): never posted, rated or placed;
- in a closed contest their entries keep their place, anonymously: text replaced, and the author
  is a *former member*, a pseudonym of their own (a negative id, minus a ``former_members`` row),
  so two erased members never merge on a leaderboard;
- their votes, ballot exposures, jokes and ban row are deleted; audit lines, bans they issued,
  pictures and blocked terms they added name the pseudonym instead of them.

The returned :class:`Erasure` lists the bot's Discord posts that carried their words, for the bot
to edit; :func:`purge_deleted_content` then overwrites what SQLite freed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from storage import prompts
from storage.backup import rewrite_backups
from storage.db import transaction
from storage.models import Rating

ERASED_TEXT = "[deleted at its author's request]"
FORMER_MEMBER = "a former member"
_GUILD_ENTRIES = (
    "SELECT e.id FROM entries e JOIN contests c ON c.id = e.contest_id WHERE c.guild_id = ?"
)
_GUILD_CONTESTS = "SELECT id FROM contests WHERE guild_id = ?"
_AUDIT_NAMING = (
    "FROM audit_log WHERE guild_id = ? AND (actor_id = ? OR target = ? OR instr(details, ?) > 0)"
)


def is_former_member(author_id: int) -> bool:
    """Whether ``author_id`` is an erased member's pseudonym rather than a Discord user id."""
    return author_id < 0


@dataclass(frozen=True)
class EntryPost:
    """An entry's post in a voting thread: its text is to be replaced."""

    channel_id: int
    message_id: int
    number: int
    withdrawn: bool  # it was in a running contest, and left it


@dataclass(frozen=True)
class ResultsPost:
    """A contest's results post that named the member and quoted their captions."""

    contest_id: int
    channel_id: int
    message_id: int
    captions: tuple[tuple[int, str], ...]  # (entry number, the caption as it was posted)
    on_card: bool  # one of them is in the top three, which the results card shows
    reposted: bool  # the contest was reopened: earlier results posts exist too


@dataclass(frozen=True)
class VoteReaction:
    """The member's rating emoji on an entry post of a contest still voting."""

    channel_id: int
    message_id: int
    emoji: str


@dataclass(frozen=True)
class Erasure:
    """What an erasure changed, and what on Discord still shows the member's words.

    Held in memory only, for the edits: the database keeps none of it.
    """

    user_id: int
    pseudonym: int
    counts: dict[str, int]
    entry_posts: list[EntryPost]
    results_posts: list[ResultsPost]
    reactions: list[VoteReaction]


def member_data(db: Database, guild_id: int, user_id: int) -> dict[str, list[dict]]:
    """Everything stored about ``user_id`` in this guild, as plain rows."""
    return {
        "entries": list(
            db.query(
                "SELECT c.day, e.text, e.status, e.reason, e.created_at FROM entries e"
                " JOIN contests c ON c.id = e.contest_id WHERE c.guild_id = ? AND e.author_id = ? ORDER BY e.id",
                [guild_id, user_id],
            )
        ),
        "votes": list(
            db.query(
                f"SELECT entry_id, rating, source, updated_at FROM votes WHERE voter_id = ? AND entry_id IN ({_GUILD_ENTRIES})",
                [user_id, guild_id],
            )
        ),
        "ballot_exposures": list(
            db.query(
                "SELECT x.entry_id, x.shown_at FROM exposures x JOIN contests c ON c.id = x.contest_id"
                " WHERE c.guild_id = ? AND x.voter_id = ?",
                [guild_id, user_id],
            )
        ),
        "placements": list(
            db.query(
                "SELECT c.day, p.rank, p.points FROM placements p JOIN contests c ON c.id = p.contest_id"
                " WHERE c.guild_id = ? AND p.author_id = ?",
                [guild_id, user_id],
            )
        ),
        "jokes": list(
            db.query(
                "SELECT kind, topic, text, served_at FROM jokes WHERE guild_id = ? AND user_id = ?",
                [guild_id, user_id],
            )
        ),
        **prompts.suggester_data(db, guild_id, user_id),
        "ban": list(
            db.query(
                "SELECT reason, banned_at FROM bans WHERE guild_id = ? AND user_id = ?",
                [guild_id, user_id],
            )
        ),
        "bans_issued": list(
            db.query(
                "SELECT user_id, reason, banned_at FROM bans WHERE guild_id = ? AND banned_by = ?",
                [guild_id, user_id],
            )
        ),
        "pictures_added": list(
            db.query(
                "SELECT id, description, added_at FROM prompts WHERE guild_id = ? AND added_by = ?",
                [guild_id, user_id],
            )
        ),
        "blocked_terms_added": list(
            db.query(
                "SELECT term, added_at FROM blocked_terms WHERE guild_id = ? AND added_by = ?",
                [guild_id, user_id],
            )
        ),
        "audit_lines": list(
            db.query(
                f"SELECT actor_id, action, target, details, at {_AUDIT_NAMING} ORDER BY id",
                _audit_params(guild_id, user_id),
            )
        ),
    }


def erase_member(db: Database, guild_id: int, user_id: int) -> Erasure:
    """Erase ``user_id`` from this guild's data (see the module's docstring); one transaction.

    ``secure_delete`` makes SQLite zero what the erasure frees as it goes.
    """
    with transaction(db):
        db.execute("PRAGMA secure_delete = ON")
        pseudonym = -db.execute(
            "INSERT INTO former_members (guild_id) VALUES (?)", [guild_id]
        ).lastrowid  # type: ignore[operator]
        entry_posts, results_posts = _posts_to_edit(db, guild_id, user_id)
        reactions = _running_emoji_votes(db, guild_id, user_id)
        counts = {
            "votes": _run(
                db,
                f"DELETE FROM votes WHERE voter_id = ? AND entry_id IN ({_GUILD_ENTRIES})",
                user_id,
                guild_id,
            ),
            "ballot_exposures": _run(
                db,
                f"DELETE FROM exposures WHERE voter_id = ? AND contest_id IN ({_GUILD_CONTESTS})",
                user_id,
                guild_id,
            ),
            "jokes": _run(
                db, "DELETE FROM jokes WHERE guild_id = ? AND user_id = ?", guild_id, user_id
            ),
            "captions_withdrawn": _run(
                db,
                "UPDATE entries SET status = 'withdrawn' WHERE author_id = ? AND status = 'active'"
                f" AND contest_id IN ({_GUILD_CONTESTS} AND phase != 'closed')",
                user_id,
                guild_id,
            ),
            "captions_anonymised": _run(
                db,
                "UPDATE entries SET text = ?, normalized = 'erased:' || id, author_id = ?,"
                f" reason = NULL WHERE author_id = ? AND id IN ({_GUILD_ENTRIES})",
                ERASED_TEXT,
                pseudonym,
                user_id,
                guild_id,
            ),
            "placings_kept_anonymously": _run(
                db,
                "UPDATE placements SET author_id = ? WHERE author_id = ?"
                f" AND contest_id IN ({_GUILD_CONTESTS})",
                pseudonym,
                user_id,
                guild_id,
            ),
            "ban": _run(
                db, "DELETE FROM bans WHERE guild_id = ? AND user_id = ?", guild_id, user_id
            ),
            "moderation_records": _anonymise_moderation(db, guild_id, user_id, pseudonym),
            "audit_lines": _anonymise_audit(db, guild_id, user_id, pseudonym),
        }
        counts |= prompts.erase_suggester(db, guild_id, user_id)
    return Erasure(user_id, pseudonym, counts, entry_posts, results_posts, reactions)


def purge_deleted_content(db: Database) -> bool:
    """Rewrite the file so no freed page keeps erased text, and fold the WAL back into it.

    ``VACUUM`` rebuilds every page (indexes too); ``wal_checkpoint(TRUNCATE)`` copies them into
    the main file and empties the WAL, which held the old versions. Returns False when another
    connection kept the checkpoint from finishing (the WAL is emptied at a later checkpoint).
    """
    db.execute("VACUUM")
    busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return busy == 0


def _run(db: Database, sql: str, *params: object) -> int:
    return db.execute(sql, list(params)).rowcount


def _posts_to_edit(
    db: Database, guild_id: int, user_id: int
) -> tuple[list[EntryPost], list[ResultsPost]]:
    """The member's entry posts, and the results posts that quote their placed captions."""
    rows = list(
        db.query(
            "SELECT e.id, e.text, e.number, e.message_id, e.status, c.id AS contest_id, c.phase,"
            " c.thread_id, c.channel_id, c.results_message_id, p.rank FROM entries e"
            " JOIN contests c ON c.id = e.contest_id"
            " LEFT JOIN placements p ON p.entry_id = e.id AND p.contest_id = c.id"
            " WHERE c.guild_id = ? AND e.author_id = ? ORDER BY e.id",
            [guild_id, user_id],
        )
    )
    entry_posts = [
        EntryPost(
            row["thread_id"],
            row["message_id"],
            row["number"],
            row["phase"] != "closed" and row["status"] == "active",
        )
        for row in rows
        if row["message_id"] is not None and row["thread_id"] is not None
    ]
    placed: dict[int, list[dict]] = {}
    for row in rows:
        if row["rank"] is not None and row["results_message_id"] is not None:
            placed.setdefault(row["contest_id"], []).append(row)
    results_posts = [
        ResultsPost(
            contest_id,
            mine[0]["channel_id"],
            mine[0]["results_message_id"],
            tuple((row["number"], row["text"]) for row in mine),
            any(row["rank"] <= 3 for row in mine),
            _results_posted(db, guild_id, contest_id) > 1,
        )
        for contest_id, mine in placed.items()
    ]
    return entry_posts, results_posts


def _results_posted(db: Database, guild_id: int, contest_id: int) -> int:
    return db.execute(
        "SELECT count(*) FROM audit_log WHERE guild_id = ? AND action = 'contest.results'"
        " AND target = ?",
        [guild_id, f"contest:{contest_id}"],
    ).fetchone()[0]


def _running_emoji_votes(db: Database, guild_id: int, user_id: int) -> list[VoteReaction]:
    rows = db.execute(
        "SELECT c.thread_id, e.message_id, v.rating FROM votes v JOIN entries e ON e.id = v.entry_id"
        " JOIN contests c ON c.id = e.contest_id WHERE c.guild_id = ? AND v.voter_id = ?"
        " AND v.source = 'emoji' AND c.phase = 'voting' AND e.message_id IS NOT NULL"
        " AND c.thread_id IS NOT NULL",
        [guild_id, user_id],
    ).fetchall()
    return [VoteReaction(thread, message, Rating(rating).emoji) for thread, message, rating in rows]


def _anonymise_moderation(db: Database, guild_id: int, user_id: int, pseudonym: int) -> int:
    """Bans the member issued, pictures and blocked terms they added, as a moderator."""
    return sum(
        _run(
            db,
            f"UPDATE {table} SET {column} = ? WHERE guild_id = ? AND {column} = ?",
            pseudonym,
            guild_id,
            user_id,
        )
        for table, column in (
            ("bans", "banned_by"),
            ("prompts", "added_by"),
            ("blocked_terms", "added_by"),
        )
    )


def _audit_params(guild_id: int, user_id: int) -> list[object]:
    return [guild_id, user_id, f"user:{user_id}", str(user_id)]


def _anonymise_audit(db: Database, guild_id: int, user_id: int, pseudonym: int) -> int:
    """Audit lines that name the member (as actor, target or in their details) name the pseudonym."""
    rows = db.execute(
        f"SELECT id, actor_id, target, details {_AUDIT_NAMING}", _audit_params(guild_id, user_id)
    ).fetchall()
    for line_id, actor_id, target, details in rows:
        db.execute(
            "UPDATE audit_log SET actor_id = ?, target = ?, details = ? WHERE id = ?",
            [
                pseudonym if actor_id == user_id else actor_id,
                f"former-member:{-pseudonym}" if target == f"user:{user_id}" else target,
                json.dumps(_without_member(json.loads(details or "{}"), user_id, pseudonym)),
                line_id,
            ],
        )
    return len(rows)


def _without_member(value: Any, user_id: int, pseudonym: int) -> Any:
    """``value`` (decoded JSON) with every mention of ``user_id`` replaced by the pseudonym."""
    if isinstance(value, dict):
        return {k: _without_member(v, user_id, pseudonym) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_member(v, user_id, pseudonym) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and value == user_id:
        return pseudonym
    if isinstance(value, str) and str(user_id) in value:
        for mention in (f"<@{user_id}>", f"<@!{user_id}>"):
            value = value.replace(mention, FORMER_MEMBER)
        return value.replace(str(user_id), str(pseudonym))
    return value


def erase_from_backups(
    folder: str | Path, guild_id: int, user_id: int
) -> tuple[list[Path], list[Path]]:
    """Apply the same erasure to every backup in ``folder``; returns (scrubbed, failed)."""
    return rewrite_backups(folder, lambda db: erase_member(db, guild_id, user_id))
