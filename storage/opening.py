"""Opening the database: connected with :func:`storage.db.connect`, checked, migrated.

It lives apart from ``storage.db`` because it needs the migrations, which need ``storage.db``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from storage.db import DEFAULT_PATH, DatabaseError, connect
from storage.migrations import migrate


def open_database(path: str | Path = DEFAULT_PATH, *, check: bool = True) -> Database:
    """Open (creating if needed) and migrate the database at ``path``.

    With ``check`` the file's integrity is verified first (``PRAGMA quick_check``); a damaged or
    foreign file raises :class:`DatabaseError` with a message a person can act on.
    """
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
