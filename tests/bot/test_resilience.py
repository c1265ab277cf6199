"""Restarts, missed days, gateway drops and REST faults, through discord.py and the emulator.

Each test drives the real bot; phases are long and the test brings a step forward with
``run_job_now``, so nothing depends on how fast the machine is.
"""

from __future__ import annotations

import datetime as dt

import pytest

from storage import audit, contests
from tests.bot.conftest import (
    ClockFrom,
    counts_line,
    is_entry,
    is_prompt,
    open_contest_now,
    punchline,
    results_posts,
    run_job_now,
    start_voting_now,
    startup_finished,
    stored_votes,
    submit,
)


async def test_restart_mid_voting_reconciles_reactions_changed_while_down(emu, server, db_path, db):
    """Votes cast, withdrawn and changed while the bot is down are counted exactly once after a
    restart (two emoji from one member make one vote), a self-vote made meanwhile is not, a
    switch after the restart still replaces, and the results are posted once at close."""
    m = server.members
    alice, bob, carol, dave, erin = (m[n].id for n in ("alice", "bob", "carol", "dave", "erin"))
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["alice"], "The mailbox only takes postcards")
        await submit(emu, server, m["bob"], "Still no reply from the mainland")
        await submit(emu, server, m["carol"], "Palm tree for rent")
        posted = await start_voting_now(emu, bot, db, contest, 3)
        thread = contests.get_contest(db, contest.id).thread_id
        alice_entry, bob_entry, carol_entry = (posted[a].id for a in (alice, bob, carol))
        await emu.react(dave, thread, alice_entry, "😂")
        await emu.react(carol, thread, alice_entry, "😐")
        await emu.react(erin, thread, bob_entry, "🙂")
        await emu.wait_until(lambda: len(stored_votes(db, contest.id)) == 3, "three live votes")

    await emu.unreact(dave, thread, alice_entry, "😂")  # withdrawn while down
    await emu.unreact(carol, thread, alice_entry, "😐")  # changed while down…
    await emu.react(carol, thread, alice_entry, "🙂")  # …to 🙂
    await emu.react(erin, thread, alice_entry, "😂")  # new while down
    await emu.react(dave, thread, bob_entry, "😐")  # new while down
    await emu.react(bob, thread, bob_entry, "😂")  # a self-vote: never counts
    await emu.react(erin, thread, carol_entry, "🙂")  # two emoji while nobody could tidy up:
    await emu.react(erin, thread, carol_entry, "😂")  # still one vote
    reconciled = {
        (alice_entry, carol): 2,
        (alice_entry, erin): 3,
        (bob_entry, erin): 2,
        (bob_entry, dave): 1,
    }

    def matches_reactions() -> bool:
        stored = stored_votes(db, contest.id)
        return stored.pop((carol_entry, erin), None) in (2, 3) and stored == reconciled

    async with punchline(emu, db_path) as bot:
        await emu.wait_until(matches_reactions, "reconciliation")
        await startup_finished()
        assert matches_reactions()

        # a switch after the restart still replaces the member's earlier emoji
        await emu.react(dave, thread, bob_entry, "😂")
        await emu.wait_until(
            lambda: dave not in emu.message(bob_entry).reactors("😐"), "dave's 😐 to be removed"
        )
        reconciled[(bob_entry, dave)] = 3
        assert matches_reactions()

        run_job_now(bot, f"close:{contest.id}")
        results = await emu.wait_until(lambda: results_posts(emu, server), "the results")

    assert len(results) == 1
    assert counts_line(results[0], alice) == "😂 1 · 🙂 1 · 😐 0"
    assert counts_line(results[0], bob) == "😂 1 · 🙂 1 · 😐 0"
    assert counts_line(results[0], carol) in ("😂 0 · 🙂 1 · 😐 0", "😂 1 · 🙂 0 · 😐 0")


async def test_restart_after_the_results_does_not_post_them_again(emu, server, db_path, db):
    """Once a contest is closed and announced, a restart neither re-announces nor reopens it."""
    m = server.members
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["alice"], "Out of office")
        await submit(emu, server, m["bob"], "Return to sender")
        posted = await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        await emu.react(m["carol"].id, thread, posted[m["alice"].id].id, "😂")
        run_job_now(bot, f"close:{contest.id}")
        await emu.wait_until(lambda: results_posts(emu, server), "the results")
    before = list(emu.messages(server.channel.id))

    async with punchline(emu, db_path):
        await startup_finished()

    assert emu.messages(server.channel.id) == before
    assert len(results_posts(emu, server)) == 1
    assert [c.phase for c in contests.guild_contests(db, server.guild.id)] == ["closed"]


