"""Ballot mode: a persistent Vote button; each press shows the voter one caption at a time.

Which caption comes next is :func:`bot.rules.ballots.choose_ballot` (every entry seen, likely
winners looked at more, a share of random picks), and every caption shown is logged as an
exposure. The buttons carry their meaning in their ``custom_id`` and are registered as
``DynamicItem``s, so they keep working after a restart. A rating is accepted only from the
member the caption was shown to.

Every press is acknowledged before it waits for the guild lock or the database (Discord drops an
interaction not answered within 3 s): the Vote button with "thinking…" that the ballot then
fills in, a button on the ballot with a deferred update of the ballot itself.
"""

from __future__ import annotations

import logging
import random
import re
from typing import Any

import discord

from bot.context import BotContext
from bot.posts import unrecorded_posts
from bot.rules.ballots import BallotEntry, choose_ballot
from bot.rules.schedule import Phase
from bot.rules.voting import Voter, VoteRefused, check_voter
from bot.text import NO_PINGS, quote_caption, timestamp
from storage import contests, entries, votes
from storage.models import Contest, Entry, Rating, RatingCounts

log = logging.getLogger(__name__)
BALLOT_NOTICE = "🗳️ **Voting is open**"


def has_vote_button(message: discord.Message, contest_id: int) -> bool:
    """Whether ``message`` carries this contest's Vote button."""
    wanted = f"ballot:open:{contest_id}"
    return any(
        getattr(child, "custom_id", None) == wanted
        for row in message.components
        for child in getattr(row, "children", [])
    )


