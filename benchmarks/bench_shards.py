"""Ten thousand servers: start-up until every shard has caught up, and the bot's memory.

    .venv/bin/python -m benchmarks.bench_shards            # 10,000 servers, 100 voting
    .venv/bin/python -m benchmarks.bench_shards --quick    # 1,000 servers, 10 voting

The Discord emulator (every rule on, ``max_concurrency`` 1 as Discord gives a bot this size)
runs here; the real bot (AI off) runs in a child process of its own, started as ``bot.py`` would
be, on the shard count ``GET /gateway/bot`` recommends (one per 1,000 servers). Every server has
its contest set up and yesterday's contest done (idle until its next post time); ``--live`` of
them are in the middle of voting: three entries posted, members' reactions on them, none of it
in the database yet. The child reports, in wall-clock seconds from its start: when every shard
was connected (``on_ready``), when every shard had caught up (each guild's schedule armed, the
live contests' reactions reconciled from Discord), its resident memory then and its peak, and
its event loop's lag meanwhile. The votes stored are checked against the reactions.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import multiprocessing
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

from benchmarks.machine import describe_machine, load_average
from bot.rules.schedule import Schedule, opening_time
from discord_emulator import DiscordEmulator, Rules
from storage import contests, entries, guilds, open_database, transaction
from storage.models import GuildSettings, Rating
from testkit import BOT_PERMISSIONS, OLD_ACCOUNT

TOKEN = "shards-token"
ENTRIES = 3


@dataclass
class StartUp:
    """What the bot process measured about itself (seconds from its start)."""

    connected_s: float
    caught_up_s: float
    baseline_mib: float  # once the bot's code (with torch, imported by the jokes cog) is loaded
    rss_mib: float
    peak_mib: float
    shards: int
    catch_up_s: dict[int, float]
    lag_s: list[float]


def memory_mib() -> tuple[float, float]:
    """(resident, peak resident) MiB of this process."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return tuple(int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))  # type: ignore[return-value]


def run_bot(api_url: str, database: str, started: float, pipe: Connection) -> None:
    """Child-process entry point: run the bot until it caught up, report, wait for "stop"."""
    asyncio.run(_serve(api_url, Path(database), started, pipe))


async def _serve(api_url: str, database: Path, started: float, pipe: Connection) -> None:
    from bot.app import EXTENSIONS, PunchlineBot, use_discord_api
    from bot.clock import Clock
    from bot.config import Settings
    from bot.store import Store

    for extension in EXTENSIONS:  # imported before the clock starts: torch alone takes seconds
        importlib.import_module(extension)
    baseline_mib, _ = memory_mib()
    await use_discord_api(api_url, TOKEN)
    store = Store(database)
    await store.open()
    bot = PunchlineBot(
        Settings(token=TOKEN, database=database, ai="off"), store=store, clock=Clock()
    )
    lag: list[float] = []
    ticker = asyncio.create_task(_tick(lag))
    running = asyncio.create_task(bot.start(TOKEN))
    while not bot.is_ready():  # noqa: ASYNC110 - polled at the ticker's resolution
        await asyncio.sleep(0.05)
    connected = time.time() - started
    while not bot.started_up:  # noqa: ASYNC110 - polled at the ticker's resolution
        await asyncio.sleep(0.05)
    caught_up = time.time() - started
    ticker.cancel()
    rss, peak = memory_mib()
    report = StartUp(
        connected,
        caught_up,
        baseline_mib,
        rss,
        peak,
        bot.shard_count,
        {s: h.last_seconds for s, h in bot.shard_health.items()},
        lag,
    )
    pipe.send(report)
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # "stop"
    await bot.close()
    await asyncio.gather(running, return_exceptions=True)
    await store.close()


async def _tick(lag: list[float]) -> None:
    while True:
        before = time.perf_counter()
        await asyncio.sleep(0.05)
        lag.append(time.perf_counter() - before - 0.05)


