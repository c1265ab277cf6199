"""Seasons and standings end to end: the champion role is asked for, only a role the moderator
(and the bot) could give is accepted, a season's name never pings, and /leaderboard answers at
once however slow Discord is with names."""

from __future__ import annotations

import datetime as dt
import time

from discord_emulator import DiscordEmulator
from discord_emulator.permissions import Permission
from storage import contests, entries, guilds, seasons
from storage.models import Placement
from testkit import BOT_PERMISSIONS, OLD_ACCOUNT
from tests.bot.conftest import (
    Server,
    open_contest_now,
    punchline,
    results_posts,
    run_job_now,
    start_voting_now,
    stored_votes,
    submit,
)


async def season_start(emu: DiscordEmulator, server: Server, name: str):
    return await emu.slash(
        server.guild.id, server.channel.id, server.mod.id, "season start", name=name
    )


async def alice_wins_a_contest(emu: DiscordEmulator, server: Server, bot, db) -> None:
    """One contest: alice's caption gets carol's 😂, bob's gets nothing; closed with results."""
    m = server.members
    contest = await open_contest_now(emu, server, bot, db)
    await submit(emu, server, m["alice"], "Alice's winner")
    await submit(emu, server, m["bob"], "Bob's other one")
    posted = await start_voting_now(emu, bot, db, contest, 2)
    thread = contests.get_contest(db, contest.id).thread_id
    await emu.react(m["carol"].id, thread, posted[m["alice"].id].id, "😂")
    await emu.wait_until(lambda: stored_votes(db, contest.id), "carol's vote")
    run_job_now(bot, f"close:{contest.id}")
    await emu.wait_until(lambda: results_posts(emu, server), "the results")


def closed_contest(db, server: Server, day: str, ranked: list[int], season_id=None) -> None:
    """A contest long closed and announced, its entries by ``ranked`` authors placed in order."""
    now = dt.datetime.now(dt.UTC)
    contest, _ = contests.open_contest(
        db,
        guild_id=server.guild.id,
        day=day,
        prompt_id=None,
        season_id=season_id,
        opens_at=now,
        voting_at=now,
        closes_at=now,
        channel_id=server.channel.id,
        now=now,
    )
    contests.advance_phase(db, contest.id, "submissions", "closed")
    contests.set_message_ids(db, contest.id, results_message_id=1)
    placed = [
        entries.add_entry(db, contest.id, author, f"caption {i}", f"caption {i}", now)
        for i, author in enumerate(ranked)
    ]
    seasons.save_placements(
        db,
        contest.id,
        [
            Placement(contest.id, e.id, e.author_id, rank, len(placed), 2.0, 1.0, 2, 10 - rank)
            for rank, e in enumerate(placed, start=1)
        ],
    )


def requests(emu: DiscordEmulator, method: str, path: str) -> list[int]:
    """The statuses of the requests made so far to ``method path``."""
    return [r.status for r in emu.request_log if r.method == method and r.path == path]


async def test_the_champion_is_fetched_and_given_the_role(emu, server, db_path, db):
    """Defect 5: without the members intent ``guild.get_member`` is None, so the champion role
    was never even asked for."""
    alice = server.members["alice"]
    champions = emu.create_role(server.guild.id, "Champions")
    async with punchline(emu, db_path) as bot:
        await season_start(emu, server, "Spring")
        await alice_wins_a_contest(emu, server, bot, db)
        guilds.update_settings(
            db, server.guild.id, dt.datetime.now(dt.UTC), champion_role_id=champions.id
        )
        bot.context.forget_settings(server.guild.id)  # changed behind the running bot's back
        assert bot.get_guild(server.guild.id).get_member(alice.id) is None  # not cached
        await season_start(emu, server, "Summer")

    member = f"/guilds/{server.guild.id}/members/{alice.id}"
    assert requests(emu, "GET", member) == [200]
    # The emulator has no route for giving roles (it answers 404): the request is what counts.
    assert len(requests(emu, "PUT", f"{member}/roles/{champions.id}")) == 1


async def test_the_last_champion_hands_the_role_on(emu, server, db_path, db):
    """Defect 5: the role was taken back only from members in the cache, which without the
    members intent holds none: the last champion is fetched and loses it."""
    alice, bob = server.members["alice"], server.members["bob"]
    champions = emu.create_role(server.guild.id, "Champions")
    async with punchline(emu, db_path) as bot:
        await season_start(emu, server, "Spring")
        spring = seasons.current_season(db, server.guild.id)[0]
        closed_contest(db, server, "2026-01-01", [alice.id, bob.id], spring)
        guilds.update_settings(
            db,
            server.guild.id,
            dt.datetime.now(dt.UTC),
            channel_id=server.channel.id,
            champion_role_id=champions.id,
            enabled=0,  # no daily contest: the seasons' contests are made above
        )
        bot.context.forget_settings(server.guild.id)  # changed behind the running bot's back
        await season_start(emu, server, "Summer")
        emu.set_member_roles(server.guild.id, alice.id, [champions])  # what the bot asked for
        summer = seasons.current_season(db, server.guild.id)[0]
        closed_contest(db, server, "2026-01-02", [bob.id, alice.id], summer)
        await season_start(emu, server, "Autumn")

    roles_of = f"/guilds/{server.guild.id}/members/{{}}/roles/{champions.id}"
    assert len(requests(emu, "DELETE", roles_of.format(alice.id))) == 1
    assert len(requests(emu, "PUT", roles_of.format(bob.id))) == 1


