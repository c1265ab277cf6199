"""Sharding on the emulated gateway, as Discord documents it.

``../shared/discord/docs/gateway.mdx``: "Sharding" (the formula ``shard_id = (guild_id >> 22) %
num_shards``, events without a guild to shard 0, at most 2,500 guilds a shard), "Max
Concurrency" and "Rate Limiting" (``max_concurrency`` identifies per 5 seconds by rate-limit key
``shard_id % max_concurrency``, else Invalid Session), "Get Gateway Bot" (``shards`` and
``session_start_limit``). ``opcodes-and-status-codes.mdx``: close codes 4010 Invalid shard and
4011 Sharding required.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import discord
import pytest
from discord.ext import commands

from discord_emulator import Channel, DiscordEmulator, Guild, User, running_client
from discord_emulator.gateway_shards import IDENTIFY_WINDOW_S
from discord_emulator.permissions import DEFAULT_EVERYONE
from testkit.conformance import checked_emulator

from .conftest import record_raw_reactions

SHARDS = 3


@dataclass
class ShardedWorld:
    guilds: list[Guild]  # two per shard, guild i on shard i % SHARDS
    channels: list[Channel]
    member: User


class PacedShardedBot(commands.AutoShardedBot):
    """Identifies as ``gateway.mdx`` asks: each rate-limit key once per 5 s. (discord.py's own
    hook sleeps 5 s before every identify but the first, whatever ``max_concurrency`` is.)"""

    def __init__(self, max_concurrency: int, **options: object) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
            **options,
        )
        self.max_concurrency = max_concurrency
        self.identified: dict[int, float] = {}

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        key = (shard_id or 0) % self.max_concurrency
        last = self.identified.get(key)
        if last is not None:
            await asyncio.sleep(max(0.0, last + IDENTIFY_WINDOW_S + 0.1 - time.monotonic()))
        self.identified[key] = time.monotonic()


class ImpatientShardedBot(commands.AutoShardedBot):
    """Identifies every shard at once, whatever ``max_concurrency`` says."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with checked_emulator("test-token", timeout=10.0, max_concurrency=SHARDS) as emulator:
        emulator.gateway.recommended_shards = SHARDS
        yield emulator


@pytest.fixture
def world(emu: DiscordEmulator) -> ShardedWorld:
    member = emu.create_user("member")
    guilds, channels = [], []
    for i in range(2 * SHARDS):
        guild = emu.create_guild(f"guild {i}", shard=(i % SHARDS, SHARDS))
        channels.append(emu.create_text_channel(guild.id, "contest"))
        emu.add_member(guild.id, member.id)
        emu.add_bot_to_guild(guild.id, permissions=DEFAULT_EVERYONE)
        guilds.append(guild)
    return ShardedWorld(guilds, channels, member)


@pytest.fixture
async def bot(emu: DiscordEmulator, world: ShardedWorld) -> AsyncIterator[PacedShardedBot]:
    async with running_client(emu, PacedShardedBot(SHARDS)) as client:
        yield client


async def post_in_each_guild(emu: DiscordEmulator, world: ShardedWorld) -> list[int]:
    posts = []
    for channel in world.channels:
        posts.append((await emu.send_message(world.member, channel, "react to me")).id)
    return posts


def session_of(emu: DiscordEmulator, shard: int):
    return next(s for s in emu.gateway.sessions.values() if s.resumable and s.shard.id == shard)


async def test_get_gateway_bot_recommends_shards_and_reports_max_concurrency(
    emu: DiscordEmulator, world: ShardedWorld
) -> None:
    client = PacedShardedBot(SHARDS)
    emu.configure_discord_py()
    await client.login(emu.token)
    shards, _, limit = await client.http.get_bot_gateway()
    assert (shards, limit["max_concurrency"], limit["remaining"]) == (SHARDS, SHARDS, 1000)
    emu.gateway.recommended_shards = None  # Discord's own advice: about one per 1,000 guilds
    assert (await client.http.get_bot_gateway())[0] == 1
    await client.close()


async def test_each_shard_gets_its_own_guilds_and_their_events_once(
    emu: DiscordEmulator, world: ShardedWorld, bot: PacedShardedBot
) -> None:
    assert sorted(bot.shards) == [0, 1, 2]
    for shard in range(SHARDS):
        ready = next(s for s in session_of(emu, shard).backlog if s.event == "READY")
        listed = {int(g["id"]) for g in ready.data["guilds"]}
        assert listed == {g.id for g in world.guilds[shard::SHARDS]}
        assert ready.data["shard"] == [shard, SHARDS]
    events = record_raw_reactions(bot)
    posts = await post_in_each_guild(emu, world)
    for channel, post in zip(world.channels, posts, strict=True):
        await emu.react(world.member, channel, post, "😂")
    await emu.wait_until(lambda: len(events) == len(posts), "one reaction event a guild")
    for shard in range(SHARDS):
        reactions = [s for s in session_of(emu, shard).backlog if s.event == "MESSAGE_REACTION_ADD"]
        assert [(int(r.data["guild_id"]) >> 22) % SHARDS for r in reactions] == [shard, shard]
    assert sorted(e.message_id for e in events) == sorted(posts)


async def test_events_without_a_guild_go_to_shard_zero(
    emu: DiscordEmulator, world: ShardedWorld, bot: PacedShardedBot
) -> None:
    dm = await (await bot.fetch_user(world.member.id)).create_dm()
    await dm.send("hello")
    await emu.react(world.member, dm.id, emu.messages(dm.id)[-1].id, "👍")
    sent = {
        shard: [s.event for s in session_of(emu, shard).backlog if "REACTION" in s.event]
        for shard in range(SHARDS)
    }
    assert sent == {0: ["MESSAGE_REACTION_ADD"], 1: [], 2: []}


