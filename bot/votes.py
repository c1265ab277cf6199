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
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime

import discord

from bot.context import BotContext
from bot.entry_posts import EntryPosts, LiveEntry
from bot.rules.schedule import Phase
from bot.rules.voting import VoteGates, Voter, VoteRefused, check_voter, gates_of
from bot.vote_batches import LiveChanges, VoteBatcher
from storage import contests, entries, votes
from storage.models import Contest, Entry, Rating
from storage.shards import ShardSet
from storage.votes import Vote, VoteChange

log = logging.getLogger(__name__)
REACTORS_PAGE = 100  # Discord's most users per request for one reaction


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
    """Emoji votes for every guild: turns reactions into stored ratings, reconciles them."""

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
        self.posts = EntryPosts(ctx, self._live)  # adds each new post to the index

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
            for vote in await self.store.call(votes.contest_ratings, contest.id, source="emoji"):
                if vote.entry_id == entry.id and rating in (None, vote.rating):
                    self._changed_live.note(live.guild_id, entry.id, vote.voter_id)
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

        Catches votes made and withdrawn while the bot was offline, and re-checks the vote gates.
        The caller holds the contest's step lock; the reactions are read without the guild lock
        (minutes at Discord's pace for a big contest) and only the write takes it. Members keep
        reacting meanwhile: a vote that changes live while the reactions are read is newer, and
        is left to that live event. A contest voted by ballot (no entry thread) has no reactions
        to reconcile.
        """
        contest = await self.store.call(contests.get_contest, contest.id)
        if contest.thread_id is None:
            return 0, 0
        live = await self.store.call(entries.contest_entries, contest.id)
        posted = {e.message_id: e for e in live if e.message_id is not None}
        with self._changed_live.during(contest.guild_id) as changed_live:

            def changed(message_id: int, user_id: int) -> bool:
                return (posted[message_id].id, user_id) in changed_live

            shown = await self._read_reactions(contest, posted, changed)
            async with self.ctx.lock(contest.guild_id):
                # live changes noted before the write are left alone; later ones run after it
                left_live = frozenset(changed_live)
                observed = [
                    Vote(posted[m].id, u, rating, "emoji")
                    for (m, u), rating in shown.items()
                    if (posted[m].id, u) not in left_live
                ]
                added, removed = await self.store.call(
                    votes.replace_emoji_votes, contest.id, observed, self.ctx.clock.now(), left_live
                )
            self._remember(posted, shown, changed, contest.guild_id)
        if added or removed:
            log.info("contest %s: reconciled reactions (+%d, -%d)", contest.id, added, removed)
        return added, removed

    def _remember(
        self,
        posted: dict[int, Entry],
        shown: dict[tuple[int, int], Rating],
        changed: Callable[[int, int], bool],
        guild_id: int,
    ) -> None:
        """After downtime the in-memory choices are gone or stale: rebuild them from the
        reactions read, so a member's next switch still removes the emoji that counted (what
        the live path changed meanwhile it remembers itself)."""

        def kept(message_id: int, user_id: int) -> bool:
            return message_id not in posted or changed(message_id, user_id)

        self._latest = {k: v for k, v in self._latest.items() if kept(*k)} | {
            key: rating.emoji for key, rating in shown.items() if not changed(*key)
        }
        self._removed_by_bot = {k for k in self._removed_by_bot if kept(k[0], k[1])}
        for message_id, entry in posted.items():
            self._live[message_id] = LiveEntry(entry.id, guild_id, entry.author_id)

    async def _read_reactions(
        self, contest: Contest, posted: dict[int, Entry], changed: Callable[[int, int], bool]
    ) -> dict[tuple[int, int], Rating]:
        """The rating each member shows on each entry post now, (post, member) → rating, for
        the members the gates let vote. Two emoji left while the bot was away: one is kept
        (not for a member whose vote ``changed`` live meanwhile: the live path tidies theirs)."""
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
                if changed(message.id, user.id):
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
