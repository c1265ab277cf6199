"""Contest phases and their times, computed in the guild's own IANA time zone.

A contest belongs to a local *day*. It opens at the guild's post time on that day (a post time
that falls in a daylight-saving gap moves forward with the clocks; one that occurs twice uses the
first), takes submissions for a fixed elapsed time, then votes for another, then closes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY = timedelta(days=1)
MIN_CATCH_UP = timedelta(minutes=30)
_POST_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class Phase(StrEnum):
    SUBMISSIONS = "submissions"
    VOTING = "voting"
    CLOSED = "closed"


class ScheduleError(ValueError):
    """A schedule setting a moderator gave that cannot work; the message says why."""


@dataclass(frozen=True)
class ContestTimes:
    """When a contest opens, when voting starts and when it closes (all aware, UTC)."""

    opens_at: datetime
    voting_at: datetime
    closes_at: datetime

    def phase_at(self, moment: datetime) -> Phase:
        if moment < self.voting_at:
            return Phase.SUBMISSIONS
        if moment < self.closes_at:
            return Phase.VOTING
        return Phase.CLOSED


@dataclass(frozen=True)
class Schedule:
    """A guild's daily rhythm."""

    timezone: str
    post_time: str
    submission_seconds: int
    voting_seconds: int

    @property
    def zone(self) -> ZoneInfo:
        return parse_timezone(self.timezone)

    @property
    def submission(self) -> timedelta:
        return timedelta(seconds=self.submission_seconds)

    @property
    def voting(self) -> timedelta:
        return timedelta(seconds=self.voting_seconds)


class ScheduleSettings(Protocol):
    """The guild settings a schedule is read from (``storage.models.GuildSettings``)."""

    timezone: str
    post_time: str
    submission_seconds: int
    voting_seconds: int


def schedule_of(settings: ScheduleSettings) -> Schedule:
    """A guild's schedule from its settings."""
    return Schedule(
        settings.timezone, settings.post_time, settings.submission_seconds, settings.voting_seconds
    )


@dataclass(frozen=True)
class ContestPlan:
    """A contest that should exist now: its day, times, and whether it is a late catch-up."""

    day: date
    times: ContestTimes
    catch_up: bool


def parse_timezone(name: str) -> ZoneInfo:
    """A ZoneInfo for an IANA name, or a :class:`ScheduleError` a moderator can act on."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(
            f"“{name}” is not a time zone I know. Use an IANA name such as Europe/Paris, "
            "America/New_York or Asia/Tokyo."
        ) from exc


def parse_post_time(text: str) -> time:
    """``HH:MM`` (24-hour) to a time, or a :class:`ScheduleError`."""
    match = _POST_TIME.match(text.strip())
    if not match:
        raise ScheduleError(
            f"“{text}” is not a time of day; use 24-hour HH:MM, like 09:00 or 18:30."
        )
    return time(int(match.group(1)), int(match.group(2)))


def validate_schedule(schedule: Schedule) -> None:
    """Refuse settings under which contests would overlap or be uselessly short."""
    parse_timezone(schedule.timezone)
    parse_post_time(schedule.post_time)
    if schedule.submission_seconds < 60 or schedule.voting_seconds < 60:
        raise ScheduleError("Each phase needs at least a minute.")
    if schedule.submission + schedule.voting > timedelta(hours=23):
        raise ScheduleError(
            "Submissions and voting together must fit in 23 hours, so one day's contest closes "
            "before the next day's prompt is posted."
        )


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar day it is in ``zone`` at ``moment``."""
    return moment.astimezone(zone).date()


def opening_time(day: date, schedule: Schedule) -> datetime:
    """The UTC instant of the post time on ``day`` in the guild's zone.

    A wall time in a spring-forward gap does not exist; fold=0 resolves it with the offset
    before the change, which lands the same distance *after* the gap (02:30 → 03:30). An
    ambiguous wall time in the autumn resolves to its first occurrence.
    """
    wall = datetime.combine(day, parse_post_time(schedule.post_time), tzinfo=schedule.zone)
    return wall.astimezone(UTC)


def contest_times(day: date, schedule: Schedule) -> ContestTimes:
    """The regular times of the contest for ``day``; phase lengths are elapsed time."""
    opens = opening_time(day, schedule)
    voting = opens + schedule.submission
    return ContestTimes(opens, voting, voting + schedule.voting)


def due_contest(now: datetime, schedule: Schedule, latest_day: date | None) -> ContestPlan | None:
    """The contest that should exist at ``now`` but does not yet, or None.

    Only the most recent day whose post time has passed is considered, so a bot that was offline
    for a week opens one contest on its return, not seven. If that day's submission window has
    already passed, the contest is caught up: it opens now with its phases shrunk, if need be, to
    close before the next day's post time; with under :data:`MIN_CATCH_UP` left it is skipped.
    Together with one contest per guild and day in storage, a day is caught up at most once.
    """
    today = local_day(now, schedule.zone)
    day = today if opening_time(today, schedule) <= now else today - DAY
    if latest_day is not None and latest_day >= day:
        return None
    regular = contest_times(day, schedule)
    if now < regular.voting_at:
        return ContestPlan(day, regular, catch_up=False)
    room = opening_time(day + DAY, schedule) - now
    if room < MIN_CATCH_UP:
        return None
    wanted = schedule.submission + schedule.voting
    scale = min(1.0, room / wanted)
    voting_at = now + schedule.submission * scale
    closes_at = min(
        voting_at + schedule.voting * scale, now + room
    )  # no rounding past the next post
    return ContestPlan(day, ContestTimes(now, voting_at, closes_at), catch_up=True)


def next_opening(now: datetime, schedule: Schedule) -> datetime:
    """The first post time strictly after ``now``."""
    today = local_day(now, schedule.zone)
    for offset in range(3):
        candidate = opening_time(today + DAY * offset, schedule)
        if candidate > now:
            return candidate
    raise AssertionError("a post time occurs every day")  # pragma: no cover
