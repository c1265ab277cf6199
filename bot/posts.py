"""The contest's own posts: the daily prompt, and finding a post the bot made but never recorded.

Discord accepting a message and SQLite storing its id cannot be one transaction: a bot killed
between the two looks back through the channel on its retry rather than post the same thing twice.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

import discord

from bot import render
from bot.context import BotContext
from bot.images import prepare_prompt_image
from bot.text import NO_PINGS, quote_caption, timestamp
from storage import audit, contests, prompts
from storage.audit import AuditEntry
from storage.models import Contest, Prompt

PROMPT_FILE = "prompt.png"
RECENT_MESSAGES = 50  # how far back a retried step looks for a post it made but never recorded


def has_title(message: discord.Message, title: str) -> bool:
    """Whether one of the message's embeds has ``title`` in its title."""
    return any(title in (embed.title or "") for embed in message.embeds)


def prompt_title(contest: Contest) -> str:
    return f"📝 Caption contest · {contest.day}"


def results_title(contest: Contest) -> str:
    return f"Results · {contest.day}"


async def unrecorded_posts(
    ctx: BotContext, channel: discord.abc.Messageable, is_it: Callable[[discord.Message], bool]
) -> list[discord.Message]:
    """The bot's recent messages in ``channel`` that ``is_it``, newest first.

    Without Read Message History the bot cannot look, and posts again rather than not at all.
    """
    try:
        return [
            message
            async for message in channel.history(limit=RECENT_MESSAGES)
            if message.author.id == ctx.user_id and is_it(message)
        ]
    except discord.Forbidden:
        return []


async def seed_starter_pool(ctx: BotContext, guild_id: int) -> None:
    """Give a guild with an empty picture pool the built-in starter drawings."""
    now = ctx.clock.now()
    for starter in render.STARTER_PROMPTS:
        image = await asyncio.to_thread(render.starter_image, starter)
        # identified by its pixels, like uploads, so a member re-uploading it is recognised
        pixels = (await asyncio.to_thread(prepare_prompt_image, image)).content_hash
        await ctx.store.call(
            prompts.add_prompt,
            guild_id,
            image,
            "png",
            starter.description,
            None,
            now,
            content_hash=pixels,
        )


async def post_prompt(ctx: BotContext, contest: Contest, *, retry: bool = False) -> None:
    """Post the contest's picture and deadlines; on a retry, first adopt an unrecorded post."""
    title = prompt_title(contest)
    channel = await ctx.channel(contest.channel_id)
    if retry:
        posted = await unrecorded_posts(ctx, channel, lambda m: has_title(m, title))
        if posted:
            await ctx.store.call(
                contests.set_message_ids, contest.id, prompt_message_id=posted[0].id
            )
            return
    prompt = await ctx.store.call(prompts.get_prompt, contest.prompt_id)
    image = await ctx.store.call(prompts.prompt_image, contest.prompt_id)
    embed = discord.Embed(
        title=title,
        description=await prompt_text(ctx, contest, prompt),
        colour=discord.Colour.gold(),
    )
    embed.add_field(name="Submissions close", value=timestamp(contest.voting_at, "f"))
    embed.add_field(name="Results", value=timestamp(contest.closes_at, "f"))
    embed.set_image(url=f"attachment://{PROMPT_FILE}")
    message = await channel.send(
        embed=embed,
        file=discord.File(io.BytesIO(image), PROMPT_FILE),
        allowed_mentions=NO_PINGS,
    )
    await ctx.store.call(contests.set_message_ids, contest.id, prompt_message_id=message.id)


async def prompt_text(ctx: BotContext, contest: Contest, prompt: Prompt) -> str:
    """The prompt post's text: the scene, who suggested the picture (a mention that never pings),
    whether it is a rerun, and how to enter."""
    lines = [quote_caption(prompt.description)] if prompt.description else []
    suggester = await ctx.store.call(prompts.credited_suggester, prompt.id)
    if suggester is not None:
        lines.append(f"📸 Picture by <@{suggester}>")
    shown_before = await ctx.store.call(
        prompts.previous_use, contest.guild_id, prompt.id, contest.day
    )
    if shown_before is not None:
        health = await ctx.store.call(prompts.pool_health, contest.guild_id)
        dry = " The pool has no new pictures left:" if health.unused == 0 else ""
        lines.append(
            f"🔁 A rerun: this picture was the prompt on {shown_before}.{dry} "
            "Suggest a new one with **/prompt suggest**!"
        )
    lines.append(
        f"\nSend your caption with **/caption submit** {timestamp(contest.voting_at)}. "
        "Entries stay anonymous until the results."
    )
    return "\n".join(lines).strip()


async def adopt_unrecorded_results(ctx: BotContext, contest: Contest) -> bool:
    """Record a results post the bot made but never stored; False when there is none.

    A reopened contest also has its earlier results posts: only a post beyond the ones
    recorded in the audit log is the unrecorded one.
    """
    channel = await ctx.channel(contest.channel_id)
    title = results_title(contest)
    posted = await unrecorded_posts(ctx, channel, lambda m: has_title(m, title))
    target = f"contest:{contest.id}"
    recorded = await ctx.store.call(
        audit.count_actions, contest.guild_id, "contest.results", target
    )
    if len(posted) <= recorded:
        return False
    adopted = AuditEntry(
        contest.guild_id,
        None,
        "contest.results",
        target,
        {"adopted": posted[0].id},
        now=ctx.clock.now(),
    )
    await ctx.store.call(
        audit.audited,
        adopted,
        contests.set_message_ids,
        contest.id,
        results_message_id=posted[0].id,
    )
    return True
