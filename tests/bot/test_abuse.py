"""Abuse through the emulator: a reaction flood from one member, and a 10 MB caption."""

from __future__ import annotations

import random

import pytest

from storage import contests, entries
from storage.models import Rating
from tests.bot.conftest import (
    open_contest_now,
    punchline,
    start_voting_now,
    stored_votes,
    submit,
)
from tests.bot.test_load import LAG_BOUND_S, LoopLag

EMOJI_RATING = {"😂": 3, "🙂": 2, "😐": 1}
RATING_EMOJI_ORDER = tuple(r.emoji for r in Rating)


@pytest.mark.parametrize("seed", [5, 6, 7])
async def test_a_reaction_flood_counts_only_the_final_state(emu, server, db_path, db, seed):
    """200 adds and removes of all three emoji from one member on one entry, as fast as the
    emulator takes them: once the bot has caught up, at most one of the member's emoji is left
    and the stored vote is exactly that one. Others' commands are answered meanwhile."""
    rng = random.Random(seed)
    alice, dave, erin = (server.members[n] for n in ("alice", "dave", "erin"))
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        await submit(emu, server, alice, "Flood insurance not included")
        posted = await start_voting_now(emu, bot, db, contest, 1)
        thread = contests.get_contest(db, contest.id).thread_id
        entry = posted[alice.id]

        async with LoopLag().watching() as lag:
            for _ in range(200):
                emoji = rng.choice(RATING_EMOJI_ORDER)
                if dave.id in emu.message(entry.id).reactors(emoji):
                    await emu.unreact(dave.id, thread, entry.id, emoji)
                else:
                    await emu.react(dave.id, thread, entry.id, emoji)
            status = await emu.slash(server.guild.id, server.channel.id, erin.id, "contest status")
            # votes are handled one at a time in arrival order: once erin's is in, so are dave's
            await emu.react(erin.id, thread, entry.id, "😂")
            await emu.wait_until(
                lambda: (entry.id, erin.id) in stored_votes(db, contest.id), "erin's vote"
            )

            def settled() -> bool:
                left = [
                    e for e in RATING_EMOJI_ORDER if dave.id in emu.message(entry.id).reactors(e)
                ]
                vote = stored_votes(db, contest.id).get((entry.id, dave.id))
                wanted = EMOJI_RATING[left[0]] if len(left) == 1 else None
                return len(left) <= 1 and vote == wanted

            await emu.wait_until(settled, "dave's reactions and vote to agree")

        assert "caption(s)" in status.content
        assert lag.worst < LAG_BOUND_S, f"the event loop stalled for {lag.worst:.2f} s"
    assert len(stored_votes(db, contest.id)) <= 2  # dave's (if an emoji is left) and erin's


async def test_a_10_mb_caption_is_refused_politely_and_quickly(emu, server, db_path, db):
    """Discord caps the option at the command's 400 characters; a client that does not (the
    emulator) gets the same polite refusal, without the bot's loop stalling on the text."""
    alice = server.members["alice"]
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        async with LoopLag().watching() as lag:
            reply = await submit(emu, server, alice, "ha " * 3_500_000)
        assert "the limit is 300" in reply.content
        assert reply.ephemeral
        assert entries.contest_entries(db, contest.id) == []
        assert lag.worst < LAG_BOUND_S, f"the event loop stalled for {lag.worst:.2f} s"
        fine = await submit(emu, server, alice, "A caption of a normal size")
        assert fine.content.startswith("✅")
