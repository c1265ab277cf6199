"""Scheduled housekeeping: the nightly online backup, each community's nightly adapter refit,
and the weekly taste report for the communities that asked for it.

Each job catches its own failures per community: one guild's trouble never stops the others, and
the next run tries again.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.context import BotContext
from bot.taste_report import taste_report
from bot.text import NO_PINGS
from storage import guilds
from storage.backup import rotating_backup

log = logging.getLogger(__name__)
BACKUP_AT = {"hour": 3, "minute": 30}  # UTC
REFIT_AT = {"hour": 4, "minute": 15}  # UTC, after the backup
WEEKLY_REPORT_AT = {"day_of_week": "mon", "hour": 5, "minute": 0}  # UTC, after Monday's refit
REFIT_TIMEOUT_S = 1800  # a wedged model must not hold the nightly job (and so every later night)


def _arm(
    scheduler: AsyncIOScheduler,
    ctx: BotContext,
    job: Callable[[BotContext], Awaitable[None]],
    when: dict[str, object],
) -> None:
    scheduler.add_job(
        job,
        "cron",
        **when,
        timezone=UTC,
        args=[ctx],
        id=job.__name__,
        replace_existing=True,
        misfire_grace_time=3600,
    )


def arm_maintenance(scheduler: AsyncIOScheduler, ctx: BotContext) -> None:
    """Schedule the jobs; those that need the AI only when it is loaded. Of processes sharing
    one database, the one that runs shard 0 backs it up; each refits its own shards' guilds."""
    if 0 in ctx.shards.ids:
        _arm(scheduler, ctx, nightly_backup, BACKUP_AT)
    if ctx.ai is not None:
        _arm(scheduler, ctx, nightly_refit, REFIT_AT)
        _arm(scheduler, ctx, weekly_taste_reports, WEEKLY_REPORT_AT)


async def nightly_backup(ctx: BotContext) -> None:
    """Back up while the bot keeps running (SQLite's online backup), keeping the newest N."""
    settings = ctx.config
    try:
        made = await asyncio.to_thread(
            rotating_backup,
            settings.database,
            settings.backup_dir,
            settings.backups_kept,
            datetime.now(UTC),
        )
    except OSError as problem:  # a full disk must not take the bot down; the next night retries
        log.error("nightly backup failed: %s", problem)
        return
    log.info("backed up the database to %s", made)


async def nightly_refit(ctx: BotContext) -> None:
    """Refit the adapter of every community on this process's shards in turn; one community's
    failure never stops the others."""
    for settings in await ctx.store.call(guilds.configured_guilds, ctx.shards):
        try:
            await asyncio.wait_for(ctx.ai.refit(settings.guild_id), REFIT_TIMEOUT_S)
        except Exception:  # a failed refit keeps the old adapter; the next night tries again
            log.exception("guild %s: refit failed; the current adapter stays", settings.guild_id)


async def weekly_taste_reports(ctx: BotContext) -> None:
    """Post the taste report in the contest channel of every guild on this process's shards
    that enabled it."""
    for settings in await ctx.store.call(guilds.configured_guilds, ctx.shards):
        if not settings.weekly_report:
            continue
        try:
            report = await taste_report(ctx.ai, settings.guild_id)
            if report is None:
                log.info("guild %s: not enough votes for a taste report yet", settings.guild_id)
                continue
            text, chart = report
            channel = await ctx.channel(settings.channel_id)
            await channel.send(
                text, file=discord.File(io.BytesIO(chart), "taste.png"), allowed_mentions=NO_PINGS
            )
        except Exception:  # one guild's missing channel or permission never stops the others
            log.exception("guild %s: weekly taste report failed", settings.guild_id)
