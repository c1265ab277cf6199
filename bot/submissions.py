"""Members' captions: submitting, editing and withdrawing, under the guild's lock."""

from __future__ import annotations

from bot.context import BotContext
from bot.rules.captions import (
    CaptionRejected,
    SubmissionAction,
    SubmissionContext,
    decide_submission,
    require_submissions_open,
    validate_caption,
)
from bot.rules.schedule import Phase
from storage import entries, guilds
from storage.entries import DuplicateCaption
from storage.models import Entry

DUPLICATE = "That caption is already in today's contest. Try a twist of your own!"


async def submit_caption(
    ctx: BotContext, guild_id: int, author_id: int, text: str
) -> tuple[Entry, Entry | None]:
    """Add a member's caption to the running contest; returns (entry, the one it replaced)."""
    shown, key = validate_caption(text)
    async with ctx.lock(guild_id):
        contest = await ctx.current_contest(guild_id)
        settings = await ctx.guild_settings(guild_id)
        mine = (
            await ctx.store.call(entries.author_entries, contest.id, author_id) if contest else []
        )
        action = decide_submission(
            SubmissionContext(
                phase=Phase(contest.phase) if contest else None,
                banned=await ctx.store.call(guilds.is_banned, guild_id, author_id),
                live_entries=len(mine),
                max_entries=settings.max_entries_per_member if settings else 1,
            )
        )
        now = ctx.clock.now()
        try:
            if action is SubmissionAction.REPLACE_OLDEST:
                return await ctx.store.call(entries.edit_entry, mine[0].id, shown, key, now), mine[
                    0
                ]
            return await ctx.store.call(
                entries.add_entry, contest.id, author_id, shown, key, now
            ), None
        except DuplicateCaption:
            raise CaptionRejected(DUPLICATE) from None


async def change_entry(
    ctx: BotContext, guild_id: int, author_id: int, entry_id: int | None, new_text: str | None
) -> Entry:
    """Edit (``new_text``) or withdraw (None) one of the member's live entries."""
    shown_key = validate_caption(new_text) if new_text is not None else None
    async with ctx.lock(guild_id):
        contest = await ctx.current_contest(guild_id)
        require_submissions_open(Phase(contest.phase) if contest else None)
        mine = await ctx.store.call(entries.author_entries, contest.id, author_id)
        target = next((e for e in mine if entry_id in (None, e.id)), None)
        if target is None:
            raise CaptionRejected("You have no caption in today's contest to change.")
        now = ctx.clock.now()
        if shown_key is None:
            return await ctx.store.call(entries.set_status, target.id, "withdrawn", None, now)
        try:
            return await ctx.store.call(entries.edit_entry, target.id, *shown_key, now)
        except DuplicateCaption:
            raise CaptionRejected(DUPLICATE) from None
