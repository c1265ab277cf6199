"""Vote storm: thousands of members rating dozens of entries within a minute, through the emulator.

    .venv/bin/python -m benchmarks.bench_vote_storm           # the figures in docs/RELIABILITY.md
    .venv/bin/python -m benchmarks.bench_vote_storm --quick   # a short smoke run

The real bot (AI off) runs in a child process (``benchmarks/probed_bot.py``) against the Discord
emulator in this process, over loopback. Three servers share it:

* **storm** (emoji mode): ``--members`` members rate ``--entries`` entries with reactions, offered
  at ``--rate`` events/s for ``--seconds``;
* **ballots** (ballot mode): ``--ballot-members`` members press Vote and rate captions with
  buttons, ``--sessions`` of them at a time, each waiting for the bot's answer as a person would;
* **open** (submissions): during both storms members send captions with /caption submit and
  others run /contest status and /caption mine, and each reply's latency is timed.

Event-to-database latency runs from the emulator dispatching the event to the vote row being
visible to another SQLite connection (polled every 5 ms, so it is at most ~5 ms pessimistic).
Every stored vote is checked against what the emulator sent: none lost, none extra, none altered.
The same rows are then inserted with the bot's own ``storage.votes.record_vote`` straight into
SQLite, one transaction per vote and all in one, for the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import sqlite3
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.machine import describe_machine, load_average
from benchmarks.probed_bot import ProbeSamples, run_probed_bot
from discord_emulator import DiscordEmulator, InteractionResult
from storage import contests, entries, open_database, votes
from storage.db import transaction
from testkit import LONG_PHASE_MINUTES, OLD_ACCOUNT, Server, build_server, press

TOKEN = "storm-token"
EMOJI_RATING = {"😂": 3, "🙂": 2, "😐": 1}


@dataclass
class Timings:
    """Seconds, by what was timed."""

    samples: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, what: str, seconds: float) -> None:
        self.samples[what].append(seconds)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    return (
        f"p50 {percentile(values, 50) * 1000:.0f} ms · p99 {percentile(values, 99) * 1000:.0f} ms"
        f" · max {max(values) * 1000:.0f} ms (n={len(values)})"
    )


class RowWatcher:
    """Notes when each vote row first becomes visible to a second SQLite connection."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.seen: dict[tuple[int, int], float] = {}  # (entry id, voter id) -> perf_counter
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="row-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        db = open_database(self.database, check=False)
        last = 0
        while not self._stop.wait(0.005):  # SQLite cannot notify another process: poll
            rows = db["votes"].rows_where(
                "id > ?", [last], select="id, entry_id, voter_id", order_by="id"
            )
            now = time.perf_counter()
            for row in rows:
                last = row["id"]
                self.seen.setdefault((row["entry_id"], row["voter_id"]), now)
        db.close()


# -- the contests ----------------------------------------------------------------------------


async def open_contest(emu: DiscordEmulator, db, server: Server, *, ballot: bool = False) -> int:
    if ballot:
        await emu.slash(
            server.guild.id, server.channel.id, server.mod.id, "contest mode", mode="ballot"
        )
    reply = await emu.slash(
        server.guild.id,
        server.channel.id,
        server.mod.id,
        "contest setup",
        channel=server.channel.id,
        post_time=datetime.now(UTC).strftime("%H:%M"),
        submission_minutes=LONG_PHASE_MINUTES,
        voting_minutes=LONG_PHASE_MINUTES,
    )
    assert "Daily contest set" in reply.content, reply.content
    contest = await emu.wait_until(
        lambda: contests.latest_contest(db, server.guild.id), f"a contest in {server.guild.id}"
    )
    return contest.id


async def submit_all(emu: DiscordEmulator, server: Server, authors: list[int]) -> None:
    for i, author in enumerate(authors):
        reply = await emu.slash(
            server.guild.id,
            server.channel.id,
            author,
            "caption submit",
            text=f"Entry {i}: the meeting could have been an email, and the email a nap",
        )
        assert reply.content.startswith("✅"), reply.content


# -- the loads --------------------------------------------------------------------------------


async def emoji_storm(
    emu: DiscordEmulator,
    thread_id: int,
    plan: list[tuple[int, int, str]],
    rate: float,
    sent: dict[tuple[int, int], float],
) -> None:
    """React along ``plan`` at ``rate`` events/s; ``sent`` gets each dispatch time."""
    start, done = time.perf_counter(), 0
    while done < len(plan):
        due = min(len(plan), int((time.perf_counter() - start) * rate) + 1)
        for voter, message_id, emoji in plan[done:due]:
            sent[(message_id, voter)] = time.perf_counter()
            await emu.react(voter, thread_id, message_id, emoji)
        done = due
        await asyncio.sleep(0.005)  # the offered load is paced by the clock


