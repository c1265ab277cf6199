"""The bot on three shards in one process, against the emulator with Discord's rules on.

One shard loses its session in the middle of voting while members keep reacting everywhere; a
shard reconnects in a loop. Afterwards every reaction is counted once (the stored votes equal the
reactions on the entry posts), nothing is posted twice, and the other shards never paused (their
sessions are the ones they started with, and their votes kept arriving meanwhile). Discord's
sharding rules: ``../shared/discord/docs/gateway.mdx``, "Sharding".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from bot.app import PunchlineBot
from discord_emulator import DiscordEmulator, User
from storage import contests, entries
from storage.models import Rating
from testkit.sharded import configure_contests, sharded_servers
from tests.bot.conftest import (
    OLD_ACCOUNT,
    Server,
    is_entry,
    is_prompt,
    open_contest_now,
    punchline,
    run_job_now,
    start_voting_now,
    startup_finished,
    stored_votes,
    submit,
)

SHARDS = 3
LONG = dt.timedelta(hours=10)
VALUE = {r.emoji: r.value for r in Rating}


@dataclass
class Voting:
    """Every server's contest in its voting phase, and what members rated so far."""

    servers: list[Server]
    contest_of: dict[int, int]  # guild id → contest id
    thread_of: dict[int, int]  # guild id → voting thread id
    posts_of: dict[int, list[int]]  # guild id → its two entry messages
    expected: dict[int, dict[tuple[int, int], int]]  # contest id → (message, voter) → rating

    def on_shard(self, shard: int) -> list[Server]:
        return [s for s in self.servers if (s.guild.id >> 22) % SHARDS == shard]

    async def rate(
        self, emu: DiscordEmulator, servers: list[Server], voter: User, post: int, emoji: str
    ) -> None:
        """``voter`` reacts with ``emoji`` on entry ``post`` (0 or 1) in each of ``servers``."""
        for server in servers:
            guild = server.guild.id
            message = self.posts_of[guild][post]
            await emu.react(voter, self.thread_of[guild], message, emoji)
            self.expected[self.contest_of[guild]][(message, voter.id)] = VALUE[emoji]

    def counted(self, db, servers: list[Server]) -> bool:
        """Whether the stored votes of ``servers`` are exactly the expected ones."""
        return all(
            stored_votes(db, self.contest_of[s.guild.id])
            == self.expected[self.contest_of[s.guild.id]]
            for s in servers
        )


@pytest.fixture
def members(emu: DiscordEmulator) -> dict[str, User]:
    names = ("author1", "author2", "voter1", "voter2", "voter3", "latecomer")
    return {name: emu.create_user(name, created_at=OLD_ACCOUNT) for name in names}


def sharded_emulator(emu: DiscordEmulator) -> DiscordEmulator:
    """Discord recommends three shards, and lets all three identify at once."""
    emu.gateway.recommended_shards = SHARDS
    emu.gateway.identifies.max_concurrency = SHARDS
    return emu


async def open_voting(emu, bot: PunchlineBot, db, servers, members) -> Voting:
    """Two captions in each server's contest, then its voting opened (entries posted, each with
    the bot's three rating emoji)."""
    await startup_finished()
    contest_of = {}
    for server in servers:
        contest = await emu.wait_until(
            lambda s=server: contests.latest_contest(db, s.guild.id), "the contest"
        )
        contest_of[server.guild.id] = contest.id
        for n, author in enumerate((members["author1"], members["author2"]), 1):
            reply = await submit(emu, server, author, f"Caption {n} for {server.guild.name}")
            assert reply.content.startswith("✅"), reply.content
    for contest_id in contest_of.values():
        run_job_now(bot, f"voting:{contest_id}")

    def posted() -> dict[int, list[int]] | None:
        posts = {}
        for guild, contest_id in contest_of.items():
            found = [e.message_id for e in entries.contest_entries(db, contest_id)]
            if len(found) != 2 or None in found:
                return None
            for message in found:
                if not all(bot.user.id in emu.message(message).reactors(r.emoji) for r in Rating):
                    return None
            posts[guild] = found
        return posts

    posts_of = await emu.wait_until(posted, "every entry posted with its rating emoji")
    thread_of = {g: contests.get_contest(db, c).thread_id for g, c in contest_of.items()}
    return Voting(servers, contest_of, thread_of, posts_of, {c: {} for c in contest_of.values()})


