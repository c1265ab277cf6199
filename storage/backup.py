"""Online backups with rotation, and restoring the newest good backup over a damaged file."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

BACKUP_GLOB = "punchline-*.db"


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
    made = backup_database(source, folder / f"punchline-{now:%Y%m%d-%H%M%S}.db")
    for old in sorted(folder.glob(BACKUP_GLOB))[:-keep]:
        old.unlink()
    return made


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
