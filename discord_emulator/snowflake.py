"""Discord snowflakes: 64-bit ids whose top 42 bits are a millisecond timestamp.

Real ids matter to the bot: discord.py derives ``created_at`` (and so account age) from them,
and message history is ordered by them.
"""

from __future__ import annotations

import datetime as dt

DISCORD_EPOCH_MS = 1_420_070_400_000
_WORKER_ID = 1
_PROCESS_ID = 0


def snowflake_time(snowflake: int) -> dt.datetime:
    """The UTC creation time encoded in ``snowflake``."""
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def _timestamp_bits(when: dt.datetime) -> int:
    if when.tzinfo is None:
        raise ValueError("snowflake times must be timezone-aware")
    ms = int(when.timestamp() * 1000) - DISCORD_EPOCH_MS
    if ms < 0:
        raise ValueError("Discord snowflakes cannot predate 2015-01-01")
    return ms << 22


class SnowflakeFactory:
    """Issues unique snowflakes; ids issued for "now" are strictly increasing."""

    def __init__(self) -> None:
        self._increment = 0
        self._last_now_id = 0

    def _next_low_bits(self) -> int:
        self._increment = (self._increment + 1) % 4096
        return (_WORKER_ID << 17) | (_PROCESS_ID << 12) | self._increment

    def at(self, when: dt.datetime) -> int:
        """A snowflake whose timestamp is ``when`` (for back-dated users and members)."""
        return _timestamp_bits(when) | self._next_low_bits()

    def now(self) -> int:
        """A snowflake for the current instant, greater than every earlier ``now()``."""
        candidate = self.at(dt.datetime.now(dt.UTC))
        self._last_now_id = max(candidate, self._last_now_id + 1)
        return self._last_now_id

    def now_on_shard(self, shard_id: int, shard_count: int) -> int:
        """A :meth:`now` id that, as a guild id, Discord routes to shard ``shard_id`` of
        ``shard_count`` (``(id >> 22) % shard_count``): at most ``shard_count - 1`` ms ahead."""
        candidate = self.now()
        late = (shard_id - (candidate >> 22)) % shard_count
        if late:
            candidate = (((candidate >> 22) + late) << 22) | self._next_low_bits()
            self._last_now_id = candidate
        return candidate

    def observe(self, snowflake: int) -> None:
        """Make later ``now()`` ids sort after ``snowflake`` (used when restoring a snapshot)."""
        self._last_now_id = max(self._last_now_id, snowflake)
