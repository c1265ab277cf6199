"""A moderator clearing an entry's reactions: the votes go, the rating emoji come back (defect 10).

The emulator lets only the bot clear reactions through its API; a moderator doing it in
Discord's client is played here through the emulator's service (as tests/bot/test_crash.py does).
"""

from __future__ import annotations

from discord_emulator import Permission
from storage import contests
from storage.models import Rating
from tests.bot.conftest import (
    open_contest_now,
    punchline,
    start_voting_now,
    stored_votes,
    submit,
)

RATING_EMOJI = [r.emoji for r in Rating]


def clear_as_moderator(emu, server, message, emoji: str | None = None) -> None:
    """The moderator clears every reaction (or one emoji's) from ``message`` in their client."""
    emu._service.clear_reactions(emu.message(message.id), server.mod.id, emoji)


def bot_rating_emoji(emu, message) -> list[str]:
    return [e for e in RATING_EMOJI if emu.bot_user.id in emu.message(message.id).reactors(e)]


async def entry_in_voting(emu, server, bot, db):
    """Alice's caption, posted for voting; returns (contest, thread id, her entry's post)."""
    emu.set_overwrite(server.channel.id, server.mod, allow=Permission.MANAGE_MESSAGES)
    contest = await open_contest_now(emu, server, bot, db)
    await submit(emu, server, server.members["alice"], "Cleared for take-off")
    posted = await start_voting_now(emu, bot, db, contest, 1)
    thread = contests.get_contest(db, contest.id).thread_id
    return contest, thread, posted[server.members["alice"].id]


async def test_clearing_all_reactions_drops_the_votes_and_puts_the_emoji_back(
    emu, server, db_path, db
):
    """Defect 10: after a moderator cleared all reactions from an entry, the bot did not put
    😂 🙂 😐 back, so members had nothing to click. The votes go; the three emoji return."""
    m = server.members
    async with punchline(emu, db_path) as bot:
        contest, thread, post = await entry_in_voting(emu, server, bot, db)
        await emu.react(m["carol"].id, thread, post.id, "😂")
        await emu.react(m["dave"].id, thread, post.id, "😐")
        await emu.wait_until(lambda: len(stored_votes(db, contest.id)) == 2, "two votes")

        clear_as_moderator(emu, server, post)
        await emu.wait_until(
            lambda: bot_rating_emoji(emu, post) == RATING_EMOJI, "the rating emoji back"
        )
        assert stored_votes(db, contest.id) == {}
        assert list(emu.message(post.id).reactions) == RATING_EMOJI  # in their usual order

        clear_as_moderator(emu, server, post, "🙂")
        await emu.wait_until(lambda: "🙂" in bot_rating_emoji(emu, post), "🙂 back")


async def test_a_cleared_rating_never_lingers_in_the_live_count(emu, server, db_path, db):
    """Defect 10: the bot remembered carol's cleared 😂; her next switch made it "remove" a
    reaction that was gone, and it then mistook her own later withdrawal for its clean-up, so
    the withdrawn rating stayed in the live count until the close."""
    carol = server.members["carol"].id
    async with punchline(emu, db_path) as bot:
        contest, thread, post = await entry_in_voting(emu, server, bot, db)
        await emu.react(carol, thread, post.id, "😂")
        await emu.wait_until(lambda: stored_votes(db, contest.id), "carol's vote")

        clear_as_moderator(emu, server, post)
        await emu.wait_until(lambda: bot_rating_emoji(emu, post) == RATING_EMOJI, "emoji back")
        await emu.react(carol, thread, post.id, "🙂")
        await emu.wait_until(
            lambda: stored_votes(db, contest.id) == {(post.id, carol): 2}, "carol's 🙂"
        )
        await emu.react(carol, thread, post.id, "😂")  # a switch: the bot takes 🙂 away
        await emu.wait_until(
            lambda: carol not in emu.message(post.id).reactors("🙂"), "her 🙂 taken down"
        )
        await emu.unreact(carol, thread, post.id, "😂")  # and she withdraws
        await emu.wait_until(lambda: not stored_votes(db, contest.id), "her vote withdrawn")
        status = await emu.slash(server.guild.id, server.channel.id, carol, "contest status")
    assert "0 rating(s)" in status.content
