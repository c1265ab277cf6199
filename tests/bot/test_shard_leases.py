"""Shard leases and identify pacing in the bot: a process whose shards are taken is refused
at start; one that loses its lease stops; a dead process's leases are free at once."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time

import pytest

from bot import shards as bot_shards
from bot.app import PunchlineBot
from bot.config import ConfigError, Settings
from bot.shards import IdentifyPacer, owner_is_gone
from bot.store import Store
from discord_emulator import running_client
from storage import shards as leases
from storage.shards import ShardSet
from tests.bot.conftest import punchline


async def test_a_second_bot_on_the_same_shards_is_refused_and_the_first_runs_on(
    emu, server, db_path
):
    async with punchline(emu, db_path) as first:
        store = Store(db_path)
        await store.open()
        second = PunchlineBot(Settings(token=emu.token, database=db_path), store=store)
        identified = emu.gateway.history.count("IDENTIFY")
        with pytest.raises(ConfigError, match=r"runs shard 0 of 1 by .*heartbeat \d+ s ago"):
            async with running_client(emu, second):
                pass
        await store.close()
        assert emu.gateway.history.count("IDENTIFY") == identified
        assert not first.is_closed()
        reply = await emu.slash(server.guild.id, server.channel.id, server.mod.id, "bot status")
        assert "This server is on shard **0** of 1" in reply.content


async def test_a_bot_that_lost_its_lease_stops(emu, server, db_path, db, monkeypatch):
    """Another process took the shard (this one stalled past the lease's life): the heartbeat
    finds it and the bot closes rather than run the shard twice."""
    monkeypatch.setattr(bot_shards, "HEARTBEAT_S", 0.05)
    async with punchline(emu, db_path) as bot:
        now = dt.datetime.now(dt.UTC)
        db.execute("DELETE FROM shard_leases")
        leases.claim_shards(db, "elsewhere/1/x", ShardSet.every(1), now, dt.timedelta(minutes=1))
        await emu.wait_until(bot.is_closed, "the bot to stop")


def test_a_process_that_died_on_this_machine_leaves_free_leases():
    printed = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead, host = int(printed.stdout), socket.gethostname()
    assert owner_is_gone(f"{host}/{dead}/ab12")
    assert not owner_is_gone(f"{host}/{os.getppid()}/ab12")  # alive
    assert not owner_is_gone(f"{host}/{os.getpid()}/ab12")  # this very process
    assert not owner_is_gone(f"elsewhere/{dead}/ab12")  # judged by its heartbeat only


async def test_identifies_are_paced_per_rate_limit_key(monkeypatch):
    """``max_concurrency`` 2: shards 0 and 1 identify at once, shard 2 (key 0) a window later."""
    monkeypatch.setattr(bot_shards, "IDENTIFY_WINDOW_S", 0.3)
    pacer, started = IdentifyPacer(max_concurrency=2), time.monotonic()
    waited = []
    for shard in (0, 1, 2):
        await pacer.wait_turn(shard)
        waited.append(time.monotonic() - started)
    assert waited[1] < 0.3 <= waited[2]