async def test_a_post_time_missed_while_down_is_caught_up_once(emu, server, db_path, db):
    """The bot is down across the post time: on restart it opens that day's contest late
    (a catch-up, logged as such), and a second restart opens nothing more."""
    day = dt.date(2026, 3, 2)
    before_post = dt.datetime(2026, 3, 2, 8, 50, tzinfo=dt.UTC)
    async with punchline(emu, db_path, clock=ClockFrom(before_post)):
        reply = await emu.slash(
            server.guild.id,
            server.channel.id,
            server.mod.id,
            "contest setup",
            channel=server.channel.id,
            post_time="09:00",
            submission_minutes=60,
            voting_minutes=60,
        )
        assert "The first prompt comes" in reply.content
    assert contests.guild_contests(db, server.guild.id) == []

    late = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC)  # past 09:00 and past 10:00 (voting)
    async with punchline(emu, db_path, clock=ClockFrom(late)):
        await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
        await startup_finished()
    [opened] = contests.guild_contests(db, server.guild.id)
    assert opened.day == day.isoformat()
    assert opened.phase == "submissions"
    assert late <= opened.opens_at < late + dt.timedelta(minutes=5)
    assert opened.closes_at - opened.voting_at == dt.timedelta(minutes=60)
    [logged] = [a for a in audit.recent_actions(db, server.guild.id) if a.action == "contest.open"]
    assert logged.details == {"day": day.isoformat(), "catch_up": True}

    async with punchline(emu, db_path, clock=ClockFrom(late + dt.timedelta(minutes=10))):
        await startup_finished()
    assert contests.guild_contests(db, server.guild.id) == [opened]
    assert len([m for m in emu.messages(server.channel.id) if is_prompt(m)]) == 1


async def test_reactions_during_a_dropped_gateway_are_replayed_and_counted_once(
    emu, server, db_path, db
):
    """The socket drops mid-voting; discord.py RESUMEs and the reactions made in the gap arrive
    as replayed events: each counts once, and a switch made in the gap still replaces."""
    m = server.members
    alice, bob, carol, dave = (m[n].id for n in ("alice", "bob", "carol", "dave"))
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["alice"], "Wish you were here")
        await submit(emu, server, m["bob"], "Day 400: the coconut speaks")
        posted = await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        alice_entry, bob_entry = posted[alice].id, posted[bob].id
        await emu.react(carol, thread, alice_entry, "😂")
        await emu.wait_until(lambda: stored_votes(db, contest.id), "the first vote")

        emu.drop_gateway()
        await emu.react(dave, thread, alice_entry, "🙂")
        await emu.react(carol, thread, bob_entry, "😂")
        await emu.react(dave, thread, bob_entry, "😂")
        await emu.react(dave, thread, bob_entry, "😐")  # changed his mind within the gap
        await emu.wait_for_gateway("RESUMED")
        expected = {
            (alice_entry, carol): 3,
            (alice_entry, dave): 2,
            (bob_entry, carol): 3,
            (bob_entry, dave): 1,
        }
        await emu.wait_until(lambda: stored_votes(db, contest.id) == expected, "the replayed votes")
        await emu.wait_until(
            lambda: dave not in emu.message(bob_entry).reactors("😂"), "dave's 😂 to be removed"
        )
        assert emu.gateway.history.count("IDENTIFY") == 1  # resumed, not a fresh session
        assert "RESUMED" in emu.gateway.history
        assert stored_votes(db, contest.id) == expected


