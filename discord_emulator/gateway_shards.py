"""Sharding on the emulated gateway, as ``gateway.mdx`` ("Sharding", "Rate Limiting") and
``opcodes-and-status-codes.mdx`` ("Gateway Close Event Codes") describe it.

- A guild's events go to the sessions of shard ``(guild_id >> 22) % num_shards``; events
  without a guild (DMs) to shard 0 only. A session that sent no ``shard`` is shard 0 of 1.
- "Each shard can only support a maximum of 2500 guilds": a session that would hold more is
  closed with **4011 Sharding required** (the limit is configurable for tests).
- A ``shard`` that does not fit its count is closed with **4010 Invalid shard**.
- Identifies are limited to ``max_concurrency`` per 5 seconds, by rate-limit key
  ``shard_id % max_concurrency``; one over the limit is answered with **Invalid Session
  (opcode 9)**.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .clock import EmulatorClock

GUILD_LIMIT = 2500
"""``gateway.mdx``: "Each shard can only support a maximum of 2500 guilds"."""

IDENTIFY_WINDOW_S = 5.0
"""``gateway.mdx``: ``max_concurrency`` is the "Number of identify requests allowed per 5 seconds"."""

GUILDS_PER_RECOMMENDED_SHARD = 1000
SESSION_STARTS_PER_DAY = 1000
INVALID_SHARD = 4010
SHARDING_REQUIRED = 4011


@dataclass(frozen=True)
class ShardSpec:
    """Which slice of the bot's guilds a session receives: shard ``id`` of ``count``."""

    id: int = 0
    count: int = 1

    @classmethod
    def from_identify(cls, value: Any) -> ShardSpec | None:
        """The IDENTIFY payload's ``shard`` array (absent: shard 0 of 1); None when invalid."""
        if value is None:
            return cls()
        try:
            shard_id, count = (int(part) for part in value)
        except (TypeError, ValueError):
            return None
        return cls(shard_id, count) if 0 <= shard_id < count else None

    def routes(self, guild_id: int | None) -> bool:
        """Whether this shard receives an event of ``guild_id`` (None: an event without a guild)."""
        if guild_id is None:
            return self.id == 0
        return (guild_id >> 22) % self.count == self.id

    def as_list(self) -> list[int]:
        return [self.id, self.count]


def recommended_shards(guild_count: int) -> int:
    """What ``GET /gateway/bot`` recommends: about one shard per 1,000 guilds."""
    return max(1, math.ceil(guild_count / GUILDS_PER_RECOMMENDED_SHARD))


class IdentifyLimiter:
    """``max_concurrency`` identifies per 5 seconds: each rate-limit key
    (``shard_id % max_concurrency``) may start one session per window."""

    def __init__(self, clock: EmulatorClock, max_concurrency: int = 1) -> None:
        self._clock = clock
        self.max_concurrency = max_concurrency
        self._last: dict[int, float] = {}
        self.starts = 0
        """Sessions started so far (``session_start_limit.remaining`` counts down from them)."""

    def admit(self, shard: ShardSpec) -> bool:
        """Whether ``shard`` may identify now; an admitted identify starts a session."""
        key, now = shard.id % self.max_concurrency, self._clock.time()
        last = self._last.get(key)
        if last is not None and now - last < IDENTIFY_WINDOW_S:
            return False
        self._last[key] = now
        self.starts += 1
        return True

    def session_start_limit(self) -> dict[str, int]:
        """The ``session_start_limit`` object of ``GET /gateway/bot``."""
        return {
            "total": SESSION_STARTS_PER_DAY,
            "remaining": max(0, SESSION_STARTS_PER_DAY - self.starts),
            "reset_after": 24 * 3600 * 1000,
            "max_concurrency": self.max_concurrency,
        }
