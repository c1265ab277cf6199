"""/privacy delete end to end: an erased entry leaves a running contest, erased members stay
apart on the leaderboards, and their words leave the bot's posts, the file and the backups."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

from discord_emulator import DiscordEmulator, User
from storage import contests, entries, guilds, seasons
from storage.backup import rotating_backup
from storage.privacy import ERASED_TEXT, member_data
from tests.bot.conftest import (
    OLD_ACCOUNT,
    Server,
    is_entry,
    open_contest_now,
    punchline,
    results_posts,
    run_job_now,
    start_voting_now,
    stored_votes,
    submit,
)

SECRET = "Zebra quokka wears the marmalade crown"


async def erase(emu: DiscordEmulator, server: Server, member: User):
    """``member`` runs /privacy delete and confirms; returns the finished report."""
    asked = await emu.slash(server.guild.id, server.channel.id, member.id, "privacy delete")
    done = await emu.press_button(asked.original.id, f"privacy:erase:{member.id}", member.id)
    await emu.wait_until(lambda: "Backups" in (done.content or ""), "the erasure's report")
    return done


async def close_now(emu: DiscordEmulator, server: Server, bot, contest):
    run_job_now(bot, f"close:{contest.id}")
    [results] = await emu.wait_until(lambda: results_posts(emu, server), "the results")
    return results


def shown_text(emu: DiscordEmulator, *channel_ids: int) -> str:
    """Everything the bot's public messages in these channels show: text and embeds."""
    return json.dumps(
        [(m.content, m.embeds) for c in channel_ids for m in emu.messages(c)], ensure_ascii=False
    )


async def test_an_erased_entry_leaves_the_running_contest(emu, server, db_path, db):
    """Defect 1: an entry erased while the contest ran stayed in it, was posted, could be rated
    (by its own author too) and won as "Entry #2 by <@0>"."""
    m = server.members
    alice, bob, carol, dave = m["alice"], m["bob"], m["carol"], m["dave"]
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, alice, SECRET)
        await submit(emu, server, bob, "Bob's honest effort")
        await submit(emu, server, dave, "Dave's doomed caption")
        await erase(emu, server, dave)  # during submissions
        posted = await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        assert "doomed" not in shown_text(emu, thread)

        report = await erase(emu, server, alice)  # during voting
        assert "1 caption(s) withdrawn from the running contest" in report.content
        alice_post = emu.message(posted[alice.id].id)
        assert SECRET not in alice_post.content
        assert alice_post.content.startswith("**Entry #")
        assert "withdrawn" in alice_post.content
        await emu.react(alice.id, thread, alice_post.id, "😂")  # its author, no longer its author
        await emu.react(carol.id, thread, alice_post.id, "😂")
        await emu.react(carol.id, thread, posted[bob.id].id, "🙂")
        await emu.wait_until(lambda: stored_votes(db, contest.id), "carol's vote on bob")
        results = await close_now(emu, server, bot, contest)

    ranking = results.embeds[0]["description"]
    assert ranking.count("**Entry #") == 1
    assert f"<@{bob.id}>" in ranking
    assert "<@0>" not in ranking
    assert "former member" not in ranking
    assert stored_votes(db, contest.id) == {(posted[bob.id].id, carol.id): 2}
    placed = seasons.contest_placements(db, contest.id)
    assert [p.author_id for p in placed] == [bob.id]


async def test_two_erased_members_stay_two(emu, server, db_path, db):
    """Defect 2: two members who erased after a contest showed as one "<@0> — 16 pts" line, and
    /season start announced "Champion: <@0>"."""
    m = server.members
    alice, bob, carol, dave, erin = (m[n] for n in ("alice", "bob", "carol", "dave", "erin"))
    async with punchline(emu, db_path) as bot:
        await emu.slash(
            server.guild.id, server.channel.id, server.mod.id, "season start", name="Spring"
        )
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, alice, "Alice's winner")
        await submit(emu, server, bob, "Bob's runner-up")
        await submit(emu, server, carol, "Carol's third")
        posted = await start_voting_now(emu, bot, db, contest, 3)
        thread = contests.get_contest(db, contest.id).thread_id
        for voter in (dave, erin):
            await emu.react(voter.id, thread, posted[alice.id].id, "😂")
            await emu.react(voter.id, thread, posted[bob.id].id, "🙂")
            await emu.react(voter.id, thread, posted[carol.id].id, "😐")
        await emu.wait_until(lambda: len(stored_votes(db, contest.id)) == 6, "six votes")
        await close_now(emu, server, bot, contest)
        champions = emu.create_role(server.guild.id, "Champions")
        guilds.update_settings(
            db, server.guild.id, dt.datetime.now(dt.UTC), champion_role_id=champions.id
        )
        bot.context.forget_settings(server.guild.id)  # changed behind the running bot's back

        await erase(emu, server, alice)
        await erase(emu, server, bob)
        board = await emu.slash(server.guild.id, server.channel.id, carol.id, "leaderboard")
        await board.wait_for_response()
        await emu.slash(
            server.guild.id, server.channel.id, server.mod.id, "season start", name="Summer"
        )
        announced = await emu.wait_for_message(
            server.channel.id, lambda msg: "Champion" in msg.content, include_existing=True
        )

    lines = board.content.splitlines()[1:]
    assert lines[0].startswith("**1.** a former member — 10 pts")
    assert lines[1].startswith("**2.** a former member — 6 pts")
    assert lines[2].startswith(f"**3.** <@{carol.id}> — 4 pts")
    assert "<@0>" not in board.content
    assert "Champion: a former member with 10 points" in announced.content
    assert not announced.pinged_users
    assert not any("/roles/" in r.path for r in emu.request_log if r.method == "PUT")