def ranked_guild(emu: DiscordEmulator) -> tuple[Server, dict[str, int]]:
    """A guild whose roles sit, bottom to top: low, the bot's, mid, mods (the moderator's:
    Manage Server and Manage Roles), top."""
    guild = emu.create_guild("Ranked Club")
    channel = emu.create_text_channel(guild.id, "caption-contest")
    low = emu.create_role(guild.id, "low")
    emu.add_bot_to_guild(guild.id, permissions=BOT_PERMISSIONS)
    mid = emu.create_role(guild.id, "mid")
    mods = emu.create_role(
        guild.id, "mods", permissions=Permission.MANAGE_GUILD | Permission.MANAGE_ROLES
    )
    top = emu.create_role(guild.id, "top")
    mod = emu.create_user("moderator", created_at=OLD_ACCOUNT)
    emu.add_member(guild.id, mod.id, roles=[mods])
    roles = {"low": low.id, "mid": mid.id, "top": top.id, "bot": emu.bot_role(guild.id).id}
    return Server(guild, channel, mod, {}), roles


async def test_contest_roles_refuses_roles_nobody_there_could_give(emu, db_path, db):
    """Defect 5: /contest roles accepted any role, even one above the moderator or the bot."""
    server, role = ranked_guild(emu)
    everyone = server.guild.id
    owner = server.guild.owner_id
    hosts = emu.create_role(server.guild.id, "hosts", permissions=Permission.MANAGE_GUILD)
    host = emu.create_user("host", created_at=OLD_ACCOUNT)  # a moderator above every role
    emu.add_member(server.guild.id, host.id, roles=[hosts])

    async def roles(user_id: int, **chosen: int) -> str:
        answer = await emu.slash(
            server.guild.id, server.channel.id, user_id, "contest roles", **chosen
        )
        return answer.content

    async with punchline(emu, db_path) as bot:
        assert "below your highest role" in await roles(server.mod.id, champion=role["top"])
        assert "below your highest role" in await roles(server.mod.id, moderator=role["top"])
        assert "my highest role" in await roles(server.mod.id, champion=role["mid"])
        assert "belongs to an integration" in await roles(server.mod.id, champion=role["bot"])
        assert "@everyone" in await roles(server.mod.id, moderator=everyone)
        assert "you need Manage Roles" in await roles(host.id, champion=role["low"])
        assert "Manage Roles permission" in await roles(server.mod.id, champion=role["low"])
        assert guilds.get_settings(db, server.guild.id) is None  # nothing was stored

        emu.set_role_permissions(
            server.guild.id, role["bot"], BOT_PERMISSIONS | Permission.MANAGE_ROLES
        )
        me = bot.get_guild(server.guild.id).me
        await emu.wait_until(lambda: me.guild_permissions.manage_roles, "the bot's new permission")
        assert "my highest role" in await roles(owner, champion=role["top"])  # owner: any role
        accepted = await roles(server.mod.id, champion=role["low"], moderator=role["mid"])
        assert accepted.startswith(f"👥 Moderator role: <@&{role['mid']}>")
        assert f"champion role: <@&{role['low']}>" in accepted
        assert f"Moderator role: <@&{role['top']}>" in await roles(owner, moderator=role["top"])

    settings = guilds.get_settings(db, server.guild.id)
    assert (settings.champion_role_id, settings.moderator_role_id) == (None, role["top"])


async def test_a_season_name_never_pings(emu, server, db_path, db):
    """Defect 13: a season named with "<@id>" pinged that member in the champion announcement."""
    alice, bob = server.members["alice"], server.members["bob"]
    hosts = emu.create_role(server.guild.id, "hosts", mentionable=True)
    name = f"<@{bob.id}> @everyone <@&{hosts.id}> Cup"
    async with punchline(emu, db_path) as bot:
        started = await season_start(emu, server, name)
        await alice_wins_a_contest(emu, server, bot, db)
        board = await emu.slash(server.guild.id, server.channel.id, alice.id, "leaderboard")
        await board.wait_for_response()
        await season_start(emu, server, "Next")
        announced = await emu.wait_for_message(
            server.channel.id, lambda msg: "Champion" in msg.content, include_existing=True
        )

    assert announced.pinged_users == {alice.id}  # the champion, and nobody the name names
    assert not announced.pinged_roles
    assert not announced.pinged_everyone
    title = board.content.splitlines()[0]  # bob is on the board in his own right, below it
    for shown in (announced.content, started.content, title):
        assert f"<@{bob.id}>" not in shown
        assert f"<@&{hosts.id}>" not in shown
        assert "@everyone" not in shown
        assert "Cup" in shown


async def test_leaderboard_answers_before_it_looks_up_names(emu, server, db_path, db):
    """Defect 7: /leaderboard fetched up to 10 users before its first answer; three 429s on
    those fetches pushed that answer past Discord's 3-second deadline."""
    members = list(server.members.values())
    closed_contest(db, server, "2026-01-01", [member.id for member in members])
    async with punchline(emu, db_path):
        emu.faults.rate_limit("GET /users/", count=3, retry_after=1.2)
        asked_at = time.monotonic()
        board = await emu.slash(
            server.guild.id, server.channel.id, members[0].id, "leaderboard", settle=False
        )
        first_answer_s = time.monotonic() - asked_at
        await board.wait_for_response()

    assert first_answer_s < 3.0
    order = [r.path for r in emu.request_log]
    answered = next(i for i, p in enumerate(order) if p.startswith(f"/interactions/{board.id}/"))
    first_fetch = next(i for i, p in enumerate(order) if p.startswith("/users/") and p[7].isdigit())
    assert answered < first_fetch
    assert emu.faults.pending() == 0  # the rate limits were met, and waited out
    assert all(f"<@{m.id}>" in board.content for m in members)
    assert board.files[0].filename == "leaderboard.png"