def rate_buttons(result: InteractionResult) -> list[str]:
    return [
        c["custom_id"]
        for row in result.components
        for c in row.get("components", [])
        if c.get("custom_id", "").startswith("ballot:rate:")
    ]


async def ballot_session(
    emu: DiscordEmulator,
    prompt_id: int,
    contest_id: int,
    voter: int,
    wanted: int,
    rng: random.Random,
    sent: dict[tuple[int, int], tuple[int, float]],
    timings: Timings,
) -> None:
    """One member votes ``wanted`` captions by button, waiting for each answer."""
    started = time.perf_counter()
    ballot = await press(emu, prompt_id, f"ballot:open:{contest_id}", voter)
    timings.add("ballot: Vote button → first caption", time.perf_counter() - started)
    for _ in range(wanted):
        buttons = rate_buttons(ballot)
        if not buttons:
            return
        choice = rng.choice(buttons)
        _, _, _, entry_id, rating = choice.split(":")
        pressed = time.perf_counter()
        sent[(int(entry_id), voter)] = (int(rating), pressed)
        ballot = await press(emu, ballot.original.id, choice, voter)
        timings.add("ballot: rating → next caption", time.perf_counter() - pressed)


async def chatter(
    emu: DiscordEmulator,
    storm: Server,
    open_server: Server,
    members: list[int],
    stop: asyncio.Event,
    timings: Timings,
) -> int:
    """Submissions and everyday slash commands, about 3 a second, until ``stop``."""
    count = 0
    for member in members:
        if stop.is_set():
            break
        for what, server, command, options in (
            (
                "/caption submit (open server)",
                open_server,
                "caption submit",
                {"text": f"Mine is better {member}"},
            ),
            ("/contest status (storm server)", storm, "contest status", {}),
            ("/caption mine (open server)", open_server, "caption mine", {}),
        ):
            started = time.perf_counter()
            await emu.slash(server.guild.id, server.channel.id, member, command, **options)
            timings.add(what, time.perf_counter() - started)
            count += 1
        await asyncio.sleep(0.3)  # a person's pace, not a condition
    return count


# -- the run ----------------------------------------------------------------------------------