async def test_erasure_reaches_the_posts_the_file_and_the_backups(
    emu, server, db_path, db, tmp_path
):
    """Defect 3: after /privacy delete the caption stayed readable in the entry and results posts
    (with the author's mention), in the SQLite file and its WAL, and in every backup; the ban row
    and audit lines naming the member survived, and /privacy show did not list them."""
    m = server.members
    alice, bob, carol, dave = m["alice"], m["bob"], m["carol"], m["dave"]
    folder = tmp_path / "backups"
    async with punchline(emu, db_path) as bot:
        bot.settings = replace(bot.settings, backup_dir=folder)
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, alice, SECRET)
        await submit(emu, server, bob, "Bob's honest effort")
        posted = await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        await emu.react(carol.id, thread, posted[alice.id].id, "😂")
        await emu.react(dave.id, thread, posted[bob.id].id, "🙂")
        await emu.react(alice.id, thread, posted[bob.id].id, "😐")
        await emu.wait_until(lambda: len(stored_votes(db, contest.id)) == 3, "three votes")
        results = await close_now(emu, server, bot, contest)
        card_before = results.attachments[0].data
        assert SECRET in results.embeds[0]["description"]
        await emu.slash(
            server.guild.id, server.channel.id, server.mod.id, "mod ban", member=alice.id
        )
        shown = await emu.slash(server.guild.id, server.channel.id, alice.id, "privacy show")
        listed = json.loads(shown.files[0].data)
        assert listed["ban"]
        assert [line["action"] for line in listed["audit_lines"]] == ["member.ban"]
        await asyncio.to_thread(rotating_backup, db_path, folder, 7, dt.datetime.now(dt.UTC))
        [backup] = list(folder.glob("punchline-*.db"))
        assert SECRET.encode() in backup.read_bytes()

        report = await erase(emu, server, alice)

        public = shown_text(emu, server.channel.id, thread)
        assert SECRET not in public
        assert f"<@{alice.id}>" not in public
        assert ERASED_TEXT in emu.message(posted[alice.id].id).content
        results = emu.message(results.id)
        assert "🥇 **Entry #" in results.embeds[0]["description"]
        assert "by a former member" in results.embeds[0]["description"]
        assert results.attachments[0].data != card_before  # the card is drawn again
        assert "results.png" in results.embeds[0]["image"]["url"]

    assert "2 of my post(s) edited" in report.content
    assert "rewritten, so no deleted copy" in report.content
    assert "1 scrubbed" in report.content
    on_disk = b"".join(
        p.read_bytes() for p in (db_path, Path(f"{db_path}-wal"), backup) if p.exists()
    )
    assert SECRET.encode() not in on_disk
    assert all(not rows for rows in member_data(db, server.guild.id, alice.id).values())
    assert not guilds.is_banned(db, server.guild.id, alice.id)
    placed = seasons.contest_placements(db, contest.id)
    assert placed[0].author_id < 0  # alice's win stands, anonymously
    assert placed[0].points == 10


async def test_a_post_discord_refuses_to_edit_does_not_undo_the_erasure(emu, server, db_path, db):
    """Defect 3: an edit that fails must not lose the erasure."""
    alice, bob = server.members["alice"], server.members["bob"]
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, alice, SECRET)
        await submit(emu, server, bob, "Bob's honest effort")
        posted = await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        emu.faults.server_error(f"PATCH /channels/{thread}/messages/{posted[alice.id].id}")

        report = await erase(emu, server, alice)

        assert "0 of my post(s) edited" in report.content
        assert "1 could not be edited" in report.content
        assert is_entry(emu.message(posted[alice.id].id))
    erased = entries.contest_entries(db, contest.id, status="withdrawn")
    assert [e.text for e in erased] == [ERASED_TEXT]
    assert member_data(db, server.guild.id, alice.id)["entries"] == []


