"""The contest lifecycle: open the day's contest, open voting, close and announce.

Every step is idempotent and keyed on what SQLite already holds, so a job that fires twice, a
restart mid-step or a catch-up after downtime does each thing once: the database decides (one
contest per guild and day, compare-and-set phase changes), and Discord side effects are only
made when the matching message id is still missing.

Two kinds of lock. A guild's steps run one at a time under its *step lock*
(:attr:`ContestEngine.steps`), which they hold while they talk to Discord: posting 200 entries
takes minutes at Discord's pace. Nothing that answers a member or moderator waits for a step
lock before its first answer. The guild lock (``ctx.lock``), which commands and steps share, is
held only around storage work: a step takes what it needs under it, posts outside it, and
records after.

The engine gets a :class:`~bot.context.BotContext` and the scheduler; it hands the context, not
itself, to the vote keeper, the ballot box and the results. The moderators' controls (start now,
extend, end the phase, reopen) are in :mod:`bot.controls`: they drive the same steps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime, timedelta

import aiohttp
import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.ballots import BallotBox
from bot.context import BotContext, GuildLocks
from bot.posts import adopt_unrecorded_results, post_prompt, seed_starter_pool
from bot.results import announce_results
from bot.rules.schedule import (
    ContestPlan,
    Phase,
    due_contest,
    next_opening,
    schedule_of,
)
from bot.votes import VoteKeeper
from storage import audit, contests, entries, guilds, prompts, seasons
from storage.audit import AuditEntry
from storage.models import Contest, Entry, GuildSettings
from storage.shards import ShardSet

log = logging.getLogger(__name__)
DRAIN_SECONDS = 30.0
CATCH_UP_CONCURRENCY = 8  # guilds the catch-ups of all shards work on at once
STEP_RETRY = timedelta(minutes=1)  # after Discord failed transiently
Step = Callable[..., Awaitable[object]]


def is_transient(exc: BaseException) -> bool:
    """Failures worth retrying: Discord's 5xx and exhausted 429s, network errors, timeouts."""
    if isinstance(exc, discord.HTTPException):
        return exc.status == 429 or exc.status >= 500
    return isinstance(exc, aiohttp.ClientError | TimeoutError | ConnectionError)


