"""/privacy: a member sees everything the bot holds about them here, and can have it erased."""

from __future__ import annotations

import io
import json
import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PunchlineBot, reply
from storage import audit
from storage.audit import AuditEntry
from storage.privacy import erase_member, member_data


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
        bot: PunchlineBot = interaction.client  # type: ignore[assignment]
        now = bot.clock.now()
        counts = await bot.store.call(
            audit.audited,
            lambda counts: AuditEntry(
                interaction.guild_id, None, "privacy.erase", "user:erased", counts, now=now
            ),
            erase_member,
            interaction.guild_id,
            self.user_id,
        )
        summary = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in counts.items())
        await interaction.response.edit_message(content=f"🧹 Done: {summary}.", view=None)


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
        await interaction.response.send_message(
            f"🔎 Stored about you here: {summary}.",
            ephemeral=True,
            file=discord.File(io.BytesIO(body), "my-punchline-data.json"),
        )

    @app_commands.command(name="delete", description="Erase your votes and captions in this server")
    @app_commands.guild_only()
    async def delete(self, interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=300)
        view.add_item(EraseButton(interaction.user.id))
        await reply(
            interaction,
            "This erases your votes, ballot history and jokes here, and removes your "
            "name and words from your captions (their anonymous results stay so others' "
            "standings add up). It can't be undone.",
            view=view,
        )


async def setup(bot: PunchlineBot) -> None:
    bot.add_dynamic_items(EraseButton)
    await bot.add_cog(Privacy(bot))
