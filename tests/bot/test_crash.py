"""kill -9 at random moments during submissions, voting and closing: nothing acknowledged is lost.

The real ``python bot.py`` runs in its own process against the in-process Discord emulator
(``PUNCHLINE_DISCORD_API``) and is killed with SIGKILL three times, at moments drawn from a
seeded RNG, then restarted. What "acknowledged" means here:

* a submission is acknowledged when the member saw the bot's "✅ Your caption is in" reply;
* a vote is acknowledged when its reaction event was dispatched and its row was committed to
  SQLite before the kill. A reaction whose event was dispatched but not yet written when the
  process died is not acknowledged, but must still be counted: the reconciliation that runs on
  every READY reads the reactions back from the messages;
* the moderator's /contest close is acknowledged by its reply; one that was not is run again.

Run more rounds with other seeds: ``PUNCHLINE_CRASH_SEEDS=1,2,3 pytest tests/bot/test_crash.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from discord_emulator import DiscordEmulator, InteractionResult, Message
from discord_emulator.permissions import Permission
from storage import contests, entries, open_database, seasons, votes
from storage.models import Rating
from tests.bot.bot_process import BotProcess
from tests.bot.conftest import (
    BOT_PERMISSIONS,
    LONG_PHASE_MINUTES,
    OLD_ACCOUNT,
    is_entry,
    is_prompt,
    is_results,
    stored_votes,
)

SEEDS = [int(s) for s in os.environ.get("PUNCHLINE_CRASH_SEEDS", "2026").split(",")]
MEMBERS = 16
EMOJI_RATING = {"😂": 3, "🙂": 2, "😐": 1}
RATING_EMOJI_ORDER = tuple(r.emoji for r in Rating)

pytestmark = pytest.mark.timeout(240)


@dataclass
class Community:
    emu: DiscordEmulator
    guild_id: int
    channel_id: int
    mod_id: int
    member_ids: list[int]


@contextlib.asynccontextmanager
async def community() -> AsyncIterator[Community]:
    """An emulated server with a moderator, :data:`MEMBERS` members and the bot invited."""
    async with DiscordEmulator(token="crash-token", timeout=45.0) as emu:
        guild = emu.create_guild("Crash Club")
        channel = emu.create_text_channel(guild.id, "caption-contest")
        mods = emu.create_role(guild.id, "mods", permissions=Permission.MANAGE_GUILD)
        mod = emu.create_user("moderator", created_at=OLD_ACCOUNT)
        emu.add_member(guild.id, mod.id, roles=[mods])
        members = [emu.create_user(f"member{i}", created_at=OLD_ACCOUNT) for i in range(MEMBERS)]
        for member in members:
            emu.add_member(guild.id, member.id)
        emu.add_bot_to_guild(guild.id, permissions=BOT_PERMISSIONS)
        yield Community(emu, guild.id, channel.id, mod.id, [m.id for m in members])


def replies_to(emu: DiscordEmulator, command: str) -> list[InteractionResult]:
    """Every ``/command`` members ran so far, oldest first (answered or not)."""
    return [r for r in emu.interactions.results if r.name == command]


def acknowledged_captions(emu: DiscordEmulator) -> dict[int, str]:
    """Each member's last caption the bot confirmed with "✅ Your caption is in"."""
    confirmed: dict[int, str] = {}
    for result in replies_to(emu, "caption submit"):
        if result.content and result.content.startswith("✅ Your caption is in"):
            confirmed[result.user_id] = result.content.split("“", 1)[1].split("”", 1)[0]
    return confirmed


def reaction_truth(emu: DiscordEmulator, posted: dict[int, Message]) -> dict[tuple[int, int], int]:
    """What the votes must be: each member's rating emoji on each entry (never their own)."""
    truth = {}
    for author, message in posted.items():
        for emoji in RATING_EMOJI_ORDER:
            for voter in emu.message(message.id).reactors(emoji):
                if voter not in (author, emu.bot_user.id):
                    truth[(message.id, voter)] = EMOJI_RATING[emoji]
    return truth


async def kill_when(
    bot: BotProcess, moment: Awaitable[object], replies: list[asyncio.Task]
) -> None:
    """Kill the bot once ``moment`` has passed; the replies it had not sent never come."""
    await moment
    await bot.kill()
    for task in replies:
        task.cancel()
    await asyncio.gather(*replies, return_exceptions=True)


@pytest.mark.parametrize("seed", SEEDS)
async def test_kill_9_during_a_contest_loses_nothing_acknowledged(seed: int, tmp_path: Path):
    rng = random.Random(seed)
    async with community() as server:
        bot = BotProcess(server.emu, tmp_path)
        try:
            await crash_through_a_contest(server, bot, rng)
            print(f"seed {seed}: restarts to READY took {_seconds(bot.start_seconds[1:])}")
        except BaseException:
            print(f"seed {seed}; the bot's log ends:\n{bot.log_tail()}")
            raise
        finally:
            await bot.kill()


