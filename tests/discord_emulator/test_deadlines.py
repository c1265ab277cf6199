"""The interaction deadlines of ``receiving-and-responding.mdx``: "you must send an initial
response within 3 seconds of receiving the event. If the 3 second deadline is exceeded, the
token will be invalidated", and "Interaction tokens are valid for 15 minutes"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from discord_emulator import ApplicationDidNotRespond, DiscordEmulator, Rules, running_client

from .conftest import World, make_bot


@dataclass
class SlowBot:
    """A bot whose /slow command answers only when the test lets it."""

    bot: commands.Bot
    release: asyncio.Event = field(default_factory=asyncio.Event)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    followup_after_minutes: float | None = None
    errors: list[discord.HTTPException] = field(default_factory=list)


@pytest.fixture
async def slow(emu: DiscordEmulator, world: World) -> AsyncIterator[SlowBot]:
    slow = SlowBot(make_bot())

    @app_commands.command(name="slow", description="Answers when told to")
    async def slow_command(interaction: discord.Interaction) -> None:
        await slow.release.wait()
        try:
            await interaction.response.send_message("here I am", ephemeral=True)
            if slow.followup_after_minutes is not None:
                emu.advance_time(slow.followup_after_minutes * 60)
                await interaction.followup.send("one more thing")
        except discord.HTTPException as error:
            slow.errors.append(error)
        finally:
            slow.answered.set()

    slow.bot.tree.add_command(slow_command)
    async with running_client(emu, slow.bot):
        await slow.bot.tree.sync()
        yield slow


def run_slow(emu: DiscordEmulator, world: World) -> asyncio.Task:
    return asyncio.create_task(emu.slash(world.guild.id, world.channel.id, world.alice.id, "slow"))


async def test_an_answer_within_3_seconds_is_accepted_and_timed(
    emu: DiscordEmulator, world: World, slow: SlowBot
) -> None:
    slow.release.set()
    result = await run_slow(emu, world)

    assert result.content == "here I am"
    assert result.first_answer_s is not None
    assert 0 <= result.first_answer_s < 3
    assert not result.late
    assert emu.first_answer_times == [result.first_answer_s]


async def test_a_first_answer_after_3_seconds_is_unknown_interaction_10062(
    emu: DiscordEmulator, world: World, slow: SlowBot
) -> None:
    running = run_slow(emu, world)
    await emu.wait_until(lambda: emu.interactions.results, "the interaction")
    emu.advance_time(3.1)

    with pytest.raises(ApplicationDidNotRespond, match="within 3 s"):
        await running
    slow.release.set()
    await slow.answered.wait()

    [error] = slow.errors
    assert isinstance(error, discord.NotFound)
    assert (error.status, error.code, error.text) == (404, 10062, "Unknown interaction")
    [result] = emu.interactions.results
    assert result.late
    assert not result.responded
    assert result.first_answer_s is not None
    assert result.first_answer_s >= 3.1
    assert emu.first_answer_times == [result.first_answer_s]
    assert emu.messages(world.channel.id, include_ephemeral=True) == []


async def test_without_the_deadline_rule_a_late_answer_is_accepted(
    emu: DiscordEmulator, world: World, slow: SlowBot
) -> None:
    emu.rules = Rules().without("interaction_deadline")
    running = run_slow(emu, world)
    await emu.wait_until(lambda: emu.interactions.results, "the interaction")
    emu.advance_time(3.1)
    slow.release.set()

    result = await running
    assert result.content == "here I am"
    assert slow.errors == []


async def test_follow_ups_use_the_token_for_15_minutes_then_50027(
    emu: DiscordEmulator, world: World, slow: SlowBot
) -> None:
    slow.followup_after_minutes = 14.9
    slow.release.set()
    result = await run_slow(emu, world)
    await slow.answered.wait()
    assert slow.errors == []
    [followup] = await result.wait_for_followups(1)
    assert followup.content == "one more thing"

    slow.answered.clear()
    slow.followup_after_minutes = 15.2
    await run_slow(emu, world)
    await slow.answered.wait()
    [error] = slow.errors
    assert (error.status, error.code, error.text) == (401, 50027, "Invalid Webhook Token")
