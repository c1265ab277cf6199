"""The shards this process runs: leased so no other process runs them, identified as fast as
Discord allows, and each one's catch-up remembered for ``/bot status``.

A process holds a lease on each of its shards in the database (``storage.shards``), renewed
every :data:`HEARTBEAT_S`. A second process configured with an overlapping shard is refused at
start. A process that died leaves leases that expire after :data:`LEASE_TTL`; one that died on
this machine is recognised at once (its process id is gone), so a restart after a crash need
not wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.config import ConfigError
from bot.store import Store
from storage import shards as leases
from storage.db import StorageBusy
from storage.shards import ShardSet, ShardsTaken

log = logging.getLogger(__name__)
LEASE_TTL = timedelta(seconds=60)
HEARTBEAT_S = 15.0
IDENTIFY_WINDOW_S = 5.0  # gateway.mdx: max_concurrency identifies "per 5 seconds"
IDENTIFY_MARGIN_S = 0.25  # the gateway times our identify on arrival, after the send


def process_owner() -> str:
    """This process's name on its leases: host, process id and a random tag."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"


def owner_is_gone(owner: str) -> bool:
    """Whether ``owner`` was a process on this machine that no longer runs (its leases are
    free at once). Processes elsewhere are judged by their heartbeat only."""
    try:
        host, pid_text, _ = owner.split("/", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it runs, as another user
        return False
    return False


class ShardLeases:
    """This process's leases on its shards: claimed at start, renewed, released at close."""

    def __init__(self, store: Store, shards: ShardSet, on_lost: Callable[[], object]) -> None:
        self.store = store
        self.shards = shards
        self.owner = process_owner()
        self._on_lost = on_lost
        self._claimed = False
        self._heartbeat: asyncio.Task[None] | None = None

    async def claim(self) -> None:
        """Lease the shards, or raise :class:`ConfigError` saying who runs them."""
        now = datetime.now(UTC)
        held = await self.store.call(leases.live_leases, now, LEASE_TTL)
        gone = {lease.owner for lease in held if owner_is_gone(lease.owner)}
        try:
            await self.store.call(
                leases.claim_shards, self.owner, self.shards, now, LEASE_TTL, gone
            )
        except ShardsTaken as taken:
            raise ConfigError(refusal(taken, now)) from None
        log.info("running %s (lease holder %s)", self.shards.describe(), self.owner)
        self._claimed = True
        self._heartbeat = asyncio.create_task(self._beat(), name="punchline: shard leases")

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                kept = await self.store.call(leases.renew_leases, self.owner, datetime.now(UTC))
            except StorageBusy as busy:  # the lease lives 60 s: the next beat tries again
                log.warning("could not renew the shard leases: %s", busy)
                continue
            if kept < len(self.shards.ids):
                log.critical(
                    "lost the lease on %s (this process stalled past %s?); another process "
                    "may run them now: stopping",
                    self.shards.describe(),
                    LEASE_TTL,
                )
                self._heartbeat = None
                self._on_lost()
                return

    async def release(self) -> None:
        """Stop the heartbeat and free the shards for a successor."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        if self._claimed:
            self._claimed = False
            try:
                await self.store.call(leases.release_shards, self.owner)
            except Exception as problem:  # noqa: BLE001 - shutting down: they expire on their own
                log.warning("could not release the shard leases (they expire): %s", problem)


def refusal(taken: ShardsTaken, now: datetime) -> str:
    """What a refused process says: which shards, held by whom, and what to change."""
    held = "; ".join(
        f"shard {lease.shard_id} of {lease.shard_count} by {lease.owner}"
        f" (heartbeat {(now - lease.heartbeat_at).total_seconds():.0f} s ago)"
        for lease in taken.conflicts
    )
    return (
        f"This process was to run {taken.wanted.describe()}, but another process on the same "
        f"database runs {held}.\n"
        "  • Give each process its own shards with PUNCHLINE_SHARD_IDS and the same "
        "PUNCHLINE_SHARD_COUNT for all, or stop the other process.\n"
        f"  • A process that died frees its shards within {LEASE_TTL.seconds} s "
        "(at once when it ran on this machine)."
    )


class IdentifyPacer:
    """Identify no faster than Discord allows: ``max_concurrency`` sessions per 5 s, each
    rate-limit key (``shard_id % max_concurrency``) once per window (``gateway.mdx``, "Max
    Concurrency"). discord.py's own hook waits 5 s before every identify but the first."""

    def __init__(self, max_concurrency: int = 1) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self._last: dict[int, float] = {}

    async def wait_turn(self, shard_id: int) -> None:
        key = shard_id % self.max_concurrency
        last = self._last.get(key)
        if last is not None:
            await asyncio.sleep(last + IDENTIFY_WINDOW_S + IDENTIFY_MARGIN_S - time.monotonic())
        self._last[key] = time.monotonic()


@dataclass
class ShardHealth:
    """When a shard last caught up (after READY or RESUMED) and how long that took."""

    catch_ups: int = 0
    last_reason: str | None = None
    last_at: datetime | None = None
    last_seconds: float | None = None