async def test_an_invalidated_session_reidentifies_and_reconciles_the_gap(emu, server, db_path, db):
    """The session cannot be resumed, so the gap's reactions are never replayed: the fresh
    IDENTIFY → READY → on_shard_ready reconciliation must find them on the messages instead.
    (The bot identifies again once Discord's 5 s window since its first identify has passed.)"""
    m = server.members
    alice, bob, carol, dave = (m[n].id for n in ("alice", "bob", "carol", "dave"))
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["alice"], "Mail call!")
        await submit(emu, server, m["bob"], "Amazon Prime has limits")
        posted = await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        alice_entry, bob_entry = posted[alice].id, posted[bob].id
        await emu.react(carol, thread, alice_entry, "😂")
        await emu.react(dave, thread, alice_entry, "😐")
        await emu.wait_until(lambda: len(stored_votes(db, contest.id)) == 2, "two live votes")

        emu.invalidate_sessions()
        emu.drop_gateway()
        await emu.unreact(dave, thread, alice_entry, "😐")
        await emu.react(carol, thread, bob_entry, "🙂")
        expected = {(alice_entry, carol): 3, (bob_entry, carol): 2}
        await emu.wait_for_gateway("INVALID_SESSION")
        await emu.wait_for_gateway("READY", count=2)
        await emu.wait_until(lambda: stored_votes(db, contest.id) == expected, "reconciliation")
        await startup_finished()
        assert stored_votes(db, contest.id) == expected


async def test_a_429_storm_while_voting_opens_posts_everything_once(emu, server, db_path, db):
    """Rate limits on the message and reaction routes as entries go up: discord.py waits them
    out, and every entry is posted exactly once with exactly one of each rating emoji."""
    m = server.members
    captions = {"alice": "Gone fishing", "bob": "Beach access only", "carol": "No vacancy"}
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        for name, caption in captions.items():
            await submit(emu, server, m[name], caption)
        # at most 2 + 2 answers of 429 fall on one request, within discord.py's five tries
        emu.faults.rate_limit("/messages", count=2, retry_after=0.05)
        emu.faults.rate_limit("/reactions/", count=2, retry_after=0.05)
        posted = await start_voting_now(emu, bot, db, contest, 3)
        assert emu.faults.pending() == 0
        assert any(record.status == 429 for record in emu.request_log)

        thread = contests.get_contest(db, contest.id).thread_id
        in_thread = emu.messages(thread)
        assert sorted(msg.id for msg in in_thread if is_entry(msg)) == sorted(
            msg.id for msg in posted.values()
        )
        assert [msg for msg in in_thread if not is_entry(msg)] == [in_thread[0]]  # "Voting is open"
        for name, caption in captions.items():
            message = posted[m[name].id]
            assert caption in message.content
            assert {e: message.reactors(e) for e in message.reactions} == {
                e: [emu.bot_user.id] for e in ("😂", "🙂", "😐")
            }


@pytest.mark.parametrize("status", [500, 503])
async def test_a_server_error_on_the_results_is_retried_and_posts_once(
    emu, server, db_path, db, status
):
    """The results POST fails with a 5xx (discord.py retries a 500 itself but raises on a 503):
    the bot tries again and the results appear exactly once; a restart adds nothing."""
    m = server.members
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["alice"], "Please forward my mail")
        await submit(emu, server, m["bob"], "Island time")
        await start_voting_now(emu, bot, db, contest, 2)
        emu.faults.server_error(f"POST /channels/{server.channel.id}/messages", 1, status=status)
        run_job_now(bot, f"close:{contest.id}")
        await emu.wait_until(lambda: results_posts(emu, server), "the results")
        assert (f"/channels/{server.channel.id}/messages", status) in {
            (r.path, r.status) for r in emu.request_log
        }
    async with punchline(emu, db_path):
        await startup_finished()
    assert len(results_posts(emu, server)) == 1
    assert (
        contests.get_contest(db, contest.id).results_message_id == results_posts(emu, server)[0].id
    )


async def test_results_that_keep_failing_are_posted_once_after_a_restart(emu, server, db_path, db):
    """Discord keeps answering 503 until the bot stops; the restarted bot announces the closed
    contest whose results were never posted, exactly once."""
    m = server.members
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["alice"], "Sand, sand, sand")
        await submit(emu, server, m["bob"], "Send help, not postcards")
        await start_voting_now(emu, bot, db, contest, 2)
        emu.faults.server_error(f"POST /channels/{server.channel.id}/messages", 1000)
        run_job_now(bot, f"close:{contest.id}")
        await emu.wait_until(
            lambda: contests.get_contest(db, contest.id).phase == "closed", "the contest to close"
        )
        await emu.wait_until(lambda: emu.faults.pending() < 1000, "the failed results post")
    emu.faults.clear()
    assert results_posts(emu, server) == []

    async with punchline(emu, db_path):
        await emu.wait_until(lambda: results_posts(emu, server), "the results")
        await startup_finished()
    assert len(results_posts(emu, server)) == 1
    actions = [a.action for a in audit.recent_actions(db, server.guild.id)]
    assert actions.count("contest.results") == 1