async def test_every_results_post_of_a_reopened_contest_is_edited(emu, server, db_path, db):
    """Defect 3: a reopened contest has two results posts; the earlier one quoted the caption too."""
    m = server.members
    alice, bob, carol = m["alice"], m["bob"], m["carol"]
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, alice, SECRET)
        await submit(emu, server, bob, "Bob's honest effort")
        posted = await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        await emu.react(carol.id, thread, posted[alice.id].id, "😂")
        await emu.wait_until(lambda: stored_votes(db, contest.id), "carol's vote")
        await close_now(emu, server, bot, contest)
        await emu.slash(
            server.guild.id, server.channel.id, server.mod.id, "contest reopen", minutes=60
        )
        run_job_now(bot, f"close:{contest.id}")
        both = await emu.wait_until(
            lambda: results if len(results := results_posts(emu, server)) == 2 else None,
            "the second results post",
        )
        assert all(SECRET in post.embeds[0]["description"] for post in both)

        report = await erase(emu, server, alice)

    assert "3 of my post(s) edited" in report.content  # the entry post and both results posts
    assert SECRET not in shown_text(emu, server.channel.id, thread)
    assert f"<@{alice.id}>" not in shown_text(emu, server.channel.id, thread)


async def test_an_entry_erased_while_its_post_waits_for_discord_never_stays_up(
    emu, server, db_path, db
):
    """Opening voting holds no guild lock while Discord takes a post, so an erasure could land
    after the bot read an entry and before Discord accepted its post (here the fifth entry's
    post meets a 429 and waits 1.5 s, as under Discord's global limit). Its author erases just
    then: the erasure waits for the step and edits the post (a post of an entry withdrawn
    meanwhile is deleted as soon as it is up), and the erased words leave the thread."""
    posters = [emu.create_user(f"poster{n}", created_at=OLD_ACCOUNT) for n in range(6)]
    for poster in posters:
        emu.add_member(server.guild.id, poster.id)
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        for n, poster in enumerate(posters):
            await submit(emu, server, poster, f"{SECRET}, take {n}")
        run_job_now(bot, f"voting:{contest.id}")
        thread = await emu.wait_until(
            lambda: contests.get_contest(db, contest.id).thread_id, "the thread"
        )
        await emu.wait_until(
            lambda: len([p for p in emu.messages(thread) if is_entry(p)]) == 4, "four entries up"
        )
        emu.faults.rate_limit(f"POST /channels/{thread}/messages", 1, retry_after=1.5)
        await emu.wait_until(lambda: emu.faults.pending() == 0, "the fifth post waiting")
        fifth = next(e for e in entries.contest_entries(db, contest.id) if e.number == 5)
        waiting = next(p for p in posters if p.id == fifth.author_id)
        await erase(emu, server, waiting)
        await emu.wait_until(
            lambda: not bot.engine.steps(server.guild.id).locked(), "the entries all handled"
        )
    erased = f"take {posters.index(waiting)}"
    assert not any(erased in post.content for post in emu.messages(thread))
    shown = [p.content.split("\n")[0] for p in emu.messages(thread) if is_entry(p)]
    assert {"**Entry #5** · withdrawn", "**Entry #6**"} <= set(shown) or len(shown) == 5
    assert entries.get_entry(db, fifth.id).status == "withdrawn"


class SlowRanker:
    """An AI ranker that takes its time, then fails (the crowd's results go up alone)."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()

    async def rank(self, guild_id: int, description: str, captions) -> None:
        self.asked.set()
        await asyncio.sleep(1.5)
        raise RuntimeError("a slow model, then a broken one")


async def test_an_erasure_while_the_results_are_being_made_leaves_no_trace_in_them(
    emu, server, db_path, db
):
    """The close tallies under the guild lock and posts outside it, after the AI's ranking (up
    to two minutes): an erasure meanwhile waits for the results to be up, then edits them."""
    m = server.members
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["alice"], SECRET)
        await submit(emu, server, m["bob"], "Bob's honest effort")
        posted = await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        await emu.react(m["carol"].id, thread, posted[m["alice"].id].id, "😂")
        await emu.wait_until(lambda: stored_votes(db, contest.id), "carol's vote")
        bot.ai = ranker = SlowRanker()
        run_job_now(bot, f"close:{contest.id}")
        await asyncio.wait_for(ranker.asked.wait(), 20)  # the tally is made, the post is not
        await erase(emu, server, m["alice"])
        [results] = await emu.wait_until(lambda: results_posts(emu, server), "the results")
        await emu.wait_until(
            lambda: contests.get_contest(db, contest.id).results_message_id, "them recorded"
        )
    assert SECRET not in shown_text(emu, server.channel.id, thread)
    assert f"<@{m['alice'].id}>" not in shown_text(emu, server.channel.id)
    assert results.embeds
