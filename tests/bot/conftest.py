"""The real Punchline bot, through the real discord.py client, against the local Discord emulator."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import PunchlineBot
from bot.clock import Clock
from bot.config import Settings
from bot.emulator import Channel, DiscordEmulator, Guild, Message, User, running_client
from bot.emulator.permissions import DEFAULT_EVERYONE, Permission
from bot.store import Store

OLD_ACCOUNT = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
BOT_PERMISSIONS = (
    DEFAULT_EVERYONE
    | Permission.MANAGE_MESSAGES
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.ATTACH_FILES
    | Permission.EMBED_LINKS
    | Permission.ADD_REACTIONS
    | Permission.READ_MESSAGE_HISTORY
)


@dataclass
class Server:
    guild: Guild
    channel: Channel
    mod: User
    members: dict[str, User]


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(token="test-token", timeout=20.0) as emulator:
        yield emulator


@pytest.fixture
def server(emu: DiscordEmulator) -> Server:
    guild = emu.create_guild("Caption Club")
    channel = emu.create_text_channel(guild.id, "caption-contest")
    mods = emu.create_role(guild.id, "mods", permissions=Permission.MANAGE_GUILD)
    mod = emu.create_user("moderator", created_at=OLD_ACCOUNT)
    emu.add_member(guild.id, mod.id, roles=[mods])
    members = {}
    for name in ("alice", "bob", "carol", "dave", "erin"):
        members[name] = emu.create_user(name, created_at=OLD_ACCOUNT)
        emu.add_member(guild.id, members[name].id)
    emu.add_bot_to_guild(guild.id, permissions=BOT_PERMISSIONS)
    return Server(guild, channel, mod, members)


@contextlib.asynccontextmanager
async def punchline(
    emu: DiscordEmulator, db_path: Path, *, speed: float = 60.0, ai=None
) -> AsyncIterator[PunchlineBot]:
    """Start the bot on ``db_path`` (contest time runs ``speed`` times faster) and stop it after."""
    store = Store(db_path)
    await store.open()
    client = PunchlineBot(
        Settings(token=emu.token, database=db_path),
        store=store,
        ai=ai,
        clock=Clock(speed),
        guild_ready_timeout=0.05,
    )
    try:
        async with running_client(emu, client):
            yield client
    finally:
        await store.close()


async def setup_contest(
    emu: DiscordEmulator,
    server: Server,
    bot: PunchlineBot,
    *,
    submission_minutes: int = 4,
    voting_minutes: int = 4,
):
    """A moderator sets the contest up to start now; returns the setup reply."""
    now = bot.clock.now()
    return await emu.slash(
        server.guild.id,
        server.channel.id,
        server.mod.id,
        "contest setup",
        channel=server.channel.id,
        timezone="UTC",
        post_time=now.strftime("%H:%M"),
        submission_minutes=submission_minutes,
        voting_minutes=voting_minutes,
    )


def is_prompt(message: Message) -> bool:
    return any("Caption contest" in (e.get("title") or "") for e in message.embeds)


def is_results(message: Message) -> bool:
    return any("Results" in (e.get("title") or "") for e in message.embeds)


def is_entry(message: Message) -> bool:
    return message.content.startswith("**Entry #")
