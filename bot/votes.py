"""Emoji voting: posting entries, turning reactions into ratings, and reconciling after downtime.

Every 😂 in any channel of any server reaches the bot, so a reaction is first looked up in an
in-memory index of the live entries' message ids: one that is not a live entry costs a dict
lookup, no lock and no database work. A vote on a live entry is checked against the guild's gates
(settings from memory) and written by :class:`~bot.vote_batches.VoteBatcher`, which commits what
arrives together in one transaction and re-checks there that the entry is live and voting.
No guild lock is taken on this path; the close's reconciliation takes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import discord

from bot.context import BotContext
from bot.posts import unrecorded_posts
from bot.rules.schedule import Phase
from bot.rules.voting import VoteGates, Voter, VoteRefused, check_voter, gates_of
from bot.text import NO_PINGS, quote_caption, timestamp
from bot.vote_batches import LiveChanges, VoteBatcher
from storage import contests, entries, votes
from storage.models import Contest, Entry, Rating
from storage.shards import ShardSet
from storage.votes import Vote, VoteChange

log = logging.getLogger(__name__)
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


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0  # holders and waiters


class VoteKeeper:
    """Emoji votes for every guild: posts the entries, turns reactions into stored ratings."""

    def __init__(self, ctx: BotContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self._live: dict[int, LiveEntry] = {}  # message id → the live entry posted as it
        self._writes = VoteBatcher(ctx.store, ctx.clock)
        self._in_order: dict[tuple[int, int], _Turn] = {}  # (message, member) → its queue
        # The emoji each member last chose per message, and reactions the bot itself removed:
        # in memory only, to tell a member's switch (😂 → 🙂) from their withdrawal.
        self._latest: dict[tuple[int, int], str] = {}
        self._removed_by_bot: set[tuple[int, int, str]] = set()
        self._changed_live = LiveChanges()  # what reconciliations must leave to live events

    # -- posting -------------------------------------------------------------------------------

    async def post_entries(self, contest: Contest, numbered: list[Entry]) -> None:
        """Post every entry not yet posted, in the voting thread (made on first use)."""
        retry = contest.thread_id is not None
        target = await self.voting_channel(contest)
        unposted = [e for e in numbered if e.message_id is None]
        if retry and unposted:
            unposted = await self.adopt_unrecorded_entry(target, contest, unposted)
        for entry in unposted:
            await self.post_entry(target, entry, contest.guild_id)

    async def voting_channel(self, contest: Contest) -> discord.abc.Messageable:
        """The thread under the prompt where entries are posted (made on first use)."""
        if contest.thread_id is not None:
            return await self.ctx.channel(contest.thread_id)
        channel = await self.ctx.channel(contest.channel_id)
        try:
            prompt = await channel.fetch_message(contest.prompt_message_id)
            thread = await prompt.create_thread(
                name=f"Vote · {contest.day}", auto_archive_duration=1440
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
        self, target: discord.abc.Messageable, entry: Entry, guild_id: int
    ) -> None:
        message = await target.send(
            f"{entry_heading(entry)}\n>>> {quote_caption(entry.text)}", allowed_mentions=NO_PINGS
        )
        await self.store.call(entries.set_entry_message, entry.id, message.id)
        self._live[message.id] = LiveEntry(entry.id, guild_id, entry.author_id)
        for rating in Rating:
            await message.add_reaction(rating.emoji)

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
                await message.add_reaction(rating.emoji)
        return [e for e in unposted if e.id != entry.id]

    # -- live reactions ------------------------------------------------------------------------

    async def watch_all(self, shards: ShardSet | None = None) -> None:
        """Index the live entries of the guilds on ``shards`` (all without) from the database:
        at every shard's start, and after a reopen. Entries are added, never dropped here (a
        closed contest's are forgotten at its close, a withdrawn one's at its next vote), so an
        entry posted while the database was read stays indexed."""
        rows = await self.store.call(votes.posted_live_entries, shards)
        self._live.update(
            (message, LiveEntry(entry, guild, author)) for message, entry, guild, author in rows
        )

    def watches(self, message_id: int) -> bool:
        """Whether ``message_id`` is a live entry, whose reactions are votes."""
        return message_id in self._live

    async def reaction_added(self, payload: discord.RawReactionActionEvent) -> None:
        live = self._live.get(payload.message_id)
        if live is None or payload.user_id == self.ctx.user_id:
            return
        rating = Rating.from_emoji(str(payload.emoji))
        if rating is None:
            return
        key = (payload.message_id, payload.user_id)
        async with self._turn(key):  # before any await: the member's events keep their order
            await self._rate(payload, live, rating)

    async def _rate(
        self, payload: discord.RawReactionActionEvent, live: LiveEntry, rating: Rating
    ) -> None:
        key = (payload.message_id, payload.user_id)
        member = payload.member
        voter = Voter(
            payload.user_id,
            bool(member and member.bot),
            discord.utils.snowflake_time(payload.user_id),
            member.joined_at if member else None,
        )
        settings = await self.ctx.guild_settings(live.guild_id)
        try:
            check_voter(live, live, voter, settings, self.ctx.clock.now())
        except VoteRefused as refusal:
            log.debug("vote refused on entry %s by %s: %s", live.entry_id, payload.user_id, refusal)
            await self._remove_reaction(payload.channel_id, *key, rating.emoji)
            return
        previous, self._latest[key] = self._latest.get(key), rating.emoji
        self._changed_live.note(live.guild_id, live.entry_id, payload.user_id)
        if not await self._writes.apply(VoteChange(live.entry_id, payload.user_id, rating)):
            # withdrawn, or voting closed, since the entry was indexed
            self._live.pop(payload.message_id, None)
            await self._remove_reaction(payload.channel_id, *key, rating.emoji)
            return
        if previous is not None and previous != rating.emoji:  # one rating per entry
            await self._remove_reaction(payload.channel_id, *key, previous)

    async def reaction_removed(self, payload: discord.RawReactionActionEvent) -> None:
        live = self._live.get(payload.message_id)
        rating = Rating.from_emoji(str(payload.emoji)) if live is not None else None
        if rating is None:
            return
        key = (payload.message_id, payload.user_id)
        async with self._turn(key):
            if (*key, rating.emoji) in self._removed_by_bot:  # our own clean-up, not their choice
                self._removed_by_bot.discard((*key, rating.emoji))
                return
            if self._latest.get(key) == rating.emoji:
                del self._latest[key]
            self._changed_live.note(live.guild_id, live.entry_id, payload.user_id)
            change = VoteChange(live.entry_id, payload.user_id, None, removed=rating)
            await self._writes.apply(change)

    @contextlib.asynccontextmanager
    async def _turn(self, key: tuple[int, int]) -> AsyncIterator[None]:
        """One member's reactions on one entry are handled in the order they came, switches and
        clean-ups included; other members' go on meanwhile (and share the write batches)."""
        turn = self._in_order.setdefault(key, _Turn())
        turn.waiting += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.waiting -= 1
            if not turn.waiting:  # nobody holds or awaits it: forget it
                del self._in_order[key]

    def forget(self, message_ids: set[int]) -> None:
        """A contest closed: stop watching its entries and drop their reaction memory."""
        for message_id in message_ids:
            self._live.pop(message_id, None)
        self._forget_memory(message_ids)

    def _forget_memory(self, message_ids: set[int]) -> None:
        self._latest = {k: v for k, v in self._latest.items() if k[0] not in message_ids}
        self._removed_by_bot = {k for k in self._removed_by_bot if k[0] not in message_ids}

    async def drain(self) -> None:
        """Wait for the votes being written (at shutdown)."""
        await self._writes.drain()

    async def reactions_cleared(self, message_id: int, emoji: str | None) -> None:
        """A moderator cleared all reactions (or one emoji's) from an entry: those votes go, and
        the bot puts its rating emoji back so members can rate again."""
        rating = Rating.from_emoji(emoji) if emoji is not None else None
        live = self._live.get(message_id)
        if live is None or (emoji is not None and rating is None):
            return
        async with self.ctx.lock(live.guild_id):
            entry = await self.store.call(entries.entry_by_message, message_id)
            if entry is None:
                return
            contest = await self.store.call(contests.get_contest, entry.contest_id)
            if contest.phase != Phase.VOTING:
                return
            await self.store.call(votes.clear_emoji_votes, entry.id, rating)
            self._forget_cleared(message_id, emoji)
        cleared = [rating] if rating is not None else list(Rating)
        try:
            post = (await self.ctx.channel(contest.thread_id)).get_partial_message(message_id)
            for each in cleared:  # one at a time, outside the lock: Discord paces reactions
                await post.add_reaction(each.emoji)
        except discord.HTTPException as exc:  # reconciling (at a restart) adds them again
            log.warning("entry %s: could not put the rating emoji back: %s", entry.id, exc)

    def _forget_cleared(self, message_id: int, emoji: str | None) -> None:
        """Drop what memory holds of reactions that are gone: a member's remembered choice would
        make the bot "remove" it on their next switch and then mistake their own withdrawal for
        that clean-up, leaving the rating counted."""

        def cleared(key: tuple[int, ...], chosen: str) -> bool:
            return key[0] == message_id and emoji in (None, chosen)

        self._latest = {k: v for k, v in self._latest.items() if not cleared(k, v)}
        self._removed_by_bot = {k for k in self._removed_by_bot if not cleared(k, k[2])}

    async def _remove_reaction(
        self, channel_id: int, message_id: int, user_id: int, emoji: str
    ) -> None:
        """Take a member's reaction away, when the bot has Manage Messages (else leave it be)."""
        channel = self.ctx.client.get_channel(channel_id)
        if channel is None or not channel.permissions_for(channel.guild.me).manage_messages:
            return
        self._removed_by_bot.add((message_id, user_id, emoji))
        try:
            await channel.get_partial_message(message_id).remove_reaction(
                emoji, discord.Object(user_id)
            )
        except discord.HTTPException as exc:
            self._removed_by_bot.discard((message_id, user_id, emoji))
            if not isinstance(exc, discord.NotFound):
                log.warning("could not remove a reaction: %s", exc)

    # -- reconciliation ------------------------------------------------------------------------

    async def reconcile(self, contest: Contest) -> tuple[int, int]:
        """Make the stored emoji votes match the reactions now on the entries; (added, removed).

        Catches votes made and withdrawn while the bot was offline. The caller holds the guild lock.
        A contest voted by ballot (no entry thread) has no reactions to reconcile. Members keep
        reacting meanwhile (on the other shards, and on this one once it is back): a vote that
        changes live while the reactions are read is left to that live event, which is newer.
        """
        with self._changed_live.during(contest.guild_id) as changed_live:
            return await self._reconcile(contest, changed_live)

    async def _reconcile(
        self, contest: Contest, changed_live: set[tuple[int, int]]
    ) -> tuple[int, int]:
        contest = await self.store.call(contests.get_contest, contest.id)
        if contest.thread_id is None:
            return 0, 0
        target = await self.voting_channel(contest)
        settings = await self.ctx.guild_settings(contest.guild_id)
        gates, now = gates_of(settings), self.ctx.clock.now()
        stored = {
            (r.entry_id, r.voter_id): r.rating
            for r in await self.store.call(votes.contest_ratings, contest.id, source="emoji")
        }
        chosen: dict[tuple[int, int], Rating] = {}
        shown: dict[tuple[int, int], str] = {}  # (message, member) → the emoji that counts
        live = await self.store.call(entries.contest_entries, contest.id)
        for entry in live:
            if entry.message_id is None:
                continue
            try:
                message = await target.fetch_message(entry.message_id)
            except discord.NotFound:
                continue
            seen = await self._reactions_by_user(message)
            for user, ratings in seen.items():
                voter = Voter(
                    user.id, user.bot, user.created_at, await self._joined_at(contest, user, gates)
                )
                try:
                    check_voter(contest, entry, voter, settings, now)
                except VoteRefused:
                    continue
                previous = stored.get((entry.id, user.id))
                rating = previous if previous in ratings else min(ratings)
                chosen[(entry.id, user.id)] = rating
                shown[(message.id, user.id)] = rating.emoji
                for extra in ratings - {rating}:  # two emoji left while the bot was away: keep one
                    await self._remove_reaction(
                        message.channel.id, message.id, user.id, extra.emoji
                    )
        # Live changes queued before this call are in ``left_live``; later ones run after it.
        left_live = frozenset(changed_live)
        observed = [
            Vote(e, v, r, "emoji") for (e, v), r in chosen.items() if (e, v) not in left_live
        ]
        added, removed = await self.store.call(
            votes.replace_emoji_votes, contest.id, observed, now, left_live
        )
        # After downtime the in-memory choices are gone or stale: rebuild them from the reactions,
        # so a member's next switch still removes the emoji that counted.
        message_of = {e.id: e.message_id for e in live}
        live_keys = {(message_of.get(e), v) for e, v in changed_live}
        kept = {k: v for k, v in self._latest.items() if k in live_keys}
        self._forget_memory({e.message_id for e in live if e.message_id})
        self._latest.update({k: v for k, v in shown.items() if k not in live_keys} | kept)
        for entry in live:
            if entry.message_id is not None:
                self._live[entry.message_id] = LiveEntry(
                    entry.id, contest.guild_id, entry.author_id
                )
        if added or removed:
            log.info("contest %s: reconciled reactions (+%d, -%d)", contest.id, added, removed)
        return added, removed

    async def _reactions_by_user(
        self, message: discord.Message
    ) -> dict[discord.abc.User, set[Rating]]:
        by_user: dict[discord.abc.User, set[Rating]] = defaultdict(set)
        present = {str(r.emoji): r for r in message.reactions}
        for rating in Rating:
            reaction = present.get(rating.emoji)
            if reaction is None or not reaction.me:
                await message.add_reaction(rating.emoji)  # a crash between posting and reacting
            if reaction is None or reaction.count <= int(reaction.me):
                continue
            async for user in reaction.users(limit=None):
                if user.id != self.ctx.user_id:
                    by_user[user].add(rating)
            await asyncio.sleep(0)
        return by_user

    async def _joined_at(self, contest: Contest, user: discord.abc.User, gates: VoteGates):
        if not gates.min_membership:
            return None
        guild = self.ctx.client.get_guild(contest.guild_id)
        member = guild.get_member(user.id) if guild else None
        if member is None and guild is not None:
            try:
                member = await guild.fetch_member(user.id)
            except discord.NotFound:
                return None
        return member.joined_at if member else None
