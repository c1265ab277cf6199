"""The moderators' controls: start now, extend, end the phase now, reopen.

They drive the same steps the schedule does (:mod:`bot.engine`). A command answers its moderator
before it calls any of them (the command tree acknowledges every command first), and a step that
posts to Discord for minutes, such as opening voting on 200 entries, runs as its own task: the
moderator is told at once what is happening and gets a follow-up when it is done.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

import discord

from bot.engine import ContestEngine
from bot.rules.schedule import (
    ContestPlan,
    ContestTimes,
    Phase,
    ScheduleError,
    local_day,
    next_opening,
    schedule_of,
)
from storage import audit, contests
from storage.models import Contest

log = logging.getLogger(__name__)
POSTS_PER_SECOND = 1.0  # Discord lets a bot post 5 messages per 5 s in a channel


async def start_now(engine: ContestEngine, guild_id: int, actor_id: int) -> tuple[Contest, bool]:
    """Open today's contest now with the usual phase lengths; (contest, created).

    ``created`` is False when today's contest already exists (one contest per day).
    """
    ctx = engine.ctx
    async with engine.steps(guild_id):
        async with ctx.lock(guild_id):
            settings = await engine.ready_settings(guild_id)
            if settings is None:
                raise ScheduleError("Set the contest up first with /contest setup.")
            schedule, now = schedule_of(settings), ctx.clock.now()
            voting_at = now + schedule.submission
            plan = ContestPlan(
                local_day(now, schedule.zone),
                ContestTimes(now, voting_at, voting_at + schedule.voting),
                catch_up=False,
            )
            contest, created = await engine.open_planned(settings, plan, actor_id=actor_id)
        if created:
            await engine.announce_opening(contest)
        return contest, created


async def extend(engine: ContestEngine, guild_id: int, minutes: int, actor_id: int) -> Contest:
    """Push the running phase's deadline (and what follows) back by ``minutes``."""
    ctx, store = engine.ctx, engine.ctx.store
    async with ctx.lock(guild_id):
        contest = await ctx.current_contest(guild_id)
        if contest is None:
            raise ScheduleError("No contest is running to extend.")
        delta = timedelta(minutes=minutes)
        settings = await ctx.guild_settings(guild_id)
        if contest.closes_at + delta > next_opening(contest.opens_at, schedule_of(settings)):
            raise ScheduleError("That would run into the next day's prompt; extend by less.")
        voting_at = contest.voting_at + delta if contest.phase == Phase.SUBMISSIONS else None
        await store.call(
            audit.audited,
            engine.audit_entry(actor_id, "contest.extend", contest, {"minutes": minutes}),
            contests.set_times,
            contest.id,
            voting_at=voting_at,
            closes_at=contest.closes_at + delta,
        )
        contest = await store.call(contests.get_contest, contest.id)
        engine.arm_phases(contest)
        return contest


@dataclass(frozen=True)
class PhaseEnding:
    """What ``/contest close`` started: the phase being reached, and the step reaching it."""

    phase: Phase
    entries: int
    """Entries being posted (voting by emoji); 0 for ballots and for a close."""
    by_ballot: bool
    step: asyncio.Task[bool]
    """Runs beside the commands; True once Discord took every step (else it is retried)."""

    def describe(self) -> str:
        """The moderator's first answer: what is happening now, and about how long it takes."""
        if self.phase == Phase.CLOSED:
            return (
                "⏳ Closing: counting every vote (they count until the tally) and posting the "
                "results. I'll tell you here when they're up."
            )
        opened = "🗳️ Voting is open; submissions are closed."
        if self.by_ballot or not self.entries:
            return f"{opened} I'll tell you here when it's all set."
        minutes = self.entries / POSTS_PER_SECOND / 60
        how_long = f"about {minutes:.0f} min" if minutes >= 1.5 else "under two minutes"
        return (
            f"{opened} I'm posting the {self.entries} entries in the voting thread: Discord "
            f"paces a bot's posts (about one a second), so that takes {how_long}. Members can "
            "vote on each as it appears; I'll tell you here when all are up."
        )

    def outcome(self, finished: bool) -> str:
        """The moderator's follow-up once the step ran: done, or to be finished shortly."""
        if not finished:
            return "Discord didn't take every step just now; I'll finish it in a minute."
        if self.phase == Phase.CLOSED:
            return "🏁 Closed; the results are posted."
        if self.by_ballot:
            return "✅ The Vote button is on today's prompt; members can vote."
        return "✅ Every entry is up; members can vote."


async def end_phase_now(engine: ContestEngine, guild_id: int, actor_id: int) -> PhaseEnding:
    """End the running phase now: submissions → voting, or voting → closed with results.

    The phase change that decides what members may do next (no more submissions) is made
    before this returns; the posting runs as its own task.
    """
    ctx = engine.ctx
    contest = await ctx.current_contest(guild_id)
    if contest is None:
        raise ScheduleError("No contest is running.")
    entry = engine.audit_entry(actor_id, "contest.advance", contest, {"from": contest.phase})
    await ctx.store.call(audit.write_entry, entry)  # the steps write as they go
    if contest.phase == Phase.SUBMISSIONS:
        engine.cancel(f"voting:{contest.id}")
        begun = await engine.begin_voting(contest.id)
        settings = await ctx.guild_settings(guild_id)
        by_ballot = settings is not None and settings.vote_mode == "ballot"
        posting = 0 if begun is None or by_ballot else len(begun[1])
        step = engine.start_step(f"voting:{contest.id}", engine.start_voting, contest.id)
        return PhaseEnding(Phase.VOTING, posting, by_ballot, step)
    engine.cancel(f"close:{contest.id}")
    step = engine.start_step(f"close:{contest.id}", engine.close_contest, contest.id)
    return PhaseEnding(Phase.CLOSED, 0, False, step)


async def reopen(engine: ContestEngine, guild_id: int, minutes: int, actor_id: int) -> Contest:
    """Reopen the latest closed contest's voting for ``minutes``; results are posted again after.

    Discord archives the voting thread days after its last message, and an archived thread
    refuses reactions: it is unarchived first, and when Discord refuses that nothing changes.
    """
    ctx, store = engine.ctx, engine.ctx.store
    async with engine.steps(guild_id):
        contest = await store.call(contests.latest_contest, guild_id)
        if contest is None or contest.phase != Phase.CLOSED:
            raise ScheduleError("Only a closed contest can be reopened.")
        try:
            await engine.votes.posts.reopen_thread(contest)
        except discord.HTTPException as refused:
            log.warning(
                "contest %s: could not unarchive its voting thread: %s", contest.id, refused
            )
            raise ScheduleError(
                "I couldn't reopen the voting thread (Discord said: "
                f"{refused.text or refused.status}). Nothing was changed; if a moderator locked "
                "the thread, unlock it, or give me Manage Threads, and try again."
            ) from None
        async with ctx.lock(guild_id):
            closes_at = ctx.clock.now() + timedelta(minutes=minutes)
            await store.call(
                audit.audited,
                engine.audit_entry(actor_id, "contest.reopen", contest, {"minutes": minutes}),
                contests.reopen_voting,
                contest.id,
                closes_at,
            )
            contest = await store.call(contests.get_contest, contest.id)
        engine.arm_phases(contest)
        await engine.votes.watch_all()  # its posted entries count reactions again
        await engine.votes.posts.announce_reopened(contest)
    return contest
