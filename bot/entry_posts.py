"""Posting a contest's entries for emoji voting, in a thread under the prompt.

Posting goes at Discord's pace (about one post a second in a channel, slower still for
reactions), so it runs under the contest's step lock and never under the guild lock: each entry is
posted, then its message id recorded, one at a time, while the rating emoji are added beside the
posting. Every post joins the vote keeper's index of live entries as soon as it is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import discord

from bot.context import BotContext
from bot.posts import unrecorded_posts
from bot.rules.schedule import Phase
from bot.text import NO_PINGS, quote_caption, timestamp
from storage import contests, entries
from storage.models import Contest, Entry, Rating

log = logging.getLogger(__name__)
THREAD_ARCHIVE_MINUTES = 4320
"""Three days: a thread archives this long after its last message, and refuses reactions then.
The longest voting (23 h, extended up to the next day's prompt) ends well before."""
RATING_GUIDE = " · ".join(f"{r.emoji} {r.label.lower()}" for r in Rating)


def entry_heading(entry: Entry) -> str:
    """The first line of an entry's post, which also identifies the post after a crash."""
    return f"**Entry #{entry.number}**"


@dataclass(frozen=True)
class LiveEntry:
    """A posted entry of a contest that is voting, as the reaction index holds it. (Withdrawn
    or closed since? The database re-checks both when the vote is written.)"""

    entry_id: int
    guild_id: int
    author_id: int
    phase: str = Phase.VOTING
    status: str = "active"


class EntryPosts:
    """The entry posts of every guild's emoji-voted contests; ``live`` is the vote keeper's
    index of live entry posts (message id → entry), which each new post joins."""

    def __init__(self, ctx: BotContext, live: dict[int, LiveEntry]) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self._live = live

    async def post_entries(self, contest: Contest, numbered: list[Entry]) -> None:
        """Post every entry not yet posted, in the voting thread (made on first use).

        Entries go up one at a time, each still live when posted (a moderator may disqualify
        one meanwhile), and the rating emoji are added beside them: Discord paces posts and
        reactions in separate buckets. An emoji Discord refused is put back by the
        reconciliation (before the close, and at every start).
        """
        retry = contest.thread_id is not None
        target = await self.voting_channel(contest)
        unposted = [e for e in numbered if e.message_id is None]
        if retry and unposted:
            unposted = await self.adopt_unrecorded_entry(target, contest, unposted)
        posted: asyncio.Queue[discord.Message | None] = asyncio.Queue()
        reacting = asyncio.create_task(self._add_rating_emoji(posted))
        try:
            for entry in unposted:
                message = await self.post_entry(target, entry.id, contest.guild_id)
                if message is not None:
                    posted.put_nowait(message)
        finally:
            posted.put_nowait(None)
            await reacting

    async def voting_channel(self, contest: Contest) -> discord.abc.Messageable:
        """The thread under the prompt where entries are posted (made on first use)."""
        if contest.thread_id is not None:
            return await self.ctx.channel(contest.thread_id)
        channel = await self.ctx.channel(contest.channel_id)
        try:
            prompt = await channel.fetch_message(contest.prompt_message_id)
            thread = await prompt.create_thread(
                name=f"Vote · {contest.day}", auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
        except discord.HTTPException as exc:  # no thread permission: vote in the channel itself
            log.warning(
                "contest %s: cannot open a thread (%s); posting entries in the channel",
                contest.id,
                exc,
            )
            thread = channel
        await self.store.call(contests.set_message_ids, contest.id, thread_id=thread.id)
        await thread.send(
            f"🗳️ **Voting is open** until {timestamp(contest.closes_at)}. Rate each entry: "
            f"{RATING_GUIDE}. One rating per entry (a new emoji replaces "
            "your old one); you can't rate your own.",
            allowed_mentions=NO_PINGS,
        )
        return thread

    async def post_entry(
        self, target: discord.abc.Messageable, entry_id: int, guild_id: int
    ) -> discord.Message | None:
        """Post one entry if it is still live and unposted, and record its message; the post.

        The steps hold no guild lock while Discord paces the post (up to seconds), so the entry
        is read again after: one withdrawn meanwhile has its post deleted.
        """
        entry = await self.store.call(entries.get_entry, entry_id)
        if entry is None or entry.status != "active" or entry.message_id is not None:
            return None
        message = await target.send(
            f"{entry_heading(entry)}\n>>> {quote_caption(entry.text)}", allowed_mentions=NO_PINGS
        )
        await self.store.call(entries.set_entry_message, entry.id, message.id)
        if (await self.store.call(entries.get_entry, entry.id)).status != "active":
            # withdrawn while the post waited for Discord (an erasure, a moderator): its words
            # must not stay up, and an erasure that came before the post could not edit it
            with contextlib.suppress(discord.HTTPException):
                await message.delete()
            return None
        self._live[message.id] = LiveEntry(entry.id, guild_id, entry.author_id)
        return message

    async def _add_rating_emoji(self, posted: asyncio.Queue[discord.Message | None]) -> None:
        """Add 😂 🙂 😐 to each post that arrives, until ``None`` does."""
        while (message := await posted.get()) is not None:
            for rating in Rating:
                if not await self.put_rating_emoji(message, rating):
                    break

    async def put_rating_emoji(self, message: discord.Message, rating: Rating) -> bool:
        """Add the bot's own ``rating`` emoji to an entry post; False when Discord refused."""
        try:
            await message.add_reaction(rating.emoji)
        except discord.HTTPException as refused:  # the reconciliation tries again
            log.warning("entry post %s: could not add %s: %s", message.id, rating.emoji, refused)
            return False
        return True

    async def reopen_thread(self, contest: Contest) -> None:
        """Unarchive the contest's voting thread before its voting reopens: Discord archives a
        thread days after its last message, and an archived thread refuses reactions.
        Raises ``discord.HTTPException`` when Discord refuses (a locked thread)."""
        if contest.thread_id is None:
            return  # voted by ballot, or the entries are in the channel itself
        thread = await self.ctx.channel(contest.thread_id)
        if isinstance(thread, discord.Thread):
            await thread.edit(archived=False)

    async def announce_reopened(self, contest: Contest) -> None:
        """Tell the voting thread that voting is open again (no thread: nothing to say)."""
        if contest.thread_id is None:
            return
        try:
            thread = await self.ctx.channel(contest.thread_id)
            await thread.send(
                f"🔁 **Voting is open again** until {timestamp(contest.closes_at)}: "
                f"{RATING_GUIDE}.",
                allowed_mentions=NO_PINGS,
            )
        except discord.HTTPException as refused:
            log.warning("contest %s: could not announce the reopening: %s", contest.id, refused)

    async def adopt_unrecorded_entry(
        self, target: discord.abc.Messageable, contest: Contest, unposted: list[Entry]
    ) -> list[Entry]:
        """Record an entry post the bot made but never stored; returns the entries still to post.

        Entries go up one at a time, so a crash leaves at most one such post. Votes on a post
        the bot had forgotten would never count; posting it again would split them.
        """
        by_heading = {entry_heading(e): e for e in unposted}

        def is_unrecorded_entry(message: discord.Message) -> bool:
            heading = message.content.split("\n", 1)[0]
            return heading in by_heading and message.id > (contest.prompt_message_id or 0)

        found = await unrecorded_posts(self.ctx, target, is_unrecorded_entry)
        if not found:
            return unposted
        message, entry = found[0], by_heading[found[0].content.split("\n", 1)[0]]
        await self.store.call(entries.set_entry_message, entry.id, message.id)
        self._live[message.id] = LiveEntry(entry.id, contest.guild_id, entry.author_id)
        present = {str(r.emoji) for r in message.reactions if r.me}
        for rating in Rating:
            if rating.emoji not in present:
                await self.put_rating_emoji(message, rating)
        return [e for e in unposted if e.id != entry.id]
