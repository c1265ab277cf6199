"""An erasure on Discord: the bot's own posts that carried the member's captions are edited.

Runs after the database erasure has committed, outside any guild lock. A post Discord will not
let the bot edit (deleted, missing permission, Discord down) is counted and reported to the
member; the erasure in the database stands either way.
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass

import discord

from bot.context import BotContext
from bot.entry_posts import entry_heading
from bot.posts import has_title, results_title, unrecorded_posts
from bot.results import erase_from_crowd_text, results_card
from bot.text import NO_PINGS, quote_caption
from storage import contests, entries, seasons
from storage.privacy import ERASED_TEXT, EntryPost, Erasure, ResultsPost

log = logging.getLogger(__name__)


@dataclass
class DiscordCleanup:
    """What happened to the bot's posts and the member's live rating emoji."""

    posts_edited: int = 0
    posts_failed: int = 0
    reactions_removed: int = 0
    reactions_left: int = 0


async def erase_from_discord(ctx: BotContext, erasure: Erasure) -> DiscordCleanup:
    """Edit every post listed in ``erasure``, and take the member's emoji off running contests.

    A rating emoji left on a running contest's entry would be counted again when voting closes.
    """
    done = DiscordCleanup()
    for post in erasure.entry_posts:
        try:
            await _edit_entry_post(ctx, post)
            done.posts_edited += 1
        except discord.HTTPException as problem:
            log.warning("erasure: entry post %s not edited: %s", post.message_id, problem)
            done.posts_failed += 1
    for post in erasure.results_posts:
        try:
            done.posts_edited += await _edit_results_posts(ctx, erasure.user_id, post)
        except discord.HTTPException as problem:
            log.warning("erasure: results post %s not edited: %s", post.message_id, problem)
            done.posts_failed += 1
    for reaction in erasure.reactions:
        try:
            channel = await ctx.channel(reaction.channel_id)
            message = channel.get_partial_message(reaction.message_id)
            await message.remove_reaction(reaction.emoji, discord.Object(erasure.user_id))
            done.reactions_removed += 1
        except discord.HTTPException:
            done.reactions_left += 1
    return done


async def _edit_entry_post(ctx: BotContext, post: EntryPost) -> None:
    """The caption becomes the erased text; an entry that left a running contest says so."""
    channel = await ctx.channel(post.channel_id)
    message = channel.get_partial_message(post.message_id)
    heading = entry_heading(post) + (" · withdrawn" if post.withdrawn else "")  # type: ignore[arg-type]
    await message.edit(
        content=f"{heading}\n>>> {quote_caption(ERASED_TEXT)}", allowed_mentions=NO_PINGS
    )
    if post.withdrawn:  # nothing left to rate; without Manage Messages the emoji stay (refused)
        with contextlib.suppress(discord.HTTPException):
            await message.clear_reactions()


async def _edit_results_posts(ctx: BotContext, user_id: int, post: ResultsPost) -> int:
    """Take the member's mention and captions out of the contest's results post(s); how many.

    The results card is drawn again when it showed one of their captions. A reopened contest
    has earlier results posts too: they are found in the channel's recent history.
    """
    contest = await ctx.store.call(contests.get_contest, post.contest_id)
    channel = await ctx.channel(post.channel_id)
    posted = [await channel.fetch_message(post.message_id)]
    if post.reposted:
        title = results_title(contest)
        earlier = await unrecorded_posts(ctx, channel, lambda m: has_title(m, title))
        posted += [m for m in earlier if m.id != post.message_id]
    card = None
    if post.on_card:
        placed = await ctx.store.call(seasons.contest_placements, contest.id)
        written = await ctx.store.call(entries.contest_entries, contest.id, status=None)
        card = await results_card(ctx, contest, placed, {e.id: e.text for e in written})
    for message in posted:
        if not message.embeds:
            continue
        embed = message.embeds[0]
        embed.description = erase_from_crowd_text(embed.description or "", user_id, post.captions)
        if card is None:
            await message.edit(embed=embed, allowed_mentions=NO_PINGS)
        else:
            embed.set_image(url="attachment://results.png")
            await message.edit(
                embed=embed,
                attachments=[discord.File(io.BytesIO(card), "results.png")],
                allowed_mentions=NO_PINGS,
            )
    return len(posted)
