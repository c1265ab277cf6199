"""/prompt add · list · remove · next: the server's own pool of contest pictures."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PunchlineBot, reply
from bot.checks import is_moderator, moderator_only
from bot.images import MAX_UPLOAD_BYTES, ImageRejected, prepare_prompt_image
from bot.text import clip, quote_caption
from storage import audit, prompts
from storage.audit import AuditEntry

PAGE = 10


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Prompts(
    commands.GroupCog,
    group_name="prompt",
    group_description="The server's pool of contest pictures",
):
    def __init__(self, bot: PunchlineBot) -> None:
        self.bot = bot
        self.store = bot.store

    @app_commands.command(name="add", description="Add a picture to the prompt pool")
    @app_commands.describe(
        image="PNG, JPEG, WebP or GIF", description="One sentence describing the scene"
    )
    @moderator_only()
    async def add(
        self,
        interaction: discord.Interaction,
        image: discord.Attachment,
        description: app_commands.Range[str, 5, 300],
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if image.size > MAX_UPLOAD_BYTES:
            raise ImageRejected(
                f"That file is {image.size / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB."
            )
        prepared = await asyncio.to_thread(prepare_prompt_image, await image.read())
        now = self.bot.clock.now()
        prompt, created = await self.store.call(
            audit.audited,
            lambda added: (
                AuditEntry(
                    interaction.guild_id,
                    interaction.user.id,
                    "prompt.add",
                    f"prompt:{added[0].id}",
                    {"width": prepared.width, "height": prepared.height},
                    now=now,
                )
                if added[1]
                else None
            ),
            prompts.add_prompt,
            interaction.guild_id,
            prepared.data,
            prepared.format,
            description.strip(),
            interaction.user.id,
            now,
            content_hash=prepared.content_hash,
        )
        if not created:
            await reply(
                interaction,
                f"That picture is already in the pool as prompt #{prompt.id} "
                f"(“{quote_caption(prompt.description)}”).",
            )
            return
        await reply(
            interaction,
            f"🖼️ Added prompt #{prompt.id} ({prepared.width}×{prepared.height}, metadata "
            f"removed). The pool has {await self.store.call(prompts.count_prompts, interaction.guild_id)}.",
        )

    @app_commands.command(name="list", description="The pictures in the pool")
    @moderator_only()
    async def list_pool(
        self, interaction: discord.Interaction, page: app_commands.Range[int, 1, 1000] = 1
    ) -> None:
        total = await self.store.call(prompts.count_prompts, interaction.guild_id)
        shown = await self.store.call(
            prompts.list_prompts, interaction.guild_id, (page - 1) * PAGE, PAGE
        )
        if not shown:
            await reply(
                interaction,
                "The pool is empty: the built-in starter pictures are used until you "
                "**/prompt add** your own."
                if total == 0
                else "No prompts on that page.",
            )
            return
        lines = [
            f"`#{p.id}` {quote_caption(clip(p.description, 80))} · "
            + (
                f"last used {discord.utils.format_dt(p.last_used_at, 'd')}"
                if p.last_used_at
                else "never used"
            )
            for p in shown
        ]
        pages = (total + PAGE - 1) // PAGE
        await reply(
            interaction,
            clip(f"**Prompt pool** (page {page}/{pages}, {total} in all)\n" + "\n".join(lines)),
        )

    @app_commands.command(name="remove", description="Take a picture out of the pool")
    @moderator_only()
    async def remove(self, interaction: discord.Interaction, prompt: int) -> None:
        now = self.bot.clock.now()
        removed = await self.store.call(
            audit.audited,
            lambda removed: (
                AuditEntry(
                    interaction.guild_id,
                    interaction.user.id,
                    "prompt.remove",
                    f"prompt:{prompt}",
                    now=now,
                )
                if removed
                else None
            ),
            prompts.remove_prompt,
            interaction.guild_id,
            prompt,
        )
        await reply(
            interaction,
            f"🗑️ Prompt #{prompt} removed." if removed else "No such prompt in the pool.",
        )

    @app_commands.command(name="next", description="Show the next prompt, or choose it")
    @app_commands.describe(prompt="The prompt to use next (leave empty to just see which is next)")
    @moderator_only()
    async def next_prompt(
        self, interaction: discord.Interaction, prompt: int | None = None
    ) -> None:
        if prompt is not None:
            now = self.bot.clock.now()
            queued = await self.store.call(
                audit.audited,
                lambda queued: (
                    AuditEntry(
                        interaction.guild_id,
                        interaction.user.id,
                        "prompt.next",
                        f"prompt:{prompt}",
                        now=now,
                    )
                    if queued
                    else None
                ),
                prompts.queue_next,
                interaction.guild_id,
                prompt,
            )
            if not queued:
                await reply(interaction, "No such prompt in the pool.")
                return
        upcoming = await self.store.call(prompts.next_prompt, interaction.guild_id)
        if upcoming is None:
            await reply(interaction, "The pool is empty; the built-in starter pictures come next.")
            return
        await reply(
            interaction, f"⏭️ Next up: `#{upcoming.id}` {quote_caption(upcoming.description)}"
        )

    @remove.autocomplete("prompt")
    @next_prompt.autocomplete("prompt")
    async def pool_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        # Autocomplete runs no command check, and admins can show /prompt to members.
        settings = await self.bot.context.guild_settings(interaction.guild_id)
        if not is_moderator(interaction.user, settings.moderator_role_id if settings else None):
            return []
        pool = await self.store.call(prompts.list_prompts, interaction.guild_id, 0, 500)
        return [
            app_commands.Choice(name=clip(f"#{p.id} {p.description}", 100), value=p.id)
            for p in pool
            if current.casefold() in f"#{p.id} {p.description}".casefold()
        ][:25]


async def setup(bot: PunchlineBot) -> None:
    await bot.add_cog(Prompts(bot))