async def crash_through_a_contest(server: Community, bot: BotProcess, rng: random.Random) -> None:
    emu, guild, channel, mod = server.emu, server.guild_id, server.channel_id, server.mod_id
    await bot.start()
    db = open_database(bot.database)
    try:
        now = datetime.now(UTC)
        setup = await emu.slash(
            guild,
            channel,
            mod,
            "contest setup",
            channel=channel,
            post_time=now.strftime("%H:%M"),
            submission_minutes=LONG_PHASE_MINUTES,
            voting_minutes=LONG_PHASE_MINUTES,
        )
        assert "Daily contest set" in setup.content
        contest = await emu.wait_until(
            lambda: next(
                (c for c in contests.guild_contests(db, guild) if c.prompt_message_id), None
            ),
            "the contest's prompt",
        )

        # 1. kill -9 while members submit: acknowledged captions survive, the rest are retried
        captions = {
            m: f"Caption {i}: the island is {i} coconuts wide"
            for i, m in enumerate(server.member_ids)
        }
        sending = [
            asyncio.create_task(emu.slash(guild, channel, m, "caption submit", text=text))
            for m, text in captions.items()
        ]
        kill_after = rng.randint(2, MEMBERS // 2)
        some_confirmed = emu.wait_until(
            lambda: len(acknowledged_captions(emu)) >= kill_after, f"{kill_after} confirmations"
        )
        await kill_when(bot, some_confirmed, sending)
        confirmed_before_kill = acknowledged_captions(emu)
        await bot.start()
        for member in server.member_ids:
            if member not in acknowledged_captions(emu):
                retry = await emu.slash(
                    guild, channel, member, "caption submit", text=captions[member]
                )
                assert retry.content.startswith("✅"), retry.content
        live = {e.author_id: e.text for e in entries.contest_entries(db, contest.id)}
        assert live == acknowledged_captions(emu) == captions
        assert all(live[m] == text for m, text in confirmed_before_kill.items())

        # 2. voting opens; then kill -9 in the middle of a storm of reactions
        opened = await emu.slash(guild, channel, mod, "contest close")
        assert "Voting is open" in opened.content
        posted = await emu.wait_until(lambda: entry_posts(emu, db, contest.id), "the entry posts")
        thread = contests.get_contest(db, contest.id).thread_id
        storm = [
            (voter, message.id, rng.choice(RATING_EMOJI_ORDER))
            for author, message in posted.items()
            for voter in server.member_ids
            if voter != author
        ]
        rng.shuffle(storm)
        kill_after = rng.randint(len(storm) // 10, len(storm) // 2)
        for voter, message_id, emoji in storm[:kill_after]:
            await emu.react(voter, thread, message_id, emoji)
        await emu.wait_until(
            lambda: len(stored_votes(db, contest.id)) >= kill_after, f"{kill_after} stored votes"
        )
        # the rest of the storm, and the kill while the bot is still writing it (it writes what
        # arrives together in one transaction, so it keeps up with a storm sent all at once)
        for voter, message_id, emoji in storm[kill_after:]:
            await emu.react(voter, thread, message_id, emoji)
        await bot.kill()
        committed = stored_votes(db, contest.id)  # acknowledged: written before the kill
        dispatched = reaction_truth(emu, posted)
        not_yet_written = dispatched.keys() - committed.keys()
        assert not_yet_written, "the kill should catch reactions delivered but not yet written"

        # while the bot is down, two members withdraw a rating and one changes theirs
        withdrawn, withdrawn_too, switched = rng.sample(storm, 3)
        for voter, message_id, emoji in (withdrawn, withdrawn_too, switched):
            await emu.unreact(voter, thread, message_id, emoji)
        voter, message_id, emoji = switched
        await emu.react(voter, thread, message_id, "😐" if emoji != "😐" else "😂")
        changed = {(m, v) for v, m, _ in (withdrawn, withdrawn_too, switched)}

        await bot.start()
        truth = reaction_truth(emu, posted)
        await emu.wait_until(lambda: stored_votes(db, contest.id) == truth, "reconciled votes")
        kept = {k: v for k, v in committed.items() if k not in changed}
        assert kept.items() <= stored_votes(db, contest.id).items()
        assert not_yet_written - changed <= stored_votes(db, contest.id).keys()
        print(
            f"votes: {len(committed)} written before the kill, {len(not_yet_written)} dispatched"
            " but not yet written; all of them counted after the restart"
        )

        # 3. kill -9 while the contest closes: the results are posted exactly once
        closing = [asyncio.create_task(emu.slash(guild, channel, mod, "contest close"))]
        await kill_when(bot, asyncio.sleep(rng.uniform(0.0, 0.3)), closing)
        await bot.start()
        if contests.get_contest(db, contest.id).phase != "closed":  # the close was not acknowledged
            again = await emu.slash(guild, channel, mod, "contest close")
            [done] = await again.wait_for_followups()  # the close runs beside the commands
            assert "results are posted" in done.content
        results_id = await emu.wait_until(
            lambda: contests.get_contest(db, contest.id).results_message_id, "the results"
        )
        assert [m.id for m in emu.messages(channel) if is_results(m)] == [results_id]
        assert len([m for m in emu.messages(channel) if is_prompt(m)]) == 1
        assert sorted(m.id for m in emu.messages(thread) if is_entry(m)) == sorted(
            m.id for m in posted.values()
        ), "every entry posted exactly once"
        assert stored_votes(db, contest.id) == truth
        votes_per_entry = {e.id: 0 for e in entries.contest_entries(db, contest.id)}
        for rating in votes.contest_ratings(db, contest.id):
            votes_per_entry[rating.entry_id] += 1
        placed = {p.entry_id: p.votes for p in seasons.contest_placements(db, contest.id)}
        assert placed == votes_per_entry, "the results count every stored vote"
    finally:
        db.close()


def _seconds(values: list[float]) -> str:
    return ", ".join(f"{v:.1f} s" for v in values)


def entry_posts(emu: DiscordEmulator, db, contest_id: int) -> dict[int, Message] | None:
    """The entry messages by author, once all carry the bot's three rating emoji."""
    found = {e.author_id: e.message_id for e in entries.contest_entries(db, contest_id)}
    if len(found) != MEMBERS or None in found.values():
        return None
    posted = {author: emu.message(message_id) for author, message_id in found.items()}
    bot_id = emu.bot_user.id
    if all(bot_id in m.reactors(e) for m in posted.values() for e in RATING_EMOJI_ORDER):
        return posted
    return None


@contextlib.contextmanager
def kill_on_post(server: Community, bot: BotProcess, is_it: Callable[[Message], bool]):
    """SIGKILL the bot the instant the emulator accepts a post that ``is_it``: Discord has the
    message, the bot never hears its id. (The emulator has no hook after a post; this wraps its
    service's ``post_message``.)"""
    service = server.emu._service
    accept = service.post_message

    def accept_then_kill(*args, **kwargs) -> Message:
        message = accept(*args, **kwargs)
        if is_it(message):
            os.kill(bot.pid, signal.SIGKILL)
        return message

    service.post_message = accept_then_kill
    try:
        yield
    finally:
        service.post_message = accept


async def test_a_kill_between_posting_and_recording_posts_nothing_twice(tmp_path: Path):
    """The one window no transaction covers: Discord accepted the prompt, an entry or the results,
    and the bot died before storing the message id. On restart it finds its own post and records
    it instead of posting again, so members never vote on an entry post the bot forgot."""
    async with community() as server:
        bot = BotProcess(server.emu, tmp_path)
        try:
            await bot.start()
            with contextlib.closing(open_database(bot.database)) as db:
                await kill_in_each_window(server, bot, db)
        except BaseException:
            print(f"the bot's log ends:\n{bot.log_tail()}")
            raise
        finally:
            await bot.kill()


async def kill_in_each_window(server: Community, bot: BotProcess, db) -> None:
    emu, guild, channel, mod = server.emu, server.guild_id, server.channel_id, server.mod_id
    with kill_on_post(server, bot, is_prompt):
        setup = asyncio.create_task(
            emu.slash(
                guild,
                channel,
                mod,
                "contest setup",
                channel=channel,
                post_time=datetime.now(UTC).strftime("%H:%M"),
                submission_minutes=LONG_PHASE_MINUTES,
                voting_minutes=LONG_PHASE_MINUTES,
            )
        )
        await kill_when(bot, bot.exited(), [setup])
    await bot.start()
    [contest] = await emu.wait_until(
        lambda: [c for c in contests.guild_contests(db, guild) if c.prompt_message_id],
        "the prompt recorded",
    )
    for member in server.member_ids[:3]:
        await emu.slash(guild, channel, member, "caption submit", text=f"Caption {member}")

    with kill_on_post(server, bot, is_entry):
        opening = asyncio.create_task(emu.slash(guild, channel, mod, "contest close"))
        await kill_when(bot, bot.exited(), [opening])
    await bot.start()
    await emu.wait_until(
        lambda: all(e.message_id for e in entries.contest_entries(db, contest.id)),
        "every entry post recorded",
    )

    with kill_on_post(server, bot, is_results):
        closing = asyncio.create_task(emu.slash(guild, channel, mod, "contest close"))
        await kill_when(bot, bot.exited(), [closing])
    await bot.start()
    results_id = await emu.wait_until(
        lambda: contests.get_contest(db, contest.id).results_message_id, "the results"
    )
    thread = contests.get_contest(db, contest.id).thread_id
    assert [m.id for m in emu.messages(channel) if is_prompt(m)] == [contest.prompt_message_id]
    assert sorted(m.id for m in emu.messages(thread) if is_entry(m)) == sorted(
        e.message_id for e in entries.contest_entries(db, contest.id)
    )
    assert [m.id for m in emu.messages(channel) if is_results(m)] == [results_id]
