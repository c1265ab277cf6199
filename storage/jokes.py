"""Jokes and caption suggestions served, so every one can be traced to who asked."""

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