def assert_posted_once(emu: DiscordEmulator, voting: Voting) -> None:
    """One prompt per server, each entry once, each rating emoji once per entry (the bot's)."""
    for server in voting.servers:
        guild = server.guild.id
        assert len([m for m in emu.messages(server.channel.id) if is_prompt(m)]) == 1
        posted = [m for m in emu.messages(voting.thread_of[guild]) if is_entry(m)]
        assert sorted(m.id for m in posted) == sorted(voting.posts_of[guild])
        for message in posted:
            assert [message.reactors(r.emoji).count(emu.bot_user.id) for r in Rating] == [1, 1, 1]


def live_sessions(emu: DiscordEmulator) -> dict[int, str]:
    return {s.shard.id: s.id for s in emu.gateway.sessions.values() if s.resumable}


async def test_one_shard_invalidated_mid_voting_counts_every_reaction_once(
    emu, db_path, db, members
):
    """Thirty servers on three shards. Shard 1's session is invalidated while members rate: its
    ten servers' reactions are never sent, the other twenty's keep arriving and are stored while
    shard 1 is away. Shard 1 identifies again, catches up its own servers only (reconciling
    their reactions from the posts) while a latecomer rates everywhere: every vote is stored
    once, and nothing was posted twice."""
    servers = sharded_servers(sharded_emulator(emu), 30, SHARDS, list(members.values()))
    configure_contests(db_path, servers, dt.datetime.now(dt.UTC), submission=LONG, voting=LONG)
    async with punchline(emu, db_path, speed=1.0) as bot:
        assert sorted(bot.shards) == [0, 1, 2]
        voting = await open_voting(emu, bot, db, servers, members)
        for voter, emoji in (("voter1", "😂"), ("voter2", "🙂"), ("voter3", "😐")):
            await voting.rate(emu, servers, members[voter], 0, emoji)
        await emu.wait_until(lambda: voting.counted(db, servers), "the first round counted")
        started = live_sessions(emu)

        emu.invalidate_sessions(shard=1)
        for voter, emoji in (("voter1", "🙂"), ("voter2", "😐"), ("voter3", "😂")):
            await voting.rate(emu, servers, members[voter], 1, emoji)
        others = voting.on_shard(0) + voting.on_shard(2)
        await emu.wait_until(lambda: voting.counted(db, others), "shards 0 and 2 kept counting")
        assert not voting.counted(db, voting.on_shard(1))  # shard 1 never heard of its round

        emu.drop_gateway(shard=1)
        await emu.wait_for_gateway("READY", count=2, shard=1)
        await voting.rate(emu, servers, members["latecomer"], 0, "😂")  # during the catch-up
        await emu.wait_until(lambda: bot.shard_health[1].catch_ups == 2, "shard 1 caught up")
        await emu.wait_until(lambda: voting.counted(db, servers), "every vote, once")

        assert {s: live_sessions(emu)[s] for s in (0, 2)} == {s: started[s] for s in (0, 2)}
        assert [bot.shard_health[s].catch_ups for s in range(SHARDS)] == [1, 2, 1]
        assert_posted_once(emu, voting)
        on_one = voting.on_shard(1)[0]
        status = await emu.slash(on_one.guild.id, on_one.channel.id, on_one.mod.id, "bot status")
        lines = status.content.splitlines()
        assert lines[0] == "🛰️ This server is on shard **1** of 3; this process runs all 3 shard(s)."
        assert lines[1].startswith("• shard 1 (this server): heartbeat ")
        assert "10 servers · caught up" in lines[1]
        assert "after ready in" in lines[1]
        assert [line.split(":")[0] for line in lines[2:]] == ["• shard 0", "• shard 2"]


