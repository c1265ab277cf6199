"""The real Punchline bot, through the real discord.py client, against the local Discord emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import PunchlineBot
from discord_emulator import DiscordEmulator, Message, User
from storage import contests, entries, votes
from storage.models import Contest, Rating
from testkit import (
    BOT_PERMISSIONS,
    LONG_PHASE_MINUTES,
    OLD_ACCOUNT,
    ClockFrom,
    Server,
    build_server,
    is_entry,
    is_prompt,
    is_results,
    press,
    punchline,
    run_job_now,
    setup_contest,
)
from testkit.conformance import checked_emulator
from testkit.discord_rules import end_to_end_rules

# What the test modules import from here: the test kit's names and the helpers below.
__all__ = [
    "BOT_PERMISSIONS",
    "LONG_PHASE_MINUTES",
    "OLD_ACCOUNT",
    "ClockFrom",
    "Server",
    "counts_line",
    "is_entry",
    "is_prompt",
    "is_results",
    "open_contest_now",
    "press",
    "punchline",
    "results_posts",
    "run_job_now",
    "setup_contest",
    "start_voting_now",
    "startup_finished",
    "stored_votes",
    "submit",
]


@pytest.fixture(autouse=True)
def discord_rules(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every emulator in these tests (those a test builds itself too) enforces Discord's rules,
    less one for the few tests the bot cannot pass yet (``testkit.discord_rules``)."""
    rules = end_to_end_rules(request.node.originalname)
    monkeypatch.setattr(DiscordEmulator, "default_rules", rules)


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    """Discord with its rules on; every REST exchange must match Discord's OpenAPI spec."""
    async with checked_emulator("test-token", timeout=20.0) as emulator:
        yield emulator


@pytest.fixture
def server(emu: DiscordEmulator) -> Server:
    return build_server(emu, "Caption Club", ("alice", "bob", "carol", "dave", "erin"))


# -- shared by the resilience, voting, caption and command tests ------------------------------


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """The bot's database file; the ``db`` fixture opens this same file for the test to read."""
    return tmp_path / "punchline.db"


CATCH_UP_HANDLERS = {f"discord.py: {name}" for name in ("on_shard_ready", "on_shard_resumed")}


async def startup_finished() -> None:
    """Wait until the catch-up the bot runs when each shard connects (``on_shard_ready`` →
    ``engine.resume``) ends.

    ``running_client`` returns once the client is ready, when the shards' ``on_shard_ready``
    have only just been scheduled; discord.py names each event task ``"discord.py: <handler>"``.
    """
    catching_up = [t for t in asyncio.all_tasks() if t.get_name() in CATCH_UP_HANDLERS]
    await asyncio.gather(*catching_up)


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
            bot_id in m.reactors(emoji)
            for m in messages.values()
            for emoji in (r.emoji for r in Rating)
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
