"""Online backups with rotation, restoring the newest good backup over a damaged file, and
applying an erasure to the backups already taken."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from storage.db import DatabaseError
from storage.opening import open_database

log = logging.getLogger(__name__)
BACKUP_GLOB = "punchline-*.db"
# A backup being written while an erasure rewrites the folder could keep what was just erased:
# the two take turns.
_FOLDER_LOCK = threading.Lock()


def backup_database(source: str | Path, destination: str | Path) -> Path:
    """Copy a live database to ``destination`` consistently, even while the bot writes to it.

    SQLite's online backup API copies a consistent snapshot. The copy is written beside the
    destination and renamed into place, so an interrupted backup never leaves a half-written
    file under the final name.
    """
    destination = Path(destination)
    partial = destination.with_name(destination.name + ".partial")
    src = sqlite3.connect(str(source))
    try:
        dst = sqlite3.connect(str(partial))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    partial.replace(destination)
    return destination


def rotating_backup(source: str | Path, folder: str | Path, keep: int, now: datetime) -> Path:
    """Back up into ``folder`` as ``punchline-YYYYmmdd-HHMMSS.db`` and keep only the newest ``keep``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with _FOLDER_LOCK:
        made = backup_database(source, folder / f"punchline-{now:%Y%m%d-%H%M%S}.db")
        for old in sorted(folder.glob(BACKUP_GLOB))[:-keep]:
            old.unlink()
    return made


def rewrite_backups(
    folder: str | Path, change: Callable[[Database], object]
) -> tuple[list[Path], list[Path]]:
    """Apply ``change`` to every backup in ``folder`` and leave no freed page or WAL behind.

    Each backup is opened (and migrated, as a restore would), changed, vacuumed and left as one
    self-contained file; a half-written ``.partial`` is deleted. Returns (rewritten, failed): a
    backup that cannot be opened or changed is left as it was, for rotation to retire.
    """
    rewritten: list[Path] = []
    failed: list[Path] = []
    with _FOLDER_LOCK:
        for partial in Path(folder).glob(BACKUP_GLOB + ".partial"):
            partial.unlink()
        for path in sorted(Path(folder).glob(BACKUP_GLOB)):
            try:
                db = open_database(path)
                try:
                    change(db)
                    db.execute("VACUUM")
                    db.execute("PRAGMA journal_mode = DELETE")  # folds the WAL in and removes it
                finally:
                    db.close()
            except (sqlite3.Error, DatabaseError, OSError) as problem:
                log.error("could not apply an erasure to the backup %s: %s", path.name, problem)
                failed.append(path)
            else:
                rewritten.append(path)
    return rewritten, failed


def is_healthy(path: str | Path) -> bool:
    """Whether the file opens as SQLite and passes ``PRAGMA quick_check``."""
    try:
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
        try:
            return conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False


def restore_latest_backup(database: str | Path, folder: str | Path, now: datetime) -> Path | None:
    """Set the damaged ``database`` aside and copy the newest healthy backup in its place.

    Returns the backup used, or None when there is none (the damaged file is then left alone).
    """
    database = Path(database)
    for candidate in sorted(Path(folder).glob(BACKUP_GLOB), reverse=True):
        if is_healthy(candidate):
            for suffix in ("", "-wal", "-shm"):
                damaged = database.with_name(database.name + suffix)
                if damaged.exists():
                    damaged.replace(
                        damaged.with_name(f"{damaged.name}.damaged-{now:%Y%m%d-%H%M%S}")
                    )
            shutil.copyfile(candidate, database)
            return candidate
    return None
