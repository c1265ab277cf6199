"""Direct messages: ``POST /users/@me/channels`` opens the bot's DM with a user (the spec's
``create_dm``), messages go to that channel, and a user who does not accept DMs from server
members, or shares no server with the bot, refuses them with 403 / 50007 "Cannot send messages
to this user" (``opcodes-and-status-codes.mdx``)."""

from __future__ import annotations

import discord
import pytest
from discord.ext import commands

from discord_emulator import DiscordEmulator

from .conftest import World


async def test_the_bot_opens_a_dm_and_writes_to_a_member(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    user = await bot.fetch_user(world.alice.id)

    sent = await user.send("Your caption won!")
    again = await user.send("Congratulations")
    await again.add_reaction("🎉")

    channel = emu.dm_channel(world.alice.id)
    assert channel is not None
    assert sent.channel.id == again.channel.id == channel.id
    assert isinstance(sent.channel, discord.DMChannel)
    assert [m.content for m in emu.direct_messages(world.alice.id)] == [
        "Your caption won!",
        "Congratulations",
    ]
    assert emu.direct_messages(world.alice.id)[0].guild_id is None
    assert emu.direct_messages(world.alice.id)[1].reactors("🎉") == [emu.bot_user.id]


async def test_a_member_with_dms_closed_refuses_them_50007(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    emu.set_dms_open(world.bob.id, False)
    user = await bot.fetch_user(world.bob.id)

    with pytest.raises(discord.Forbidden) as raised:
        await user.send("Your caption won!")

    assert (raised.value.code, raised.value.text) == (50007, "Cannot send messages to this user")
    assert emu.direct_messages(world.bob.id) == []


async def test_a_user_sharing_no_server_with_the_bot_refuses_dms(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    stranger = emu.create_user("stranger")
    user = await bot.fetch_user(stranger.id)

    with pytest.raises(discord.Forbidden) as raised:
        await user.send("hello?")

    assert raised.value.code == 50007
