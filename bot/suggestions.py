"""Reviewing members' picture suggestions: Approve and Decline buttons, a reason for declining,
and telling the suggester.

The buttons carry the suggestion's id in their ``custom_id`` and are registered as
``DynamicItem``s, so a review shown before a restart still works after it. Each press is checked
when it happens: a moderator of this server, a suggestion of this server that still waits (a
forged id finds nothing). Each verdict commits with its audit line; the suggester hears it by
DM, or, when their DMs are closed, from **/prompt mine**.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Callable
from typing import Any

import discord

from bot.checks import is_moderator
from bot.context import BotContext
from bot.text import NO_PINGS, clip, quote_caption, timestamp
from storage import audit, suggestions
from storage.audit import AuditEntry
from storage.suggestions import Outcome, Result, Suggestion

log = logging.getLogger(__name__)
DM_TIMEOUT_S = 10.0
_ID = r"(?P<id>[0-9]{1,19})"
_AUDITED = {
    Outcome.APPROVED: "prompt.approve",
    Outcome.DECLINED: "prompt.decline",
    Outcome.DUPLICATE: "prompt.decline",
}


def _ctx(interaction: discord.Interaction) -> BotContext:
    return interaction.client.context  # type: ignore[attr-defined]


def can_post_pictures(guild: discord.Guild | None, channel_id: int | None) -> bool:
    """Whether the bot may attach files in the contest channel (True when it cannot tell)."""
    channel = guild.get_channel(channel_id) if guild and channel_id else None
    if channel is None:
        return True
    return channel.permissions_for(guild.me).attach_files


def describe(suggestion: Suggestion) -> str:
    """The suggestion's description, quoted safely, or a placeholder."""
    return (
        f"“{quote_caption(suggestion.description)}”"
        if suggestion.description
        else "(no description)"
    )


def verdict_message(guild_name: str, suggestion: Suggestion) -> str:
    """What the suggester is told about a decided suggestion."""
    where = f"**{quote_caption(guild_name)}**"
    if suggestion.status == suggestions.APPROVED:
        credit = (
            "credited to you" if not suggestion.anonymous else "without your name, as you asked"
        )
        return (
            f"🖼️ Your picture {describe(suggestion)} for {where} was approved: it's in the "
            f"prompt pool now, {credit}. Thank you!"
        )
    reason = f" Reason: {quote_caption(suggestion.reason)}" if suggestion.reason else ""
    return (
        f"Your picture {describe(suggestion)} for {where} was declined, and the picture was "
        f"deleted.{reason}"
    )


async def tell_suggester(ctx: BotContext, guild: discord.Guild, suggestion: Suggestion) -> bool:
    """DM the verdict; True when it arrived (it is then marked as told)."""
    try:
        user = ctx.client.get_user(suggestion.user_id) or await ctx.client.fetch_user(
            suggestion.user_id
        )
        await asyncio.wait_for(
            user.send(verdict_message(guild.name, suggestion), allowed_mentions=NO_PINGS),
            DM_TIMEOUT_S,
        )
    except (discord.HTTPException, TimeoutError) as problem:
        log.info("could not DM suggestion %s's verdict: %s", suggestion.id, problem)
        return False
    await ctx.store.call(suggestions.mark_told, [suggestion.id])
    return True


def moderator_note(result: Result, suggestion_id: int, told: bool | None) -> str:
    """The moderator's answer to a press."""
    decided = result.suggestion
    if result.outcome == Outcome.GONE:
        return (
            f"Suggestion #{suggestion_id} is not in this server's queue any more (its "
            "suggester may have erased their data). Nothing was changed."
        )
    if result.outcome == Outcome.DECIDED:
        return (
            f"Suggestion #{suggestion_id} was already {decided.status} by "
            f"<@{decided.decided_by}>; nothing was changed."
        )
    heard = (
        " I told them by DM."
        if told
        else " I couldn't DM them; they'll see it with **/prompt mine**."
    )
    if result.outcome == Outcome.APPROVED:
        credit = f"credited to <@{decided.user_id}>" if not decided.anonymous else "anonymous"
        return (
            f"✅ Approved #{suggestion_id}: it's prompt #{result.prompt_id} now ({credit}).{heard}"
        )
    if result.outcome == Outcome.DUPLICATE:
        return (
            f"That picture is already in the pool as prompt #{result.prompt_id}, so I closed "
            f"suggestion #{suggestion_id} without adding it again.{heard}"
        )
    return f"🗑️ Declined #{suggestion_id}; its picture is deleted.{heard}"


