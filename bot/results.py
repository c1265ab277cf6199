"""Announcing a closed contest: the crowd's ranking, the AI's beside it, and the results card."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import discord

from bot import render
from bot.context import BotContext
from bot.posts import results_title
from bot.rules.tally import EntryRatings, TallyLine, tally_contest
from bot.text import NO_PINGS, clip, quote_caption
from storage import audit, contests, entries, prompts, seasons, votes
from storage.audit import AuditEntry
from storage.models import Contest, Entry, Placement, RatingCounts
from storage.privacy import ERASED_TEXT, FORMER_MEMBER, is_former_member

if TYPE_CHECKING:
    from ranker import AIRanking

log = logging.getLogger(__name__)
SHOWN_LINES = 10
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
NO_RATINGS = "no ratings"


async def tally(ctx: BotContext, contest: Contest) -> tuple[list[TallyLine], dict[int, Entry]]:
    """The crowd ranking of the contest's live entries, from the stored ratings."""
    live = await ctx.store.call(entries.contest_entries, contest.id)
    counts = await ctx.store.call(votes.rating_counts, contest.id)
    ratings = [EntryRatings(e.id, e.author_id, counts.get(e.id, RatingCounts())) for e in live]
    return tally_contest(ratings), {e.id: e for e in live}


class AIUnavailable(Exception):
    """The AI ranker failed or timed out for this contest (the crowd's ranking stands alone)."""


async def ai_ranking(ctx: BotContext, guild_id: int, description: str, ordered: list[Entry]):
    """The AI ranker's view; None when there is no ranker or under two entries.

    Raises :class:`AIUnavailable` when the ranker crashes, or hangs past the ``ai_timeout_s``
    setting (``PUNCHLINE_AI_TIMEOUT``).
    """
    ranker = ctx.ai
    if ranker is None or len(ordered) < 2:
        return None
    try:
        return await asyncio.wait_for(
            ranker.rank(guild_id, description, [e.text for e in ordered]),
            ctx.config.ai_timeout_s,
        )
    except Exception as exc:  # a broken model must never stop the results
        log.exception("AI ranking failed; announcing the crowd's ranking alone")
        raise AIUnavailable(type(exc).__name__) from exc


async def announce_results(ctx: BotContext, contest: Contest) -> None:
    """Post the results once and store the placements for the leaderboards."""
    lines, by_id = await tally(ctx, contest)
    await _save_placements(ctx, contest, lines)
    ordered = [by_id[line.entry_id] for line in lines]
    ai, ai_failure = await _ai_ranking_of(ctx, contest, ordered)
    embed = discord.Embed(title=f"🏆 {results_title(contest)}", colour=discord.Colour.gold())
    embed.description = crowd_text(lines, by_id) if lines else "No captions this time. Tomorrow!"
    if ai_failure is not None:
        embed.set_footer(
            text="The AI's ranking was unavailable this time; the crowd's ranking is unaffected."
        )
    if ai is not None:
        embed.add_field(name="🤖 The AI's ranking", value=ai_text(ai, lines, ordered), inline=False)
    pick, note = await ai_panel(ctx, contest, lines, ordered, ai, ai_failure)
    captions = {e.id: e.text for e in by_id.values()}
    card = await results_card(ctx, contest, lines, captions, pick, note)
    embed.set_image(url="attachment://results.png")
    channel = await ctx.channel(contest.channel_id)
    message = await channel.send(
        embed=embed, file=discord.File(io.BytesIO(card), "results.png"), allowed_mentions=NO_PINGS
    )
    posted = AuditEntry(
        contest.guild_id,
        None,
        "contest.results",
        f"contest:{contest.id}",
        {"entries": len(lines)},
        now=ctx.clock.now(),
    )
    await ctx.store.call(
        audit.audited, posted, contests.set_message_ids, contest.id, results_message_id=message.id
    )


async def _save_placements(ctx: BotContext, contest: Contest, lines: list[TallyLine]) -> None:
    placements = [
        Placement(
            contest.id,
            line.entry_id,
            line.author_id,
            line.rank,
            len(lines),
            line.mean,
            line.lower_bound,
            line.votes,
            line.points,
        )
        for line in lines
    ]
    await ctx.store.call(seasons.save_placements, contest.id, placements)


async def _ai_ranking_of(
    ctx: BotContext, contest: Contest, ordered: list[Entry]
) -> tuple[AIRanking | None, str | None]:
    """The AI's ranking of the entries (in crowd order), or None and why it was unavailable
    (audited, so that moderators see it in /ranker status)."""
    prompt = (
        await ctx.store.call(prompts.get_prompt, contest.prompt_id) if contest.prompt_id else None
    )
    try:
        description = prompt.description if prompt else ""
        return await ai_ranking(ctx, contest.guild_id, description, ordered), None
    except AIUnavailable as failure:
        await ctx.store.call(
            audit.log_action,
            contest.guild_id,
            None,
            "ranker.unavailable",
            f"contest:{contest.id}",
            {"error": str(failure)},
            now=ctx.clock.now(),
        )
        return None, str(failure)


class Placed(Protocol):
    """A placed entry, as a tally line or a stored placement gives it."""

    rank: int
    entry_id: int
    author_id: int
    votes: int
    mean: float


