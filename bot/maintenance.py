"""Nightly housekeeping: the rotating online backup, and each community's adapter refit."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from storage import guilds
from storage.backup import rotating_backup

if TYPE_CHECKING:
    from bot.app import PunchlineBot

log = logging.getLogger(__name__)
BACKUP_HOUR_UTC = 3
REFIT_HOUR_UTC = 4


def arm_nightly_backup(bot: PunchlineBot) -> None:
    bot.scheduler.add_job(
        nightly_backup,
        "cron",
        hour=BACKUP_HOUR_UTC,
        minute=30,
        args=[bot],
        id="backup",
        replace_existing=True,
        misfire_grace_time=3600,
    )


async def nightly_backup(bot: PunchlineBot) -> None:
    """Back up while the bot keeps running (SQLite's online backup), keeping the newest N."""
    settings = bot.settings
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


def arm_nightly_refit(bot: PunchlineBot) -> None:
    bot.scheduler.add_job(
        nightly_refit,
        "cron",
        hour=REFIT_HOUR_UTC,
        minute=15,
        args=[bot],
        id="refit",
        replace_existing=True,
        misfire_grace_time=3600,
    )


async def nightly_refit(bot: PunchlineBot) -> None:
    """Refit every community's adapter in turn; one community's failure never stops the others."""
    for settings in await bot.store.call(guilds.configured_guilds):
        try:
            await bot.ai.refit(settings.guild_id)
        except Exception:  # a failed refit keeps the old adapter; the next night tries again
            log.exception("guild %s: refit failed; the current adapter stays", settings.guild_id)
