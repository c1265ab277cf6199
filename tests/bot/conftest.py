"""The real Punchline bot, through the real discord.py client, against the local Discord emulator."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import PunchlineBot
from bot.clock import Clock
from bot.config import Settings
from bot.store import Store
from bot.votes import RATING_EMOJI_ORDER
from discord_emulator import Channel, DiscordEmulator, Guild, Message, User, running_client
from discord_emulator.permissions import DEFAULT_EVERYONE, Permission
from storage import contests, entries, votes
from storage.models import Contest

OLD_ACCOUNT = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
BOT_PERMISSIONS = (
    DEFAULT_EVERYONE
    | Permission.MANAGE_MESSAGES
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.ATTACH_FILES
    | Permission.EMBED_LINKS
    | Permission.ADD_REACTIONS
    | Permission.READ_MESSAGE_HISTORY
)


@dataclass
class Server:
    guild: Guild
    channel: Channel
    mod: User
    members: dict[str, User]


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(token="test-token", timeout=20.0) as emulator:
        yield emulator


@pytest.fixture
def server(emu: DiscordEmulator) -> Server:
    guild = emu.create_guild("Caption Club")
    channel = emu.create_text_channel(guild.id, "caption-contest")
    mods = emu.create_role(guild.id, "mods", permissions=Permission.MANAGE_GUILD)
    mod = emu.create_user("moderator", created_at=OLD_ACCOUNT)
    emu.add_member(guild.id, mod.id, roles=[mods])
    members = {}
    for name in ("alice", "bob", "carol", "dave", "erin"):
        members[name] = emu.create_user(name, created_at=OLD_ACCOUNT)
        emu.add_member(guild.id, members[name].id)
    emu.add_bot_to_guild(guild.id, permissions=BOT_PERMISSIONS)
    return Server(guild, channel, mod, members)


@contextlib.asynccontextmanager
async def punchline(
    emu: DiscordEmulator, db_path: Path, *, speed: float = 60.0, ai=None, clock: Clock | None = None
) -> AsyncIterator[PunchlineBot]:
    """Start the bot on ``db_path`` (contest time runs ``speed`` times faster) and stop it after.

    ``clock`` replaces the default ``Clock(speed)``, e.g. to start at a chosen contest moment.
    """
    store = Store(db_path)
    await store.open()
    client = PunchlineBot(
        Settings(token=emu.token, database=db_path),
        store=store,
        ai=ai,
        clock=clock or Clock(speed),
        guild_ready_timeout=0.05,
    )
    try:
        async with running_client(emu, client):
            yield client
    finally:
        await store.close()


async def setup_contest(
    emu: DiscordEmulator,
    server: Server,
    bot: PunchlineBot,
    *,
    submission_minutes: int = 4,
    voting_minutes: int = 4,
):
    """A moderator sets the contest up to start now; returns the setup reply."""
    now = bot.clock.now()
    return await emu.slash(
        server.guild.id,
        server.channel.id,
        server.mod.id,
        "contest setup",
        channel=server.channel.id,
        timezone="UTC",
        post_time=now.strftime("%H:%M"),
        submission_minutes=submission_minutes,
        voting_minutes=voting_minutes,
    )


def is_prompt(message: Message) -> bool:
    return any("Caption contest" in (e.get("title") or "") for e in message.embeds)


def is_results(message: Message) -> bool:
    return any("Results" in (e.get("title") or "") for e in message.embeds)


def is_entry(message: Message) -> bool:
    return message.content.startswith("**Entry #")


# -- shared by the resilience, voting, caption and command tests ------------------------------

LONG_PHASE_MINUTES = 600
"""A phase this long never ends by itself during a test (at speed 60 it lasts 10 real minutes):
the test brings the step forward with :func:`run_job_now` when it wants it."""


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """The bot's database file; the ``db`` fixture opens this same file for the test to read."""
    return tmp_path / "punchline.db"


class ClockFrom(Clock):
    """A bot clock whose contest time starts at ``start`` instead of now."""

    def __init__(self, start: dt.datetime, speed: float = 1.0) -> None:
        super().__init__(speed)
        self._contest_origin = start


async def startup_finished() -> None:
    """Wait until the catch-up the bot runs on each READY (``on_ready`` → ``engine.resume``) ends.

    ``running_client`` returns once the client is ready, when ``on_ready`` has only just been
    scheduled; discord.py names each event task ``"discord.py: <handler>"``.
    """
    catching_up = [t for t in asyncio.all_tasks() if t.get_name() == "discord.py: on_ready"]
    await asyncio.gather(*catching_up)


def run_job_now(bot: PunchlineBot, job_id: str) -> None:
    """Bring a scheduled contest step (``voting:<contest id>``, ``close:<contest id>``) to now."""
    bot.scheduler.modify_job(job_id, next_run_time=dt.datetime.now(dt.UTC))


async def open_contest_now(emu: DiscordEmulator, server: Server, bot: PunchlineBot, db) -> Contest:
    """Set up a contest with long phases that opens now; returns it once its prompt is posted."""
    reply = await setup_contest(
        emu, server, bot, submission_minutes=LONG_PHASE_MINUTES, voting_minutes=LONG_PHASE_MINUTES
    )
    assert "Daily contest set" in reply.content
    return await emu.wait_until(
        lambda: next(
            (c for c in contests.guild_contests(db, server.guild.id) if c.prompt_message_id), None
        ),
        "the contest's prompt",
    )


async def submit(emu: DiscordEmulator, server: Server, member: User, text: str):
    """``member`` runs /caption submit; returns the bot's (ephemeral) reply."""
    return await emu.slash(
        server.guild.id, server.channel.id, member.id, "caption submit", text=text
    )


async def start_voting_now(
    emu: DiscordEmulator, bot: PunchlineBot, db, contest: Contest, count: int
) -> dict[int, Message]:
    """Run the contest's voting job now; returns its ``count`` entry messages by author id,
    once each carries the bot's 😂 🙂 😐."""
    run_job_now(bot, f"voting:{contest.id}")

    def posted() -> dict[int, Message] | None:
        found = {e.author_id: e for e in entries.contest_entries(db, contest.id) if e.message_id}
        if len(found) != count:
            return None
        messages = {author: emu.message(e.message_id) for author, e in found.items()}
        bot_id = emu.bot_user.id
        ready = all(
            bot_id in m.reactors(emoji) for m in messages.values() for emoji in RATING_EMOJI_ORDER
        )
        return messages if ready else None

    return await emu.wait_until(posted, f"{count} entries with their rating emoji")


def stored_votes(db, contest_id: int) -> dict[tuple[int, int], int]:
    """The contest's emoji votes as ``{(entry message id, voter id): rating}``."""
    message_of = {e.id: e.message_id for e in entries.contest_entries(db, contest_id, status=None)}
    return {
        (message_of[r.entry_id], r.voter_id): r.rating
        for r in votes.contest_ratings(db, contest_id, source="emoji")
    }


def results_posts(emu: DiscordEmulator, server: Server) -> list[Message]:
    return [m for m in emu.messages(server.channel.id) if is_results(m)]


def counts_line(results: Message, author_id: int) -> str:
    """The "😂 n · 🙂 n · 😐 n" line of ``author_id``'s entry in a results post."""
    text = results.embeds[0]["description"]
    block = next(b for b in text.split("\n\n") if f"<@{author_id}>" in b)
    return block.splitlines()[-1].split(" · mean")[0]