async def test_one_shard_resumes_with_its_own_gap_replayed(
    emu: DiscordEmulator, world: ShardedWorld, bot: PacedShardedBot
) -> None:
    events = record_raw_reactions(bot)
    posts = await post_in_each_guild(emu, world)
    others = {shard: session_of(emu, shard).id for shard in (0, 1)}
    emu.drop_gateway(shard=2)
    for channel, post in zip(world.channels, posts, strict=True):
        await emu.react(world.member, channel, post, "😂")
    await emu.wait_for_gateway("RESUMED", shard=2)
    await emu.wait_until(lambda: len(events) == len(posts), "every reaction, the gap's replayed")
    assert sorted(e.message_id for e in events) == sorted(posts)
    assert {shard: session_of(emu, shard).id for shard in (0, 1)} == others
    assert [s for s, e in emu.gateway.shard_history if e in ("RESUME", "IDENTIFY")] == [
        0,
        1,
        2,
        2,
    ]


async def test_one_invalidated_shard_identifies_again_while_the_others_keep_going(
    emu: DiscordEmulator, world: ShardedWorld, bot: PacedShardedBot
) -> None:
    """Shard 1's session is gone: what its guilds did meanwhile is never sent (a bot must look
    for it itself); shards 0 and 2 keep their sessions and receive their events throughout."""
    events = record_raw_reactions(bot)
    posts = await post_in_each_guild(emu, world)
    others = {shard: session_of(emu, shard).id for shard in (0, 2)}
    emu.advance_time(IDENTIFY_WINDOW_S)  # the sessions ran a while: identifying again is allowed
    emu.invalidate_sessions(shard=1)
    for channel, post in zip(world.channels, posts, strict=True):
        await emu.react(world.member, channel, post, "😂")
    on_live_shards = [p for i, p in enumerate(posts) if i % SHARDS != 1]
    await emu.wait_until(lambda: len(events) == len(on_live_shards), "the live shards' events")
    emu.drop_gateway(shard=1)
    await emu.wait_for_gateway("READY", count=2, shard=1)
    await emu.react(world.member, world.channels[1], posts[1], "🙂")
    await emu.wait_until(lambda: len(events) == len(on_live_shards) + 1, "shard 1 back")
    assert sorted(e.message_id for e in events) == sorted([*on_live_shards, posts[1]])
    assert {shard: session_of(emu, shard).id for shard in (0, 2)} == others
    assert [e for s, e in emu.gateway.shard_history if s == 1 and e != "CONNECT"][-4:] == [
        "RESUME",
        "INVALID_SESSION",
        "IDENTIFY",
        "READY",
    ]


async def test_an_unsharded_bot_over_the_guild_limit_is_closed_with_4011() -> None:
    async with checked_emulator("test-token", timeout=5.0, guild_limit=2) as emu:
        for i in range(3):
            guild = emu.create_guild(f"guild {i}", shard=(i % 2, 2))
            emu.add_bot_to_guild(guild.id)
        plain = commands.Bot(
            command_prefix=commands.when_mentioned, intents=discord.Intents.default()
        )
        with pytest.raises(discord.ConnectionClosed) as closed:
            async with running_client(emu, plain):
                pass
        assert closed.value.code == 4011
        emu.advance_time(IDENTIFY_WINDOW_S)
        sharded = PacedShardedBot(2, shard_count=2)  # two and one guilds: under the limit
        async with running_client(emu, sharded):
            assert len(sharded.guilds) == 3


async def test_a_shard_outside_its_count_is_closed_with_4010(
    emu: DiscordEmulator, world: ShardedWorld
) -> None:
    client = PacedShardedBot(SHARDS, shard_ids=[SHARDS], shard_count=SHARDS)
    with pytest.raises(discord.ConnectionClosed) as closed:
        async with running_client(emu, client):
            pass
    assert closed.value.code == 4010


async def test_identifies_over_max_concurrency_get_invalid_session(world: ShardedWorld) -> None:
    """``max_concurrency`` 2, four shards identifying at once: shards 0 and 1 (keys 0 and 1)
    start, shards 2 and 3 share those keys and are refused with opcode 9 until 5 s passed."""
    async with checked_emulator("test-token", timeout=10.0, max_concurrency=2) as emu:
        for i in range(4):
            emu.add_bot_to_guild(emu.create_guild(f"guild {i}", shard=(i, 4)).id)
        emu.clock.freeze()  # the 5 s window passes only when the test says so
        client = ImpatientShardedBot(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            shard_count=4,
            guild_ready_timeout=0.05,
        )
        connecting = asyncio.create_task(_connect(emu, client))
        await emu.wait_for_gateway("INVALID_SESSION", shard=2)
        history = list(emu.gateway.shard_history)
        assert [s for s, e in history if e == "READY"] == [0, 1]
        emu.advance_time(IDENTIFY_WINDOW_S)
        await emu.wait_until(lambda: client.is_ready(), "every shard ready")
        refused = {s for s, e in emu.gateway.shard_history if e == "INVALID_SESSION"}
        assert refused <= {2, 3}
        assert emu.gateway.identifies.starts == 4
        await client.close()
        await connecting


async def _connect(emu: DiscordEmulator, client: commands.AutoShardedBot) -> None:
    emu.configure_discord_py()
    await client.login(emu.token)
    await client.connect(reconnect=True)
