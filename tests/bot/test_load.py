"""A small vote storm in CI: every reaction counted exactly once, the event loop never stalls.

The full-size storm, with throughput and latency figures, is ``benchmarks/bench_vote_storm.py``;
this test only checks correctness under load and a generous bound on event-loop lag (the bot,
the emulator and the test share one loop here, so the bound covers all three).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator

from discord_emulator import DiscordEmulator
from storage import contests
from tests.bot.conftest import (
    OLD_ACCOUNT,
    Server,
    open_contest_now,
    punchline,
    start_voting_now,
    stored_votes,
    submit,
)

VOTERS = 150
AUTHORS = 10
EMOJI_RATING = {"😂": 3, "🙂": 2, "😐": 1}
LAG_BOUND_S = 1.0  # a stall this long would already worry Discord's heartbeat; typical lag is ms


class LoopLag:
    """Measures how late a 10 ms ticker wakes up: the event loop's responsiveness."""

    def __init__(self, tick: float = 0.01) -> None:
        self.tick = tick
        self.worst = 0.0

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[LoopLag]:
        task = asyncio.create_task(self._tick())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _tick(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.tick)
            self.worst = max(self.worst, time.perf_counter() - started - self.tick)


async def test_a_burst_of_reactions_is_counted_exactly_once(
    emu: DiscordEmulator, server: Server, db_path, db
):
    """1,350 ratings from 150 members arrive in bursts of 50 while other members run slash
    commands: the stored votes equal the reactions one for one, and the loop never stalls."""
    rng = random.Random(11)
    voters = [emu.create_user(f"voter{i}", created_at=OLD_ACCOUNT) for i in range(VOTERS)]
    for voter in voters:
        emu.add_member(server.guild.id, voter.id)
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        authors = voters[:AUTHORS]
        for i, author in enumerate(authors):
            await submit(emu, server, author, f"Load caption number {i}")
        posted = await start_voting_now(emu, bot, db, contest, AUTHORS)
        thread = contests.get_contest(db, contest.id).thread_id
        storm = [
            (voter.id, message.id, rng.choice(list(EMOJI_RATING)))
            for author_id, message in posted.items()
            for voter in voters
            if voter.id != author_id
        ]
        rng.shuffle(storm)
        expected = {(message, voter): EMOJI_RATING[emoji] for voter, message, emoji in storm}

        async with LoopLag().watching() as lag:
            asking = asyncio.gather(
                *(
                    emu.slash(server.guild.id, server.channel.id, member.id, "contest status")
                    for member in server.members.values()
                )
            )
            for start in range(0, len(storm), 50):
                for voter, message, emoji in storm[start : start + 50]:
                    await emu.react(voter, thread, message, emoji)
                await asyncio.sleep(0)  # let the bot read between bursts, as a socket would
            answers = await asking
            await emu.wait_until(
                lambda: len(stored_votes(db, contest.id)) == len(expected), "every vote stored"
            )

    assert stored_votes(db, contest.id) == expected
    assert all("caption(s)" in answer.content for answer in answers)
    print(f"{len(storm)} reactions; worst event-loop lag {lag.worst * 1000:.0f} ms")
    assert lag.worst < LAG_BOUND_S, f"the event loop stalled for {lag.worst:.2f} s"
