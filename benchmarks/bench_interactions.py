"""First answers and contest steps under all of Discord's rules, at 50, 200 and 500 entries.

    .venv/bin/python -m benchmarks.bench_interactions                 # 50, 200, 500 (~20 min)
    .venv/bin/python -m benchmarks.bench_interactions --entries 50    # one size (~2 min)

For each size the real bot (AI off) runs in a child process (``benchmarks/probed_bot.py``)
against a fresh Discord emulator in this process with every rule on, at Discord's real pace:
per-route rate limits, the global limit, the reaction pacing, the 3-second deadline. Members
submit the captions; the moderator's /contest close opens voting; while the entries go up members
react on each as it appears (a few reactions a second), try to submit late, ask /contest status
and /caption mine, and the moderator extends; then every entry gets about two ratings and the
moderator closes, members still reacting while the bot reads the reactions back.

Reported per size: the first answer to every interaction as the emulator measured it (event
dispatched → the bot's first callback; Discord drops one later than 3 s), by phase; how long
opening and closing took (command → the moderator's follow-up) beside the floor Discord's pacing
sets for the same requests: one post a second in the thread (5 per 5 s) for the opening, five
reads a second of each reaction list for the close's reconciliation; the 429s; and votes stored
against votes cast.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.bench_vote_storm import ms
from benchmarks.machine import describe_machine, load_average
from benchmarks.probed_bot import run_probed_bot
from discord_emulator import DiscordEmulator, InteractionResult, Rules
from storage import contests, entries, open_database, votes
from testkit import LONG_PHASE_MINUTES, OLD_ACCOUNT, Server, build_server

TOKEN = "interactions-token"
SIZES = (50, 200, 500)
EXTRA_VOTERS = 40
EMOJI_RATING = {"😂": 3, "🙂": 2, "😐": 1}
REACTIONS_PER_S = 4.0
POSTS_PER_S = 1.0  # Discord: 5 messages per 5 s in a channel
READS_PER_S = 5.0  # the emulator's figure for a route Discord publishes none for


@dataclass
class SizeRun:
    entries: int
    opening_s: float = 0.0
    closing_s: float = 0.0
    reaction_reads: int = 0
    history_reads: int = 0
    refused_429: int = 0
    answers: dict[str, list[float]] = field(default_factory=dict)
    late: int = 0
    cast: dict[tuple[int, int], int] = field(default_factory=dict)
    stored: dict[tuple[int, int], int] = field(default_factory=dict)


class Members:
    """The members' side: reactions on posted entries, and everyday commands."""

    def __init__(self, emu: DiscordEmulator, server: Server, db, contest_id: int, rng) -> None:
        self.emu, self.server, self.db, self.contest_id, self.rng = emu, server, db, contest_id, rng
        self.voters = [u.id for u in server.members.values()]
        self.cast: dict[tuple[int, int], str] = {}  # (post, member) → emoji left there
        self.author_of: dict[int, int] = {}

    def posted(self) -> list[int]:
        found = entries.contest_entries(self.db, self.contest_id)
        self.author_of.update({e.message_id: e.author_id for e in found if e.message_id})
        return list(self.author_of)

    async def react(self, thread: int, post: int) -> None:
        voter = self.rng.choice(self.voters)
        if voter == self.author_of[post]:
            return
        emoji = self.rng.choice(list(EMOJI_RATING))
        await self.emu.react(voter, thread, post, emoji)
        self.cast[(post, voter)] = emoji

    def raters(self, post: int) -> set[int]:
        return {voter for (on, voter) in self.cast if on == post}

    async def storm(self, thread: int, stop) -> None:
        """A few reactions a second on the entries posted so far, until ``stop()``."""
        while not stop():
            posted = self.posted()
            if posted:
                await self.react(thread, self.rng.choice(posted))
            await asyncio.sleep(1 / REACTIONS_PER_S)

    async def chatter(self, stop) -> None:
        """Late submissions, /contest status and /caption mine, about one a second."""
        server = self.server
        while not stop():
            member = self.rng.choice(self.voters)
            for command, options in (
                ("caption submit", {"text": "Am I too late?"}),
                ("contest status", {}),
                ("caption mine", {}),
            ):
                await self.emu.slash(server.guild.id, server.channel.id, member, command, **options)
            await asyncio.sleep(3.0)


async def slash(emu: DiscordEmulator, server: Server, user: int, command: str, **options):
    return await emu.slash(server.guild.id, server.channel.id, user, command, **options)


async def timed_followup(answer: InteractionResult, started: float) -> float:
    """Seconds from ``started`` to the moderator's follow-up."""
    await answer.wait_for_followups()
    return time.perf_counter() - started


