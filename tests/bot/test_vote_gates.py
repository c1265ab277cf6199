"""/contest gates: moderators set who may vote and how many captions each member keeps (defect 4)."""

from __future__ import annotations

import datetime as dt

from discord_emulator import DiscordEmulator
from storage import audit, contests, entries, guilds, open_database, seasons, votes
from tests.bot.conftest import (
    Server,
    is_prompt,
    open_contest_now,
    press,
    punchline,
    results_posts,
    run_job_now,
    setup_contest,
    start_voting_now,
    startup_finished,
    stored_votes,
    submit,
)

LONG_AGO = dt.datetime(2021, 6, 1, tzinfo=dt.UTC)


async def gates(emu: DiscordEmulator, server: Server, user, **options):
    return await emu.slash(server.guild.id, server.channel.id, user.id, "contest gates", **options)


def fresh_accounts(emu: DiscordEmulator, server: Server, count: int) -> list:
    """Accounts created seconds ago that joined the server just now (the alts of a hostile pass)."""
    made = [emu.create_user(f"fresh{i}", created_at=dt.datetime.now(dt.UTC)) for i in range(count)]
    for user in made:
        emu.add_member(server.guild.id, user.id)
    return made


def settle_in(emu: DiscordEmulator, server: Server) -> None:
    """The named members joined long ago (the test server adds everyone "now")."""
    for user in server.members.values():
        emu.add_member(server.guild.id, user.id, joined_at=LONG_AGO)


async def test_gates_are_validated_audited_and_shown_in_status(emu, server, db_path, db):
    """Defect 4: no command set the vote gates. /contest gates sets them (moderators only),
    refuses values outside their limits with a clear message and no change, commits an audit
    line with the write, and /contest status shows them to everyone."""
    m = server.members
    async with punchline(emu, db_path) as bot:
        await open_contest_now(emu, server, bot, db)
        refused = await gates(emu, server, m["alice"], account_age_days=30)
        assert "Only moderators" in refused.content

        too_long = await gates(emu, server, server.mod, member_days=400)
        assert "time in the server must be between 0 and 365" in too_long.content
        no_entries = await gates(emu, server, server.mod, entries_per_member=0)
        assert "entries per member must be between 1 and 10" in no_entries.content
        assert guilds.get_settings(db, server.guild.id).min_member_days == 0
        assert guilds.get_settings(db, server.guild.id).max_entries_per_member == 1

        answer = await gates(
            emu, server, server.mod, account_age_days=30, member_days=7, entries_per_member=2
        )
        assert "accounts at least 30 days old · in the server at least 7 days" in answer.content
        assert "2 captions per member" in answer.content
        settings = guilds.get_settings(db, server.guild.id)
        assert (
            settings.min_account_age_days,
            settings.min_member_days,
            settings.max_entries_per_member,
        ) == (30, 7, 2)
        [line] = [
            a for a in audit.recent_actions(db, server.guild.id) if a.action == "contest.gates"
        ]
        assert line.actor_id == server.mod.id

        status = await emu.slash(server.guild.id, server.channel.id, m["bob"].id, "contest status")
        assert "accounts at least 30 days old · in the server at least 7 days" in status.content

        await submit(emu, server, m["carol"], "First of two")
        await submit(emu, server, m["carol"], "Second of two")
    contest = contests.latest_contest(db, server.guild.id)
    assert len(entries.author_entries(db, contest.id, m["carol"].id)) == 2

    [command] = [c for c in emu.commands() if c["name"] == "contest"]
    [sub] = [o for o in command["options"] if o["name"] == "gates"]
    limits = {o["name"]: (o.get("min_value"), o.get("max_value")) for o in sub["options"]}
    assert limits == {
        "account_age_days": (0, 365),
        "member_days": (0, 365),
        "entries_per_member": (1, 10),
    }


