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
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot import render
from bot.ballots import BallotBox
from bot.results import announce_results
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
from storage.models import Contest, GuildSettings

if TYPE_CHECKING:
    from bot.app import PunchlineBot

log = logging.getLogger(__name__)
PROMPT_FILE = "prompt.png"
DRAIN_SECONDS = 30.0
RECENT_MESSAGES = 50  # how far back a retried step looks for a post it made but never recorded
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
            await self._post_prompt(contest, retry=True)
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

    async def unrecorded_posts(
        self, channel: discord.abc.Messageable, is_it: Callable[[discord.Message], bool]
    ) -> list[discord.Message]:
        """The bot's recent messages in ``channel`` that ``is_it``, newest first.

        Discord accepting a message and SQLite storing its id cannot be one transaction: a bot
        killed between the two looks here on its retry rather than post the same thing twice.
        Without Read Message History it cannot look, and posts again rather than not at all.
        """
        try:
            return [
                message
                async for message in channel.history(limit=RECENT_MESSAGES)
                if message.author.id == self.bot.user.id and is_it(message)
            ]
        except discord.Forbidden:
            return []

    async def _post_prompt(self, contest: Contest, *, retry: bool = False) -> None:
        title = f"📝 Caption contest · {contest.day}"
        channel = await self.channel(contest.channel_id)
        if retry:
            posted = await self.unrecorded_posts(channel, lambda m: has_title(m, title))
            if posted:
                await self.store.call(
                    contests.set_message_ids, contest.id, prompt_message_id=posted[0].id
                )
                return
        prompt = await self.store.call(prompts.get_prompt, contest.prompt_id)
        image = await self.store.call(prompts.prompt_image, contest.prompt_id)
        embed = discord.Embed(
            title=title,
            description=f"{quote_caption(prompt.description)}\n\n"
            f"Send your caption with **/caption submit** {timestamp(contest.voting_at)}. "
            f"Entries stay anonymous until the results.",
            colour=discord.Colour.gold(),
        )
        embed.add_field(name="Submissions close", value=timestamp(contest.voting_at, "f"))
        embed.add_field(name="Results", value=timestamp(contest.closes_at, "f"))
        embed.set_image(url=f"attachment://{PROMPT_FILE}")
        message = await channel.send(
            embed=embed,
            file=discord.File(io.BytesIO(image), PROMPT_FILE),
            allowed_mentions=NO_PINGS,
        )
        await self.store.call(contests.set_message_ids, contest.id, prompt_message_id=message.id)

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
                retry = contest.thread_id is not None
                target = await self.votes.voting_channel(contest)
                unposted = [e for e in numbered if e.message_id is None]
                if retry and unposted:
                    unposted = await self.votes.adopt_unrecorded_entry(target, contest, unposted)
                for entry in unposted:
                    await self.votes.post_entry(target, entry)
        log.info("contest %s: voting open with %d entries", contest_id, len(numbered))

    async def close_contest(self, contest_id: int) -> None:
        """Close voting, rank the entries and announce the results (once)."""
        contest = await self.store.call(contests.get_contest, contest_id)
        async with self.lock(contest.guild_id):
            retry = contest.phase == Phase.CLOSED
            if contest.phase == Phase.VOTING:
                await self.votes.reconcile(contest)
            if contest.phase != Phase.CLOSED:
                await self.store.call(
                    contests.advance_phase, contest.id, contest.phase, Phase.CLOSED
                )
            contest = await self.store.call(contests.get_contest, contest_id)
            if contest.results_message_id is None and not (
                retry and await self._adopt_unrecorded_results(contest)
            ):
                await announce_results(self, contest)
            posted = await self.store.call(entries.contest_entries, contest.id, status=None)
            self.votes.forget({e.message_id for e in posted if e.message_id})

    async def _adopt_unrecorded_results(self, contest: Contest) -> bool:
        """Record a results post the bot made but never stored; False when there is none.

        A reopened contest also has its earlier results posts: only a post beyond the ones
        recorded in the audit log is the unrecorded one.
        """
        channel = await self.channel(contest.channel_id)
        title = f"Results · {contest.day}"
        posted = await self.unrecorded_posts(channel, lambda m: has_title(m, title))
        target = f"contest:{contest.id}"
        recorded = await self.store.call(
            audit.count_actions, contest.guild_id, "contest.results", target
        )
        if len(posted) <= recorded:
            return False
        await self.store.call(contests.set_message_ids, contest.id, results_message_id=posted[0].id)
        await self.store.call(
            audit.log_action,
            contest.guild_id,
            None,
            "contest.results",
            target,
            {"adopted": posted[0].id},
            now=self.clock.now(),
        )
        log.info("contest %s: recorded the results posted before a restart", contest.id)
        return True


def has_title(message: discord.Message, title: str) -> bool:
    """Whether one of the message's embeds has ``title`` in its title."""
    return any(title in (embed.title or "") for embed in message.embeds)