async def run_size(count: int, workdir: Path, rng: random.Random) -> SizeRun:
    database = workdir / f"bench-{count}.db"
    open_database(database).close()
    result = SizeRun(count)
    async with DiscordEmulator(token=TOKEN, timeout=3600.0, rules=Rules()) as emu:
        users = [
            emu.create_user(f"m{i}", created_at=OLD_ACCOUNT) for i in range(count + EXTRA_VOTERS)
        ]
        server = build_server(emu, f"bench {count}", users)
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        child = context.Process(
            target=run_probed_bot, args=(emu.base_url, TOKEN, str(database), theirs), daemon=True
        )
        child.start()
        await emu.wait_for_gateway("READY")
        await emu.wait_until(lambda: emu.commands(), "the slash commands")
        db = open_database(database, check=False)
        marks = [0]

        def phase_done(name: str) -> None:
            answers = emu.interactions.results[marks[-1] :]
            result.answers[name] = [
                a.first_answer_s for a in answers if a.first_answer_s is not None
            ]
            result.late += sum(a.late for a in answers)
            marks.append(len(emu.interactions.results))

        await slash(
            emu,
            server,
            server.mod.id,
            "contest setup",
            channel=server.channel.id,
            post_time=datetime.now(UTC).strftime("%H:%M"),
            submission_minutes=LONG_PHASE_MINUTES,
            voting_minutes=LONG_PHASE_MINUTES,
        )
        contest = await emu.wait_until(
            lambda: contests.latest_contest(db, server.guild.id), "the contest"
        )
        authors = [u.id for u in users[:count]]
        for start in range(0, count, 25):
            await asyncio.gather(
                *(
                    slash(emu, server, a, "caption submit", text=f"Entry by {a}: a decent joke")
                    for a in authors[start : start + 25]
                )
            )
        phase_done("submissions")

        members = Members(emu, server, db, contest.id, rng)
        started = time.perf_counter()
        opening = await slash(emu, server, server.mod.id, "contest close")
        opened = asyncio.create_task(timed_followup(opening, started))
        thread = await emu.wait_until(
            lambda: contests.get_contest(db, contest.id).thread_id, "the thread"
        )
        extend = slash(emu, server, server.mod.id, "contest extend", minutes=30)
        await asyncio.gather(
            members.storm(thread, opened.done), members.chatter(opened.done), extend, opened
        )
        result.opening_s = opened.result()
        phase_done("while opening")

        for post in members.posted():  # about two ratings on every entry
            while len(members.raters(post)) < 2:
                await members.react(thread, post)
        wanted = {k: EMOJI_RATING[e] for k, e in members.cast.items()}
        await emu.wait_until(lambda: stored_votes(db, contest.id) == wanted, "the live votes")
        requests_before = len(emu.request_log)
        started = time.perf_counter()
        closing = await slash(emu, server, server.mod.id, "contest close")
        closed = asyncio.create_task(timed_followup(closing, started))
        reading_until = time.perf_counter() + 5.0
        await members.storm(thread, lambda: time.perf_counter() > reading_until or closed.done())
        await asyncio.gather(members.chatter(closed.done), closed)
        result.closing_s = closed.result()
        phase_done("while closing")

        during_close = emu.request_log[requests_before:]
        result.reaction_reads = sum(
            r.method == "GET" and "/reactions/" in r.path for r in during_close
        )
        result.history_reads = sum(
            r.method == "GET" and r.path.endswith(f"/channels/{thread}/messages")
            for r in during_close
        )
        result.refused_429 = len(emu.rate_limiter.refused)
        result.cast = {k: EMOJI_RATING[e] for k, e in members.cast.items()}
        result.stored = stored_votes(db, contest.id)
        await asyncio.get_running_loop().run_in_executor(None, ours.send, "stop")
        await asyncio.get_running_loop().run_in_executor(None, ours.recv)
        child.join(timeout=30)
        db.close()
    return result


def stored_votes(db, contest_id: int) -> dict[tuple[int, int], int]:
    message_of = {e.id: e.message_id for e in entries.contest_entries(db, contest_id, status=None)}
    return {
        (message_of[r.entry_id], r.voter_id): int(r.rating)
        for r in votes.contest_ratings(db, contest_id, source="emoji")
    }


def report(run: SizeRun) -> list[str]:
    every = [t for times in run.answers.values() for t in times]
    opening_floor = run.entries / POSTS_PER_S
    closing_floor = run.reaction_reads / READS_PER_S
    lost = len(run.cast.keys() - run.stored.keys())
    extra = len(run.stored.keys() - run.cast.keys())
    altered = sum(run.stored.get(k) != v for k, v in run.cast.items() if k in run.stored)
    lines = [
        f"{run.entries} entries:",
        f"  first answer, all {len(every)} interactions: {ms(every)}; past 3 s: {run.late}",
    ]
    lines += [f"    {phase}: {ms(times)}" for phase, times in run.answers.items()]
    lines += [
        f"  opening voting (command → follow-up): {run.opening_s:.1f} s; Discord's floor for"
        f" {run.entries} posts at 5 per 5 s: {opening_floor:.0f} s"
        f" (ratio {run.opening_s / opening_floor:.2f})",
        f"  closing (reconcile, tally, results; command → follow-up): {run.closing_s:.1f} s;"
        f" {run.reaction_reads} reaction lists and {run.history_reads} history pages read;"
        f" floor for those reads at 5/s: {closing_floor:.0f} s"
        + (f" (ratio {run.closing_s / closing_floor:.2f})" if closing_floor else ""),
        f"  429s answered by the emulator (discord.py waited them out): {run.refused_429}",
        f"  votes: {len(run.cast)} cast, {len(run.stored)} stored:"
        f" {lost} lost · {extra} extra · {altered} altered",
    ]
    return lines


async def run(sizes: list[int], seed: int, workdir: Path) -> None:
    print(describe_machine(), flush=True)
    for count in sizes:
        started = time.perf_counter()
        result = await run_size(count, workdir, random.Random(seed))
        print(*report(result), f"  (run took {time.perf_counter() - started:.0f} s)", sep="\n")
        print(flush=True)
    print(f"at the end: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entries", type=int, action="append", help="sizes (default 50 200 500)")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="punchline-interactions-") as folder:
        asyncio.run(run(args.entries or list(SIZES), args.seed, Path(folder)))


if __name__ == "__main__":
    main()
