"""/caption submit · edit · withdraw · mine. Replies are ephemeral; entries stay anonymous."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import submissions
from bot.app import PunchlineBot, reply
from bot.cogs.jokes import suggest_caption
from bot.rules.captions import MAX_CAPTION_LENGTH
from bot.text import quote_caption
from storage import entries

RAW_LIMIT = MAX_CAPTION_LENGTH + 100  # Discord's own limit; room for whitespace we trim away


class Captions(
    commands.GroupCog, group_name="caption", group_description="Enter today's caption contest"
):
    def __init__(self, bot: PunchlineBot) -> None:
        self.bot = bot
        self.ctx = bot.context

    @app_commands.command(name="submit", description="Submit your caption for today's prompt")
    @app_commands.describe(text="Your caption (up to 300 characters)")
    @app_commands.guild_only()
    @app_commands.checks.cooldown(3, 30.0, key=lambda i: (i.guild_id, i.user.id))
    async def submit(
        self, interaction: discord.Interaction, text: app_commands.Range[str, 1, RAW_LIMIT]
    ) -> None:
        entry, replaced = await submissions.submit_caption(
            self.ctx, interaction.guild_id, interaction.user.id, text
        )
        note = (
            f" It replaces your earlier caption “{quote_caption(replaced.text)}”."
            if replaced
            else ""
        )
        await reply(
            interaction,
            f"✅ Your caption is in: “{quote_caption(entry.text)}”.{note}\n"
            "It stays anonymous until the results. Good luck!",
        )

    @app_commands.command(name="edit", description="Change your caption while submissions are open")
    @app_commands.describe(
        text="The new caption", entry="Which of your captions (if you have several)"
    )
    @app_commands.guild_only()
    async def edit(
        self,
        interaction: discord.Interaction,
        text: app_commands.Range[str, 1, RAW_LIMIT],
        entry: int | None = None,
    ) -> None:
        changed = await submissions.change_entry(
            self.ctx, interaction.guild_id, interaction.user.id, entry, text
        )
        await reply(interaction, f"✏️ Updated: “{quote_caption(changed.text)}”.")

    @app_commands.command(name="withdraw", description="Take your caption out of today's contest")
    @app_commands.describe(entry="Which of your captions (if you have several)")
    @app_commands.guild_only()
    async def withdraw(self, interaction: discord.Interaction, entry: int | None = None) -> None:
        gone = await submissions.change_entry(
            self.ctx, interaction.guild_id, interaction.user.id, entry, None
        )
        await reply(
            interaction, f"🗑️ Withdrawn: “{quote_caption(gone.text)}”. You can submit another."
        )

    @edit.autocomplete("entry")
    @withdraw.autocomplete("entry")
    async def own_entries(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        contest = await self.bot.context.current_contest(interaction.guild_id)
        if contest is None:
            return []
        mine = await self.bot.store.call(entries.author_entries, contest.id, interaction.user.id)
        return [
            app_commands.Choice(name=e.text[:100], value=e.id)
            for e in mine
            if current.casefold() in e.text.casefold()
        ][:25]

    @app_commands.command(
        name="suggest", description="Caption ideas for today's prompt, from the local model"
    )
    @app_commands.guild_only()
    @app_commands.checks.cooldown(1, 20.0, key=lambda i: i.user.id)
    async def suggest(self, interaction: discord.Interaction) -> None:
        await suggest_caption(self.bot.get_cog("Jokes"), interaction)

    @app_commands.command(name="mine", description="Your captions in today's contest")
    @app_commands.guild_only()
    async def mine(self, interaction: discord.Interaction) -> None:
        contest = await self.bot.context.current_contest(interaction.guild_id)
        if contest is None:
            await reply(interaction, "There's no contest running right now.")
            return
        everything = await self.bot.store.call(entries.contest_entries, contest.id, status=None)
        mine = [
            e for e in everything if e.author_id == interaction.user.id and e.status != "withdrawn"
        ]
        if not mine:
            await reply(
                interaction, "You haven't entered today's contest yet: try **/caption submit**."
            )
            return
        lines = [
            f"• {f'Entry #{e.number}: ' if e.number else ''}“{quote_caption(e.text)}”"
            + (
                f" — removed by a moderator: {quote_caption(e.reason or '')}"
                if e.status == "disqualified"
                else ""
            )
            for e in mine
        ]
        await reply(
            interaction, f"Your captions for {contest.day} ({contest.phase}):\n" + "\n".join(lines)
        )


async def setup(bot: PunchlineBot) -> None:
    await bot.add_cog(Captions(bot))
