"""A damaged database is detected at start and the newest healthy backup restored; backups rotate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.store import open_store
from storage import guilds, open_database
from storage.backup import is_healthy, rotating_backup
from storage.db import DatabaseError
from storage.models import GuildSettings

NOW = datetime(2026, 5, 1, 3, 30, tzinfo=UTC)


def _corrupt(path):
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # wreck the header and the schema page
    path.write_bytes(bytes(data))


def test_backups_rotate_keeping_the_newest(tmp_path):
    db = open_database(tmp_path / "p.db")
    guilds.save_settings(db, GuildSettings(guild_id=1, channel_id=2), NOW)
    for day in range(5):
        rotating_backup(
            tmp_path / "p.db", tmp_path / "backups", keep=3, now=NOW + timedelta(days=day)
        )
    kept = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert kept == [
        "punchline-20260503-033000.db",
        "punchline-20260504-033000.db",
        "punchline-20260505-033000.db",
    ]
    assert all(is_healthy(tmp_path / "backups" / name) for name in kept)


async def test_a_damaged_database_is_restored_from_the_latest_backup(tmp_path):
    db = open_database(tmp_path / "p.db")
    guilds.save_settings(db, GuildSettings(guild_id=1, channel_id=2), NOW)
    rotating_backup(tmp_path / "p.db", tmp_path / "backups", keep=3, now=NOW)
    guilds.save_settings(db, GuildSettings(guild_id=9, channel_id=9), NOW)  # after the backup: lost
    db.close()
    _corrupt(tmp_path / "p.db")
    assert not is_healthy(tmp_path / "p.db")

    store = await open_store(tmp_path / "p.db", tmp_path / "backups", NOW)
    try:
        assert await store.call(guilds.get_settings, 1) is not None
        assert await store.call(guilds.get_settings, 9) is None
    finally:
        await store.close()
    assert list(tmp_path.glob("p.db.damaged-*")), "the damaged file is kept for inspection"


async def test_a_damaged_database_without_backups_gets_a_clear_error(tmp_path):
    open_database(tmp_path / "p.db").close()
    _corrupt(tmp_path / "p.db")
    with pytest.raises(DatabaseError, match="No healthy backup was found"):
        await open_store(tmp_path / "p.db", tmp_path / "backups", NOW)
    assert (tmp_path / "p.db").exists()
