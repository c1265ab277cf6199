"""The real PunchlineBot, connected to the Discord emulator, for the length of a ``with`` block."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

from bot.app import PunchlineBot
from bot.clock import Clock
from bot.config import Settings
from bot.store import Store
from discord_emulator import DiscordEmulator, running_client
from discord_emulator.gateway_shards import IDENTIFY_WINDOW_S


class ClockFrom(Clock):
    """A bot clock whose contest time starts at ``start`` instead of now."""

    def __init__(self, start: dt.datetime, speed: float = 1.0) -> None:
        super().__init__(speed)
        self._contest_origin = start


def restart_later(emu: DiscordEmulator) -> None:
    """Let Discord's identify window (``max_concurrency`` sessions per 5 s) pass on the
    emulator's clock, as it would between two real starts of the bot."""
    emu.advance_time(IDENTIFY_WINDOW_S)


@contextlib.asynccontextmanager
async def running_bot(
    emu: DiscordEmulator, settings: Settings, store: Store, *, clock: Clock, ai=None
) -> AsyncIterator[PunchlineBot]:
    """PunchlineBot on an open ``store``, logged in to ``emu`` and ready; closed on exit.

    A bot (re)started in a test connects milliseconds after the last one, where a real restart
    takes seconds: the emulator's clock moves past Discord's identify window first
    (:func:`restart_later`), so the new session is not refused as a too-fast identify.
    """
    restart_later(emu)
    bot = PunchlineBot(settings, store=store, ai=ai, clock=clock, guild_ready_timeout=0.05)
    async with running_client(emu, bot):
        yield bot


@contextlib.asynccontextmanager
async def punchline(
    emu: DiscordEmulator, db_path: Path, *, speed: float = 60.0, ai=None, clock: Clock | None = None
) -> AsyncIterator[PunchlineBot]:
    """Start the bot on ``db_path`` (contest time runs ``speed`` times faster) and stop it after.

    ``clock`` replaces the default ``Clock(speed)``, e.g. to start at a chosen contest moment.
    """
    store = Store(db_path)
    await store.open()
    try:
        settings = Settings(token=emu.token, database=db_path)
        async with running_bot(emu, settings, store, clock=clock or Clock(speed), ai=ai) as bot:
            yield bot
    finally:
        await store.close()
