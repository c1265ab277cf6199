"""Self-votes and bot votes never count; the bot takes them down only when it may."""

from __future__ import annotations

from discord_emulator import Permission
from storage import contests
from tests.bot.conftest import (
    BOT_PERMISSIONS,
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


def reaction_removals(emu) -> list[str]:
    """Paths of every reaction the bot took away (not counting a 429 it was asked to retry:
    removals in one channel share Discord's reaction pacing)."""
    return [
        r.path
        for r in emu.request_log
        if r.method == "DELETE"
        and "/reactions/" in r.path
        and not r.path.endswith("/@me")
        and r.status != 429
    ]


async def test_self_votes_and_bot_votes_are_removed_with_manage_messages(emu, server, db_path, db):
    """With Manage Messages the bot removes a member's vote on their own caption and another
    bot's vote; neither is stored, while a member's ordinary vote is."""
    m = server.members
    alice, bob, carol = (m[n].id for n in ("alice", "bob", "carol"))
    robot = emu.create_user("helper-bot", bot=True, created_at=OLD_ACCOUNT)
    emu.add_member(server.guild.id, robot.id)
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["alice"], "My other island is a continent")
        await submit(emu, server, m["bob"], "Return address: here")
        posted = await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        alice_entry, bob_entry = posted[alice], posted[bob]

        await emu.react(alice, thread, alice_entry.id, "😂")
        await emu.react(robot.id, thread, bob_entry.id, "😂")
        await emu.react(carol, thread, bob_entry.id, "🙂")
        await emu.wait_until(
            lambda: (
                alice not in alice_entry.reactors("😂") and robot.id not in bob_entry.reactors("😂")
            ),
            "the self-vote and the bot's vote to be removed",
        )
        await emu.wait_until(lambda: stored_votes(db, contest.id), "carol's vote")
        assert stored_votes(db, contest.id) == {(bob_entry.id, carol): 2}
        assert alice_entry.reactors("😂") == [emu.bot_user.id]
        assert bob_entry.reactors("😂") == [emu.bot_user.id]
        assert len(reaction_removals(emu)) == 2


async def test_without_manage_messages_refused_votes_stay_but_never_count(emu, server, db_path, db):
    """Without Manage Messages the bot leaves a self-vote and a bot's vote on the entry (it
    does not even try to remove them), and neither counts, live or in the results."""
    emu.set_role_permissions(
        server.guild.id,
        emu.bot_role(server.guild.id),
        BOT_PERMISSIONS & ~Permission.MANAGE_MESSAGES,
    )
    m = server.members
    alice, bob, carol = (m[n].id for n in ("alice", "bob", "carol"))
    robot = emu.create_user("helper-bot", bot=True, created_at=OLD_ACCOUNT)
    emu.add_member(server.guild.id, robot.id)
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["alice"], "Reply hazy, try again")
        await submit(emu, server, m["bob"], "Postage due")
        posted = await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        alice_entry, bob_entry = posted[alice], posted[bob]

        await emu.react(alice, thread, alice_entry.id, "😂")
        await emu.react(robot.id, thread, bob_entry.id, "😂")
        await emu.react(carol, thread, bob_entry.id, "🙂")  # handled after the two above
        await emu.wait_until(lambda: stored_votes(db, contest.id), "carol's vote")
        assert stored_votes(db, contest.id) == {(bob_entry.id, carol): 2}
        assert alice in alice_entry.reactors("😂")
        assert robot.id in bob_entry.reactors("😂")
        assert reaction_removals(emu) == []

        run_job_now(bot, f"close:{contest.id}")
        [results] = await emu.wait_until(lambda: results_posts(emu, server), "the results")
    assert counts_line(results, alice) == "no ratings"  # the refused ones never counted
    assert counts_line(results, bob) == "😂 0 · 🙂 1 · 😐 0"
