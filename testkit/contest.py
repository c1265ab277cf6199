"""Driving a contest through the emulator, and telling the bot's posts apart."""

from __future__ import annotations

import datetime as dt

from bot.app import PunchlineBot
from discord_emulator import DiscordEmulator, InteractionResult, Message

from .world import Server

LONG_PHASE_MINUTES = 600
"""A phase this long never ends by itself during a test (at speed 60 it lasts 10 real minutes):
the test brings the step forward with :func:`run_job_now` when it wants it."""


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


def run_job_now(bot: PunchlineBot, job_id: str) -> None:
    """Bring a scheduled contest step (``voting:<contest id>``, ``close:<contest id>``) to now."""
    bot.scheduler.modify_job(job_id, next_run_time=dt.datetime.now(dt.UTC))


def is_prompt(message: Message) -> bool:
    return any("Caption contest" in (e.get("title") or "") for e in message.embeds)


def is_results(message: Message) -> bool:
    return any("Results" in (e.get("title") or "") for e in message.embeds)


def is_entry(message: Message) -> bool:
    return message.content.startswith("**Entry #")


DEFERRED_UPDATE_MESSAGE = 6


async def press(
    emu: DiscordEmulator, message_id: int, custom_id: str, user_id: int
) -> InteractionResult:
    """Press a button and wait for the bot's whole answer.

    The bot acknowledges a press at once (Discord's 3 seconds) and answers after: it fills in a
    "thinking…" reply, edits the pressed message after a deferred update, or sends a follow-up.
    """
    edited_before = emu.message(message_id).edited_at
    result = await emu.press_button(message_id, custom_id, user_id)

    def answered() -> bool:
        if result.followups:
            return True
        if result.response_type == DEFERRED_UPDATE_MESSAGE:
            return result.original is not None and result.original.edited_at != edited_before
        return not result.loading

    await emu.wait_until(answered, f"the bot's answer to {custom_id}")
    return result
