"""Nightly housekeeping: the rotating online backup of the database."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from storage.backup import rotating_backup

if TYPE_CHECKING:
    from bot.app import PunchlineBot

log = logging.getLogger(__name__)
BACKUP_HOUR_UTC = 3


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
