"""Opening the database: one SQLite file, WAL, foreign keys, a busy timeout, migrated on open."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

DEFAULT_PATH = Path("punchline.db")
BUSY_TIMEOUT_MS = 5_000


class DatabaseError(RuntimeError):
    """The database file cannot be used (corrupt, not SQLite, newer schema, disk full)."""


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


def open_database(path: str | Path = DEFAULT_PATH, *, check: bool = True) -> Database:
    """Open (creating if needed) and migrate the database at ``path``.

    With ``check`` the file's integrity is verified first (``PRAGMA quick_check``); a damaged or
    foreign file raises :class:`DatabaseError` with a message a person can act on.
    """
    from storage.migrations import migrate

    try:
        conn = connect(path)
        if check and str(path) != ":memory:":
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise DatabaseError(
                    f"{path} failed its integrity check ({verdict}); restore a backup"
                )
        db = Database(conn)
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{path} is not a usable Punchline database: {exc}") from exc
    return db


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