async def test_five_fresh_accounts_no_longer_decide_the_winner(emu, server, db_path, db):
    """Defect 4 end to end: five accounts made seconds earlier rated alice's caption funny and
    bob's unfunny, and decided the winner. With an account-age gate set through /contest gates
    their reactions never count, live or at the close, and the regulars' choice wins."""
    m = server.members
    alts = fresh_accounts(emu, server, 5)
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        answer = await gates(emu, server, server.mod, account_age_days=7)
        assert "accounts at least 7 days old" in answer.content
        await submit(emu, server, m["alice"], "Ballot stuffing is a team sport")
        await submit(emu, server, m["bob"], "The quiet one wins")
        posted = await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        alice_post, bob_post = posted[m["alice"].id], posted[m["bob"].id]

        for alt in alts:
            await emu.react(alt.id, thread, alice_post.id, "😂")
            await emu.react(alt.id, thread, bob_post.id, "😐")
        for regular in ("carol", "dave"):
            await emu.react(m[regular].id, thread, bob_post.id, "😂")
        await emu.wait_until(
            lambda: len(stored_votes(db, contest.id)) == 2 and not alice_post.reactors("😂")[1:],
            "the regulars' votes stored and the alts' reactions taken down",
        )
        assert set(stored_votes(db, contest.id)) == {
            (bob_post.id, m["carol"].id),
            (bob_post.id, m["dave"].id),
        }

        run_job_now(bot, f"close:{contest.id}")
        [results] = await emu.wait_until(lambda: results_posts(emu, server), "the results")
    winner = next(p for p in seasons.contest_placements(db, contest.id) if p.rank == 1)
    assert winner.author_id == m["bob"].id
    assert (
        f"🥇 **Entry #{entries.get_entry(db, winner.entry_id).number}** by <@{m['bob'].id}>"
        in (results.embeds[0]["description"])
    )


async def test_the_membership_gate_works_without_the_members_intent(emu, server, db_path, db):
    """Defect 4: the time-in-server gate needs each voter's join date, and the bot has no
    privileged members intent. Live reactions carry the member; reactions made while the bot
    was away are checked at the close by fetching the member. Newcomers never count."""
    m = server.members
    settle_in(emu, server)
    newcomers = [emu.create_user(f"newcomer{i}", created_at=LONG_AGO) for i in range(3)]
    for user in newcomers:
        emu.add_member(server.guild.id, user.id)  # an old account that joined just now
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await gates(emu, server, server.mod, member_days=3)
        await submit(emu, server, m["alice"], "New here, voting twice")
        await submit(emu, server, m["bob"], "Been here for ages")
        posted = await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        bob_post = posted[m["bob"].id]
        await emu.react(newcomers[0].id, thread, bob_post.id, "😂")
        await emu.react(m["carol"].id, thread, bob_post.id, "🙂")
        await emu.wait_until(lambda: stored_votes(db, contest.id), "carol's live vote")
        assert stored_votes(db, contest.id) == {(bob_post.id, m["carol"].id): 2}

    # While the bot is away: two more newcomers and a regular react.
    for user in (*newcomers[1:], m["dave"]):
        await emu.react(user.id, thread, bob_post.id, "😐")
    async with punchline(emu, db_path) as bot:
        await startup_finished()
        run_job_now(bot, f"close:{contest.id}")
        await emu.wait_until(lambda: results_posts(emu, server), "the results")
    assert stored_votes(db, contest.id) == {
        (bob_post.id, m["carol"].id): 2,
        (bob_post.id, m["dave"].id): 1,
    }
    fetched = {
        r.path.rsplit("/", 1)[-1]
        for r in emu.request_log
        if r.method == "GET" and f"/guilds/{server.guild.id}/members/" in r.path
    }
    assert {str(u.id) for u in newcomers[1:]} <= fetched


async def test_a_gated_account_is_told_why_before_seeing_a_ballot(emu, server, tmp_path):
    """Defect 4 in ballot mode: a fresh account pressing Vote is told why it can't vote before
    any caption is shown to it (and none is logged as seen); a regular gets a caption."""
    [alt] = fresh_accounts(emu, server, 1)
    db_path = tmp_path / "ballots.db"
    async with punchline(emu, db_path) as bot:
        await emu.slash(
            server.guild.id, server.channel.id, server.mod.id, "contest mode", mode="ballot"
        )
        await gates(emu, server, server.mod, account_age_days=7)
        await setup_contest(emu, server, bot, submission_minutes=3, voting_minutes=600)
        prompt = await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
        await submit(emu, server, server.members["alice"], "Vote early, vote once")
        await emu.wait_until(lambda: emu.message(prompt.id).components, "the Vote button")
        contest = contests.latest_contest(open_database(db_path), server.guild.id)

        refused = await press(emu, prompt.id, f"ballot:open:{contest.id}", alt.id)
        assert "Your account must be at least 7 days old" in refused.content
        assert not refused.embeds
        welcome = await press(emu, prompt.id, f"ballot:open:{contest.id}", server.members["bob"].id)
        assert welcome.embeds[0]["title"] == "Caption #1"
    db = open_database(db_path)
    assert votes.seen_by(db, contest.id, alt.id) == set()
