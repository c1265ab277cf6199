"""Jokes and caption suggestions served (so each can be traced to who asked), and the terms
moderators never want in a generated joke."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from storage.db import to_iso


def log_joke(
    db: Database,
    *,
    guild_id: int | None,
    user_id: int,
    kind: str,
    topic: str | None,
    text: str,
    score: float | None,
    now: datetime,
) -> int:
    cursor = db.execute(
        "INSERT INTO jokes (guild_id, user_id, kind, topic, text, score, served_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [guild_id, user_id, kind, topic, text, score, to_iso(now)],
    )
    return cursor.lastrowid  # type: ignore[return-value]


def jokes_served(db: Database, user_id: int) -> list[dict]:
    return list(db.query("SELECT * FROM jokes WHERE user_id = ? ORDER BY id", [user_id]))


def block_term(db: Database, guild_id: int, term: str, added_by: int, now: datetime) -> bool:
    """Add a term to the guild's joke filter; returns False when it was already there."""
    cursor = db.execute(
        "INSERT INTO blocked_terms (guild_id, term, added_by, added_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [guild_id, term.casefold(), added_by, to_iso(now)],
    )
    return cursor.rowcount == 1


def unblock_term(db: Database, guild_id: int, term: str) -> bool:
    cursor = db.execute(
        "DELETE FROM blocked_terms WHERE guild_id = ? AND term = ?", [guild_id, term.casefold()]
    )
    return cursor.rowcount == 1


def blocked_terms(db: Database, guild_id: int) -> list[str]:
    return [
        row[0]
        for row in db.execute(
            "SELECT term FROM blocked_terms WHERE guild_id = ? ORDER BY term", [guild_id]
        ).fetchall()
    ]


def best_captions(db: Database, guild_id: int, limit: int = 30) -> list[tuple[str, str]]:
    """(prompt description, caption) of the guild's winning captions, newest first: few-shot examples.

    An erased member's captions (their author a negative pseudonym) have no text left to show.
    """
    rows = db.execute(
        "SELECT coalesce(pr.description, ''), e.text FROM placements p JOIN entries e ON e.id = p.entry_id"
        " JOIN contests c ON c.id = p.contest_id LEFT JOIN prompts pr ON pr.id = c.prompt_id"
        " WHERE c.guild_id = ? AND p.rank <= 2 AND p.votes > 0 AND e.author_id > 0"
        " ORDER BY c.day DESC LIMIT ?",
        [guild_id, limit],
    ).fetchall()
    return [(row[0], row[1]) for row in rows]
