"""Gateway resilience: dropped sockets, RESUME replay, INVALID_SESSION, RECONNECT."""

from __future__ import annotations

import discord
from discord.ext import commands

from discord_emulator import DiscordEmulator, running_client
from discord_emulator.gateway_shards import IDENTIFY_WINDOW_S

from .conftest import World, record_raw_reactions


async def test_dropped_socket_resumes_and_replays_the_gap_once(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    events = record_raw_reactions(bot)
    resumed: list[None] = []

    async def on_resumed() -> None:
        resumed.append(None)

    bot.add_listener(on_resumed)
    message = await emu.send_message(world.bob, world.channel, "caption")
    await emu.react(world.alice, world.channel, message, "1️⃣")
    await emu.wait_until(lambda: len(events) == 1)

    emu.drop_gateway()
    for emoji in ("2️⃣", "3️⃣", "4️⃣"):
        await emu.react(world.alice, world.channel, message, emoji)
    await emu.wait_for_gateway("RESUMED")
    await emu.wait_until(lambda: len(events) == 4 and resumed)

    assert [str(e.emoji) for e in events] == ["1️⃣", "2️⃣", "3️⃣", "4️⃣"]
    assert emu.gateway.history.count("IDENTIFY") == 1
    await emu.react(world.bob, world.channel, message, "1️⃣")
    await emu.wait_until(lambda: len(events) == 5)
    assert events[-1].user_id == world.bob.id


class QuickReidentifyBot(commands.Bot):
    """discord.py sleeps 5 s before every IDENTIFY after the first; tests need not."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


async def test_invalid_session_leads_to_a_fresh_identify(
    emu: DiscordEmulator, world: World
) -> None:
    bot = QuickReidentifyBot(
        command_prefix=commands.when_mentioned,
        intents=discord.Intents.default(),
        guild_ready_timeout=0.05,
    )
    async with running_client(emu, bot):
        events = record_raw_reactions(bot)
        emu.advance_time(IDENTIFY_WINDOW_S)  # the session ran a while: a new identify is allowed
        emu.invalidate_sessions()
        emu.drop_gateway()

        await emu.wait_for_gateway("INVALID_SESSION")
        await emu.wait_for_gateway("READY", count=2)
        await emu.wait_until(lambda: bot.is_ready() and bot.get_guild(world.guild.id))
        message = await emu.send_message(world.bob, world.channel, "after")
        await emu.react(world.alice, world.channel, message, "😂")
        await emu.wait_until(lambda: events)
    assert emu.gateway.history.count("IDENTIFY") == 2


async def test_reconnect_opcode_makes_the_client_resume(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    emu.request_reconnect()
    await emu.wait_for_gateway("RESUMED")
    channel = bot.get_channel(world.channel.id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("still here")
    assert [m.content for m in emu.messages(world.channel.id)] == ["still here"]