class BallotBox:
    """Ballot voting for every guild: the Vote button, the next caption, the rating buttons."""

    def __init__(self, ctx: BotContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self._rng = random.Random()

    async def open_ballots(self, contest: Contest) -> None:
        """Announce ballot voting, then put the Vote button on the prompt, each once.

        A restart during voting finds the button and does nothing; one that fell between the
        two steps finds its notice in the channel and only adds the button.
        """
        channel = await self.ctx.channel(contest.channel_id)
        prompt = await channel.fetch_message(contest.prompt_message_id)
        if has_vote_button(prompt, contest.id):
            return
        if not await self._notice_posted(channel, contest):
            await channel.send(
                f"{BALLOT_NOTICE} until {timestamp(contest.closes_at)}: press **Vote** on "
                "today's prompt. You'll see the captions one at a time, anonymously; rate each "
                f"{' '.join(r.emoji for r in Rating)}.",
                allowed_mentions=NO_PINGS,
            )
        view = discord.ui.View(timeout=None)
        view.add_item(OpenBallotButton(contest.id))
        await prompt.edit(view=view)

    async def opened(self, contest: Contest) -> bool:
        """Whether this contest's voting already opened by ballot (the Vote button is on its
        prompt, or its notice is posted), whatever the guild's mode is now."""
        channel = await self.ctx.channel(contest.channel_id)
        try:
            prompt = await channel.fetch_message(contest.prompt_message_id)
        except discord.NotFound:
            return False
        return has_vote_button(prompt, contest.id) or await self._notice_posted(channel, contest)

    async def _notice_posted(self, channel: discord.abc.Messageable, contest: Contest) -> bool:
        def is_notice(message: discord.Message) -> bool:
            return (
                message.content.startswith(BALLOT_NOTICE)
                and "press **Vote**" in message.content
                and message.id > contest.prompt_message_id
            )

        return bool(await unrecorded_posts(self.ctx, channel, is_notice))

    async def next_caption(self, interaction: discord.Interaction, contest_id: int) -> None:
        """Show the voter the next caption chosen for them, or say they're done (the press is
        acknowledged already)."""
        contest = await self.store.call(contests.get_contest, contest_id)
        if contest is None or contest.phase != Phase.VOTING:
            await self._show(
                interaction, content="Voting on this contest is closed. Thanks!", view=None
            )
            return
        async with self.ctx.lock(contest.guild_id):
            pick = await self._choose(contest, interaction.user.id)
            refusal = await self._refusal(interaction, contest, pick) if pick else None
            if pick is not None and refusal is None:
                await self.store.call(
                    votes.log_exposure,
                    contest.id,
                    pick.id,
                    interaction.user.id,
                    self.ctx.clock.now(),
                )
        if refusal:  # the vote gates: say why before showing any caption
            await self._show(interaction, content=refusal, view=None)
            return
        if pick is None:
            await self._show(
                interaction,
                content="✅ You've rated every caption you can. Thanks for voting!",
                view=None,
            )
            return
        view = discord.ui.View(timeout=None)
        for rating in Rating:
            view.add_item(RateButton(contest.id, pick.id, rating))
        view.add_item(SkipButton(contest.id, pick.id))
        embed = discord.Embed(
            title=f"Caption #{pick.number}",
            description=f">>> {quote_caption(pick.text)}",
            colour=discord.Colour.blurple(),
        )
        embed.set_footer(text="Anonymous until the results. Skip if you'd rather not rate it.")
        await self._show(interaction, embed=embed, view=view)

    async def _choose(self, contest: Contest, voter_id: int) -> Any:
        live = await self.store.call(entries.contest_entries, contest.id)
        counts = await self.store.call(votes.rating_counts, contest.id)
        shown = await self.store.call(votes.exposure_counts, contest.id)
        state = [
            BallotEntry(e.id, e.author_id, counts.get(e.id, RatingCounts()), shown.get(e.id, 0))
            for e in live
        ]
        seen = await self.store.call(votes.seen_by, contest.id, voter_id)
        picked = choose_ballot(state, voter_id=voter_id, already_seen=seen, size=1, rng=self._rng)
        return next((e for e in live if e.id == picked[0]), None) if picked else None

    async def rate(
        self, interaction: discord.Interaction, contest_id: int, entry_id: int, rating: Rating
    ) -> None:
        """Record the rating, then show the next caption (the press is acknowledged already)."""
        contest = await self.store.call(contests.get_contest, contest_id)
        entry = await self.store.call(entries.get_entry, entry_id)
        shown_to_them = entry is not None and entry_id in await self.store.call(
            votes.shown_to, contest_id, interaction.user.id
        )
        if contest is None or not shown_to_them:
            await interaction.followup.send(NOT_YOURS, ephemeral=True)
            return
        refusal = await self._refusal(interaction, contest, entry)
        if refusal:
            await self._show(interaction, content=refusal, view=None)
            return
        await self.store.call(
            votes.record_vote,
            entry_id,
            interaction.user.id,
            rating,
            "ballot",
            self.ctx.clock.now(),
        )
        await self.next_caption(interaction, contest_id)

    async def _refusal(
        self, interaction: discord.Interaction, contest: Contest, entry: Entry
    ) -> str | None:
        """Why the member pressing may not rate ``entry`` (phase, own caption, vote gates)."""
        member = interaction.user if isinstance(interaction.user, discord.Member) else None
        voter = Voter(
            interaction.user.id,
            interaction.user.bot,
            interaction.user.created_at,
            member.joined_at if member else None,
        )
        settings = await self.ctx.guild_settings(contest.guild_id)
        try:
            check_voter(contest, entry, voter, settings, self.ctx.clock.now())
        except VoteRefused as refusal:
            return str(refusal)
        return None

    async def _show(self, interaction: discord.Interaction, **content: Any) -> None:
        """Fill in the ballot: the Vote button's "thinking…" answer, or the ballot whose button
        was pressed (both acknowledged already)."""
        content.setdefault("embed", None)
        content.setdefault("content", None)
        await interaction.edit_original_response(allowed_mentions=NO_PINGS, **content)


NOT_YOURS = "That ballot wasn't yours; press **Vote** for your own."


def _ballots(interaction: discord.Interaction) -> BallotBox:
    return interaction.client.engine.ballots  # type: ignore[attr-defined]


async def acknowledge_ballot_press(interaction: discord.Interaction) -> bool:
    """Answer a press on a ballot at once: refuse someone else's ballot (it is ephemeral, so
    Discord names its member), else defer the ballot's update. False when refused."""
    shown = interaction.message.interaction_metadata if interaction.message else None
    if shown is not None and shown.user.id != interaction.user.id:
        await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False
    await interaction.response.defer()
    return True


class OpenBallotButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"ballot:open:(?P<contest>\d+)"
):
    def __init__(self, contest_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Vote",
                emoji="🗳️",
                style=discord.ButtonStyle.primary,
                custom_id=f"ballot:open:{contest_id}",
            )
        )
        self.contest_id = contest_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> OpenBallotButton:
        return cls(int(match["contest"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await _ballots(interaction).next_caption(interaction, self.contest_id)


class RateButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"ballot:rate:(?P<contest>\d+):(?P<entry>\d+):(?P<rating>[123])",
):
    def __init__(self, contest_id: int, entry_id: int, rating: Rating) -> None:
        super().__init__(
            discord.ui.Button(
                label=rating.label,
                emoji=rating.emoji,
                style=discord.ButtonStyle.secondary,
                custom_id=f"ballot:rate:{contest_id}:{entry_id}:{rating.value}",
            )
        )
        self.contest_id, self.entry_id, self.rating = contest_id, entry_id, rating

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> RateButton:
        return cls(int(match["contest"]), int(match["entry"]), Rating(int(match["rating"])))

    async def callback(self, interaction: discord.Interaction) -> None:
        if await acknowledge_ballot_press(interaction):
            await _ballots(interaction).rate(
                interaction, self.contest_id, self.entry_id, self.rating
            )


class SkipButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"ballot:skip:(?P<contest>\d+):(?P<entry>\d+)",
):
    def __init__(self, contest_id: int, entry_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Skip",
                style=discord.ButtonStyle.secondary,
                custom_id=f"ballot:skip:{contest_id}:{entry_id}",
            )
        )
        self.contest_id = contest_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> SkipButton:
        return cls(int(match["contest"]), int(match["entry"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if await acknowledge_ballot_press(interaction):
            await _ballots(interaction).next_caption(interaction, self.contest_id)


BALLOT_BUTTONS = (OpenBallotButton, RateButton, SkipButton)
