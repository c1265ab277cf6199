"""The vote path alone: reactions the bot absorbs on one core, fed straight to its gateway handler.

    .venv/bin/python -m benchmarks.bench_vote_path            # the figures in docs/SCALING.md
    .venv/bin/python -m benchmarks.bench_vote_path --quick    # a short smoke run

The real bot (AI off) connects to the Discord emulator as usual, and a contest's entries are
posted in its voting thread. Then the emulator goes quiet and the benchmark hands raw gateway
frames (the JSON text Discord sends) to the bot's own gateway handler,
``DiscordWebSocket.received_message`` of its shard: decoding, discord.py's parse, the bot's
filter and handlers and the SQLite writes all run, the emulator's CPU does not. The whole
process is pinned to one core, so the bot's event loop and its database thread share it.

Phases, each timed from the first frame handed over to the last vote committed:

1. **irrelevant**: 😂 🙂 😐 on ordinary messages (not entries) of the same server;
2. the same frames through discord.py's full parse, as if the bot had no filter (comparison);
3. **relevant**: votes on the entries, each a new (entry, member) pair, so no reaction is taken
   down and nothing goes to Discord's REST API.

Frames go in as a gateway delivers them: ``--chunk`` per turn of the event loop, and no more
than ``--window`` votes waiting for their database write (a socket the bot stops reading fills
up). The same vote rows are then inserted with plain ``sqlite3`` into a copy of the database, one
transaction per row, in the bot's own batch size, and all in one, for the ratios. Every stored
vote is checked against what was fed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.machine import describe_machine, load_average
from bot.app import PunchlineBot
from discord_emulator import DiscordEmulator, Rules, payloads
from storage import contests, entries, open_database
from storage.models import Rating
from testkit import LONG_PHASE_MINUTES, OLD_ACCOUNT, build_server, punchline, run_job_now
from testkit.contest import setup_contest

TICK_S = 0.05


@dataclass
class Phase:
    name: str
    events: int
    seconds: float
    lag: list[float]

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def lag_text(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 50) * 1000:.0f} ms · p99 {percentile(values, 99) * 1000:.0f} ms"
        f" · max {max(values, default=0) * 1000:.0f} ms (n={len(values)})"
    )


class LoopLag:
    """How late a 50 ms ticker in the bot's event loop wakes up."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    @contextlib.asynccontextmanager
    async def measuring(self):
        self.samples = []
        task = asyncio.create_task(self._tick())
        try:
            yield self.samples
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _tick(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(TICK_S)
            self.samples.append(time.perf_counter() - started - TICK_S)


def reaction_frame(seq: int, event: dict) -> str:
    return json.dumps({"op": 0, "t": "MESSAGE_REACTION_ADD", "s": seq, "d": event})


def reaction_event(emu: DiscordEmulator, guild, channel_id: int, message_id: int, user, emoji):
    """A MESSAGE_REACTION_ADD payload as the emulator (and Discord) sends it."""
    return {
        "user_id": str(user.id),
        "channel_id": str(channel_id),
        "message_id": str(message_id),
        "emoji": payloads.emoji_payload(emoji),
        "burst": False,
        "type": 0,
        "guild_id": str(guild.id),
        "message_author_id": str(emu.bot_user.id),
        "burst_colors": [],
        "member": payloads.member_payload(emu.state, guild.members[user.id]),
    }


async def feed(
    ws, frames: list[str], chunk: int, window: int, written: Callable[[], int] | None
) -> float:
    """Hand ``frames`` to the gateway handler; returns seconds until the last one was absorbed
    (its vote committed, when ``written`` counts the votes written)."""
    started, base = time.perf_counter(), written() if written else 0
    for first in range(0, len(frames), chunk):
        for frame in frames[first : first + chunk]:
            await ws.received_message(frame)
        await asyncio.sleep(0)  # the gateway reads the next frames on a later turn
        # A full window: the bot reads no more until writes finish (one loop turn at a time).
        while written and first + chunk - (written() - base) > window:  # noqa: ASYNC110
            await asyncio.sleep(0)
    while written and written() - base < len(frames):  # noqa: ASYNC110
        await asyncio.sleep(0)
    handlers = [t for t in asyncio.all_tasks() if t.get_name().startswith("discord.py: on_raw")]
    await asyncio.gather(*handlers)
    return time.perf_counter() - started


@dataclass
class Frames:
    irrelevant: list[str]
    relevant: list[str]
    wanted: dict[tuple[int, int], int]  # (entry message, voter) → rating


def build_frames(args, emu: DiscordEmulator, server, chat: list[int], entry_posts, thread, seq):
    """Reactions on the ordinary messages, and one vote per chosen (entry, member) pair."""
    rng = random.Random(args.seed)
    guild, users = emu.state.guilds[server.guild.id], list(server.members.values())
    emoji = [r.emoji for r in Rating]
    irrelevant = []
    for i in range(args.irrelevant):
        event = reaction_event(
            emu, guild, server.channel.id, rng.choice(chat), rng.choice(users), rng.choice(emoji)
        )
        irrelevant.append(reaction_frame(seq + 1 + i, event))
    pairs = [(m, u) for m in entry_posts for u in users if u.id != entry_posts[m]]
    wanted, relevant = {}, []
    for i, (message, user) in enumerate(rng.sample(pairs, min(args.relevant, len(pairs)))):
        rating = rng.choice(list(Rating))
        wanted[(message, user.id)] = rating.value
        event = reaction_event(emu, guild, thread, message, user, rating.emoji)
        relevant.append(reaction_frame(seq + 1 + args.irrelevant + i, event))
    return Frames(irrelevant, relevant, wanted)


async def run(args: argparse.Namespace, workdir: Path) -> None:
    database = workdir / "votes.db"
    async with DiscordEmulator(token="path-token", rules=Rules.lenient(), timeout=300) as emu:
        users = [emu.create_user(f"m{i}", created_at=OLD_ACCOUNT) for i in range(args.members)]
        server = build_server(emu, "storm", users, moderator="mod")
        chat = [(await emu.send_message(u, server.channel, "lol")).id for u in users[: args.chat]]
        async with punchline(emu, database, speed=1.0) as bot:
            entry_posts, thread = await open_voting(
                emu, bot, database, server, users[: args.entries]
            )
            ws = bot._get_websocket(shard_id=0)
            frames = build_frames(args, emu, server, chat, entry_posts, thread, ws.sequence or 0)
            batcher = bot.engine.votes._writes  # what the bot committed, and in how many batches
            # The emulator's world and the harness's frames live in this process too: frozen, so
            # the collector's full passes do not scan them on the bot's time (the bot freezes
            # its own start-up heap the same way).
            gc.freeze()
            lag, phases = LoopLag(), []
            for name, fed, written, filtered in (
                ("irrelevant reactions (the bot's filter)", frames.irrelevant, None, True),
                ("  the same, discord.py parsing each (no filter)", frames.irrelevant, None, False),
                ("relevant votes", frames.relevant, lambda: batcher.committed, True),
            ):
                with contextlib.nullcontext() if filtered else unfiltered(bot):
                    async with lag.measuring() as samples:
                        seconds = await feed(ws, fed, args.chunk, args.window, written)
                phases.append(Phase(name, len(fed), seconds, samples))
            mean_batch = batcher.committed / max(1, batcher.batches)
            stored = stored_votes(database)
    raw = raw_sqlite_rates(database, workdir, frames.wanted, round(mean_batch))
    report(args, phases, frames.wanted, stored, raw, mean_batch)


async def open_voting(emu, bot: PunchlineBot, database: Path, server, authors):
    """One caption per author, then voting opened; (entry message id → author id, thread id)."""
    await setup_contest(
        emu, server, bot, submission_minutes=LONG_PHASE_MINUTES, voting_minutes=LONG_PHASE_MINUTES
    )
    db = open_database(database, check=False)
    contest = await emu.wait_until(lambda: contests.latest_contest(db, server.guild.id), "contest")
    for i, author in enumerate(authors):
        reply = await emu.slash(
            server.guild.id, server.channel.id, author.id, "caption submit", text=f"Entry {i}"
        )
        assert reply.content.startswith("✅"), reply.content
    run_job_now(bot, f"voting:{contest.id}")

    def posted() -> dict[int, int] | None:
        found = entries.contest_entries(db, contest.id)
        if len(found) == len(authors) and all(e.message_id for e in found):
            return {e.message_id: e.author_id for e in found}
        return None

    entry_posts = await emu.wait_until(posted, "the entry posts")
    return entry_posts, contests.get_contest(db, contest.id).thread_id


@contextlib.contextmanager
def unfiltered(bot: PunchlineBot):
    """discord.py's own reaction parser in place of the bot's filter, for the comparison."""
    parsers = bot._connection.parsers
    filtered = parsers["MESSAGE_REACTION_ADD"]
    parsers["MESSAGE_REACTION_ADD"] = bot._connection.parse_message_reaction_add
    try:
        yield
    finally:
        parsers["MESSAGE_REACTION_ADD"] = filtered


def stored_votes(database: Path) -> dict[tuple[int, int], int]:
    db = open_database(database, check=False)
    rows = db.execute(
        "SELECT e.message_id, v.voter_id, v.rating FROM votes v JOIN entries e ON e.id = v.entry_id"
    ).fetchall()
    db.close()
    return {(message, voter): rating for message, voter, rating in rows}


def raw_sqlite_rates(
    database: Path, workdir: Path, wanted: dict[tuple[int, int], int], batch: int
) -> dict[str, float]:
    """Rows/s inserting the same votes with plain sqlite3 into a copy of the bot's database."""
    copy = workdir / "raw.db"
    shutil.copy(database, copy)
    for suffix in ("-wal", "-shm"):
        if Path(f"{database}{suffix}").exists():
            shutil.copy(f"{database}{suffix}", f"{copy}{suffix}")
    conn = sqlite3.connect(copy, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    entry_of = dict(conn.execute("SELECT message_id, id FROM entries WHERE message_id IS NOT NULL"))
    now = datetime.now(UTC).isoformat()
    rows = [(entry_of[m], v, r, "emoji", now, now) for (m, v), r in wanted.items()]
    sql = (
        "INSERT INTO votes (entry_id, voter_id, rating, source, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (entry_id, voter_id) DO UPDATE SET"
        " rating = excluded.rating, updated_at = excluded.updated_at"
    )
    rates = {}
    for name, size in (("one row", 1), (f"batches of {batch}", max(1, batch)), ("all", len(rows))):
        conn.execute("DELETE FROM votes")
        started = time.perf_counter()
        for first in range(0, len(rows), size):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, rows[first : first + size])
            conn.execute("COMMIT")
        rates[name] = len(rows) / (time.perf_counter() - started)
    conn.close()
    return rates


def report(args, phases: list[Phase], wanted, stored, raw: dict[str, float], mean_batch) -> None:
    irrelevant, votes = phases[0], phases[-1]
    lost = len(wanted.keys() - stored.keys())
    extra = len(stored.keys() - wanted.keys())
    altered = sum(stored[k] != r for k, r in wanted.items() if k in stored)
    lag_p99 = max(percentile(p.lag, 99) for p in (irrelevant, votes))
    print(describe_machine())
    print(f"pinned to CPU {args.cpu}: the bot's event loop and database thread share one core")
    print(f"frames: {args.chunk} per event-loop turn, at most {args.window} votes awaiting a write")
    for phase in phases:
        print(f"{phase.name}: {phase.events} in {phase.seconds:.2f} s = {phase.rate:,.0f}/s")
        print(f"    loop lag (50 ms ticker): {lag_text(phase.lag)}")
    print(f"  checked: {lost} lost · {extra} extra · {altered} altered")
    print(f"  the bot's mean batch: {mean_batch:.0f} votes per transaction")
    print("raw sqlite3, the same rows, same run:")
    for name, rate in raw.items():
        print(f"  {name}: {rate:,.0f} rows/s; the bot's votes/s = {votes.rate / rate:.2f}× this")
    print(
        f"targets: relevant ≥ 5,000/s {verdict(votes.rate >= 5000)} · irrelevant ≥ 50,000/s"
        f" {verdict(irrelevant.rate >= 50000)} · loop lag p99 ≤ 100 ms {verdict(lag_p99 <= 0.1)}"
    )
    print(f"at the end: {load_average()}")


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=30)
    parser.add_argument("--chat", type=int, default=500, help="ordinary messages reacted on")
    parser.add_argument("--irrelevant", type=int, default=200_000)
    parser.add_argument("--relevant", type=int, default=50_000)
    parser.add_argument("--chunk", type=int, default=200, help="frames per event-loop turn")
    parser.add_argument("--window", type=int, default=2000, help="votes awaiting their write")
    parser.add_argument("--cpu", type=int, default=0, help="the core to pin the process to")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args()
    if args.quick:
        args.members, args.chat, args.irrelevant, args.relevant = 300, 100, 20_000, 8_000
    os.sched_setaffinity(0, {args.cpu})
    with tempfile.TemporaryDirectory(prefix="punchline-vote-path-") as folder:
        asyncio.run(run(args, Path(folder)))


if __name__ == "__main__":
    main()
