"""Editing and withdrawing captions, and captions that try to ping people."""

from __future__ import annotations

from discord_emulator import Permission
from storage import contests, entries
from tests.bot.conftest import (
    BOT_PERMISSIONS,
    is_entry,
    is_results,
    open_contest_now,
    punchline,
    results_posts,
    run_job_now,
    start_voting_now,
    submit,
)


async def caption_command(emu, server, member, command: str, **options):
    return await emu.slash(
        server.guild.id, server.channel.id, member.id, f"caption {command}", **options
    )


async def test_edits_and_withdrawals_while_submissions_are_open(emu, server, db_path, db):
    """During submissions a member may edit or withdraw their own caption (never someone
    else's); the edited text is what goes up for voting, and a withdrawn caption does not."""
    m = server.members
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["alice"], "Mailbox full")
        edited = await caption_command(emu, server, m["alice"], "edit", text="Inbox zero at last")
        assert edited.ephemeral
        assert "Updated" in edited.content
        assert "Inbox zero at last" in edited.content
        mine = await caption_command(emu, server, m["alice"], "mine")
        assert "Inbox zero at last" in mine.content
        assert "Mailbox full" not in mine.content

        await submit(emu, server, m["bob"], "Lost in the post")
        withdrawn = await caption_command(emu, server, m["bob"], "withdraw")
        assert "Withdrawn" in withdrawn.content
        bob_mine = await caption_command(emu, server, m["bob"], "mine")
        assert "haven't entered" in bob_mine.content

        await submit(emu, server, m["carol"], "Sorted by palm tree")
        [alice_entry] = entries.author_entries(db, contest.id, m["alice"].id)
        not_hers = await caption_command(emu, server, m["carol"], "withdraw", entry=alice_entry.id)
        assert "You have no caption" in not_hers.content
        assert entries.get_entry(db, alice_entry.id).status == "active"

        posted = await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        shown = " ".join(msg.content for msg in emu.messages(thread) if is_entry(msg))
    assert set(posted) == {m["alice"].id, m["carol"].id}
    assert "Inbox zero at last" in shown
    assert "Mailbox full" not in shown
    assert "Lost in the post" not in shown


async def test_edits_and_withdrawals_are_refused_once_voting_has_started(emu, server, db_path, db):
    """Once voting is open, /caption edit and /caption withdraw explain that submissions are
    closed, and the posted caption stays as it is."""
    m = server.members
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["alice"], "Postcard from nowhere")
        await submit(emu, server, m["bob"], "Tide waits for no mail")
        await start_voting_now(emu, bot, db, contest, 2)
        edit = await caption_command(emu, server, m["alice"], "edit", text="Something better")
        withdraw = await caption_command(emu, server, m["alice"], "withdraw")
    for refused in (edit, withdraw):
        assert refused.ephemeral
        assert "Submissions are closed: voting has started" in refused.content
    [entry] = entries.author_entries(db, contest.id, m["alice"].id)
    assert entry.text == "Postcard from nowhere"
    assert entry.status == "active"


async def test_a_caption_full_of_mentions_pings_nobody(emu, server, db_path, db):
    """@everyone, @here, a mentionable role and a member, in a caption echoed by the bot in
    ephemeral replies, the entry and the results, ping nobody, though the bot could ping them."""
    emu.set_role_permissions(
        server.guild.id,
        emu.bot_role(server.guild.id),
        BOT_PERMISSIONS | Permission.MENTION_EVERYONE,
    )
    owls = emu.create_role(server.guild.id, "night-owls", mentionable=True)
    m = server.members
    bob = m["bob"].id
    pings = f"@everyone @here <@&{owls.id}> <@{bob}> <@!{bob}>"
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["carol"], f"{pings} wake up")
        await caption_command(emu, server, m["carol"], "edit", text=f"{pings} mail's here")
        await caption_command(emu, server, m["carol"], "mine")
        await submit(emu, server, m["alice"], f"Calling {pings}")
        posted = await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        await emu.react(bob, thread, posted[m["carol"].id].id, "😂")
        run_job_now(bot, f"close:{contest.id}")
        await emu.wait_until(lambda: results_posts(emu, server), "the results")

    echoed = [
        *emu.messages(server.channel.id, include_ephemeral=True),
        *emu.messages(thread),
    ]
    assert sum(1 for msg in echoed if msg.ephemeral) >= 4
    assert any(is_results(msg) for msg in echoed)
    assert "mail's here" in posted[m["carol"].id].content
    assert [
        (msg.id, msg.pinged_everyone, msg.pinged_roles, msg.pinged_users)
        for msg in echoed
        if msg.pinged_everyone or msg.pinged_roles or msg.pinged_users
    ] == []
