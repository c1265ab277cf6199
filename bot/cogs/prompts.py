"""/prompt: the server's own pool of contest pictures.

Moderators: add · list · remove · next, and queue (members' suggestions, reviewed with the
buttons in ``bot.suggestions``). Members: suggest · mine. The group is shared with members, so
every moderator subcommand is guarded by ``moderator_only`` at run time.
"""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PunchlineBot, reply
from bot.checks import is_moderator, moderator_only
from bot.images import MAX_UPLOAD_BYTES, ImageRejected, PreparedImage, prepare_prompt_image
from bot.pool_health import arm_pool_check, pool_line
from bot.rules.suggestions import SuggestionRefused, check_suggestion
from bot.suggestions import (
    REVIEW_BUTTONS,
    can_post_pictures,
    describe,
    review_page,
    verdict_message,
)
from bot.text import clip, quote_caption, timestamp
from storage import audit, guilds, prompts, suggestions
from storage.audit import AuditEntry
from storage.suggestions import Outcome

PAGE = 10


async def prepared_upload(image: discord.Attachment) -> PreparedImage:
    """Read and validate an uploaded picture off the event loop (raises ImageRejected)."""
    if image.size > MAX_UPLOAD_BYTES:
        raise ImageRejected(
            f"That file is {image.size / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB."
        )
    return await asyncio.to_thread(prepare_prompt_image, await image.read())


@app_commands.guild_only()
class Prompts(
    commands.GroupCog,
    group_name="prompt",
    group_description="The server's pool of contest pictures",
):
    def __init__(self, bot: PunchlineBot) -> None:
        self.bot = bot
        self.store = bot.store

    async def cog_load(self) -> None:
        arm_pool_check(self.bot.scheduler, self.bot.context)

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
        prepared = await prepared_upload(image)
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

    @app_commands.command(name="suggest", description="Suggest a picture for a daily contest")
    @app_commands.describe(
        image="PNG, JPEG, WebP or GIF",
        description="One sentence describing the scene",
        anonymous="Leave your name off the contest post (default: you are credited)",
    )
    async def suggest(
        self,
        interaction: discord.Interaction,
        image: discord.Attachment,
        description: app_commands.Range[str, 5, 300] | None = None,
        anonymous: bool = False,
    ) -> None:
        guild_id, member_id = interaction.guild_id, interaction.user.id
        if await self.store.call(guilds.is_banned, guild_id, member_id):
            await reply(interaction, "You can't suggest pictures in this server right now.")
            return
        now = self.bot.clock.now()
        try:  # the cheap check first, before reading the picture; again when queueing it
            check_suggestion(
                await self.store.call(suggestions.queue_state, guild_id, member_id), now
            )
            prepared = await prepared_upload(image)
            result = await self.store.call(
                suggestions.add_suggestion,
                guild_id,
                member_id,
                prepared.data,
                prepared.format,
                prepared.content_hash,
                (description or "").strip(),
                anonymous,
                now,
                check=lambda queue: check_suggestion(queue, now),
            )
        except SuggestionRefused as refusal:
            await reply(interaction, str(refusal))
            return
        await reply(interaction, await self._suggested_answer(interaction, result, prepared))

    async def _suggested_answer(
        self, interaction: discord.Interaction, result: suggestions.Result, prepared: PreparedImage
    ) -> str:
        if result.outcome == Outcome.IN_POOL:
            return "That picture is already in the pool, so it will come up. Thanks all the same!"
        if result.outcome == Outcome.WAITING:
            return "Someone already suggested that picture; it is waiting for the moderators."
        waiting = await self.store.call(suggestions.count_pending, interaction.guild_id)
        credit = (
            "The contest post won't name you."
            if result.suggestion.anonymous
            else "If it's used, the contest post credits you (without a ping)."
        )
        answer = (
            f"📬 Thanks! Your picture ({prepared.width}×{prepared.height}, metadata removed) is "
            f"waiting for the moderators ({waiting} in the queue). {credit} You'll hear "
            "their answer by DM, or see it with **/prompt mine**."
        )
        settings = await self.bot.context.guild_settings(interaction.guild_id)
        if settings and not can_post_pictures(interaction.guild, settings.channel_id):
            answer += (
                f"\n⚠️ Note: I can't attach pictures in <#{settings.channel_id}> right now "
                "(missing **Attach Files**); your picture is safe in the queue until a server "
                "admin fixes that."
            )
        return answer

    @app_commands.command(name="mine", description="Your picture suggestions and their answers")
    async def mine(self, interaction: discord.Interaction) -> None:
        mine = await self.store.call(
            suggestions.member_suggestions, interaction.guild_id, interaction.user.id
        )
        if not mine:
            await reply(interaction, "You have no picture suggestions waiting, and no news.")
            return
        lines = [
            f"⏳ {describe(s)}, suggested {timestamp(s.suggested_at)}: waiting for review."
            if s.status == suggestions.PENDING
            else verdict_message(interaction.guild.name, s)
            for s in mine
        ]
        await reply(interaction, clip("\n".join(lines)))
        told = [s.id for s in mine if s.status != suggestions.PENDING]
        if told:
            await self.store.call(suggestions.mark_told, told)

    @app_commands.command(name="queue", description="Review the pictures members suggested")
    @moderator_only()
    async def queue(self, interaction: discord.Interaction) -> None:
        settings = await self.bot.context.guild_settings(interaction.guild_id)
        note = None
        if settings and not can_post_pictures(interaction.guild, settings.channel_id):
            note = (
                f"⚠️ I can't attach pictures in <#{settings.channel_id}> (missing **Attach "
                "Files**): no prompt can be posted until a server admin allows it."
            )
        page = await review_page(self.bot.context, interaction.guild_id, note)
        await interaction.edit_original_response(
            allowed_mentions=discord.AllowedMentions.none(), **page
        )

    @app_commands.command(name="list", description="The pictures in the pool")
    @moderator_only()
    async def list_pool(
        self, interaction: discord.Interaction, page: app_commands.Range[int, 1, 1000] = 1
    ) -> None:
        health = await self.store.call(prompts.pool_health, interaction.guild_id)
        total = health.total
        shown = await self.store.call(
            prompts.list_prompts, interaction.guild_id, (page - 1) * PAGE, PAGE
        )
        if not shown:
            await reply(
                interaction,
                "The pool is empty: the built-in starter pictures are used until you "
                "**/prompt add** your own."
                + (
                    f" {health.waiting} suggested picture(s) wait in **/prompt queue**."
                    if health.waiting
                    else ""
                )
                if total == 0
                else "No prompts on that page.",
            )
            return
        lines = [
            f"`#{p.id}` {quote_caption(clip(p.description, 80)) or '(no description)'} · "
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
            clip(
                f"**Prompt pool** (page {page}/{pages}, {total} in all)\n{pool_line(health)}\n"
                + "\n".join(lines)
            ),
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
            await reply(
                interaction,
                "No picture in the pool can come next (it is empty, or holds only the one "
                "used last), so the built-in starter pictures do.",
            )
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
    bot.add_dynamic_items(*REVIEW_BUTTONS)  # review buttons keep working across restarts
    await bot.add_cog(Prompts(bot))
