"""Many guilds through a simulated day: each on its own schedule, in its own time zone.

The real bot runs in this process against the Discord emulator with a contest clock ``speed``
times faster than real time, from a fixed start moment ``T0`` across ``hours`` contest hours.
Each guild gets a time zone (half-hour offsets and daylight-saving zones included), a post time
and phase lengths of its own, stored as ``/contest setup`` would store them. Checked at the end,
for every guild: the contests are exactly the days the schedule rules say (one catch-up of the
day before, opened at start, and one regular contest), each prompt and each results post exists
once, and every contest is closed. Timed: how late, in real seconds, the bot posted each prompt
and each results post after the moment it was due.

``benchmarks/bench_many_guilds.py`` runs it with 300 guilds and reports;
``tests/bot/test_many_guilds.py`` runs it small in CI.
"""

from __future__ import annotations

import io
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from PIL import Image

from bot.rules.schedule import Schedule, due_contest, opening_time
from discord_emulator import DiscordEmulator, Message
from discord_emulator.snowflake import snowflake_time
from storage import contests, guilds, open_database, prompts
from storage.models import GuildSettings

from .contest import is_prompt, is_results
from .running import ClockFrom, punchline
from .world import BOT_PERMISSIONS

T0 = datetime(2026, 6, 10, 0, 0, tzinfo=UTC)  # far from every daylight-saving change
DAY = timedelta(days=1)
ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Helsinki",
    "Africa/Lagos",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Adelaide",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/St_Johns",
    "America/Sao_Paulo",
)


@dataclass
class GuildPlan:
    guild_id: int
    channel_id: int
    schedule: Schedule

    def expected_days(self, start: datetime, end: datetime) -> set[date]:
        """The days whose contest must exist after running from ``start`` to ``end``."""
        days = set()
        first = due_contest(start, self.schedule, None)
        if first is not None:
            days.add(first.day)
        day = start.date() - DAY
        while day <= end.date() + DAY:
            if start < opening_time(day, self.schedule) <= end:
                days.add(day)
            day += DAY
        return days


@dataclass
class DayReport:
    guilds: int
    speed: float
    real_seconds: float
    startup: timedelta  # contest time from T0 until the bot was ready
    contests: int = 0
    problems: list[str] = field(default_factory=list)
    prompt_lateness: list[float] = field(default_factory=list)  # real seconds
    results_lateness: list[float] = field(default_factory=list)


def plan_guilds(
    emu: DiscordEmulator,
    count: int,
    speed: float,
    hours: float,
    margin_s: float,
    rng: random.Random,
) -> list[GuildPlan]:
    """``count`` guilds whose post times fall well inside the simulated window.

    Nothing may be due in the first ``margin_s`` real seconds (the bot is still catching up on
    every guild), nor so late that the contest could not close before the window ends.
    """
    start_margin = timedelta(seconds=margin_s * speed)
    plans = []
    for i in range(count):
        zone = ZONES[i % len(ZONES)]
        submission, voting = rng.randint(30, 120) * 60, rng.randint(30, 120) * 60
        latest = timedelta(hours=hours) - timedelta(seconds=submission + voting) - start_margin
        post = T0 + start_margin + (latest - start_margin) * rng.random()
        local = post.astimezone(Schedule(zone, "00:00", 60, 60).zone)
        schedule = Schedule(zone, local.strftime("%H:%M"), submission, voting)
        guild = emu.create_guild(f"guild {i} ({zone})")
        channel = emu.create_text_channel(guild.id, "caption-contest")
        emu.add_bot_to_guild(guild.id, permissions=BOT_PERMISSIONS)
        plans.append(GuildPlan(guild.id, channel.id, schedule))
    return plans


def configure(database: Path, plans: list[GuildPlan]) -> None:
    """Store every guild's settings and a small prompt pool, as /contest setup and /prompt add would."""
    db = open_database(database)
    for plan in plans:
        s = plan.schedule
        guilds.save_settings(
            db,
            GuildSettings(
                plan.guild_id,
                plan.channel_id,
                s.timezone,
                s.post_time,
                s.submission_seconds,
                s.voting_seconds,
            ),
            T0,
        )
        for shade in (40, 200):
            prompts.add_prompt(db, plan.guild_id, _picture(shade), "png", "A desk", None, T0)
    db.close()


def _picture(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (shade, shade, 255 - shade)).save(out, "PNG")
    return out.getvalue()


async def simulate_day(
    guild_count: int,
    speed: float,
    workdir: Path,
    *,
    hours: float = 24.0,
    margin_s: float = 15.0,
    seed: int = 1,
) -> DayReport:
    """Run ``guild_count`` guilds from ``T0`` for ``hours`` contest hours; check and time it."""
    rng = random.Random(seed)
    database = workdir / "many.db"
    end = T0 + timedelta(hours=hours)
    real_seconds = hours * 3600 / speed
    async with DiscordEmulator(token="many-token", timeout=real_seconds + 120) as emu:
        plans = plan_guilds(emu, guild_count, speed, hours, margin_s, rng)
        configure(database, plans)
        clock = ClockFrom(T0, speed)
        started = time.perf_counter()
        async with punchline(emu, database, clock=clock) as bot:
            ready = bot.clock.now()  # the catch-up at start is decided from this moment
            await emu.wait_until(lambda: bot.clock.now() >= end, "the end of the simulated day")
        report = DayReport(guild_count, speed, time.perf_counter() - started, ready - T0)
        db = open_database(database)
        for plan in plans:
            check_guild(emu, db, plan, clock, ready, end, report)
        db.close()
    return report


def check_guild(
    emu: DiscordEmulator,
    db,
    plan: GuildPlan,
    clock: ClockFrom,
    start: datetime,
    end: datetime,
    report: DayReport,
) -> None:
    held = contests.guild_contests(db, plan.guild_id)
    report.contests += len(held)
    days = [date.fromisoformat(c.day) for c in held]
    expected = plan.expected_days(start, end)
    if sorted(days) != sorted(expected):
        report.problems.append(f"guild {plan.guild_id}: contests for {days}, expected {expected}")
    posts = emu.messages(plan.channel_id)
    prompt_posts = [m for m in posts if is_prompt(m)]
    results_posts = [m for m in posts if is_results(m)]
    if len(prompt_posts) != len(held) or len(results_posts) != len(held):
        report.problems.append(
            f"guild {plan.guild_id}: {len(held)} contests, {len(prompt_posts)} prompt posts, "
            f"{len(results_posts)} results posts"
        )
    for contest in held:
        if contest.phase != "closed":
            report.problems.append(f"contest {contest.id} is still {contest.phase}")
        prompt = _posted(prompt_posts, contest.prompt_message_id)
        results = _posted(results_posts, contest.results_message_id)
        regular = contest.opens_at == opening_time(date.fromisoformat(contest.day), plan.schedule)
        if prompt is not None and regular:  # a catch-up opens when the bot does: never late
            due = clock.to_real(contest.opens_at)
            report.prompt_lateness.append((snowflake_time(prompt.id) - due).total_seconds())
        if results is not None:
            due = clock.to_real(contest.closes_at)
            report.results_lateness.append((snowflake_time(results.id) - due).total_seconds())


def _posted(posts: list[Message], message_id: int | None) -> Message | None:
    return next((m for m in posts if m.id == message_id), None)
