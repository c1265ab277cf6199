"""The contest lifecycle: open the day's contest, open voting, close and announce.

Every step is idempotent and keyed on what SQLite already holds, so a job that fires twice, a
restart mid-step or a catch-up after downtime does each thing once: the database decides (one
contest per guild and day, compare-and-set phase changes), and Discord side effects are only
made when the matching message id is still missing.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot import render
from bot.ballots import BallotBox
from bot.results import announce_results
from bot.rules.captions import (
    CaptionRejected,
    SubmissionAction,
    SubmissionContext,
    decide_submission,
    require_submissions_open,
    validate_caption,
)
from bot.rules.schedule import (
    ContestPlan,
    Phase,
    Schedule,
    due_contest,
    next_opening,
)
from bot.text import NO_PINGS, quote_caption, timestamp
from bot.votes import VoteKeeper
from storage import audit, contests, entries, guilds, prompts, seasons
from storage.entries import DuplicateCaption
from storage.models import Contest, Entry, GuildSettings

if TYPE_CHECKING:
    from bot.app import PunchlineBot

log = logging.getLogger(__name__)
PROMPT_FILE = "prompt.png"
DRAIN_SECONDS = 30.0
STEP_RETRY = timedelta(minutes=1)  # after Discord failed transiently


def is_transient(exc: BaseException) -> bool:
    """Failures worth retrying: Discord's 5xx and exhausted 429s, network errors, timeouts."""
    if isinstance(exc, discord.HTTPException):
        return exc.status == 429 or exc.status >= 500
    return isinstance(exc, aiohttp.ClientError | TimeoutError | ConnectionError)


def schedule_of(settings: GuildSettings) -> Schedule:
    return Schedule(
        settings.timezone, settings.post_time, settings.submission_seconds, settings.voting_seconds
    )


