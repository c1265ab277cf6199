"""Fixtures: an emulator with a small world, and discord.py bots connected to it."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import discord
import pytest
from discord.ext import commands

from discord_emulator import Channel, DiscordEmulator, Guild, Role, User, running_client
from discord_emulator.permissions import DEFAULT_EVERYONE, Permission
from testkit.conformance import checked_emulator

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


@dataclass
class World:
    guild: Guild
    channel: Channel
    alice: User
    bob: User
    judges: Role


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    """An emulator with every Discord rule on, whose exchanges must match Discord's spec."""
    async with checked_emulator("test-token", timeout=3.0) as emulator:
        yield emulator


@pytest.fixture
def world(emu: DiscordEmulator) -> World:
    guild = emu.create_guild("Test Server")
    channel = emu.create_text_channel(guild.id, "contest")
    judges = emu.create_role(guild.id, "judges", mentionable=True)
    alice = emu.create_user("alice", created_at=dt.datetime(2020, 5, 1, tzinfo=dt.UTC))
    bob = emu.create_user("bob")
    emu.add_member(guild.id, alice.id, roles=[judges])
    emu.add_member(guild.id, bob.id)
    emu.add_bot_to_guild(guild.id, permissions=DEFAULT_EVERYONE | Permission.MANAGE_MESSAGES)
    return World(guild, channel, alice, bob, judges)


def make_bot(**options: object) -> commands.Bot:
    """A bot as the project builds one: default intents plus members, no message content."""
    intents = discord.Intents.default()
    intents.members = True
    return commands.Bot(
        command_prefix=commands.when_mentioned,
        intents=intents,
        guild_ready_timeout=0.05,
        **options,
    )


@pytest.fixture
async def bot(emu: DiscordEmulator, world: World) -> AsyncIterator[commands.Bot]:
    async with running_client(emu, make_bot()) as client:
        yield client


def text_channel(bot: commands.Bot, world: World) -> discord.TextChannel:
    channel = bot.get_channel(world.channel.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


def record_raw_reactions(bot: commands.Bot) -> list[discord.RawReactionActionEvent]:
    events: list[discord.RawReactionActionEvent] = []

    async def on_raw_reaction_add(payload: discord.RawReactionActionEvent) -> None:
        events.append(payload)

    async def on_raw_reaction_remove(payload: discord.RawReactionActionEvent) -> None:
        events.append(payload)

    bot.add_listener(on_raw_reaction_add)
    bot.add_listener(on_raw_reaction_remove)
    return events