async def run(args: argparse.Namespace, workdir: Path) -> None:
    rng = random.Random(args.seed)
    database = workdir / "storm.db"
    open_database(database).close()
    async with DiscordEmulator(token=TOKEN, heartbeat_interval_ms=1000, timeout=600.0) as emu:
        users = [emu.create_user(f"m{i}", created_at=OLD_ACCOUNT) for i in range(args.members)]
        members = [user.id for user in users]
        authors = members[: args.entries]
        storm = build_server(emu, "storm", users, moderator="storm-mod")
        ballot_users = users[: max(args.ballot_members, args.entries)]
        ballots = build_server(emu, "ballots", ballot_users, moderator="ballots-mod")
        open_server = build_server(emu, "open", users, moderator="open-mod")

        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        child = context.Process(
            target=run_probed_bot, args=(emu.base_url, TOKEN, str(database), theirs), daemon=True
        )
        child.start()
        await emu.wait_for_gateway("READY")
        await emu.wait_until(lambda: emu.commands(), "the slash commands")
        db = open_database(database, check=False)

        storm_contest = await open_contest(emu, db, storm)
        ballot_contest = await open_contest(emu, db, ballots, ballot=True)
        await open_contest(emu, db, open_server)
        await submit_all(emu, storm, authors)
        await submit_all(emu, ballots, authors)
        for server in (storm, ballots):
            await emu.slash(server.guild.id, server.channel.id, server.mod.id, "contest close")
        posted = await emu.wait_until(
            lambda: _all_posted(db, storm_contest, len(authors)), "the storm's entry posts"
        )
        thread_id = contests.get_contest(db, storm_contest).thread_id
        prompt_id = contests.get_contest(db, ballot_contest).prompt_message_id
        message_of = {e.id: e.message_id for e in entries.contest_entries(db, storm_contest)}

        watcher = RowWatcher(database)
        watcher.start()
        timings = Timings()
        sections: list[Section] = []

        # 1. the emoji storm
        total = int(args.rate * args.seconds)
        per_member = min(len(authors) - 1, max(1, total // len(members)))
        plan = []
        for voter in members:
            own = {message_of[e] for e in message_of if posted[e] == voter}
            choices = [m for m in message_of.values() if m not in own]
            for message_id in rng.sample(choices, per_member):
                plan.append((voter, message_id, rng.choice(list(EMOJI_RATING))))
        rng.shuffle(plan)
        plan = plan[:total]
        sent: dict[tuple[int, int], float] = {}
        stop_chatter = asyncio.Event()
        chatting = asyncio.create_task(
            chatter(emu, storm, open_server, members[args.entries :], stop_chatter, timings)
        )
        storm_started, wall_started = time.perf_counter(), time.time()
        await emoji_storm(emu, thread_id, plan, args.rate, sent)
        dispatched = time.perf_counter()
        entry_of = {m: e for e, m in message_of.items()}
        expected = {(entry_of[m], v) for (m, v) in sent}
        await emu.wait_until(lambda: expected <= watcher.seen.keys(), "every storm vote visible")
        storm_ended, wall_ended = max(watcher.seen[k] for k in expected), time.time()
        stop_chatter.set()
        chat_count = await chatting
        latencies = [watcher.seen[(entry_of[m], v)] - t for (m, v), t in sent.items()]
        stored = {
            (r.entry_id, r.voter_id): r.rating
            for r in votes.contest_ratings(db, storm_contest, source="emoji")
        }
        wanted = {(entry_of[m], v): EMOJI_RATING[e] for v, m, e in plan}
        sections.append(
            Section(
                [
                    f"emoji storm: {len(plan)} reactions from {len(members)} members on"
                    f" {len(authors)} entries, offered at {args.rate:.0f}/s for"
                    f" {dispatched - storm_started:.1f} s",
                    f"  ingested: {len(plan) / (storm_ended - storm_started):.0f} events/s sustained"
                    f" (first dispatch → last row visible: {storm_ended - storm_started:.1f} s)",
                    f"  event → row visible in SQLite: {ms(latencies)}",
                ],
                wall_started,
                wall_ended,
                [
                    _checked(wanted, stored),
                    f"  alongside: {chat_count} slash commands and submissions",
                ],
            )
        )

        # 2. the ballot storm
        ballot_sent: dict[tuple[int, int], tuple[int, float]] = {}
        voters = members[: args.ballot_members]
        gate = asyncio.Semaphore(args.sessions)

        async def session(voter: int) -> None:
            async with gate:
                await ballot_session(
                    emu,
                    prompt_id,
                    ballot_contest,
                    voter,
                    args.ballot_ratings,
                    rng,
                    ballot_sent,
                    timings,
                )

        stop_chatter = asyncio.Event()
        chatting = asyncio.create_task(
            chatter(emu, storm, open_server, list(reversed(members)), stop_chatter, timings)
        )
        ballot_started, wall_started = time.perf_counter(), time.time()
        await asyncio.gather(*(session(v) for v in voters))
        ballot_keys = set(ballot_sent)
        await emu.wait_until(
            lambda: ballot_keys <= watcher.seen.keys(), "every ballot vote visible"
        )
        ballot_ended, wall_ended = max(watcher.seen[k] for k in ballot_keys), time.time()
        stop_chatter.set()
        chat_count = await chatting
        stored_ballots = {
            (r.entry_id, r.voter_id): r.rating
            for r in votes.contest_ratings(db, ballot_contest, source="ballot")
        }
        ballot_wanted = {k: r for k, (r, _) in ballot_sent.items()}
        ballot_latencies = [watcher.seen[k] - t for k, (_, t) in ballot_sent.items()]
        sections.append(
            Section(
                [
                    f"ballot storm: {len(ballot_sent)} button ratings from {len(voters)} members,"
                    f" {args.sessions} voting at a time, up to {args.ballot_ratings} captions each",
                    f"  ingested: {len(ballot_sent) / (ballot_ended - ballot_started):.0f} votes/s"
                    f" sustained ({ballot_ended - ballot_started:.1f} s)",
                    f"  button press → row visible in SQLite: {ms(ballot_latencies)}",
                ],
                wall_started,
                wall_ended,
                [
                    _checked(ballot_wanted, stored_ballots),
                    f"  alongside: {chat_count} slash commands and submissions",
                ],
            )
        )
        watcher.stop()

        # 3. closing the storm contest: reconcile every reaction, tally, post the results
        closing = time.perf_counter()
        await emu.slash(storm.guild.id, storm.channel.id, storm.mod.id, "contest close")
        await emu.wait_until(
            lambda: contests.get_contest(db, storm_contest).results_message_id, "the results"
        )
        close_seconds = time.perf_counter() - closing
        after_close = {
            (r.entry_id, r.voter_id): r.rating
            for r in votes.contest_ratings(db, storm_contest, source="emoji")
        }

        await asyncio.get_running_loop().run_in_executor(None, ours.send, "stop")
        samples: ProbeSamples = await asyncio.get_running_loop().run_in_executor(None, ours.recv)
        child.join(timeout=30)
        db.close()

    raw_each, raw_batch = raw_insert_rates(database, workdir, list(after_close.items()))
    storm_rate = len(plan) / (storm_ended - storm_started)
    print(describe_machine())
    for section in sections:
        print(
            *section.head,
            *_probe_lines(samples, section.start, section.end),
            *section.tail,
            sep="\n",
        )
    print(
        f"closing the storm contest ({len(after_close)} reactions re-read, tallied, results"
        f" posted): {close_seconds:.1f} s; votes changed by the reconciliation:"
        f" {sum(after_close.get(k) != r for k, r in stored.items())}"
    )
    print("slash commands and submissions during the storms (reply latency):")
    for what, values in sorted(timings.samples.items()):
        print(f"  {what}: {ms(values)}")
    print(
        f"raw SQLite, same {len(after_close)} rows via storage.votes.record_vote:"
        f" {raw_each:.0f} rows/s one transaction each · {raw_batch:.0f} rows/s in one transaction"
    )
    print(f"at the end: {load_average()}")
    print(
        f"ratio: the bot ingests reactions at {storm_rate / raw_each:.2f}× the rate of raw"
        f" one-transaction-per-vote inserts ({storm_rate / raw_batch:.3f}× batched)"
    )


@dataclass
class Section:
    """One storm's lines of the report, around the probes of its wall-clock window."""

    head: list[str]
    start: float
    end: float
    tail: list[str]


def _probe_lines(samples: ProbeSamples, start: float, end: float) -> list[str]:
    """Loop lag and heartbeat latency between wall-clock ``start`` and ``end``."""
    lag = [s for t, s in samples.loop_lag if start <= t <= end]
    beats = [s for t, s in samples.heartbeat if start <= t <= end]
    return [
        f"  bot event-loop lag (50 ms ticker): {ms(lag)}",
        f"  gateway heartbeat latency (bot.latency, 1 s interval): {ms(beats)}",
    ]


def _checked(wanted: dict, stored: dict) -> str:
    lost = len(wanted.keys() - stored.keys())
    extra = len(stored.keys() - wanted.keys())
    altered = sum(stored[k] != r for k, r in wanted.items() if k in stored)
    return f"  checked against what was sent: {lost} lost · {extra} extra · {altered} altered"


def _all_posted(db, contest_id: int, count: int) -> dict[int, int] | None:
    """Entry id → author id, once every entry has its post."""
    found = entries.contest_entries(db, contest_id)
    if len(found) == count and all(e.message_id for e in found):
        return {e.id: e.author_id for e in found}
    return None


def raw_insert_rates(
    database: Path, workdir: Path, rows: list[tuple[tuple[int, int], int]]
) -> tuple[float, float]:
    """Rows/s inserting ``rows`` with ``record_vote`` into a copy of the bot's database."""
    copy = workdir / "raw.db"
    source = sqlite3.connect(database)
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    db = open_database(copy)
    now = datetime.now(UTC)
    rates = []
    for batched in (False, True):
        db["votes"].delete_where()
        started = time.perf_counter()
        if batched:
            with transaction(db):
                for (entry_id, voter_id), rating in rows:
                    votes.record_vote(db, entry_id, voter_id, rating, "emoji", now)
        else:
            for (entry_id, voter_id), rating in rows:
                votes.record_vote(db, entry_id, voter_id, rating, "emoji", now)
        rates.append(len(rows) / (time.perf_counter() - started))
    db.close()
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--members", type=int, default=2500)
    parser.add_argument("--entries", type=int, default=30)
    parser.add_argument("--rate", type=float, default=400.0, help="offered reactions per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--ballot-members", type=int, default=300)
    parser.add_argument("--ballot-ratings", type=int, default=10, help="captions each rates")
    parser.add_argument("--sessions", type=int, default=50, help="ballot voters at a time")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args()
    if args.quick:
        args.members, args.entries, args.rate, args.seconds = 300, 10, 300.0, 5.0
        args.ballot_members, args.ballot_ratings, args.sessions = 60, 5, 20
    with tempfile.TemporaryDirectory(prefix="punchline-storm-") as folder:
        asyncio.run(run(args, Path(folder)))


if __name__ == "__main__":
    main()