class ContestEngine:
    """Runs every guild's daily contest. One instance per bot."""

    def __init__(self, ctx: BotContext, scheduler: AsyncIOScheduler) -> None:
        self.ctx = ctx
        self.scheduler = scheduler
        self.votes = VoteKeeper(ctx)
        self.ballots = BallotBox(ctx)
        self.steps = GuildLocks()  # held across Discord calls: see the module's docstring
        self._beside: set[asyncio.Task[bool]] = set()
        self._catching_up = asyncio.Semaphore(CATCH_UP_CONCURRENCY)  # shared by every shard

    async def drain(self) -> None:
        """Wait (up to :data:`DRAIN_SECONDS` each) for every guild's running contest step to
        finish, and for the votes being written; a step cut short resumes at the next start."""
        await self.steps.drain(DRAIN_SECONDS)
        await self.ctx.lock.drain(DRAIN_SECONDS)
        await self.votes.drain()

    def audit_entry(
        self, actor_id: int | None, action: str, contest: Contest, details: dict
    ) -> AuditEntry:
        """The audit line for ``action`` on ``contest``, to commit with the write it records."""
        target = f"contest:{contest.id}"
        return AuditEntry(
            contest.guild_id, actor_id, action, target, details, now=self.ctx.clock.now()
        )

    # -- start-up and scheduling ---------------------------------------------------------------

    async def resume(self, shards: ShardSet | None = None) -> None:
        """Rebuild the jobs of the guilds on ``shards`` (default: every shard this process runs)
        from SQLite and finish whatever was interrupted. Runs when a shard connects with a fresh
        session or resumes one; other shards' guilds are left to their own catch-up."""
        store, shards = self.ctx.store, shards or self.ctx.shards
        await self.votes.watch_all(shards)
        configured = await store.call(guilds.configured_guilds, shards)
        for settings in configured:
            self.arm_daily_post(settings)
        await self._several(
            (f"post:{s.guild_id}", self.open_due_contest, s.guild_id) for s in configured
        )
        unfinished = await store.call(contests.unfinished_contests, shards)
        await self._several((f"resume:{c.id}", self._resume_contest, c) for c in unfinished)
        unannounced = await store.call(contests.unannounced_contests, shards)
        await self._several((f"close:{c.id}", self.close_contest, c.id) for c in unannounced)

    async def _several(self, steps: Iterable[tuple[str, Step, object]]) -> None:
        """Run the steps of different guilds side by side, :data:`CATCH_UP_CONCURRENCY` at a
        time in the whole process: Discord's rate limits are mostly per channel, so one guild's
        reconciliation would otherwise wait on another's, but all shards share the global limit
        of 50 requests a second."""

        async def run(job_id: str, func: Step, arg: object) -> None:
            async with self._catching_up:
                await self.run_step(job_id, func, arg)

        await asyncio.gather(*(run(*step) for step in steps))

    async def _resume_contest(self, contest: Contest) -> None:
        if contest.prompt_message_id is None:
            async with self.steps(contest.guild_id):
                await post_prompt(self.ctx, contest, retry=True)
        if contest.phase == Phase.VOTING:
            await self.start_voting(contest.id)  # posts any entry not yet posted
            async with self.steps(contest.guild_id):
                await self.votes.reconcile(contest)
        self.arm_phases(contest)

    def arm_daily_post(self, settings: GuildSettings) -> None:
        """Schedule the guild's next prompt; the job re-arms itself after it runs. Only the
        process that runs the guild's shard schedules it (processes may share one database)."""
        job_id = f"post:{settings.guild_id}"
        if not self.ctx.shards.owns(settings.guild_id):
            self.cancel(job_id)
            return
        when = next_opening(self.ctx.clock.now(), schedule_of(settings))
        self._at(job_id, when, self._daily_post, settings.guild_id)

    def arm_phases(self, contest: Contest) -> None:
        if not self.ctx.shards.owns(contest.guild_id):  # another process's guild
            return
        if contest.phase == Phase.SUBMISSIONS:
            self._at(f"voting:{contest.id}", contest.voting_at, self.start_voting, contest.id)
        if contest.phase != Phase.CLOSED:
            self._at(f"close:{contest.id}", contest.closes_at, self.close_contest, contest.id)

    def _at(self, job_id: str, when: datetime, func: Step, *args: object) -> None:
        self.scheduler.add_job(
            self.run_step,
            "date",
            run_date=self.ctx.clock.to_real(when),
            args=(job_id, func, *args),
            id=job_id,
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def run_step(self, job_id: str, func: Step, *args: object) -> bool:
        """Run one contest step; returns whether it finished.

        When Discord fails transiently (5xx, rate limits that outlast discord.py's retries, a
        dropped connection) the step is re-armed for :data:`STEP_RETRY` later; steps are
        idempotent, so a retry finishes the job without repeating what was done. Any other
        failure is logged and left for the next start, so one guild's trouble never stops
        another's contest.
        """
        try:
            await func(*args)
        except Exception as exc:
            if not is_transient(exc):
                log.exception("step %s failed", job_id)
                return False
            log.warning("step %s: Discord failed (%s); trying again in %s", job_id, exc, STEP_RETRY)
            self._at(job_id, self.ctx.clock.now() + STEP_RETRY, func, *args)
            return False
        return True

    def start_step(self, job_id: str, func: Step, *args: object) -> asyncio.Task[bool]:
        """Run a step as its own task, beside the commands; the task says whether it finished."""
        task = asyncio.create_task(self.run_step(job_id, func, *args), name=f"step {job_id}")
        self._beside.add(task)  # a task nobody references may be collected mid-step
        task.add_done_callback(self._beside.discard)
        return task

    def cancel(self, job_id: str) -> None:
        if self.scheduler.get_job(job_id) is not None:
            self.scheduler.remove_job(job_id)

    async def _daily_post(self, guild_id: int) -> None:
        try:
            await self.open_due_contest(guild_id)
        finally:
            settings = await self.ctx.guild_settings(guild_id)
            if settings and settings.enabled and settings.channel_id:
                self.arm_daily_post(settings)

    # -- opening -------------------------------------------------------------------------------

    async def open_due_contest(self, guild_id: int) -> Contest | None:
        """Open the contest that should be running now, if it is missing; None if none is due."""
        async with self.steps(guild_id):
            async with self.ctx.lock(guild_id):
                settings = await self.ready_settings(guild_id)
                if settings is None:
                    return None
                latest = await self.ctx.store.call(contests.latest_contest, guild_id)
                latest_day = date.fromisoformat(latest.day) if latest else None
                plan = due_contest(self.ctx.clock.now(), schedule_of(settings), latest_day)
                if plan is None:
                    return None
                contest, created = await self.open_planned(settings, plan, actor_id=None)
            if created:
                await self.announce_opening(contest)
            return contest

    async def ready_settings(self, guild_id: int) -> GuildSettings | None:
        settings = await self.ctx.guild_settings(guild_id)
        if settings is None or not settings.enabled or settings.channel_id is None:
            return None
        return settings

    async def open_planned(
        self, settings: GuildSettings, plan: ContestPlan, actor_id: int | None
    ) -> tuple[Contest, bool]:
        """Create the planned contest (once: storage refuses a second one for the day); (contest,
        created). Storage work only: the caller holds the guild lock, then announces it."""
        store, guild_id = self.ctx.store, settings.guild_id
        prompt = await store.call(prompts.next_prompt, guild_id)
        if prompt is None:
            await seed_starter_pool(self.ctx, guild_id)
            prompt = await store.call(prompts.next_prompt, guild_id)
        season = await store.call(seasons.current_season, guild_id)
        now = self.ctx.clock.now()

        def opened(result: tuple[Contest, bool]) -> AuditEntry | None:
            contest, created = result
            details = {"day": contest.day, "catch_up": plan.catch_up}
            return self.audit_entry(actor_id, "contest.open", contest, details) if created else None

        contest, created = await store.call(
            audit.audited,
            opened,
            contests.open_contest,
            guild_id=guild_id,
            day=plan.day.isoformat(),
            prompt_id=prompt.id,
            season_id=season[0] if season else None,
            opens_at=plan.times.opens_at,
            voting_at=plan.times.voting_at,
            closes_at=plan.times.closes_at,
            channel_id=settings.channel_id,
            now=now,
        )
        if not created:
            return contest, False
        await store.call(prompts.mark_used, prompt.id, now)
        log.info(
            "guild %s: opened contest %s for %s%s",
            guild_id,
            contest.id,
            contest.day,
            " (catch-up)" if plan.catch_up else "",
        )
        return contest, True

    async def announce_opening(self, contest: Contest) -> None:
        """Post a new contest's prompt and arm its phases (the caller holds its step lock)."""
        await post_prompt(self.ctx, contest)
        self.arm_phases(contest)

    # -- voting and closing --------------------------------------------------------------------

    async def begin_voting(self, contest_id: int) -> tuple[Contest, list[Entry]] | None:
        """Move the contest to voting and number its entries (storage only, under the guild
        lock; idempotent); the contest as it was before, and the numbered entries. None when it
        has closed."""
        store = self.ctx.store
        contest = await store.call(contests.get_contest, contest_id)
        async with self.ctx.lock(contest.guild_id):
            contest = await store.call(contests.get_contest, contest_id)
            if contest.phase == Phase.SUBMISSIONS:
                await store.call(
                    contests.advance_phase, contest.id, Phase.SUBMISSIONS, Phase.VOTING
                )
            elif contest.phase != Phase.VOTING:
                return None
            return contest, await store.call(entries.number_entries, contest.id)

    async def start_voting(self, contest_id: int) -> None:
        """Open voting: number the entries, then post each one with the three rating emoji (or
        put the Vote button on the prompt), outside the guild lock."""
        contest = await self.ctx.store.call(contests.get_contest, contest_id)
        async with self.steps(contest.guild_id):
            begun = await self.begin_voting(contest_id)
            if begun is None:
                return
            before, numbered = begun
            contest = await self.ctx.store.call(contests.get_contest, contest_id)
            if await self._votes_by_ballot(contest, resumed=before.phase == Phase.VOTING):
                await self.ballots.open_ballots(contest)
            else:
                await self.votes.posts.post_entries(contest, numbered)
        log.info("contest %s: voting open with %d entries", contest_id, len(numbered))

    async def _votes_by_ballot(self, contest: Contest, *, resumed: bool) -> bool:
        """How the contest votes, fixed when its voting opened: the guild's mode then, and after
        that what was posted (an entry thread, or the ballot's button or notice), so a mode
        switched during voting waits for the next contest. Nothing posted yet: the mode now."""
        if contest.thread_id is not None:
            return False
        if resumed and await self.ballots.opened(contest):
            return True
        settings = await self.ctx.guild_settings(contest.guild_id)
        return settings.vote_mode == "ballot"

    async def close_contest(self, contest_id: int) -> None:
        """Close voting, rank the entries and announce the results (once).

        The reactions are read back while voting still runs (live votes keep counting), then
        the phase closes under the guild lock, and the results are posted outside it.
        """
        store = self.ctx.store
        contest = await store.call(contests.get_contest, contest_id)
        async with self.steps(contest.guild_id):
            contest = await store.call(contests.get_contest, contest_id)
            retry = contest.phase == Phase.CLOSED
            if contest.phase == Phase.VOTING:
                await self.votes.reconcile(contest)
            if contest.phase != Phase.CLOSED:
                async with self.ctx.lock(contest.guild_id):
                    await store.call(
                        contests.advance_phase, contest.id, contest.phase, Phase.CLOSED
                    )
            contest = await store.call(contests.get_contest, contest_id)
            if contest.results_message_id is None:
                if retry and await adopt_unrecorded_results(self.ctx, contest):
                    log.info("contest %s: recorded the results posted before a restart", contest.id)
                else:
                    await announce_results(self.ctx, contest)
            posted = await store.call(entries.contest_entries, contest.id, status=None)
            self.votes.forget({e.message_id for e in posted if e.message_id})
