"""The audit log of moderator actions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from storage.db import from_iso, to_iso


@dataclass(frozen=True)
class AuditEntry:
    id: int
    actor_id: int | None
    action: str
    target: str | None
    details: dict
    at: datetime


def log_action(
    db: Database,
    guild_id: int,
    actor_id: int | None,
    action: str,
    target: str | None = None,
    details: dict | None = None,
    *,
    now: datetime,
) -> None:
    """Append one action (``actor_id=None`` for the bot's own scheduled actions)."""
    db.execute(
        "INSERT INTO audit_log (guild_id, actor_id, action, target, details, at) VALUES (?, ?, ?, ?, ?, ?)",
        [guild_id, actor_id, action, target, json.dumps(details or {}), to_iso(now)],
    )


def recent_actions(
    db: Database, guild_id: int, *, offset: int = 0, limit: int = 20
) -> list[AuditEntry]:
    """Newest first, one page at a time."""
    rows = db.execute(
        "SELECT id, actor_id, action, target, details, at FROM audit_log WHERE guild_id = ?"
        " ORDER BY id DESC LIMIT ? OFFSET ?",
        [guild_id, limit, offset],
    ).fetchall()
    return [AuditEntry(r[0], r[1], r[2], r[3], json.loads(r[4]), from_iso(r[5])) for r in rows]  # type: ignore[arg-type]


def count_actions(db: Database, guild_id: int, action: str, target: str) -> int:
    """How many times ``action`` was logged for ``target`` (e.g. results posted for a contest)."""
    return db.execute(
        "SELECT count(*) FROM audit_log WHERE guild_id = ? AND action = ? AND target = ?",
        [guild_id, action, target],
    ).fetchone()[0]
