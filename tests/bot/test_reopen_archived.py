"""/contest reopen after Discord archived the voting thread (``threads.mdx``: a thread archives
after its auto-archive time without a message, and then refuses reactions with 50083)."""

from __future__ import annotations

import datetime as dt

from discord_emulator import DiscordEmulator
from storage import contests
from tests.bot.conftest import (
    Server,
    is_results,
    open_contest_now,
    punchline,
    run_job_now,
    start_voting_now,
    stored_votes,
    submit,
)

A_WEEK = dt.timedelta(days=7)


async def closed_contest_days_ago(emu: DiscordEmulator, server: Server, bot, db):
    """A contest with two entries and one vote, closed, its thread archived by Discord since."""
    m = server.members
    contest = await open_contest_now(emu, server, bot, db)
    await submit(emu, server, m["alice"], "Archived, not forgotten")
    await submit(emu, server, m["bob"], "Thread carefully")
    posted = await start_voting_now(emu, bot, db, contest, 2)
    thread = contests.get_contest(db, contest.id).thread_id
    await emu.react(m["carol"].id, thread, posted[m["alice"].id].id, "😂")
    await emu.wait_until(lambda: stored_votes(db, contest.id), "carol's vote")
    run_job_now(bot, f"close:{contest.id}")
    await emu.wait_until(
        lambda: contests.get_contest(db, contest.id).results_message_id, "the results"
    )
    emu.advance_time(A_WEEK)
    await emu.wait_until(lambda: emu.state.channel(thread).archived, "Discord archiving it")
    return contest, thread, posted


async def test_reopen_unarchives_the_thread_and_new_votes_count(emu, server, db_path, db):
    m = server.members
    async with punchline(emu, db_path) as bot:
        contest, thread, posted = await closed_contest_days_ago(emu, server, bot, db)
        reopened = await emu.slash(
            server.guild.id, server.channel.id, server.mod.id, "contest reopen", minutes=30
        )
        assert "open again" in reopened.content
        assert not emu.state.channel(thread).archived
        assert "Voting is open again" in emu.messages(thread)[-1].content
        await emu.react(m["dave"].id, thread, posted[m["bob"].id].id, "🙂")  # not refused: 50083
        await emu.wait_until(lambda: len(stored_votes(db, contest.id)) == 2, "dave's vote")
        run_job_now(bot, f"close:{contest.id}")
        await emu.wait_until(
            lambda: len([p for p in emu.messages(server.channel.id) if is_results(p)]) == 2,
            "the updated results",
        )
    assert stored_votes(db, contest.id) == {
        (posted[m["alice"].id].id, m["carol"].id): 3,
        (posted[m["bob"].id].id, m["dave"].id): 2,
    }


async def test_a_thread_discord_will_not_unarchive_refuses_the_reopen_and_changes_nothing(
    emu, server, db_path, db
):
    """Discord fails to unarchive the thread (a 503 here; on Discord also a thread a moderator
    locked, which only Manage Threads may unarchive): the moderator is told why and the contest
    stays closed, its results standing."""
    async with punchline(emu, db_path) as bot:
        contest, thread, _ = await closed_contest_days_ago(emu, server, bot, db)
        emu.faults.server_error(f"PATCH /channels/{thread}", count=5)
        refused = await emu.slash(
            server.guild.id, server.channel.id, server.mod.id, "contest reopen", minutes=30
        )
    assert "couldn't reopen the voting thread" in refused.content
    assert "Nothing was changed" in refused.content
    closed = contests.get_contest(db, contest.id)
    assert closed.phase == "closed"
    assert closed.results_message_id is not None
    assert emu.state.channel(thread).archived
