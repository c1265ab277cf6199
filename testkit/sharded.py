"""Many servers spread over shards, their contests set up straight in the database.

Servers are made with ids that Discord routes to a chosen shard (server ``i`` on shard
``i % shard_count``), share one set of members, and get contest settings and a picture pool as
``/contest setup`` and ``/prompt add`` would store them, so the bot opens their contests in its
catch-up at start. Shared by the sharding tests and the scaling benchmark.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image

from discord_emulator import DiscordEmulator, User
from storage import guilds, open_database, prompts
from storage.models import GuildSettings

from .world import Server, build_server


def sharded_servers(
    emu: DiscordEmulator, count: int, shard_count: int, members: Sequence[User]
) -> list[Server]:
    """``count`` servers, server ``i`` on shard ``i % shard_count``, each with ``members``."""
    return [
        build_server(
            emu, f"server {i}", members, moderator=f"mod {i}", shard=(i % shard_count, shard_count)
        )
        for i in range(count)
    ]


def configure_contests(
    database: Path,
    servers: Sequence[Server],
    now: datetime,
    *,
    submission: timedelta,
    voting: timedelta,
) -> None:
    """Contest settings whose post time (UTC) is the minute of ``now``, so each server's contest
    is due when the bot starts; two pictures in each pool."""
    db = open_database(database)
    pictures = [_picture(shade) for shade in (40, 200)]
    for server in servers:
        settings = GuildSettings(
            server.guild.id,
            server.channel.id,
            "UTC",
            now.strftime("%H:%M"),
            int(submission.total_seconds()),
            int(voting.total_seconds()),
        )
        guilds.save_settings(db, settings, now)
        for picture in pictures:
            prompts.add_prompt(db, server.guild.id, picture, "png", "A desk", None, now)
    db.close()


def _picture(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (shade, shade, 255 - shade)).save(out, "PNG")
    return out.getvalue()
