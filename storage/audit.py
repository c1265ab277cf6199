"""The audit log of moderator actions.

A write and its audit line commit together: ``audited(db, AuditEntry(...), write_fn, *args)``
runs both in one transaction, so the log never claims an action that did not happen, nor misses
one that did.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import TypeVar

from sqlite_utils import Database

from storage.db import from_iso, to_iso, transaction

T = TypeVar("T")


@dataclass(frozen=True)
class AuditEntry:
    """One line to append to the audit log (``actor_id=None`` for the bot's own actions)."""

    guild_id: int
    actor_id: int | None
    action: str
    target: str | None = None
    details: dict | None = None
    _: KW_ONLY
    now: datetime


@dataclass(frozen=True)
class LoggedAction:
    """One line read back from the audit log."""

    id: int
    actor_id: int | None
    action: str
    target: str | None
    details: dict
    at: datetime


class AuditNotAtomic(RuntimeError):
    """The audited write committed on its own, so its audit line could not join its transaction."""


def write_entry(db: Database, entry: AuditEntry) -> None:
    """Append ``entry`` to the audit log."""
    db.execute(
        "INSERT INTO audit_log (guild_id, actor_id, action, target, details, at) VALUES (?, ?, ?, ?, ?, ?)",
        [
            entry.guild_id,
            entry.actor_id,
            entry.action,
            entry.target,
            json.dumps(entry.details or {}),
            to_iso(entry.now),
        ],
    )


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
    write_entry(db, AuditEntry(guild_id, actor_id, action, target, details, now=now))


def audited(
    db: Database,
    entry: AuditEntry | Callable[[T], AuditEntry | None],
    write_fn: Callable[..., T],
    /,
    *args: object,
    **kwargs: object,
) -> T:
    """Run ``write_fn(db, *args, **kwargs)`` and log ``entry`` in one transaction; return its result.

    ``entry`` may be a function of the write's result, for a line that names what the write
    created (or None to log nothing, when the write changed nothing worth logging).
    The write must leave transactions to :func:`storage.db.transaction`: one that commits by
    itself (``with db.conn:``, as some sqlite-utils table methods do) raises
    :class:`AuditNotAtomic` instead of being logged apart from its change.
    """
    with transaction(db):
        result = write_fn(db, *args, **kwargs)
        if not db.conn.in_transaction:
            raise AuditNotAtomic(
                f"{getattr(write_fn, '__qualname__', write_fn)} committed on its own; "
                "its audit line was not written"
            )
        line = entry(result) if callable(entry) else entry
        if line is not None:
            write_entry(db, line)
    return result


def recent_actions(
    db: Database, guild_id: int, *, offset: int = 0, limit: int = 20
) -> list[LoggedAction]:
    """Newest first, one page at a time."""
    rows = db.execute(
        "SELECT id, actor_id, action, target, details, at FROM audit_log WHERE guild_id = ?"
        " ORDER BY id DESC LIMIT ? OFFSET ?",
        [guild_id, limit, offset],
    ).fetchall()
    return [LoggedAction(r[0], r[1], r[2], r[3], json.loads(r[4]), from_iso(r[5])) for r in rows]  # type: ignore[arg-type]


def count_actions(db: Database, guild_id: int, action: str, target: str) -> int:
    """How many times ``action`` was logged for ``target`` (e.g. results posted for a contest)."""
    return db.execute(
        "SELECT count(*) FROM audit_log WHERE guild_id = ? AND action = ? AND target = ?",
        [guild_id, action, target],
    ).fetchone()[0]
