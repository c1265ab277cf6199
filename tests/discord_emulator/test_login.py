"""Logging in: the REST identity calls, READY, and a populated guild cache."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest
from discord.ext import commands

from discord_emulator import DiscordEmulator, running_client
from discord_emulator.gateway_shards import IDENTIFY_WINDOW_S

from .conftest import World, make_bot


async def test_ready_populates_the_guild_cache(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    assert bot.user is not None
    assert bot.user.id == emu.bot_user.id
    assert bot.application_id == emu.application_id

    guild = bot.get_guild(world.guild.id)
    assert guild is not None
    assert guild.chunked
    assert [c.name for c in guild.text_channels] == ["contest"]
    assert {r.name for r in guild.roles} == {"@everyone", "judges", "Punchline"}
    alice = guild.get_member(world.alice.id)
    assert alice is not None
    assert [r.name for r in alice.roles[1:]] == ["judges"]
    assert alice.created_at.year == 2020
    assert guild.me.guild_permissions.manage_messages


async def test_gateway_uses_zlib_stream_compression_and_logs_the_lifecycle(
    emu: DiscordEmulator, bot: commands.Bot
) -> None:
    requested = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
    assert requested in ("zlib-stream", "zstd-stream")
    assert emu.gateway.history[:3] == [f"CONNECT compress={requested}", "IDENTIFY", "READY"]
    assert emu.request_log[:2] == [
        ("GET", "/users/@me", 200),
        ("GET", "/oauth2/applications/@me", 200),
    ]


async def test_wrong_token_is_refused(emu: DiscordEmulator, world: World) -> None:
    client = make_bot()
    emu.configure_discord_py()
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
    assert emu.request_log[-1] == ("GET", "/users/@me", 401)


async def test_events_reach_a_connected_bot(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    carol = emu.create_user("carol")
    emu.add_member(world.guild.id, carol.id)
    lounge = emu.create_text_channel(world.guild.id, "lounge")

    guild = bot.get_guild(world.guild.id)
    assert guild is not None
    await emu.wait_until(lambda: guild.get_member(carol.id) and guild.get_channel(lounge.id))


async def test_a_restarted_bot_sees_the_same_world(emu: DiscordEmulator, world: World) -> None:
    async with running_client(emu, make_bot()) as first:
        channel = first.get_channel(world.channel.id)
        assert isinstance(channel, discord.TextChannel)
        posted = await channel.send("before the restart")

    await emu.react(world.alice.id, world.channel.id, posted.id, "😂")
    emu.advance_time(IDENTIFY_WINDOW_S)  # restarted a while later: identifying again is allowed

    async with running_client(emu, make_bot()) as second:
        channel = second.get_channel(world.channel.id)
        assert isinstance(channel, discord.TextChannel)
        fetched = await channel.fetch_message(posted.id)
        assert fetched.content == "before the restart"
        users = [u.id async for u in fetched.reactions[0].users()]
        assert users == [world.alice.id]
    assert emu.gateway.history.count("IDENTIFY") == 2


async def test_a_saved_world_can_be_loaded_into_a_new_emulator(
    emu: DiscordEmulator, world: World, tmp_path: Path
) -> None:
    message = await emu.send_message(world.alice, world.channel, "saved caption")
    await emu.react(world.bob, world.channel, message, "👍")
    emu.save(tmp_path / "world.pickle")

    async with DiscordEmulator.load(tmp_path / "world.pickle") as restored:
        async with running_client(restored, make_bot()) as bot:
            channel = bot.get_channel(world.channel.id)
            assert isinstance(channel, discord.TextChannel)
            [fetched] = [m async for m in channel.history()]
            assert fetched.content == "saved caption"
            assert [u.id async for u in fetched.reactions[0].users()] == [world.bob.id]
        newer = await restored.send_message(world.alice, world.channel, "after loading")
        assert newer.id > message.id
