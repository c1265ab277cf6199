"""Injected REST faults and how discord.py copes with them."""

from __future__ import annotations

import time

import discord
import pytest
from discord.ext import commands

from discord_emulator import DiscordEmulator

from .conftest import World, text_channel


async def test_rate_limit_is_waited_out(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    emu.faults.rate_limit("/reactions/", count=2, retry_after=0.2)
    message = await text_channel(bot, world).send("vote")

    started = time.monotonic()
    await message.add_reaction("😂")
    waited = time.monotonic() - started

    assert waited >= 0.4
    assert emu.message(message.id).reactors("😂") == [emu.bot_user.id]
    statuses = [r.status for r in emu.request_log if "/reactions/" in r.path]
    assert statuses == [429, 429, 204]
    assert emu.faults.pending() == 0


async def test_service_unavailable_is_raised(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    emu.faults.server_error("POST /channels/", count=1, status=503)

    with pytest.raises(discord.DiscordServerError) as raised:
        await text_channel(bot, world).send("hello")
    assert raised.value.status == 503
    assert emu.messages(world.channel.id) == []
    await text_channel(bot, world).send("hello again")
    assert [m.content for m in emu.messages(world.channel.id)] == ["hello again"]


async def test_internal_server_error_is_retried(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    emu.faults.server_error("POST /channels/", count=1, status=500)

    await text_channel(bot, world).send("persistent")

    statuses = [r.status for r in emu.request_log if r.method == "POST"]
    assert statuses == [500, 200]
    assert [m.content for m in emu.messages(world.channel.id)] == ["persistent"]
