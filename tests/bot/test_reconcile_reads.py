"""The close reads every entry's reactions back at Discord's pace while members keep reacting:
what it reads late must not drop votes that were there all along."""

from __future__ import annotations

from storage import contests
from tests.bot.conftest import (
    open_contest_now,
    punchline,
    run_job_now,
    start_voting_now,
    stored_votes,
    submit,
)


async def test_members_reacting_while_the_close_reads_an_entry_push_no_vote_off(
    emu, server, db_path, db
):
    """The close reads an entry (its 😂 shows 2: the bot and erin), then its list of 😂 users
    a second later (a 429 here; Discord's pacing does the same to a big contest); carol and
    dave react 😂 meanwhile. discord.py's paging stops at the count the entry showed when read,
    so it fetched carol and dave (ids below erin's) and erin's vote was deleted."""
    m = server.members
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["alice"], "Read me twice")
        post = (await start_voting_now(emu, bot, db, contest, 1))[m["alice"].id]
        thread = contests.get_contest(db, contest.id).thread_id
        await emu.react(m["erin"].id, thread, post.id, "😂")
        await emu.wait_until(lambda: stored_votes(db, contest.id), "erin's vote")

        emu.faults.rate_limit(f"GET /channels/{thread}/messages/{post.id}/reactions/😂", 1, 1.0)
        run_job_now(bot, f"close:{contest.id}")
        await emu.wait_until(lambda: emu.faults.pending() == 0, "the close reading the 😂 list")
        await emu.react(m["carol"].id, thread, post.id, "😂")
        await emu.react(m["dave"].id, thread, post.id, "😂")
        await emu.wait_until(
            lambda: contests.get_contest(db, contest.id).results_message_id, "the results"
        )
    assert max(m["carol"].id, m["dave"].id) < m["erin"].id
    assert stored_votes(db, contest.id) == {
        (post.id, m[name].id): 3 for name in ("erin", "carol", "dave")
    }
