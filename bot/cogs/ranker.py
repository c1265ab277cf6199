"""/ranker status and /ranker rollback: which preference adapter this community runs on."""

from __future__ import annotations

import asyncio
import io
import json
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.app import PunchlineBot, reply
from bot.checks import moderator_only
from bot.text import clip
from storage import adapters, audit

if TYPE_CHECKING:
    from bot.ai import TasteFindings


def taste_sentences(findings: TasteFindings) -> list[str]:
    """A few plain sentences a moderator can act on."""
    clear = sorted((e for e in findings.effects if e.clear), key=lambda e: -abs(e.crowd))
    lines = [
        f"📊 **Taste report** from {findings.pairs} clear preferences in {findings.contests} contests."
    ]
    for effect in clear[:4]:
        verb = "rewards" if effect.crowd > 0 else "punishes"
        model = ""
        if effect.model is not None:
            same = (effect.model > 0) == (effect.crowd > 0) and abs(effect.model) > 0.1
            model = " The AI has learned this." if same else " The AI doesn't weigh this yet."
        lines.append(
            f"• This community **{verb} {effect.name}** ({effect.crowd:+.2f} log-odds per standard "
            f"deviation, 90% interval {effect.crowd_low:+.2f} to {effect.crowd_high:+.2f}).{model}"
        )
    if not clear:
        lines.append("• No factor stands out clearly yet: more votes will sharpen the picture.")
    t = findings.trust
    if t.top_pick_agreement is not None:
        lines.append(
            f"🤖 The AI picked the crowd's winner in {t.top_pick_agreement:.0%} of {t.contests} contests and "
            f"ordered {t.pair_agreement:.0%} of clear pairs as the crowd did."
        )
    strong = [b for b in t.reliability if b.confidence >= 0.7 and b.count >= 10]
    if strong:
        b = strong[-1]
        lines.append(
            f"When it says about {b.confidence:.0%} sure it was right {b.accuracy:.0%} of the time "
            f"({b.count} pairs, contests it wasn't calibrated on)."
        )
    return lines


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
        refits = [
            a
            for a in await self.bot.store.call(
                audit.recent_actions, interaction.guild_id, limit=200
            )
            if a.action == "ranker.refit"
        ]
        lines = []
        if active is None:
            lines.append(
                "🤖 Running on the **base adapter** (learned from New Yorker crowd votes)."
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
        await interaction.response.defer(ephemeral=True, thinking=True)
        findings = await self.bot.ai.taste(interaction.guild_id)
        if findings is None:
            await reply(
                interaction,
                "Not enough votes yet for a taste report: it needs a few closed contests "
                "with clear preferences. Check back in a few days!",
            )
            return
        chart = await asyncio.to_thread(
            render.taste_chart,
            "What this community rewards",
            findings.effects,
            list(findings.trust.reliability),
        )
        await interaction.edit_original_response(
            content=clip("\n".join(taste_sentences(findings))),
            attachments=[discord.File(io.BytesIO(chart), "taste.png")],
        )

    @app_commands.command(name="rollback", description="Go back to the previous taste model")
    @moderator_only()
    async def rollback(self, interaction: discord.Interaction) -> None:
        if self.bot.ai is None:
            await reply(interaction, "The AI ranker is off on this bot.")
            return
        now_active = await self.bot.ai.rollback(interaction.guild_id)
        await self.bot.store.call(
            audit.log_action,
            interaction.guild_id,
            interaction.user.id,
            "ranker.rollback",
            None,
            {"now": now_active.version if now_active else "base"},
            now=self.bot.engine.clock.now(),
        )
        await reply(
            interaction,
            f"↩️ Now on adapter v{now_active.version}."
            if now_active
            else "↩️ Back on the base adapter.",
        )


async def setup(bot: PunchlineBot) -> None:
    await bot.add_cog(Ranker(bot))
