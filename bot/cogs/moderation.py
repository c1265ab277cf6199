"""/mod: disqualify entries, ban members from contests, export, read the audit log."""

from __future__ import annotations

import asyncio
import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PunchlineBot, reply
from bot.checks import is_moderator, moderator_only
from bot.results import author_mention
from bot.text import clip, quote_caption
from storage import audit, entries, export, guilds, jokes
from storage.audit import AuditEntry

AUDIT_PAGE = 15


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Moderation(
    commands.GroupCog, group_name="mod", group_description="Moderate the caption contest"
):
    def __init__(self, bot: PunchlineBot) -> None:
        self.bot = bot
        self.store = bot.store

    @app_commands.command(name="disqualify", description="Remove an entry from the running contest")
    @app_commands.describe(entry="The entry", reason="Why (shown to its author)")
    @moderator_only()
    async def disqualify(
        self, interaction: discord.Interaction, entry: int, reason: app_commands.Range[str, 1, 300]
    ) -> None:
        contest = await self.bot.context.current_contest(interaction.guild_id)
        found = await self.store.call(entries.get_entry, entry)
        if (
            contest is None
            or found is None
            or found.contest_id != contest.id
            or found.status != "active"
        ):
            await reply(interaction, "That isn't a live entry of the running contest.")
            return
        now = self.bot.clock.now()
        await self.store.call(
            audit.audited,
            AuditEntry(
                interaction.guild_id,
                interaction.user.id,
                "entry.disqualify",
                f"entry:{found.id}",
                {"reason": reason, "author": found.author_id},
                now=now,
            ),
            entries.set_status,
            found.id,
            "disqualified",
            reason,
            now,
        )
        told = await self._tell_author(
            found.author_id,
            f"Your caption “{quote_caption(found.text)}” was "
            f"removed from today's contest by a moderator: {quote_caption(reason)}",
        )
        await reply(
            interaction,
            f"🚫 Disqualified: “{quote_caption(found.text)}”. "
            + ("The author was told why." if told else "I couldn't DM the author."),
        )

    @disqualify.autocomplete("entry")
    async def live_entries(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        # Autocomplete runs no command check, and admins can show /mod to members.
        settings = await self.bot.context.guild_settings(interaction.guild_id)
        if not is_moderator(interaction.user, settings.moderator_role_id if settings else None):
            return []
        contest = await self.bot.context.current_contest(interaction.guild_id)
        if contest is None:
            return []
        live = await self.store.call(entries.contest_entries, contest.id)
        return [
            app_commands.Choice(
                name=clip(f"{f'#{e.number} ' if e.number else ''}{e.text}", 100), value=e.id
            )
            for e in live
            if current.casefold() in e.text.casefold()
        ][:25]

    @app_commands.command(name="ban", description="Stop a member from entering contests")
    @moderator_only()
    async def ban(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        reason: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        now = self.bot.clock.now()
        await self.store.call(
            audit.audited,
            AuditEntry(
                interaction.guild_id,
                interaction.user.id,
                "member.ban",
                f"user:{member.id}",
                {"reason": reason},
                now=now,
            ),
            guilds.ban_member,
            interaction.guild_id,
            member.id,
            interaction.user.id,
            reason,
            now,
        )
        await reply(interaction, f"🔒 {member.mention} can no longer enter contests here.")

    @app_commands.command(name="unban", description="Let a member enter contests again")
    @moderator_only()
    async def unban(self, interaction: discord.Interaction, member: discord.Member) -> None:
        now = self.bot.clock.now()
        lifted = await self.store.call(
            audit.audited,
            lambda lifted: AuditEntry(
                interaction.guild_id,
                interaction.user.id,
                "member.unban",
                f"user:{member.id}",
                {"was_banned": lifted},
                now=now,
            ),
            guilds.unban_member,
            interaction.guild_id,
            member.id,
        )
        await reply(
            interaction,
            f"🔓 {member.mention} may enter again."
            if lifted
            else f"{member.mention} wasn't banned.",
        )

    @app_commands.command(
        name="export", description="Download this server's contests as a CSV file"
    )
    @app_commands.describe(season="Only this season's contests (its number from /leaderboard)")
    @moderator_only()
    async def export(self, interaction: discord.Interaction, season: int | None = None) -> None:
        now = self.bot.clock.now()
        details = {"season": season}
        await self.store.call(
            audit.log_action,
            interaction.guild_id,
            interaction.user.id,
            "data.export",
            None,
            details,
            now=now,
        )
        rows = await asyncio.to_thread(
            export.read_guild_rows, self.store.path, interaction.guild_id, season_id=season
        )
        stem = f"punchline-{interaction.guild_id}{f'-season-{season}' if season else ''}"
        files = await asyncio.to_thread(export.export_files, rows, stem)
        batches = export.message_batches(files)
        note = (
            "📄 Here's the export."
            if len(files) == 1 and files[0][0].endswith(".csv")
            else f"📄 Here's the export: {len(rows)} rows, too big for one plain file "
            f"(Discord takes {export.MAX_FILE_BYTES // 2**20} MiB a file), so zipped"
            + (f" and split into {len(files)} parts in order." if len(files) > 1 else ".")
        )
        for number, batch in enumerate(batches):
            attachments = [discord.File(io.BytesIO(data), name) for name, data in batch]
            await interaction.followup.send(
                note if number == 0 else f"📄 …continued ({number + 1} of {len(batches)}).",
                files=attachments,
                ephemeral=True,
            )

    @app_commands.command(name="audit", description="Recent moderator and bot actions")
    @moderator_only()
    async def audit_log(
        self, interaction: discord.Interaction, page: app_commands.Range[int, 1, 1000] = 1
    ) -> None:
        actions = await self.store.call(
            audit.recent_actions,
            interaction.guild_id,
            offset=(page - 1) * AUDIT_PAGE,
            limit=AUDIT_PAGE,
        )
        if not actions:
            await reply(interaction, "Nothing on that page.")
            return
        lines = [
            f"{discord.utils.format_dt(a.at, 'd')} {discord.utils.format_dt(a.at, 't')} · "
            f"{author_mention(a.actor_id) if a.actor_id else 'bot'} · `{a.action}` {a.target or ''}"
            for a in actions
        ]
        await reply(interaction, clip(f"**Audit log, page {page}**\n" + "\n".join(lines)))

    @app_commands.command(
        name="block-term", description="Never let a generated joke contain this word or phrase"
    )
    @moderator_only()
    async def block_term(
        self, interaction: discord.Interaction, term: app_commands.Range[str, 2, 60]
    ) -> None:
        now = self.bot.clock.now()
        added = await self.store.call(
            audit.audited,
            lambda added: AuditEntry(
                interaction.guild_id,
                interaction.user.id,
                "joke.block",
                None,
                {"added": added},
                now=now,
            ),
            jokes.block_term,
            interaction.guild_id,
            term.strip(),
            interaction.user.id,
            now,
        )
        await reply(
            interaction,
            "🚫 Blocked for generated jokes." if added else "That term was already blocked.",
        )

    @app_commands.command(
        name="unblock-term", description="Allow a blocked word or phrase in generated jokes again"
    )
    @moderator_only()
    async def unblock_term(
        self, interaction: discord.Interaction, term: app_commands.Range[str, 2, 60]
    ) -> None:
        now = self.bot.clock.now()
        removed = await self.store.call(
            audit.audited,
            lambda removed: AuditEntry(
                interaction.guild_id,
                interaction.user.id,
                "joke.unblock",
                None,
                {"removed": removed},
                now=now,
            ),
            jokes.unblock_term,
            interaction.guild_id,
            term.strip(),
        )
        await reply(interaction, "✅ Unblocked." if removed else "That term wasn't blocked.")

    async def _tell_author(self, user_id: int, text: str) -> bool:
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(text, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException:
            return False
        return True


async def setup(bot: PunchlineBot) -> None:
    await bot.add_cog(Moderation(bot))
