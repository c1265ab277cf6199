"""Guild settings and contest bans."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime

from sqlite_utils import Database

from storage.db import to_iso
from storage.models import GuildSettings
from storage.shards import ShardSet, on_shards

_SETTING_NAMES = {field.name for field in fields(GuildSettings)}


def get_settings(db: Database, guild_id: int) -> GuildSettings | None:
    """The guild's settings, or None for a guild that has never run ``/contest setup``."""
    rows = list(db.query("SELECT * FROM guild_settings WHERE guild_id = ?", [guild_id]))
    return GuildSettings.from_row(rows[0]) if rows else None


def save_settings(db: Database, settings: GuildSettings, now: datetime) -> GuildSettings:
    """Insert or update a guild's settings as a whole."""
    values = asdict(settings)
    columns = ", ".join(values)
    placeholders = ", ".join("?" for _ in values)
    updates = ", ".join(f"{name} = excluded.{name}" for name in values if name != "guild_id")
    db.execute(
        f"INSERT INTO guild_settings ({columns}, created_at, updated_at) "
        f"VALUES ({placeholders}, ?, ?) "
        f"ON CONFLICT (guild_id) DO UPDATE SET {updates}, updated_at = excluded.updated_at",
        [*values.values(), to_iso(now), to_iso(now)],
    )
    return get_settings(db, settings.guild_id)  # type: ignore[return-value]


def update_settings(db: Database, guild_id: int, now: datetime, **changes: object) -> GuildSettings:
    """Change some settings of a guild, creating its row with defaults first if needed."""
    unknown = set(changes) - _SETTING_NAMES
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    current = get_settings(db, guild_id) or GuildSettings(guild_id=guild_id)
    return save_settings(db, GuildSettings(**{**asdict(current), **changes}), now)


def configured_guilds(db: Database, shards: ShardSet | None = None) -> list[GuildSettings]:
    """Every enabled guild that has a contest channel, of those on ``shards`` (all without)."""
    on, params = on_shards(shards)
    rows = db.query(
        "SELECT * FROM guild_settings WHERE enabled = 1 AND channel_id IS NOT NULL"
        f" AND {on} ORDER BY guild_id",
        params,
    )
    return [GuildSettings.from_row(row) for row in rows]


def ban_member(
    db: Database, guild_id: int, user_id: int, banned_by: int, reason: str | None, now: datetime
) -> None:
    """Refuse a member's future entries in this guild's contests (idempotent)."""
    db.execute(
        "INSERT INTO bans (guild_id, user_id, reason, banned_by, banned_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id, user_id) DO UPDATE SET reason = excluded.reason",
        [guild_id, user_id, reason, banned_by, to_iso(now)],
    )


def unban_member(db: Database, guild_id: int, user_id: int) -> bool:
    """Lift a ban; returns whether there was one."""
    cursor = db.execute("DELETE FROM bans WHERE guild_id = ? AND user_id = ?", [guild_id, user_id])
    return cursor.rowcount > 0


def is_banned(db: Database, guild_id: int, user_id: int) -> bool:
    row = db.execute(
        "SELECT 1 FROM bans WHERE guild_id = ? AND user_id = ?", [guild_id, user_id]
    ).fetchone()
    return row is not None
