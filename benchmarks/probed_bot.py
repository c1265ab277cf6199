"""The real Punchline bot in a child process, with probes on its event loop.

A benchmark starts :func:`run_probed_bot` with ``multiprocessing`` (spawn) so the bot has its own
interpreter, GIL and core, as in production, while the Discord emulator runs in the parent. The
child measures what only it can see: how late a 50 ms ticker wakes up (event-loop lag) and
``bot.latency`` (the gateway heartbeat's round trip). It runs until the parent sends ``"stop"``
down the pipe, then answers with its samples, each stamped with wall-clock time so the parent can
cut out the window it cares about.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import multiprocessing
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

TICK_S = 0.05


@dataclass
class ProbeSamples:
    """``(wall-clock time, seconds)`` pairs from the child's probes."""

    loop_lag: list[tuple[float, float]] = field(default_factory=list)
    heartbeat: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class ProbedBot:
    """A running child (:func:`start_probed_bot`); :meth:`stop` returns its samples."""

    process: BaseProcess
    pipe: Connection

    async def stop(self) -> ProbeSamples:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.pipe.send, "stop")
        samples: ProbeSamples = await loop.run_in_executor(None, self.pipe.recv)
        self.process.join(timeout=30)
        return samples


async def start_probed_bot(emu, token: str, database: Path) -> ProbedBot:
    """The bot in a child process against ``emu``, once connected with its commands synced."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(
        target=run_probed_bot, args=(emu.base_url, token, str(database), theirs), daemon=True
    )
    child.start()
    await emu.wait_for_gateway("READY")
    await emu.wait_until(lambda: emu.commands(), "the slash commands")
    return ProbedBot(child, ours)


def run_probed_bot(api_url: str, token: str, database: str, pipe: Connection) -> None:
    """Child-process entry point: run the bot against ``api_url`` until told to stop."""
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_serve(api_url, token, Path(database), pipe))


async def _serve(api_url: str, token: str, database: Path, pipe: Connection) -> None:
    from bot.app import PunchlineBot, use_discord_api
    from bot.clock import Clock
    from bot.config import Settings
    from bot.store import Store

    await use_discord_api(api_url, token)
    store = Store(database)
    await store.open()
    bot = PunchlineBot(
        Settings(token=token, database=database),
        store=store,
        clock=Clock(),
        guild_ready_timeout=0.05,
    )
    samples = ProbeSamples()
    probes = [
        asyncio.create_task(_tick(samples)),
        asyncio.create_task(_heartbeats(bot, samples)),
    ]
    running = asyncio.create_task(bot.start(token))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, pipe.recv)  # "stop"
    for probe in probes:
        probe.cancel()
    await bot.close()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    await store.close()
    pipe.send(samples)


async def _tick(samples: ProbeSamples) -> None:
    while True:
        started = time.perf_counter()
        await asyncio.sleep(TICK_S)
        samples.loop_lag.append((time.time(), time.perf_counter() - started - TICK_S))


async def _heartbeats(bot, samples: ProbeSamples) -> None:
    while True:
        await asyncio.sleep(1.0)
        if math.isfinite(bot.latency):
            samples.heartbeat.append((time.time(), bot.latency))
