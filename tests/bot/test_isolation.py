"""Two servers, the same members, one bot: nothing of one server shows or changes in the other."""

from __future__ import annotations

import csv
import io
import json

from discord_emulator import DiscordEmulator
from discord_emulator.permissions import Permission
from storage import contests, entries, guilds
from storage.privacy import member_data
from tests.bot.conftest import (
    BOT_PERMISSIONS,
    Server,
    is_results,
    open_contest_now,
    punchline,
    run_job_now,
    start_voting_now,
    submit,
)


def twin_server(emu: DiscordEmulator, server: Server) -> Server:
    """A second server with the same moderator and members, and the bot invited."""
    guild = emu.create_guild("Other Club")
    channel = emu.create_text_channel(guild.id, "caption-contest")
    mods = emu.create_role(guild.id, "mods", permissions=Permission.MANAGE_GUILD)
    emu.add_member(guild.id, server.mod.id, roles=[mods])
    for member in server.members.values():
        emu.add_member(guild.id, member.id)
    emu.add_bot_to_guild(guild.id, permissions=BOT_PERMISSIONS)
    return Server(guild, channel, server.mod, server.members)


async def ask(emu: DiscordEmulator, server: Server, user_id: int, command: str, **options):
    return await emu.slash(server.guild.id, server.channel.id, user_id, command, **options)


async def test_one_server_never_sees_or_changes_anothers_data(emu, server, db_path, db):
    here, there = server, twin_server(emu, server)
    alice, bob, carol = (server.members[n] for n in ("alice", "bob", "carol"))
    async with punchline(emu, db_path) as bot:
        contest_here = await open_contest_now(emu, here, bot, db)
        contest_there = await open_contest_now(emu, there, bot, db)
        await submit(emu, here, alice, "Alpha: the one from here")
        await submit(emu, there, alice, "Bravo: the one from there")
        await submit(emu, there, bob, "Bravo: bob's, also from there")

        mine_here = await ask(emu, here, alice.id, "caption mine")
        mine_there = await ask(emu, there, alice.id, "caption mine")
        assert "Alpha" in mine_here.content
        assert "Bravo" not in mine_here.content
        assert "Bravo" in mine_there.content
        assert "Alpha" not in mine_there.content
        assert "haven't entered" in (await ask(emu, here, bob.id, "caption mine")).content
        bobs_there = entries.author_entries(db, contest_there.id, bob.id)[0]
        refused = await ask(
            emu, here, here.mod.id, "mod disqualify", entry=bobs_there.id, reason="not yours"
        )
        assert "isn't a live entry" in refused.content
        assert entries.get_entry(db, bobs_there.id).status == "active"

        posted_here = await start_voting_now(emu, bot, db, contest_here, 1)
        posted_there = await start_voting_now(emu, bot, db, contest_there, 2)
        thread_here = contests.get_contest(db, contest_here.id).thread_id
        thread_there = contests.get_contest(db, contest_there.id).thread_id
        await emu.react(carol.id, thread_here, posted_here[alice.id].id, "😂")
        await emu.react(carol.id, thread_there, posted_there[alice.id].id, "🙂")
        await emu.react(carol.id, thread_there, posted_there[bob.id].id, "😐")
        await emu.wait_until(
            lambda: len(member_data(db, there.guild.id, carol.id)["votes"]) == 2, "carol's votes"
        )

        shown = await ask(emu, here, carol.id, "privacy show")
        data = json.loads(shown.files[0].data)
        assert data["guild_id"] == here.guild.id
        assert [v["rating"] for v in data["votes"]] == [3]
        alice_here = json.loads((await ask(emu, here, alice.id, "privacy show")).files[0].data)
        assert [e["text"] for e in alice_here["entries"]] == ["Alpha: the one from here"]

        for server_, contest in ((here, contest_here), (there, contest_there)):
            run_job_now(bot, f"close:{contest.id}")
            await emu.wait_until(
                lambda s=server_: any(is_results(m) for m in emu.messages(s.channel.id)),
                "the results",
            )

        board_here = await ask(emu, here, carol.id, "leaderboard", scope="all")
        board_there = await ask(emu, there, carol.id, "leaderboard", scope="all")
        assert f"<@{alice.id}>" in board_here.content
        assert f"<@{bob.id}>" not in board_here.content
        assert f"<@{bob.id}>" in board_there.content

        export = await ask(emu, here, here.mod.id, "mod export")
        rows = list(csv.DictReader(io.StringIO(export.files[0].data.decode())))
        assert {int(r["contest_id"]) for r in rows} == {contest_here.id}
        assert [r["text"] for r in rows] == ["Alpha: the one from here"]

        # what happens there stays there: a ban, and carol erasing her data
        await ask(emu, there, there.mod.id, "mod ban", member=alice.id)
        asked = await ask(emu, there, carol.id, "privacy delete")
        await emu.press_button(asked.original.id, f"privacy:erase:{carol.id}", carol.id)

    assert guilds.is_banned(db, there.guild.id, alice.id)
    assert not guilds.is_banned(db, here.guild.id, alice.id)
    assert member_data(db, there.guild.id, carol.id)["votes"] == []
    assert len(member_data(db, here.guild.id, carol.id)["votes"]) == 1
    assert [e["text"] for e in member_data(db, here.guild.id, alice.id)["entries"]] == [
        "Alpha: the one from here"
    ]
