"""Writing live votes in batches: what arrives together commits in one transaction.

Each reaction's handler awaits its own change, so when it returns the vote is in SQLite (or was
refused there); handlers that arrive while a batch is being written form the next batch. Under a
reaction storm the database thread therefore commits a few large transactions instead of one per
reaction, and the order of changes is the order the events arrived in.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Iterator

from bot.clock import Clock
from bot.store import Store
from storage import votes
from storage.votes import VoteChange

_Pending = tuple[VoteChange, "asyncio.Future[bool]"]


class VoteBatcher:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self.committed = 0
        """Changes written so far (taking effect or refused there)."""
        self.batches = 0
        """Transactions that wrote them."""

    async def apply(self, change: VoteChange) -> bool:
        """Queue ``change``; returns once it is committed: whether it took effect."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((change, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await done

    async def _write(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                applied = await self.store.call(
                    votes.apply_vote_changes, [change for change, _ in batch], self.clock.now()
                )
            except Exception as error:  # noqa: BLE001 - every waiter of the batch gets it
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
                continue
            self.committed += len(batch)
            self.batches += 1
            for (_, done), took in zip(batch, applied, strict=True):
                if not done.done():
                    done.set_result(took)

    async def drain(self) -> None:
        """Wait for the batch being written (at shutdown)."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)


class LiveChanges:
    """Which members' votes changed live in a guild while a reconciliation read its reactions.

    A reconciliation replaces the stored votes with what the reactions showed when it read them;
    a live event arriving meanwhile is newer, so the reconciliation leaves that vote to it.
    """

    def __init__(self) -> None:
        self._watching: defaultdict[int, list[set[tuple[int, int]]]] = defaultdict(list)

    def note(self, guild_id: int, entry_id: int, voter_id: int) -> None:
        """A live vote change, as it arrives (before it is queued for writing)."""
        for changed in self._watching.get(guild_id, ()):
            changed.add((entry_id, voter_id))

    @contextlib.contextmanager
    def during(self, guild_id: int) -> Iterator[set[tuple[int, int]]]:
        """The (entry, voter) pairs that change live in the guild while the block runs."""
        changed: set[tuple[int, int]] = set()
        self._watching[guild_id].append(changed)
        try:
            yield changed
        finally:
            self._watching[guild_id].remove(changed)
            if not self._watching[guild_id]:
                del self._watching[guild_id]