async def build_world(emu: DiscordEmulator, database: Path, servers: int, live: int) -> dict:
    """Every server set up, its last contest done; ``live`` of them voting instead.

    Returns the reactions that must become votes: {(entry message, member): rating}.
    """
    now = datetime.now(UTC)
    post_time = (now + timedelta(hours=6)).strftime("%H:%M")  # the next prompt is hours away
    schedule = Schedule("UTC", post_time, 3600, 3600)
    today = now.date()
    last_day = today if opening_time(today, schedule) <= now else today - timedelta(days=1)
    owner = emu.create_user("owner", created_at=OLD_ACCOUNT)
    voters = [emu.create_user(f"voter {i}", created_at=OLD_ACCOUNT) for i in range(5)]
    db = open_database(database)
    expected: dict[tuple[int, int], int] = {}
    with transaction(db):
        for i in range(servers):
            guild = emu.create_guild(f"server {i}", owner=owner)
            channel = emu.create_text_channel(guild.id, "caption-contest")
            for voter in voters if i < live else ():
                emu.add_member(guild.id, voter.id)
            emu.add_bot_to_guild(guild.id, permissions=BOT_PERMISSIONS)
            settings = GuildSettings(guild.id, channel.id, "UTC", post_time, 3600, 3600)
            guilds.save_settings(db, settings, now)
            contest = _contest(db, guild.id, channel.id, last_day, now)
            if i < live:
                expected |= await _voting(emu, db, contest, channel.id, voters, now)
            else:
                contests.advance_phase(db, contest.id, "submissions", "closed")
                contests.set_message_ids(db, contest.id, results_message_id=contest.id)
    db.close()
    return expected


def _contest(db, guild_id: int, channel_id: int, day: date, now: datetime):
    opened, _ = contests.open_contest(
        db,
        guild_id=guild_id,
        day=day.isoformat(),
        prompt_id=None,
        season_id=None,
        opens_at=now - timedelta(hours=2),
        voting_at=now - timedelta(hours=1),
        closes_at=now + timedelta(hours=4),
        channel_id=channel_id,
        now=now,
    )
    return opened


async def _voting(emu, db, contest, channel: int, voters, now) -> dict[tuple[int, int], int]:
    """The contest in voting, its entries posted in the channel with the bot's emoji and the
    voters' reactions (made while the bot was down: not in the database)."""
    bot = emu.bot_user.id
    contests.advance_phase(db, contest.id, "submissions", "voting")
    prompt = await emu.send_message(bot, channel, "Caption contest")
    contests.set_message_ids(db, contest.id, prompt_message_id=prompt.id, thread_id=channel)
    for n, author in enumerate(voters[:ENTRIES]):
        entries.add_entry(db, contest.id, author.id, f"caption {n}", f"caption {n}", now)
    expected = {}
    for entry in entries.number_entries(db, contest.id):
        post = await emu.send_message(bot, channel, f"**Entry #{entry.number}**\n>>> {entry.text}")
        entries.set_entry_message(db, entry.id, post.id)
        for rating in Rating:
            await emu.react(bot, channel, post.id, rating.emoji)
        for k, voter in enumerate(voters):
            if voter.id != entry.author_id:
                rating = list(Rating)[(k + entry.number) % len(Rating)]
                await emu.react(voter.id, channel, post.id, rating.emoji)
                expected[(post.id, voter.id)] = rating.value
    return expected


def stored_votes(database: Path) -> tuple[dict[tuple[int, int], int], int]:
    """The votes stored (by entry message and voter), and how many contests there are."""
    db = open_database(database, check=False)
    rows = db.execute(
        "SELECT e.message_id, v.voter_id, v.rating FROM votes v JOIN entries e ON e.id = v.entry_id"
    ).fetchall()
    contests_held = db.execute("SELECT count(*) FROM contests").fetchone()[0]
    db.close()
    return {(m, v): r for m, v, r in rows}, contests_held


