"""Rate limits as ``rate-limits.mdx`` describes them: per-route buckets counted per top-level
resource with ``X-RateLimit-*`` headers ("Header Format"), 429 with ``retry_after``
("Exceeding A Rate Limit"), 50 requests a second in all ("Global Rate Limit"), interaction
endpoints outside the global limit; and the slow pacing of reactions, which discord.py follows
from the headers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from discord.ext import commands

from discord_emulator import DiscordEmulator, Rules
from discord_emulator.ratelimits import CREATE_MESSAGE, GLOBAL_LIMIT_PER_S

from .conftest import World, text_channel


@pytest.fixture
async def rest(emu: DiscordEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client with the bot's token: nothing paces it but the emulator."""
    headers = {"Authorization": f"Bot {emu.token}"}
    async with aiohttp.ClientSession(base_url=emu.base_url, headers=headers) as session:
        yield session


def messages_of(channel_id: int) -> str:
    return f"/api/v10/channels/{channel_id}/messages"


async def test_every_answer_carries_the_bucket_headers(
    emu: DiscordEmulator, world: World, rest: aiohttp.ClientSession
) -> None:
    other = emu.create_text_channel(world.guild.id, "other")
    async with rest.post(messages_of(world.channel.id), json={"content": "one"}) as first:
        headers = first.headers
    assert headers["X-RateLimit-Limit"] == "5"
    assert headers["X-RateLimit-Remaining"] == "4"
    assert 4.9 <= float(headers["X-RateLimit-Reset-After"]) <= 5.0
    assert abs(float(headers["X-RateLimit-Reset"]) - (time.time() + 5)) < 1
    async with rest.post(messages_of(other.id), json={"content": "two"}) as second:
        assert second.headers["X-RateLimit-Bucket"] == headers["X-RateLimit-Bucket"]
        assert second.headers["X-RateLimit-Remaining"] == "4", "each channel counts apart"
    assert "X-RateLimit-Scope" not in headers, "the scope comes only with a 429"


async def test_a_sixth_message_within_5_seconds_is_refused_with_429(
    emu: DiscordEmulator, world: World, rest: aiohttp.ClientSession
) -> None:
    for n in range(CREATE_MESSAGE.limit):
        async with rest.post(messages_of(world.channel.id), json={"content": str(n)}) as ok:
            assert ok.status == 200
    async with rest.post(messages_of(world.channel.id), json={"content": "six"}) as refused:
        body = await refused.json()
        headers = refused.headers
    assert refused.status == 429
    assert body["message"] == "You are being rate limited."
    assert body["global"] is False
    assert 4.5 < body["retry_after"] <= 5.0
    assert headers["Retry-After"] == "5"
    assert headers["X-RateLimit-Scope"] == "user"
    assert headers["X-RateLimit-Remaining"] == "0"
    assert len(emu.messages(world.channel.id)) == CREATE_MESSAGE.limit

    emu.advance_time(body["retry_after"])
    async with rest.post(messages_of(world.channel.id), json={"content": "later"}) as later:
        assert later.status == 200


async def test_more_than_50_requests_a_second_hit_the_global_limit(
    emu: DiscordEmulator, world: World, rest: aiohttp.ClientSession
) -> None:
    channels = [emu.create_text_channel(world.guild.id, f"c{i}") for i in range(11)]
    emu.clock.freeze()  # all 55 requests fall in one second, however slow this machine is
    statuses = []
    for channel in channels:  # 5 per channel: no per-route bucket runs out
        for _ in range(5):
            async with rest.get(f"/api/v10/channels/{channel.id}") as answer:
                statuses.append(answer.status)
                if answer.status == 429:
                    body, headers = await answer.json(), answer.headers
    assert statuses.count(200) == GLOBAL_LIMIT_PER_S
    assert statuses.count(429) == 55 - GLOBAL_LIMIT_PER_S
    assert body["global"] is True
    assert headers["X-RateLimit-Global"] == "true"
    assert headers["X-RateLimit-Scope"] == "global"
    assert 0 < body["retry_after"] <= 1


async def test_interaction_callbacks_are_outside_the_global_limit(
    emu: DiscordEmulator, world: World, rest: aiohttp.ClientSession
) -> None:
    emu.clock.freeze()
    for _ in range(GLOBAL_LIMIT_PER_S + 1):
        async with rest.get("/api/v10/users/@me"):
            pass
    assert ("GET", "/users/@me", "global") in emu.rate_limiter.refused
    interaction = emu.interactions.create(
        2, guild_id=world.guild.id, channel_id=world.channel.id, user_id=world.alice.id, data={}
    )
    callback = f"/api/v10/interactions/{interaction.id}/{interaction.token}/callback"
    async with rest.post(callback, json={"type": 4, "data": {"content": "hi"}}) as answer:
        assert answer.status == 204
    assert interaction.content == "hi"


async def reaction_seconds(emu: DiscordEmulator, bot: commands.Bot, world: World) -> float:
    channel = text_channel(bot, world)
    messages = [await channel.send(f"entry {n}") for n in range(3)]
    started = time.monotonic()
    for message in messages:
        for emoji in ("😂", "🙂", "😐"):
            await message.add_reaction(emoji)
    return time.monotonic() - started


async def test_reactions_are_paced_at_one_per_quarter_second_per_channel(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    seconds = await reaction_seconds(emu, bot, world)

    assert seconds >= 8 * 0.25, "nine reactions in one channel take at least two seconds"
    assert emu.rate_limiter.refused == [], "discord.py waits as the headers say: no 429"
    assert all(emu.message(m.id).reactors("😐") for m in emu.messages(world.channel.id))


async def test_without_rate_limits_reactions_go_at_full_speed(
    emu: DiscordEmulator, world: World, bot: commands.Bot
) -> None:
    emu.rules = Rules().without("rate_limits")
    assert await reaction_seconds(emu, bot, world) < 1.5