def author_mention(author_id: int) -> str:
    """How results and leaderboards name an author: a mention, or "a former member"."""
    return FORMER_MEMBER if is_former_member(author_id) else f"<@{author_id}>"


async def author_name(ctx: BotContext, guild_id: int, author_id: int) -> str:
    """An author's display name for a picture, "a former member" for an erased one."""
    if is_former_member(author_id):
        return FORMER_MEMBER
    return await ctx.display_name(guild_id, author_id)


async def results_card(
    ctx: BotContext,
    contest: Contest,
    placed: Sequence[Placed],
    captions: Mapping[int, str],
    ai_pick: render.AIPick | None = None,
    ai_note: str | None = None,
) -> bytes:
    """The results card's PNG: the top three of ``placed`` (best first) beside the prompt and
    the AI's pick (or ``ai_note`` saying why there is none)."""
    top = placed[:3]
    names = [await author_name(ctx, contest.guild_id, p.author_id) for p in top]
    card_lines = [
        render.CardLine(p.rank, captions[p.entry_id], name, p.votes, p.mean)
        for p, name in zip(top, names, strict=True)
    ]
    image = (
        await ctx.store.call(prompts.prompt_image, contest.prompt_id) if contest.prompt_id else None
    )
    return await asyncio.to_thread(
        render.results_card, results_title(contest), card_lines, image, ai_pick, ai_note
    )


async def ai_panel(
    ctx: BotContext,
    contest: Contest,
    lines: list[TallyLine],
    ordered: list[Entry],
    ai: AIRanking | None,
    ai_failure: str | None,
) -> tuple[render.AIPick | None, str | None]:
    """The card's AI panel: its pick with where the crowd placed it, or why there is none."""
    if ai is not None:
        chosen = ordered[ai.order[0]]
        crowd_rank = next(line.rank for line in lines if line.entry_id == chosen.id)
        author = await author_name(ctx, contest.guild_id, chosen.author_id)
        return render.AIPick(chosen.text, author, crowd_rank, ai.confidence, ai.calibrated), None
    if ai_failure is not None:
        return None, "The AI's ranking was unavailable this time; the crowd's stands."
    if ctx.ai is not None and lines:
        return None, "Too few captions for the AI to pick one."
    return None, None


def crowd_text(lines: list[TallyLine], by_id: dict[int, Entry]) -> str:
    """The results post's ranking: each entry's caption, author and ratings.

    An entry nobody rated says so rather than show the contest's prior as if it were its mean.
    """
    rows = []
    for line in lines[:SHOWN_LINES]:
        entry = by_id[line.entry_id]
        counts = " · ".join(f"{rating.emoji} {n}" for rating, n in line.counts.by_rating())
        ratings = f"{counts} · mean {line.mean:.2f}" if line.votes else NO_RATINGS
        medal = MEDALS.get(line.rank, f"**{line.rank}.**")
        heading = _entry_heading(entry.number, author_mention(entry.author_id))
        rows.append(f"{medal} {heading}\n> {quote_caption(entry.text)}\n{ratings}")
    if len(lines) > SHOWN_LINES:
        rows.append(f"…and {len(lines) - SHOWN_LINES} more. Thanks, everyone!")
    return clip("\n\n".join(rows), 4096)


def _entry_heading(number: int | None, author: str) -> str:
    return f"**Entry #{number}** by {author}"


def erase_from_crowd_text(
    text: str, user_id: int, captions: Sequence[tuple[int | None, str]]
) -> str:
    """A posted :func:`crowd_text` with an erased member's captions and mention taken out.

    ``captions`` are (entry number, caption as posted). An entry whose row was clipped at the
    end of the post loses the rest of the post from that row on.
    """
    for number, caption in captions:
        heading = _entry_heading(number, f"<@{user_id}>")
        posted = f"{heading}\n> {quote_caption(caption)}\n"
        if posted in text:
            erased = f"{_entry_heading(number, FORMER_MEMBER)}\n> {quote_caption(ERASED_TEXT)}\n"
            text = text.replace(posted, erased)
        elif heading in text:
            row_start = text.rfind("\n\n", 0, text.index(heading))
            text = text[: max(row_start, 0)] + "\n\n…"
    return text.replace(f"<@{user_id}>", FORMER_MEMBER)


def ai_text(ai, lines: list[TallyLine], ordered: list[Entry]) -> str:
    """The AI's top three beside the crowd's, and whether they agree on the winner."""
    picks = [ordered[i] for i in ai.order[:3]]
    top = " · ".join(f"Entry #{e.number}" for e in picks)
    verdict = (
        "✅ Its pick is the crowd's winner."
        if picks[0].id == lines[0].entry_id
        else f"Its pick differs: the crowd chose Entry #{ordered[0].number}."
    )
    how_sure = (
        f"Chance its pick beats its runner-up with the crowd: {ai.confidence:.0%} "
        "(calibrated on votes it never trained on)."
        if ai.calibrated
        else f"Its confidence, not yet calibrated for this community: {ai.confidence:.0%}."
    )
    return clip(f"{top}\n{verdict} {how_sure}", 1024)
