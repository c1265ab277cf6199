"""Contest times in the guild's zone, across daylight-saving changes, and catch-up after downtime."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.rules.schedule import (
    Phase,
    Schedule,
    ScheduleError,
    contest_times,
    due_contest,
    next_opening,
    opening_time,
    parse_post_time,
    validate_schedule,
)

ZONES = [
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/Santiago",
    "Pacific/Chatham",
    "Europe/London",
]
schedules = st.builds(
    Schedule,
    timezone=st.sampled_from(ZONES),
    post_time=st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
    submission_seconds=st.integers(60, 12 * 3600),
    voting_seconds=st.integers(60, 11 * 3600),
)
days = st.dates(date(2024, 1, 1), date(2030, 12, 31))
# hypothesis takes naive bounds and attaches the zone itself
moments = st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC))  # noqa: DTZ001


def ny(hour: int = 9, minute: int = 0) -> Schedule:
    return Schedule("America/New_York", f"{hour:02d}:{minute:02d}", 3600 * 12, 3600 * 11)


def test_post_time_is_local_on_both_sides_of_a_dst_change():
    sched = ny(9)
    before = contest_times(date(2026, 3, 7), sched).opens_at
    after = contest_times(date(2026, 3, 8), sched).opens_at  # clocks spring forward this night
    assert before == datetime(2026, 3, 7, 14, 0, tzinfo=UTC)
    assert after == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
    assert after - before == timedelta(hours=23)


def test_post_time_in_the_spring_gap_moves_forward_with_the_clocks():
    opens = opening_time(date(2026, 3, 8), ny(2, 30))
    assert opens.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") == "03:30"


def test_post_time_that_happens_twice_uses_the_first():
    opens = opening_time(date(2026, 11, 1), ny(1, 30))
    assert opens == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, not 01:30 EST


@given(schedules, days)
def test_phases_last_exactly_their_elapsed_length(schedule, day):
    times = contest_times(day, schedule)
    assert times.voting_at - times.opens_at == schedule.submission
    assert times.closes_at - times.voting_at == schedule.voting
    assert times.phase_at(times.opens_at) is Phase.SUBMISSIONS
    assert times.phase_at(times.voting_at) is Phase.VOTING
    assert times.phase_at(times.closes_at) is Phase.CLOSED


@given(schedules, days)
def test_each_opening_is_on_its_own_local_day_at_the_post_time(schedule, day):
    local = opening_time(day, schedule).astimezone(schedule.zone)
    assert local.date() == day
    wanted = datetime.combine(day, parse_post_time(schedule.post_time))
    # equal, or shifted forward by at most the size of a DST gap (≤ 2 h anywhere on Earth)
    assert timedelta(0) <= local.replace(tzinfo=None) - wanted <= timedelta(hours=2)


@given(schedules, moments)
def test_next_opening_is_the_first_after_now(schedule, now):
    nxt = next_opening(now, schedule)
    assert now < nxt <= now + timedelta(hours=27)


def test_due_contest_on_time_late_and_missed():
    sched = ny(9)
    day = date(2026, 6, 1)
    regular = contest_times(day, sched)
    # before the post time: yesterday's contest is the due one, and it exists
    assert (
        due_contest(regular.opens_at - timedelta(minutes=1), sched, day - timedelta(days=1)) is None
    )
    # right at the post time: today's regular contest
    plan = due_contest(regular.opens_at, sched, day - timedelta(days=1))
    assert plan.day == day
    assert plan.times == regular
    assert not plan.catch_up
    # an hour late (still accepting submissions): regular times, opened late
    assert due_contest(regular.opens_at + timedelta(hours=1), sched, None).times == regular
    # already have it: nothing to do, however often it is asked
    assert due_contest(regular.opens_at + timedelta(hours=1), sched, day) is None


@given(schedules, moments, st.integers(1, 30))
def test_downtime_is_caught_up_once_and_never_overlaps_the_next_day(schedule, now, days_down):
    last_day = now.astimezone(schedule.zone).date() - timedelta(days=days_down)
    plan = due_contest(now, schedule, last_day)
    if plan is None:
        return
    assert plan.times.opens_at <= now or not plan.catch_up
    assert plan.times.closes_at <= opening_time(plan.day + timedelta(days=1), schedule)
    assert plan.times.voting_at > now or plan.times == contest_times(plan.day, schedule)
    # once the day's contest exists, the same moment plans nothing more
    assert due_contest(now, schedule, plan.day) is None


def test_a_long_outage_opens_one_shortened_contest():
    sched = ny(9)
    now = datetime(2026, 6, 6, 3, 0, tzinfo=UTC)  # 23:00 in New York on June 5: voting time
    plan = due_contest(now, sched, date(2026, 6, 1))
    assert plan.catch_up
    assert plan.day == date(2026, 6, 5)
    assert plan.times.opens_at == now
    assert plan.times.closes_at <= opening_time(date(2026, 6, 6), sched)
    ratio = (plan.times.voting_at - now) / (plan.times.closes_at - plan.times.voting_at)
    assert ratio == pytest.approx(12 / 11)  # both phases shrink alike


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "not a time zone"),
        ({"post_time": "25:00"}, "not a time of day"),
        ({"submission_seconds": 30}, "at least a minute"),
        ({"submission_seconds": 20 * 3600, "voting_seconds": 4 * 3600}, "23 hours"),
    ],
)
def test_bad_settings_are_explained(changes, message):
    base = {
        "timezone": "UTC",
        "post_time": "09:00",
        "submission_seconds": 3600,
        "voting_seconds": 3600,
    }
    with pytest.raises(ScheduleError, match=message):
        validate_schedule(Schedule(**{**base, **changes}))