async def run(args: argparse.Namespace, workdir: Path) -> None:
    database = workdir / "shards.db"
    rules = Rules() if args.rules == "on" else Rules.lenient()
    async with DiscordEmulator(
        token=TOKEN, rules=rules, timeout=900, max_concurrency=args.max_concurrency
    ) as emu:
        building = time.perf_counter()
        expected = await build_world(emu, database, args.servers, args.live)
        built_s = time.perf_counter() - building
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        started = time.time()
        child = context.Process(
            target=run_bot, args=(emu.base_url, str(database), started, theirs), daemon=True
        )
        child.start()
        loop = asyncio.get_running_loop()
        startup: StartUp = await loop.run_in_executor(None, receive, ours, child)
        stored, held = stored_votes(database)
        counted_s = None  # a step Discord refused (429, 5xx) is retried a minute later
        for _ in range(180):
            if expected.keys() <= stored.keys():
                counted_s = time.time() - started
                break
            await asyncio.sleep(1)
            stored, held = stored_votes(database)
        await loop.run_in_executor(None, ours.send, "stop")
        await loop.run_in_executor(None, child.join, 60)
    report(args, startup, built_s, expected, stored, held, counted_s)


def receive(pipe: Connection, child: multiprocessing.Process) -> StartUp:
    """The child's report; raises if it died first."""
    while not pipe.poll(1.0):
        if not child.is_alive():
            raise RuntimeError(f"the bot process exited with {child.exitcode} before reporting")
    return pipe.recv()


def report(args, startup: StartUp, built_s, expected, stored, held, counted_s) -> None:
    lost = len(expected.keys() - stored.keys())
    extra = len(stored.keys() - expected.keys())
    altered = sum(stored[k] != r for k, r in expected.items() if k in stored)
    catch_ups = sorted(startup.catch_up_s.values())
    print(describe_machine())
    print(
        f"{args.servers:,} servers on {startup.shards} shards (GET /gateway/bot), {args.live} of"
        f" them voting ({ENTRIES} entries, {len(expected)} reactions cast while the bot was"
        f" down); Discord's rules {args.rules}, max_concurrency {args.max_concurrency}"
        f" (world built in {built_s:.0f} s, not counted)"
    )
    print(f"bot process start → every shard connected (on_ready): {startup.connected_s:.1f} s")
    print(f"bot process start → every shard caught up: {startup.caught_up_s:.1f} s")
    counted = f"{counted_s:.1f} s" if counted_s is not None else "not within 3 minutes"
    print(f"bot process start → every reaction cast while it was down counted: {counted}")
    print(
        f"  each shard's catch-up: p50 {percentile(catch_ups, 50):.2f} s ·"
        f" max {max(catch_ups):.2f} s (they overlap the next shards' identify waits)"
    )
    per_server = (startup.rss_mib - startup.baseline_mib) * 1024 / args.servers
    print(
        f"memory: {startup.baseline_mib:.0f} MiB resident with the bot's code loaded (before"
        f" connecting), {startup.rss_mib:.0f} MiB when caught up ({per_server:.0f} KiB a"
        f" server more), peak {startup.peak_mib:.0f} MiB"
    )
    lag = startup.lag_s
    print(
        f"event-loop lag during start-up (50 ms ticker): p50 {percentile(lag, 50) * 1000:.0f} ms"
        f" · p99 {percentile(lag, 99) * 1000:.0f} ms · max {max(lag) * 1000:.0f} ms (n={len(lag)})"
    )
    print(
        f"checked: reactions → votes {lost} lost · {extra} extra · {altered} altered;"
        f" contests {held:,} (expected {args.servers:,}: none opened twice or early)"
    )
    print(f"at the end: {load_average()}")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--servers", type=int, default=10_000)
    parser.add_argument("--live", type=int, default=100, help="servers in the middle of voting")
    parser.add_argument("--rules", choices=("on", "off"), default="on")
    parser.add_argument("--max-concurrency", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1,000 servers, 10 voting")
    args = parser.parse_args()
    if args.quick:
        args.servers, args.live = 1000, 10
    with tempfile.TemporaryDirectory(prefix="punchline-shards-") as folder:
        asyncio.run(run(args, Path(folder)))


if __name__ == "__main__":
    main()