async def review_page(ctx: BotContext, guild_id: int, note: str | None = None) -> dict[str, Any]:
    """The review message: the oldest waiting suggestion with its buttons, or an empty queue."""
    lines = [note] if note else []
    found = await ctx.store.call(suggestions.next_for_review, guild_id)
    if found is None:
        lines.append("📭 No picture suggestions are waiting.")
        return {"content": "\n".join(lines), "embed": None, "attachments": [], "view": None}
    waiting, image, count = found
    filename = f"suggestion.{'png' if waiting.image_format == 'png' else 'jpg'}"
    embed = discord.Embed(
        title=f"Picture suggestion #{waiting.id}",
        description=describe(waiting),
        colour=discord.Colour.blurple(),
    )
    anonymous = " (asked not to be credited)" if waiting.anonymous else ""
    embed.add_field(name="Suggested by", value=f"<@{waiting.user_id}>{anonymous}")
    embed.add_field(name="Waiting since", value=timestamp(waiting.suggested_at))
    embed.set_image(url=f"attachment://{filename}")
    embed.set_footer(text="Approve adds it to the pool; Decline deletes it.")
    lines.append(
        f"**{count}** picture suggestion{'s' if count != 1 else ''} waiting, oldest first."
    )
    view = discord.ui.View(timeout=None)
    view.add_item(ApproveButton(waiting.id))
    view.add_item(DeclineButton(waiting.id))
    return {
        "content": clip("\n".join(lines)),
        "embed": embed,
        "attachments": [discord.File(io.BytesIO(image), filename)],
        "view": view,
    }


async def _moderator_may(interaction: discord.Interaction) -> bool:
    """Checked at every press: refuse (ephemerally) anyone who is not a moderator here."""
    settings = await _ctx(interaction).guild_settings(interaction.guild_id or 0)
    if interaction.guild is not None and is_moderator(
        interaction.user, settings.moderator_role_id if settings else None
    ):
        return True
    await interaction.response.send_message(
        "Only moderators (Manage Server, or the moderator role) can do that.", ephemeral=True
    )
    return False


async def _decide(
    interaction: discord.Interaction,
    suggestion_id: int,
    decide: Callable[..., Result],
    *args: object,
) -> None:
    """Run a verdict with its audit line, tell the suggester, then show the next suggestion."""
    ctx = _ctx(interaction)
    await interaction.response.defer()  # updates the review message when done
    now = ctx.clock.now()

    def audit_line(result: Result) -> AuditEntry | None:
        action = _AUDITED.get(result.outcome)
        if action is None:
            return None
        details = {"prompt": result.prompt_id} if result.outcome == Outcome.APPROVED else {}
        if result.outcome != Outcome.APPROVED:
            details["reason"] = result.suggestion.reason
        target = f"suggestion:{suggestion_id}"
        return AuditEntry(
            interaction.guild_id, interaction.user.id, action, target, details, now=now
        )

    result = await ctx.store.call(
        audit.audited,
        audit_line,
        decide,
        interaction.guild_id,
        suggestion_id,
        interaction.user.id,
        *args,
        now,
    )
    told = None
    if result.outcome in _AUDITED:
        told = await tell_suggester(ctx, interaction.guild, result.suggestion)
    note = moderator_note(result, suggestion_id, told)
    page = await review_page(ctx, interaction.guild_id, note)
    await interaction.edit_original_response(allowed_mentions=NO_PINGS, **page)


class ApproveButton(
    discord.ui.DynamicItem[discord.ui.Button], template=rf"suggestion:approve:{_ID}"
):
    def __init__(self, suggestion_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Approve",
                style=discord.ButtonStyle.success,
                custom_id=f"suggestion:approve:{suggestion_id}",
            )
        )
        self.suggestion_id = suggestion_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> ApproveButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if await _moderator_may(interaction):
            await _decide(interaction, self.suggestion_id, suggestions.approve_suggestion)


class DeclineButton(
    discord.ui.DynamicItem[discord.ui.Button], template=rf"suggestion:decline:{_ID}"
):
    def __init__(self, suggestion_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Decline…",
                style=discord.ButtonStyle.danger,
                custom_id=f"suggestion:decline:{suggestion_id}",
            )
        )
        self.suggestion_id = suggestion_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> DeclineButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Ask for a reason (a modal), unless the suggestion no longer waits."""
        if not await _moderator_may(interaction):
            return
        ctx = _ctx(interaction)
        waiting = await ctx.store.call(
            suggestions.get_suggestion, interaction.guild_id, self.suggestion_id
        )
        if waiting is None or waiting.status != suggestions.PENDING:
            outcome = Outcome.GONE if waiting is None else Outcome.DECIDED
            await interaction.response.defer()
            note = moderator_note(Result(outcome, waiting), self.suggestion_id, None)
            page = await review_page(ctx, interaction.guild_id, note)
            await interaction.edit_original_response(allowed_mentions=NO_PINGS, **page)
            return
        await interaction.response.send_modal(DeclineReason(self.suggestion_id, interaction.id))


class DeclineReason(discord.ui.Modal, title="Decline this picture"):
    """The optional reason the suggester is told. Not kept across a restart: a moderator whose
    modal was open then presses Decline again (the suggestion still waits)."""

    reason = discord.ui.TextInput(
        custom_id="reason",
        label="Reason (the member will read it)",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=300,
    )

    def __init__(self, suggestion_id: int, nonce: int) -> None:
        # one modal per press: two moderators declining at once must not share a custom_id
        super().__init__(timeout=900, custom_id=f"suggestion:reason:{suggestion_id}:{nonce}")
        self.suggestion_id = suggestion_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        if await _moderator_may(interaction):
            reason = self.reason.value.strip() or None
            await _decide(interaction, self.suggestion_id, suggestions.decline_suggestion, reason)


REVIEW_BUTTONS = (ApproveButton, DeclineButton)
