"""/privacy: a member sees everything the bot holds about them here, and can have it erased."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
import sqlite3

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PunchlineBot, reply
from bot.erasure import DiscordCleanup, erase_from_discord
from bot.text import clip
from storage import audit
from storage.audit import AuditEntry
from storage.privacy import (
    FORMER_MEMBER,
    Erasure,
    erase_from_backups,
    erase_member,
    member_data,
    purge_deleted_content,
)

log = logging.getLogger(__name__)
NOT_COVERED = (
    "**Not covered:** messages and reactions you posted yourself, replies the bot showed only "
    "to you, and copies Discord or other members keep."
)


class EraseButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"privacy:erase:(?P<user>\d+)"
):
    """Confirms an erasure; only the member who asked can press it."""

    def __init__(self, user_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Yes, erase my data",
                style=discord.ButtonStyle.danger,
                custom_id=f"privacy:erase:{user_id}",
            )
        )
        self.user_id = user_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> EraseButton:
        return cls(int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            await interaction.response.send_message(
                "That button is for someone else.", ephemeral=True
            )
            return
        await interaction.response.defer()  # the edits on Discord can take a while
        bot: PunchlineBot = interaction.client  # type: ignore[assignment]
        erasure = await erase_in_database(bot, interaction.guild_id, self.user_id)
        erased = database_summary(erasure.counts)
        await interaction.edit_original_response(
            content=f"{erased}\n⏳ Now editing my posts and backups…", view=None
        )
        report = [erased, *await clean_up_after(bot, interaction.guild_id, erasure), NOT_COVERED]
        with contextlib.suppress(discord.HTTPException):  # past 15 minutes the reply is frozen
            await interaction.edit_original_response(content=clip("\n".join(report)))


async def erase_in_database(bot: PunchlineBot, guild_id: int, user_id: int) -> Erasure:
    """The erasure and its audit line, in one transaction, while no contest step runs: a step
    posts outside the guild lock what it read under it (entries, the results), so the erasure
    waits for the step's posts to be up and recorded, and then edits them."""
    now = bot.clock.now()
    async with bot.engine.steps(guild_id), bot.context.lock(guild_id):
        return await bot.store.call(
            audit.audited,
            lambda erasure: AuditEntry(
                guild_id,
                None,
                "privacy.erase",
                f"former-member:{-erasure.pseudonym}",
                erasure.counts,
                now=now,
            ),
            erase_member,
            guild_id,
            user_id,
        )


async def clean_up_after(bot: PunchlineBot, guild_id: int, erasure: Erasure) -> list[str]:
    """Rewrite the database file, edit the posts on Discord, scrub the backups; one line each.

    The erasure has committed: whatever fails here is reported, and the erasure stands.
    """
    try:
        purged: bool | None = await bot.store.call(purge_deleted_content)
    except sqlite3.Error:  # e.g. no room on the disk for VACUUM's copy
        log.exception("erasure: the database file could not be rewritten")
        purged = None
    cleanup = await erase_from_discord(bot.context, erasure)
    scrubbed, failed = await asyncio.to_thread(
        erase_from_backups, bot.settings.backup_dir, guild_id, erasure.user_id
    )
    backups = f"**Backups:** {len(scrubbed)} scrubbed the same way"
    if failed:
        backups += (
            f"; {len(failed)} could not be opened: rotation deletes it within "
            f"{bot.settings.backups_kept} nightly backups"
        )
    return [discord_summary(cleanup), file_summary(purged), backups + "."]