class ContestEngine:
    """Runs every guild's daily contest. One instance per bot."""

    def __init__(self, bot: PunchlineBot) -> None:
        self.bot = bot
        self.store = bot.store
        self.clock = bot.clock
        self.votes = VoteKeeper(self)
        self.ballots = BallotBox(self)
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    def lock(self, guild_id: int) -> asyncio.Lock:
        """Serialises the contest steps of one guild; guilds run independently."""
        return self._locks[guild_id]

    async def drain(self) -> None:
        """Wait (up to :data:`DRAIN_SECONDS`) for every guild's running contest step to finish."""
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                for lock in list(self._locks.values()):
                    async with lock:
                        pass
        except TimeoutError:
            log.warning("shutting down with a contest step still running; it resumes on restart")

    async def settings(self, guild_id: int) -> GuildSettings | None:
        return await self.store.call(guilds.get_settings, guild_id)

    async def current_contest(self, guild_id: int) -> Contest | None:
        """The guild's latest contest while it is still running."""
        latest = await self.store.call(contests.latest_contest, guild_id)
        return latest if latest and latest.phase != Phase.CLOSED else None

    # -- start-up and scheduling ---------------------------------------------------------------

    async def resume(self) -> None:
        """Rebuild every job from SQLite and finish whatever was interrupted (runs on each READY)."""
        for settings in await self.store.call(guilds.configured_guilds):
            self.arm_daily_post(settings)
            await self.run_step(
                f"post:{settings.guild_id}", self.open_due_contest, settings.guild_id
            )
        for contest in await self.store.call(contests.unfinished_contests):
            await self.run_step(f"resume:{contest.id}", self._resume_contest, contest)
        for contest in await self.store.call(contests.unannounced_contests):
            await self.run_step(f"close:{contest.id}", self.close_contest, contest.id)

    async def _resume_contest(self, contest: Contest) -> None:
        if contest.prompt_message_id is None:
            await self._post_prompt(contest)
        if contest.phase == Phase.VOTING:
            await self.start_voting(contest.id)  # posts any entry not yet posted
            async with self.lock(contest.guild_id):
                await self.votes.reconcile(contest)
        self.arm_phases(contest)

    def arm_daily_post(self, settings: GuildSettings) -> None:
        """Schedule the guild's next prompt; the job re-arms itself after it runs."""
        when = next_opening(self.clock.now(), schedule_of(settings))
        self._at(f"post:{settings.guild_id}", when, self._daily_post, settings.guild_id)

    def arm_phases(self, contest: Contest) -> None:
        if contest.phase == Phase.SUBMISSIONS:
            self._at(f"voting:{contest.id}", contest.voting_at, self.start_voting, contest.id)
        if contest.phase != Phase.CLOSED:
            self._at(f"close:{contest.id}", contest.closes_at, self.close_contest, contest.id)

    def _at(self, job_id: str, when, func, *args) -> None:
        self.bot.scheduler.add_job(
            self.run_step,
            "date",
            run_date=self.clock.to_real(when),
            args=(job_id, func, *args),
            id=job_id,
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def run_step(self, job_id: str, func, *args) -> bool:
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
            self._at(job_id, self.clock.now() + STEP_RETRY, func, *args)
            return False
        return True

    def cancel(self, job_id: str) -> None:
        if self.bot.scheduler.get_job(job_id) is not None:
            self.bot.scheduler.remove_job(job_id)

    async def _daily_post(self, guild_id: int) -> None:
        try:
            await self.open_due_contest(guild_id)
        finally:
            settings = await self.settings(guild_id)
            if settings and settings.enabled and settings.channel_id:
                self.arm_daily_post(settings)

    # -- opening -------------------------------------------------------------------------------

    async def open_due_contest(self, guild_id: int) -> Contest | None:
        """Open the contest that should be running now, if it is missing; None if none is due."""
        async with self.lock(guild_id):
            settings = await self.ready_settings(guild_id)
            if settings is None:
                return None
            latest = await self.store.call(contests.latest_contest, guild_id)
            latest_day = date.fromisoformat(latest.day) if latest else None
            plan = due_contest(self.clock.now(), schedule_of(settings), latest_day)
            if plan is None:
                return None
            contest, _ = await self.open_planned(settings, plan, actor_id=None)
            return contest

    async def ready_settings(self, guild_id: int) -> GuildSettings | None:
        settings = await self.settings(guild_id)
        if settings is None or not settings.enabled or settings.channel_id is None:
            return None
        return settings

    async def open_planned(
        self, settings: GuildSettings, plan: ContestPlan, actor_id: int | None
    ) -> tuple[Contest, bool]:
        """Create the planned contest (once: storage refuses a second one for the day) and post it."""
        guild_id = settings.guild_id
        prompt = await self.store.call(prompts.next_prompt, guild_id)
        if prompt is None:
            await self._seed_starter_pool(guild_id)
            prompt = await self.store.call(prompts.next_prompt, guild_id)
        season = await self.store.call(seasons.current_season, guild_id)
        now = self.clock.now()
        contest, created = await self.store.call(
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
        await self.store.call(prompts.mark_used, prompt.id, now)
        await self.store.call(
            audit.log_action,
            guild_id,
            actor_id,
            "contest.open",
            f"contest:{contest.id}",
            {"day": contest.day, "catch_up": plan.catch_up},
            now=now,
        )
        log.info(
            "guild %s: opened contest %s for %s%s",
            guild_id,
            contest.id,
            contest.day,
            " (catch-up)" if plan.catch_up else "",
        )
        await self._post_prompt(contest)
        self.arm_phases(contest)
        return contest, True

    async def _seed_starter_pool(self, guild_id: int) -> None:
        now = self.clock.now()
        for starter in render.STARTER_PROMPTS:
            image = await asyncio.to_thread(render.starter_image, starter)
            await self.store.call(
                prompts.add_prompt, guild_id, image, "png", starter.description, None, now
            )

    async def channel(self, channel_id: int) -> discord.abc.Messageable:
        return self.bot.get_channel(channel_id) or await self.bot.fetch_channel(channel_id)

    async def _post_prompt(self, contest: Contest) -> None:
        prompt = await self.store.call(prompts.get_prompt, contest.prompt_id)
        image = await self.store.call(prompts.prompt_image, contest.prompt_id)
        embed = discord.Embed(
            title=f"📝 Caption contest · {contest.day}",
            description=f"{quote_caption(prompt.description)}\n\n"
            f"Send your caption with **/caption submit** {timestamp(contest.voting_at)}. "
            f"Entries stay anonymous until the results.",
            colour=discord.Colour.gold(),
        )
        embed.add_field(name="Submissions close", value=timestamp(contest.voting_at, "f"))
        embed.add_field(name="Results", value=timestamp(contest.closes_at, "f"))
        embed.set_image(url=f"attachment://{PROMPT_FILE}")
        channel = await self.channel(contest.channel_id)
        message = await channel.send(
            embed=embed,
            file=discord.File(io.BytesIO(image), PROMPT_FILE),
            allowed_mentions=NO_PINGS,
        )
        await self.store.call(contests.set_message_ids, contest.id, prompt_message_id=message.id)

    # -- captions ------------------------------------------------------------------------------

    async def submit_caption(
        self, guild_id: int, author_id: int, text: str
    ) -> tuple[Entry, Entry | None]:
        """Add a member's caption to the running contest; returns (entry, the one it replaced)."""
        shown, key = validate_caption(text)
        async with self.lock(guild_id):
            contest = await self.current_contest(guild_id)
            settings = await self.settings(guild_id)
            mine = (
                await self.store.call(entries.author_entries, contest.id, author_id)
                if contest
                else []
            )
            action = decide_submission(
                SubmissionContext(
                    phase=Phase(contest.phase) if contest else None,
                    banned=await self.store.call(guilds.is_banned, guild_id, author_id),
                    live_entries=len(mine),
                    max_entries=settings.max_entries_per_member if settings else 1,
                )
            )
            now = self.clock.now()
            try:
                if action is SubmissionAction.REPLACE_OLDEST:
                    return await self.store.call(
                        entries.edit_entry, mine[0].id, shown, key, now
                    ), mine[0]
                return await self.store.call(
                    entries.add_entry, contest.id, author_id, shown, key, now
                ), None
            except DuplicateCaption:
                raise CaptionRejected(
                    "That caption is already in today's contest. Try a twist of your own!"
                ) from None

    async def change_entry(
        self, guild_id: int, author_id: int, entry_id: int | None, new_text: str | None
    ) -> Entry:
        """Edit (``new_text``) or withdraw (None) one of the member's live entries."""
        shown_key = validate_caption(new_text) if new_text is not None else None
        async with self.lock(guild_id):
            contest = await self.current_contest(guild_id)
            require_submissions_open(Phase(contest.phase) if contest else None)
            mine = await self.store.call(entries.author_entries, contest.id, author_id)
            target = next((e for e in mine if entry_id in (None, e.id)), None) if mine else None
            if target is None:
                raise CaptionRejected("You have no caption in today's contest to change.")
            now = self.clock.now()
            if shown_key is None:
                return await self.store.call(entries.set_status, target.id, "withdrawn", None, now)
            try:
                return await self.store.call(entries.edit_entry, target.id, *shown_key, now)
            except DuplicateCaption:
                raise CaptionRejected("That caption is already in today's contest.") from None

    # -- voting and closing --------------------------------------------------------------------

    async def start_voting(self, contest_id: int) -> None:
        """Open voting: number the entries and post each one with the three rating emoji."""
        contest = await self.store.call(contests.get_contest, contest_id)
        async with self.lock(contest.guild_id):
            if contest.phase == Phase.SUBMISSIONS:
                await self.store.call(
                    contests.advance_phase, contest.id, Phase.SUBMISSIONS, Phase.VOTING
                )
            elif contest.phase != Phase.VOTING:
                return
            numbered = await self.store.call(entries.number_entries, contest.id)
            settings = await self.settings(contest.guild_id)
            if contest.thread_id is None and settings.vote_mode == "ballot":
                await self.ballots.open_ballots(contest)
            else:
                target = await self.votes.voting_channel(contest)
                for entry in numbered:
                    if entry.message_id is None:
                        await self.votes.post_entry(target, entry)
        log.info("contest %s: voting open with %d entries", contest_id, len(numbered))

    async def close_contest(self, contest_id: int) -> None:
        """Close voting, rank the entries and announce the results (once)."""
        contest = await self.store.call(contests.get_contest, contest_id)
        async with self.lock(contest.guild_id):
            if contest.phase == Phase.VOTING:
                await self.votes.reconcile(contest)
            if contest.phase != Phase.CLOSED:
                await self.store.call(
                    contests.advance_phase, contest.id, contest.phase, Phase.CLOSED
                )
            contest = await self.store.call(contests.get_contest, contest_id)
            if contest.results_message_id is None:
                await announce_results(self, contest)
        posted = await self.store.call(entries.contest_entries, contest.id, status=None)
        self.votes.forget({e.message_id for e in posted if e.message_id})
