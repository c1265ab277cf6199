"""Two real ``python bot.py`` processes, each running one of two shards, on one SQLite file.

Each process opens, runs and closes the contests of its own shard's servers only, so every
contest runs exactly once: one prompt, one results post, its entries posted once. A third process
configured with a shard already running is refused at start, before it connects. Discord's
routing: ``../shared/discord/docs/gateway.mdx``, "Sharding".
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from discord_emulator import DiscordEmulator, User
from storage import contests, entries, open_database
from storage.shards import live_leases
from testkit.sharded import configure_contests, sharded_servers
from tests.bot.bot_process import BotProcess
from tests.bot.conftest import OLD_ACCOUNT, Server, is_entry, is_prompt, is_results, submit

SHARDS = 2


def process(
    emu: DiscordEmulator, tmp_path: Path, database: Path, shard: int, name: str = "process"
) -> BotProcess:
    workdir = tmp_path / f"{name}-{shard}"
    workdir.mkdir()
    env = {"PUNCHLINE_SHARD_COUNT": str(SHARDS), "PUNCHLINE_SHARD_IDS": str(shard)}
    return BotProcess(emu, workdir, database=database, env=env)


def opened_guilds(bot: BotProcess) -> set[int]:
    """The servers whose contest the process's log says it opened."""
    return {int(g) for g in re.findall(r"guild (\d+): opened contest", bot.log_path.read_text())}


async def submit_when_prompted(emu: DiscordEmulator, server: Server, authors: list[User]) -> None:
    await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
    for author in authors:
        reply = await submit(emu, server, author, f"{author.username} in {server.guild.name}")
        assert reply.content.startswith("✅"), reply.content


async def rate_when_posted(emu: DiscordEmulator, db, server: Server, voter: User) -> None:
    contest = await emu.wait_until(
        lambda: next(iter(contests.guild_contests(db, server.guild.id)), None), "the contest"
    )
    posted = await emu.wait_until(
        lambda: (
            [
                e.message_id
                for e in entries.contest_entries(db, contest.id)
                if e.message_id and len(emu.message(e.message_id).reactors("😐")) == 1
            ]
            or None
        ),
        "the entries posted",
    )
    thread = contests.get_contest(db, contest.id).thread_id
    for message in posted:
        await emu.react(voter, thread, message, "😂")


async def test_two_processes_on_one_database_run_each_contest_once(emu, tmp_path):
    emu.timeout = 90.0
    emu.gateway.identifies.max_concurrency = SHARDS  # both processes may identify at once
    members = [emu.create_user(n, created_at=OLD_ACCOUNT) for n in ("ann", "ben", "cat")]
    servers = sharded_servers(emu, 4, SHARDS, members)
    database = tmp_path / "shared.db"
    configure_contests(
        database,
        servers,
        dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1),  # missed: caught up at each start
        submission=dt.timedelta(seconds=20),
        voting=dt.timedelta(seconds=15),
    )
    first, second = (process(emu, tmp_path, database, shard) for shard in range(SHARDS))
    try:
        await first.start()
        await second.start()
        for server in servers:
            await submit_when_prompted(emu, server, members[:2])

        identified = emu.gateway.history.count("IDENTIFY")
        overlapping = process(emu, tmp_path, database, shard=1, name="overlapping")
        with pytest.raises(RuntimeError, match="exited with 2"):
            await overlapping.start()
        refusal = overlapping.log_path.read_text()
        assert "another process on the same database runs shard 1 of 2" in refusal
        assert emu.gateway.history.count("IDENTIFY") == identified  # it never connected

        db = open_database(database, check=False)
        holders = {
            lease.shard_id: lease.owner
            for lease in live_leases(db, dt.datetime.now(dt.UTC), dt.timedelta(minutes=1))
        }
        assert {s: int(owner.split("/")[1]) for s, owner in holders.items()} == {
            0: first.pid,
            1: second.pid,
        }
        for server in servers:
            await rate_when_posted(emu, db, server, members[2])
        for server in servers:
            await emu.wait_for_message(server.channel.id, is_results, include_existing=True)
    finally:
        await first.kill()
        await second.kill()

    for server in servers:
        held = contests.guild_contests(db, server.guild.id)
        assert [c.phase for c in held] == ["closed"]
        posts = emu.messages(server.channel.id)
        assert len([m for m in posts if is_prompt(m)]) == 1
        assert [m.id for m in posts if is_results(m)] == [held[0].results_message_id]
        assert len([m for m in emu.messages(held[0].thread_id) if is_entry(m)]) == 2
    on_shard = {s: {v.guild.id for v in servers[s::SHARDS]} for s in range(SHARDS)}
    assert opened_guilds(first) == on_shard[0]
    assert opened_guilds(second) == on_shard[1]
    db.close()