async def test_reactions_on_other_messages_never_become_events(emu, server, db_path, db):
    """Only a live entry's reactions reach discord.py's event machinery: a 😂 on an ordinary
    message is dropped where the gateway hands the dispatch over (one dict lookup, no event,
    no task), one on an entry becomes a vote."""
    m = server.members
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["alice"], "Mail call!")
        await submit(emu, server, m["bob"], "Amazon Prime has limits")
        posted = await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        events = []

        async def on_raw_reaction_add(payload) -> None:
            if payload.user_id != bot.user.id:  # the bot's own emoji may still be arriving
                events.append((payload.message_id, payload.user_id))

        bot.add_listener(on_raw_reaction_add)
        ordinary = await emu.send_message(m["carol"], server.channel, "just chatting")
        await emu.react(m["dave"], server.channel, ordinary, "😂")
        entry = posted[m["alice"].id].id
        await emu.react(m["carol"], thread, entry, "😂")
        await emu.wait_until(lambda: stored_votes(db, contest.id), "the vote")
        assert stored_votes(db, contest.id) == {(entry, m["carol"].id): 3}
        assert events == [(entry, m["carol"].id)]  # none for the ordinary message


async def test_a_shard_reconnecting_in_a_loop_loses_and_doubles_nothing(emu, db_path, db, members):
    """Shard 2's socket is cut again and again (a flapping network), its session lost twice on
    the way, while members rate in every server: at the end the stored votes are exactly the
    reactions, each entry and prompt posted once."""
    servers = sharded_servers(sharded_emulator(emu), 6, SHARDS, list(members.values()))
    configure_contests(db_path, servers, dt.datetime.now(dt.UTC), submission=LONG, voting=LONG)
    async with punchline(emu, db_path, speed=1.0) as bot:
        voting = await open_voting(emu, bot, db, servers, members)
        ratings = [
            ("voter1", 0, "😂"),
            ("voter2", 0, "🙂"),
            ("voter3", 1, "😐"),
            ("voter1", 1, "🙂"),
        ]
        for round_, (voter, post, emoji) in enumerate(ratings * 2):
            connected = sessions_started(emu, shard=2)
            if round_ in (2, 5):
                emu.advance_time(5)  # Discord's identify window: a new session is allowed
                emu.invalidate_sessions(shard=2)
            emu.drop_gateway(shard=2)
            await voting.rate(emu, servers, members[voter], post, emoji)
            await emu.wait_until(
                lambda c=connected: sessions_started(emu, shard=2) > c, "shard 2 back"
            )
        await emu.wait_until(lambda: voting.counted(db, servers), "every vote, once")
        await startup_finished()  # the catch-ups of every reconnection, one after the other
        assert voting.counted(db, servers)
        # A RESUMED cut off before the client read it is lost with its socket: at most one
        # catch-up per connection, and some after the first.
        assert 1 < bot.shard_health[2].catch_ups <= sessions_started(emu, shard=2) == 9
        assert_posted_once(emu, voting)


def sessions_started(emu: DiscordEmulator, shard: int) -> int:
    """How many times ``shard`` connected: fresh sessions (READY) and resumed ones."""
    return sum(1 for s, e in emu.gateway.shard_history if s == shard and e in ("READY", "RESUMED"))


async def test_a_vote_made_while_its_contest_is_reconciled_is_kept(emu, server, db_path, db):
    """A shard resumes and its catch-up re-reads the entries' reactions; a member rates the
    first entry after its reactions were read (the second entry's read is held up by a 429).
    The reconciliation then writes what it read, but leaves that member's newer vote alone."""
    m = server.members
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, m["alice"], "Mail call!")
        await submit(emu, server, m["bob"], "Amazon Prime has limits")
        await start_voting_now(emu, bot, db, contest, 2)
        thread = contests.get_contest(db, contest.id).thread_id
        first, second = (e.message_id for e in entries.contest_entries(db, contest.id))
        await emu.react(m["dave"], thread, second, "🙂")
        await emu.wait_until(lambda: stored_votes(db, contest.id), "dave's vote")

        held_up = f"GET /channels/{thread}/messages/{second}"
        emu.faults.rate_limit(held_up, retry_after=1.0)
        emu.drop_gateway()
        await emu.wait_until(
            lambda: any(
                r.status == 429 and f"{r.method} {r.path}".startswith(held_up)
                for r in emu.request_log
            ),
            "the catch-up past the first entry's reactions",
        )
        await emu.react(m["carol"], thread, first, "😂")
        await startup_finished()
        assert bot.shard_health[0].last_reason == "resumed"
        assert stored_votes(db, contest.id) == {
            (first, m["carol"].id): 3,
            (second, m["dave"].id): 2,
        }