def database_summary(counts: dict[str, int]) -> str:
    """What the erasure did in the database, in a sentence or three."""
    deleted = [
        f"{counts[key]} {label}"
        for key, label in (
            ("votes", "rating(s)"),
            ("ballot_exposures", "ballot record(s)"),
            ("jokes", "joke request(s)"),
            ("ban", "ban"),
            ("picture_suggestions", "picture suggestion(s)"),
            ("unused_pool_pictures", "unused picture(s) you suggested"),
        )
        if counts.get(key)
    ]
    parts = [f"deleted {', '.join(deleted)}" if deleted else "no votes or jokes to delete"]
    if counts["captions_withdrawn"]:
        parts.append(
            f"{counts['captions_withdrawn']} caption(s) withdrawn from the running contest"
        )
    kept = counts["placings_kept_anonymously"]
    if kept:
        parts.append(
            f"{kept} placed caption(s) keep their place as “{FORMER_MEMBER}”, without your words"
        )
    if counts["captions_anonymised"]:
        parts.append(f"the text of all {counts['captions_anonymised']} of your caption(s) removed")
    if counts.get("used_pool_pictures_uncredited"):
        parts.append(
            f"{counts['used_pool_pictures_uncredited']} picture(s) you suggested stay in past "
            "contests, no longer credited to you"
        )
    renamed = counts["audit_lines"] + counts["moderation_records"]
    if renamed:
        parts.append(f"{renamed} moderation record(s) now name “{FORMER_MEMBER}” instead of you")
    return "🧹 **Erased:** " + "; ".join(parts) + "."


def discord_summary(cleanup: DiscordCleanup) -> str:
    text = f"**On Discord:** {cleanup.posts_edited} of my post(s) edited to remove your words"
    if cleanup.posts_failed:
        text += (
            f"; {cleanup.posts_failed} could not be edited (deleted, or I lack access): "
            "a moderator can delete them"
        )
    if cleanup.reactions_left:
        text += (
            f"; {cleanup.reactions_left} of your rating emoji on today's entries could not be "
            "removed: take them off yourself, or they count again at the close"
        )
    return text + "."


def file_summary(purged: bool | None) -> str:
    """``purged``: rewritten (True), rewritten but the WAL still held (False), failed (None)."""
    if purged:
        return "**Database file:** rewritten, so no deleted copy of your data stays in it."
    if purged is False:
        return (
            "**Database file:** rewritten; its write-ahead log is emptied at the next "
            "checkpoint (another reader held it just now)."
        )
    return (
        "**Database file:** your rows are gone, but rewriting the file failed (the moderators "
        "can see why in the logs): deleted copies may stay in its free space until it is."
    )


class Privacy(
    commands.GroupCog, group_name="privacy", group_description="Your data in this server"
):
    def __init__(self, bot: PunchlineBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="show", description="Download everything the bot holds about you here"
    )
    @app_commands.guild_only()
    async def show(self, interaction: discord.Interaction) -> None:
        data = await self.bot.store.call(member_data, interaction.guild_id, interaction.user.id)
        summary = ", ".join(f"{len(rows)} {what.replace('_', ' ')}" for what, rows in data.items())
        body = json.dumps(
            {"user_id": interaction.user.id, "guild_id": interaction.guild_id, **data},
            ensure_ascii=False,
            indent=2,
        ).encode()
        await interaction.edit_original_response(
            content=f"🔎 Stored about you here: {summary}.",
            attachments=[discord.File(io.BytesIO(body), "my-punchline-data.json")],
        )

    @app_commands.command(name="delete", description="Erase your votes and captions in this server")
    @app_commands.guild_only()
    async def delete(self, interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=300)
        view.add_item(EraseButton(interaction.user.id))
        await reply(
            interaction,
            "This erases your ratings, ballot history, joke requests, picture suggestions still "
            "waiting or unused, and any contest ban here. "
            "Your captions leave a contest that is still running; in closed contests they keep "
            f"their place as “{FORMER_MEMBER}”, without your words or name, so others' "
            "standings add up. I edit my posts that showed your captions, rewrite the database "
            "file and apply the same erasure to my backups. Messages you wrote yourself are "
            "not touched. It can't be undone.",
            view=view,
        )


async def setup(bot: PunchlineBot) -> None:
    bot.add_dynamic_items(EraseButton)
    await bot.add_cog(Privacy(bot))
