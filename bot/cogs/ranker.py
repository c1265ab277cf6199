"""/ranker status and /ranker rollback: which preference adapter this community runs on."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PunchlineBot, reply
from bot.checks import moderator_only
from bot.taste_report import NOT_ENOUGH_VOTES, taste_report
from storage import adapters, audit
from storage.audit import AuditEntry

FAILURES_SHOWN_FOR = timedelta(days=7)


def describe_metrics(metrics: dict) -> str:
    accuracy = metrics.get("accuracy_new")
    current = metrics.get("accuracy_current")
    parts = []
    if accuracy is not None:
        parts.append(
            f"held-out accuracy {accuracy:.1%}"
            + (f" (previous {current:.1%})" if current is not None else "")
        )
    if metrics.get("pairs_train"):
        parts.append(
            f"{metrics['pairs_train']} training pairs, {metrics.get('pairs_heldout', 0)} held out"
        )
    return ", ".join(parts) or metrics.get("reason", "")


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Ranker(
    commands.GroupCog, group_name="ranker", group_description="The AI that ranks captions"
):
    def __init__(self, bot: PunchlineBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="status", description="Which taste model this community runs on, and how good it is"
    )
    @moderator_only()
    async def status(self, interaction: discord.Interaction) -> None:
        if self.bot.ai is None:
            await reply(
                interaction,
                "The AI ranker is off on this bot; results show the crowd's ranking only.",
            )
            return
        active = await self.bot.store.call(adapters.active_adapter, interaction.guild_id)
        history = await self.bot.store.call(adapters.adapter_history, interaction.guild_id)
        recent = await self.bot.store.call(audit.recent_actions, interaction.guild_id, limit=200)
        refits = [a for a in recent if a.action == "ranker.refit"]
        week_ago = self.bot.clock.now() - FAILURES_SHOWN_FOR
        failures = [a for a in recent if a.action == "ranker.unavailable" and a.at > week_ago]
        fallback = await self.bot.ai.fallback_reason(interaction.guild_id)
        lines = []
        if active is None:
            lines.append(
                "🤖 Running on the **base adapter** (learned from New Yorker crowd votes)."
            )
        elif fallback:
            lines.append(
                f"🤖 Running on the **base adapter**: this community's {fallback}. "
                "The nightly refit fits a new one from the base."
            )
        else:
            lines.append(
                f"🤖 Running on this community's adapter **v{active.version}** "
                f"(since {discord.utils.format_dt(active.created_at, 'd')}): "
                f"{describe_metrics(json.loads(active.metrics))}."
            )
        if refits:
            last = refits[0]
            verdict = "promoted" if last.details.get("promoted") else "not promoted"
            lines.append(
                f"Last refit {discord.utils.format_dt(last.at, 'R')}: {verdict} — {last.details.get('reason')}."
            )
        else:
            lines.append("No refit yet: it runs nightly once this community has enough votes.")
        if failures:
            last = failures[0]
            lines.append(
                f"⚠️ The AI was unavailable for the results {discord.utils.format_dt(last.at, 'R')}"
                f" ({last.details.get('error')}); the crowd's ranking went out alone. "
                f"{len(failures)} such time(s) in the past week: the bot's log says why."
            )
        if len(history) > 1:
            lines.append(
                "Versions: " + ", ".join(f"v{a.version} ({a.status})" for a in history[:6])
            )
        await reply(interaction, "\n".join(lines))

    @app_commands.command(
        name="report", description="What this community's votes reward, and when to trust the AI"
    )
    @moderator_only()
    async def report(self, interaction: discord.Interaction) -> None:
        if self.bot.ai is None:
            await reply(interaction, "The AI ranker is off on this bot.")
            return
        report = await taste_report(self.bot.ai, interaction.guild_id)
        if report is None:
            await reply(interaction, NOT_ENOUGH_VOTES)
            return
        text, chart = report
        await interaction.edit_original_response(
            content=text, attachments=[discord.File(io.BytesIO(chart), "taste.png")]
        )

    @app_commands.command(
        name="weekly", description="Post the taste report in the contest channel every Monday"
    )
    @app_commands.describe(enabled="True to post it every week, False to stop")
    @moderator_only()
    async def weekly(self, interaction: discord.Interaction, enabled: bool) -> None:
        if enabled and self.bot.ai is None:
            await reply(interaction, "The AI ranker is off on this bot, so there is no report.")
            return
        settings = await self.bot.context.guild_settings(interaction.guild_id)
        if enabled and (settings is None or settings.channel_id is None or not settings.enabled):
            await reply(
                interaction,
                "The report goes to the contest channel, and this server's contest isn't set up "
                "(or is paused): run `/contest setup` first, then turn this on.",
            )
            return
        now = self.bot.clock.now()
        await self.bot.context.update_settings(
            AuditEntry(
                interaction.guild_id,
                interaction.user.id,
                "ranker.weekly",
                None,
                {"enabled": enabled},
                now=now,
            ),
            interaction.guild_id,
            now,
            weekly_report=int(enabled),
        )
        await reply(
            interaction,
            "📅 The taste report will be posted in the contest channel every Monday."
            if enabled
            else "📅 No more weekly taste reports; `/ranker report` still shows it on demand.",
        )

    @app_commands.command(name="rollback", description="Go back to the previous taste model")
    @moderator_only()
    async def rollback(self, interaction: discord.Interaction) -> None:
        if self.bot.ai is None:
            await reply(interaction, "The AI ranker is off on this bot.")
            return
        now = self.bot.clock.now()
        now_active = await self.bot.store.call(
            audit.audited,
            lambda active: AuditEntry(
                interaction.guild_id,
                interaction.user.id,
                "ranker.rollback",
                None,
                {"now": active.version if active else "base"},
                now=now,
            ),
            adapters.rollback_adapter,
            interaction.guild_id,
        )
        self.bot.ai.forget_adapter(interaction.guild_id)
        await reply(
            interaction,
            f"↩️ Now on adapter v{now_active.version}."
            if now_active
            else "↩️ Back on the base adapter.",
        )


async def setup(bot: PunchlineBot) -> None:
    await bot.add_cog(Ranker(bot))
