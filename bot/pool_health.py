"""Keeping the picture pool from running dry.

How many new (never used) pictures are left is one line in ``/prompt list`` and
``/contest status``. A daily check warns each guild in its contest channel a few days before the
new pictures run out: once per low-water episode (the warning is claimed in SQLite before it is
posted, and the claim is dropped when the pool is healthy again). Once they have run out, the
pool reruns the picture used longest ago, never yesterday's (``storage.prompts.next_prompt``).
"""

from __future__ import annotations

import logging
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.context import BotContext
from bot.text import NO_PINGS
from storage import guilds, prompts
from storage.models import GuildSettings
from storage.prompts import PoolHealth

log = logging.getLogger(__name__)
LOW_WATER_DAYS = 3  # warn when this many new pictures or fewer are left
CHECK_AT = {"hour": 6, "minute": 0}  # UTC, once a day
JOB_ID = "prompt_pool_check"


def pool_line(health: PoolHealth) -> str:
    """One line on the pool for members and moderators alike."""
    waiting = f" · {health.waiting} suggested picture(s) awaiting review" if health.waiting else ""
    if health.total == 0:
        return f"🖼️ Picture pool: the built-in starter pictures come first{waiting}."
    if health.unused == 0:
        return (
            f"🖼️ Picture pool: no new pictures left, so old ones are rerun "
            f"({health.total} in the pool){waiting}. Suggest one with **/prompt suggest**!"
        )
    days = f"{health.unused} new picture{'s' if health.unused != 1 else ''}"
    return f"🖼️ Picture pool: {days} left, of {health.total}{waiting}."


def low_pool_warning(health: PoolHealth) -> str:
    """The post that tells a guild its new pictures are about to run out (or have)."""
    if health.unused == 0:
        state = (
            "🖼️ **The picture pool has run out of new pictures**: until more arrive, each day "
            "reruns the picture used longest ago."
        )
    else:
        state = (
            f"🖼️ **The picture pool is running low**: {health.unused} new "
            f"picture{'s' if health.unused != 1 else ''} left, then the daily prompt becomes a rerun."
        )
    review = (
        f" and review the {health.waiting} suggestion(s) waiting in **/prompt queue**"
        if health.waiting
        else ""
    )
    return (
        f"{state}\nModerators can add pictures with **/prompt add**{review}; everyone can "
        "suggest one with **/prompt suggest**."
    )


async def check_pool(ctx: BotContext, settings: GuildSettings) -> bool:
    """Warn the guild if its pool is low and it was not warned yet; True when a warning went out."""
    guild_id = settings.guild_id
    health = await ctx.store.call(prompts.pool_health, guild_id)
    if health.total == 0 or health.unused > LOW_WATER_DAYS:  # empty: the starters come next
        await ctx.store.call(prompts.end_low_pool_warning, guild_id)
        return False
    if not await ctx.store.call(prompts.claim_low_pool_warning, guild_id, ctx.clock.now()):
        return False
    try:
        channel = await ctx.channel(settings.channel_id)
        await channel.send(low_pool_warning(health), allowed_mentions=NO_PINGS)
    except BaseException:
        await ctx.store.call(prompts.end_low_pool_warning, guild_id)  # tomorrow tries again
        raise
    log.info("guild %s: warned that the picture pool is low (%d new left)", guild_id, health.unused)
    return True


async def check_pools(ctx: BotContext) -> None:
    """The daily check, every configured guild in turn; one guild's failure never stops another."""
    for settings in await ctx.store.call(guilds.configured_guilds):
        try:
            await check_pool(ctx, settings)
        except Exception:
            log.exception("guild %s: the picture pool check failed", settings.guild_id)


def arm_pool_check(scheduler: AsyncIOScheduler, ctx: BotContext) -> None:
    scheduler.add_job(
        check_pools,
        "cron",
        **CHECK_AT,
        timezone=UTC,
        args=[ctx],
        id=JOB_ID,
        replace_existing=True,
        misfire_grace_time=3600,
    )
