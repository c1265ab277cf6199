"""Emoji voting: turning reactions into ratings, and reconciling them with Discord's record.

Every 😂 in any channel of any server reaches the bot, so a reaction is first looked up in an
in-memory index of the live entries' message ids: one that is not a live entry costs a dict
lookup, no lock and no database work. A vote on a live entry is checked against the guild's gates
(settings from memory) and written by :class:`~bot.vote_batches.VoteBatcher`, which commits what
arrives together in one transaction and re-checks there that the entry is live and voting.
No guild lock is taken on this path.

The reconciliation (before the close, and at every start) reads the reactions back from Discord,
which takes a while at Discord's pace, while live votes keep arriving; it takes the guild lock
only to write, and leaves alone the votes the live path changed while it read. The entries are
posted by :class:`~bot.entry_posts.EntryPosts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

import discord
from sqlite_utils import Database

from bot.context import BotContext
from bot.entry_posts import EntryPosts, LiveEntry
from bot.rules.schedule import Phase
from bot.rules.voting import VoteGates, Voter, VoteRefused, check_voter, gates_of
from bot.vote_batches import VoteBatcher
from storage import contests, entries, votes
from storage.models import Contest, Entry, Rating
from storage.votes import Vote, VoteChange

log = logging.getLogger(__name__)
REACTORS_PAGE = 100  # Discord's most users per request for one reaction


@dataclass
class _ChangedWhileReading:
    """What the live path changed while a reconciliation read the reactions back: those votes
    are newer than what it read, so its write leaves them as they are."""

    pairs: set[tuple[int, int]] = field(default_factory=set)  # (message, member)
    cleared: set[int] = field(default_factory=set)  # messages a moderator cleared

    def covers(self, message_id: int, user_id: int) -> bool:
        return message_id in self.cleared or (message_id, user_id) in self.pairs


@dataclass(frozen=True)
class Reactor:
    """Someone reacting on an entry post, as Discord lists them."""

    id: int
    bot: bool

    @property
    def created_at(self) -> datetime:
        return discord.utils.snowflake_time(self.id)


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
        self.posts = EntryPosts(ctx, self._live)  # adds each new post to the index
        self._writes = VoteBatcher(ctx.store, ctx.clock)
        self._in_order: dict[tuple[int, int], _Turn] = {}  # (message, member) → its queue
        # The emoji each member last chose per message, and reactions the bot itself removed:
        # in memory only, to tell a member's switch (😂 → 🙂) from their withdrawal.
        self._latest: dict[tuple[int, int], str] = {}
        self._removed_by_bot: set[tuple[int, int, str]] = set()
        self._reading: list[_ChangedWhileReading] = []  # one per reconciliation running

    # -- live reactions ------------------------------------------------------------------------

    async def watch_all(self) -> None:
        """Rebuild the index of live entries from the database (at every start)."""
        rows = await self.store.call(votes.posted_live_entries)
        self._live.clear()  # in place: the entry posts share this index
        self._live.update(
            (message, LiveEntry(entry, guild, author)) for message, entry, guild, author in rows
        )

    async def reaction_added(self, payload: discord.RawReactionActionEvent) -> None:
        live = self._live.get(payload.message_id)
        if live is None or payload.user_id == self.ctx.user_id:
            return
        rating = Rating.from_emoji(str(payload.emoji))
        if rating is None:
            return
        key = (payload.message_id, payload.user_id)
        async with self._turn(key):  # before any await: the member's events keep their order
            self._changed_live(*key)
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
            self._changed_live(*key)
            if self._latest.get(key) == rating.emoji:
                del self._latest[key]
            change = VoteChange(live.entry_id, payload.user_id, None, removed=rating)
            await self._writes.apply(change)

    def _changed_live(self, message_id: int, user_id: int) -> None:
        """Tell every reconciliation reading now that this member's vote on this post is newer."""
        for reading in self._reading:
            reading.pairs.add((message_id, user_id))

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
            for reading in self._reading:
                reading.cleared.add(message_id)
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

        Catches votes made and withdrawn while the bot was offline, and re-checks the vote gates.
        The caller holds the contest's step lock; the reactions are read without the guild lock
        (minutes at Discord's pace for a big contest) and only the write takes it. A vote the
        live path changed meanwhile is newer than what was read, and is left as it is.
        A contest voted by ballot (no entry thread) has no reactions to reconcile.
        """
        contest = await self.store.call(contests.get_contest, contest.id)
        if contest.thread_id is None:
            return 0, 0
        live = await self.store.call(entries.contest_entries, contest.id)
        posted = {e.message_id: e for e in live if e.message_id is not None}
        reading = _ChangedWhileReading()
        self._reading.append(reading)
        try:
            shown = await self._read_reactions(contest, posted, reading)
            async with self.ctx.lock(contest.guild_id):
                newer = {(posted[m].id, u) for m, u in reading.pairs if m in posted}
                newer |= {(e.id, None) for m, e in posted.items() if m in reading.cleared}
                observed = [
                    Vote(posted[m].id, u, rating, "emoji")
                    for (m, u), rating in shown.items()
                    if not reading.covers(m, u)
                ]
                added, removed = await self.store.call(
                    replace_unchanged_votes, contest.id, observed, newer, self.ctx.clock.now()
                )
        finally:
            self._reading.remove(reading)
        self._remember(posted, shown, reading, contest.guild_id)
        if added or removed:
            log.info("contest %s: reconciled reactions (+%d, -%d)", contest.id, added, removed)
        return added, removed

    def _remember(
        self,
        posted: dict[int, Entry],
        shown: dict[tuple[int, int], Rating],
        reading: _ChangedWhileReading,
        guild_id: int,
    ) -> None:
        """After downtime the in-memory choices are gone or stale: rebuild them from the
        reactions read, so a member's next switch still removes the emoji that counted (what
        the live path changed meanwhile it remembers itself)."""
        kept = {k: v for k, v in self._latest.items() if reading.covers(*k) or k[0] not in posted}
        self._latest = kept | {
            key: rating.emoji for key, rating in shown.items() if not reading.covers(*key)
        }
        self._removed_by_bot = {
            k for k in self._removed_by_bot if k[0] not in posted or reading.covers(k[0], k[1])
        }
        for message_id, entry in posted.items():
            self._live[message_id] = LiveEntry(entry.id, guild_id, entry.author_id)

    async def _read_reactions(
        self, contest: Contest, posted: dict[int, Entry], reading: _ChangedWhileReading
    ) -> dict[tuple[int, int], Rating]:
        """The rating each member shows on each entry post now, (post, member) → rating, for
        the members the gates let vote. Two emoji left while the bot was away: one is kept
        (not for a member who reacted meanwhile: the live path tidies theirs)."""
        settings = await self.ctx.guild_settings(contest.guild_id)
        gates, now = gates_of(settings), self.ctx.clock.now()
        stored = {
            (r.entry_id, r.voter_id): r.rating
            for r in await self.store.call(votes.contest_ratings, contest.id, source="emoji")
        }
        shown: dict[tuple[int, int], Rating] = {}
        async for message in self._entry_messages(contest, posted):
            entry = posted[message.id]
            for user, ratings in (await self._reactions_by_user(message)).items():
                if reading.covers(message.id, user.id):
                    continue
                joined = await self._joined_at(contest, user, gates)
                try:
                    check_voter(
                        contest,
                        entry,
                        Voter(user.id, user.bot, user.created_at, joined),
                        settings,
                        now,
                    )
                except VoteRefused:
                    continue
                previous = stored.get((entry.id, user.id))
                rating = previous if previous in ratings else min(ratings)
                shown[(message.id, user.id)] = rating
                for extra in ratings - {rating}:
                    await self._remove_reaction(
                        message.channel.id, message.id, user.id, extra.emoji
                    )
        return shown

    async def _entry_messages(
        self, contest: Contest, posted: dict[int, Entry]
    ) -> AsyncIterator[discord.Message]:
        """The entry posts as Discord has them now, read a hundred at a time from the thread's
        history (one request per hundred, not one per entry); a deleted post is skipped."""
        if not posted:
            return
        target = await self.posts.voting_channel(contest)
        first = discord.Object(min(posted) - 1)
        async for message in target.history(limit=None, after=first, oldest_first=True):
            if message.id in posted:
                yield message

    async def _reactions_by_user(self, message: discord.Message) -> dict[Reactor, set[Rating]]:
        by_user: dict[Reactor, set[Rating]] = defaultdict(set)
        present = {str(r.emoji): r for r in message.reactions}
        for rating in Rating:
            reaction = present.get(rating.emoji)
            if reaction is None or not reaction.me:  # a crash, or Discord refused it: put it back
                await self.posts.put_rating_emoji(message, rating)
            if reaction is None or reaction.count <= int(reaction.me):
                continue
            for user in await self._reactors(message, rating.emoji):
                if user.id != self.ctx.user_id:
                    by_user[user].add(rating)
        return by_user

    async def _reactors(self, message: discord.Message, emoji: str) -> list[Reactor]:
        """Everyone reacting with ``emoji`` now, a hundred per request until a page comes back
        short. (discord.py's ``Reaction.users`` stops at the count the message showed when it
        was read, stale by the time a paced read comes round, so members who reacted since
        push earlier ones off the end; asked for more, it spends a request on an empty page.)"""
        found: list[Reactor] = []
        after: int | None = None
        while True:
            page = await self.ctx.client.http.get_reaction_users(
                message.channel.id, message.id, emoji, REACTORS_PAGE, after=after
            )
            found += [Reactor(int(user["id"]), bool(user.get("bot"))) for user in page]
            if len(page) < REACTORS_PAGE:
                return found
            after = max(int(user["id"]) for user in page)

    async def _joined_at(self, contest: Contest, user: Reactor, gates: VoteGates):
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


def replace_unchanged_votes(
    db: Database,
    contest_id: int,
    observed: list[Vote],
    newer: set[tuple[int, int | None]],
    now: datetime,
) -> tuple[int, int]:
    """:func:`storage.votes.replace_emoji_votes`, except for the votes in ``newer``
    ((entry, voter), or (entry, None) for all of an entry's), which stay as stored. Runs on
    the database thread in one go, so no live batch lands between the read and the write."""

    def is_newer(vote: Vote) -> bool:
        return (vote.entry_id, vote.voter_id) in newer or (vote.entry_id, None) in newer

    kept = [v for v in votes.contest_ratings(db, contest_id, source="emoji") if is_newer(v)]
    return votes.replace_emoji_votes(db, contest_id, [*observed, *kept], now)
