"""Connections and transactions: one SQLite file, WAL, foreign keys, a busy timeout.

SQLite's busy and full errors are raised as :class:`StorageBusy` and :class:`StorageFull`
(told apart by their error code) when a call goes through :func:`run_call`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

DEFAULT_PATH = Path("punchline.db")
BUSY_TIMEOUT_MS = 5_000
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})

T = TypeVar("T")


class DatabaseError(RuntimeError):
    """The database file cannot be used (corrupt, not SQLite, newer schema, disk full)."""


class StorageBusy(sqlite3.OperationalError):
    """Another connection held the database past the busy timeout (SQLITE_BUSY or SQLITE_LOCKED)."""


class StorageFull(sqlite3.OperationalError):
    """The database file could not grow: the disk, or its ``max_page_count``, is full (SQLITE_FULL)."""


def translate_error(error: sqlite3.OperationalError) -> sqlite3.OperationalError:
    """``error`` as :class:`StorageBusy` or :class:`StorageFull` when its SQLite error code says so.

    Extended codes (``SQLITE_BUSY_SNAPSHOT``, ``SQLITE_LOCKED_SHAREDCACHE``…) count as their
    primary code. Any other error is returned unchanged; so is one already translated.
    """
    if isinstance(error, StorageBusy | StorageFull):
        return error
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return error
    primary = code & 0xFF
    if primary in _BUSY_CODES:
        kind: type[sqlite3.OperationalError] = StorageBusy
    elif primary == sqlite3.SQLITE_FULL:
        kind = StorageFull
    else:
        return error
    translated = kind(*error.args)
    translated.sqlite_errorcode = code  # type: ignore[attr-defined]
    translated.sqlite_errorname = getattr(error, "sqlite_errorname", None)  # type: ignore[attr-defined]
    return translated


def run_call(fn: Callable[..., T], db: Database, /, *args: object, **kwargs: object) -> T:
    """``fn(db, *args, **kwargs)``, with a busy or full database raised as StorageBusy/StorageFull."""
    try:
        return fn(db, *args, **kwargs)
    except sqlite3.OperationalError as error:
        translated = translate_error(error)
        if translated is error:
            raise
        raise translated from error


def connect(path: str | Path = DEFAULT_PATH) -> sqlite3.Connection:
    """A raw connection with the pragmas every Punchline connection uses.

    ``isolation_level=None`` leaves transactions to :func:`transaction`, so a write that spans
    several statements commits whole or not at all. ``synchronous=NORMAL`` in WAL mode never loses
    a committed transaction to a process crash (only, at worst, the last ones to a power cut).
    """
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False, isolation_level=None
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """Run the block in one ``BEGIN IMMEDIATE`` transaction (nested blocks join the outer one)."""
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:  # SQLite may already have rolled back (e.g. on SQLITE_FULL)
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def to_iso(moment: datetime | None) -> str | None:
    """Store times as ISO 8601 in UTC; naive datetimes are refused."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to storage; pass an aware datetime")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_iso(text: str | None) -> datetime | None:
    """The inverse of :func:`to_iso`."""
    return None if text is None else datetime.fromisoformat(text)
