"""Opening, migrating and protecting the database file."""

from __future__ import annotations

import sqlite3

import pytest

from storage import SCHEMA_VERSION, migrate, open_database, schema_version
from storage.db import DatabaseError, connect


def test_new_file_is_migrated_with_wal_and_foreign_keys(tmp_path):
    db = open_database(tmp_path / "p.db")
    assert schema_version(db) == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert {
        "guild_settings",
        "prompts",
        "contests",
        "entries",
        "votes",
        "exposures",
        "adapters",
        "audit_log",
        "jokes",
        "bans",
        "seasons",
        "placements",
    } <= set(db.table_names())


def test_upgrading_a_version_1_file_keeps_its_data(tmp_path):
    path = tmp_path / "old.db"
    from sqlite_utils import Database

    old = Database(connect(path))
    migrate(old, target=1)
    old.execute(
        "INSERT INTO guild_settings (guild_id, channel_id, timezone, created_at, updated_at)"
        " VALUES (7, 70, 'Europe/Paris', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')"
    )
    old.close()

    db = open_database(path)
    assert schema_version(db) == SCHEMA_VERSION
    row = db.execute(
        "SELECT channel_id, timezone, vote_mode FROM guild_settings WHERE guild_id = 7"
    ).fetchone()
    assert row == (70, "Europe/Paris", "emoji")
    assert "exposures" in db.table_names()
    assert "adapters" in db.table_names()


def test_reopening_is_idempotent(tmp_path):
    open_database(tmp_path / "p.db").close()
    assert schema_version(open_database(tmp_path / "p.db")) == SCHEMA_VERSION


def test_a_file_from_a_newer_punchline_is_refused(tmp_path):
    path = tmp_path / "new.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(DatabaseError, match="newer than this Punchline"):
        open_database(path)


def test_a_file_that_is_not_sqlite_gets_a_clear_error(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseError, match="not a usable Punchline database"):
        open_database(path)


def test_foreign_keys_are_enforced(db):
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO votes (entry_id, voter_id, rating, source, created_at, updated_at)"
            " VALUES (999, 1, 3, 'emoji', 'x', 'x')"
        )
