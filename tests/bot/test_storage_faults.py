"""SQLite refusing a write, through the bot: a database locked past the busy timeout, a full disk.

Either way the member gets an answer (the bot's apology with a reference, which says to try
again), nothing half-written is left, the file stays intact, and the next attempt works.
A vote whose write failed is not lost for good: the reconciliation before the close reads it
back from the reactions.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

import pytest

import storage.db
from storage import contests, entries
from tests.bot.conftest import (
    OLD_ACCOUNT,
    counts_line,
    open_contest_now,
    punchline,
    results_posts,
    run_job_now,
    start_voting_now,
    stored_votes,
    submit,
)

BUSY_TIMEOUT_MS = 300  # the bot's is 5 s; shortened so the test need not wait that long


@pytest.fixture(autouse=True)
def short_busy_timeout(monkeypatch):
    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_MS", BUSY_TIMEOUT_MS)


@contextlib.contextmanager
def write_lock(db_path) -> Iterator[None]:
    """Another connection holds SQLite's write lock (say, a backup tool or a stuck script)."""
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def intact(db) -> bool:
    return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


async def test_a_locked_database_gets_an_answer_and_the_next_try_works(emu, server, db_path, db):
    alice = server.members["alice"]
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        with write_lock(db_path):
            refused = await submit(emu, server, alice, "Sent while the file was locked")
        assert "try again" in refused.content
        assert refused.ephemeral
        assert entries.contest_entries(db, contest.id) == []
        assert intact(db)
        accepted = await submit(emu, server, alice, "Sent while the file was locked")
        assert accepted.content.startswith("✅")
        assert [e.text for e in entries.contest_entries(db, contest.id)] == [
            "Sent while the file was locked"
        ]


async def test_a_vote_lost_to_a_locked_database_is_counted_at_the_close(
    emu, server, db_path, db, caplog
):
    alice, carol, dave = (server.members[n] for n in ("alice", "carol", "dave"))
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, alice, "Locked out of the lighthouse")
        posted = await start_voting_now(emu, bot, db, contest, 1)
        thread = contests.get_contest(db, contest.id).thread_id
        with write_lock(db_path):
            await emu.react(carol.id, thread, posted[alice.id].id, "😂")
            await emu.wait_until(
                lambda: any("on_raw_reaction_add" in r.getMessage() for r in caplog.records),
                "carol's vote to fail",
            )
        await emu.react(dave.id, thread, posted[alice.id].id, "🙂")
        await emu.wait_until(lambda: stored_votes(db, contest.id), "dave's vote")
        assert stored_votes(db, contest.id) == {(posted[alice.id].id, dave.id): 2}

        run_job_now(bot, f"close:{contest.id}")
        results = await emu.wait_until(lambda: results_posts(emu, server), "the results")
    assert counts_line(results[0], alice.id) == "😂 1 · 🙂 1 · 😐 0"
    assert intact(db)


def cap_file_at_its_current_size(db) -> int:
    """Run on the bot's own connection: no page may be added, as on a disk that is full."""
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    return pages


def lift_the_cap(db) -> None:
    db.execute("PRAGMA max_page_count = 1073741823")


async def test_a_full_disk_refuses_the_write_and_damages_nothing(emu, server, db_path, db):
    """SQLite's max_page_count makes the file unable to grow (SQLITE_FULL), which is what a
    full disk looks like to the bot; members keep submitting until a write no longer fits."""
    members = [emu.create_user(f"writer{i}", created_at=OLD_ACCOUNT) for i in range(60)]
    for member in members:
        emu.add_member(server.guild.id, member.id)
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await bot.store.call(cap_file_at_its_current_size)
        accepted = []
        for i, member in enumerate(members):
            caption = f"Caption {i} " + "that keeps going and going " * 10
            answer = await submit(emu, server, member, caption)
            if not answer.content.startswith("✅"):
                refused, refused_caption = answer, caption
                break
            accepted.append(caption.strip())
        else:
            pytest.fail("the capped file took every caption")
        assert "try again" in refused.content
        assert sorted(e.text for e in entries.contest_entries(db, contest.id)) == sorted(accepted)
        assert intact(db)

        await bot.store.call(lift_the_cap)
        again = await submit(emu, server, members[len(accepted)], refused_caption)
        assert again.content.startswith("✅")
    assert len(entries.contest_entries(db, contest.id)) == len(accepted) + 1
    assert intact(db)
