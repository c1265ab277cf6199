"""The taste report: what a community's votes reward, and how far to trust the AI, in a few
plain sentences and a chart. Shown by ``/ranker report`` and, where moderators enable it, posted
every week."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot import render
from bot.text import clip

if TYPE_CHECKING:
    from bot.context import CommunityModels
    from ranker import TasteFindings

NOT_ENOUGH_VOTES = (
    "Not enough votes yet for a taste report: it needs a few closed contests "
    "with clear preferences. Check back in a few days!"
)


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
            f"({b.count} pairs from contests it had not learned from)."
        )
    return lines


async def taste_report(ai: CommunityModels, guild_id: int) -> tuple[str, bytes] | None:
    """The report's text and chart (PNG) for the guild; None without enough votes."""
    findings = await ai.taste(guild_id)
    if findings is None:
        return None
    chart = await asyncio.to_thread(
        render.taste_chart,
        "What this community rewards",
        findings.effects,
        list(findings.trust.reliability),
    )
    return clip("\n".join(taste_sentences(findings))), chart
