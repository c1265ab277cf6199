"""The suggestion limits: a few waiting per member, a pause between two, a cap on the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.rules.suggestions import (
    COOLDOWN,
    GUILD_WAITING_LIMIT,
    MEMBER_WAITING_LIMIT,
    SuggestionRefused,
    check_suggestion,
)
from storage.suggestions import QueueState

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=2)


def test_a_first_suggestion_is_allowed():
    check_suggestion(QueueState(0, 0, None), NOW)


def test_a_member_may_keep_only_a_few_waiting():
    check_suggestion(QueueState(MEMBER_WAITING_LIMIT - 1, 5, LONG_AGO), NOW)
    with pytest.raises(SuggestionRefused, match=f"already have {MEMBER_WAITING_LIMIT} pictures"):
        check_suggestion(QueueState(MEMBER_WAITING_LIMIT, 5, LONG_AGO), NOW)


@pytest.mark.parametrize(
    ("ago", "minutes"),
    [
        (timedelta(0), 10),
        (timedelta(minutes=3, seconds=30), 7),
        (COOLDOWN - timedelta(seconds=1), 1),
    ],
)
def test_a_member_waits_between_two_suggestions(ago, minutes):
    with pytest.raises(SuggestionRefused, match=f"wait {minutes} more minute"):
        check_suggestion(QueueState(1, 1, NOW - ago), NOW)


def test_the_cooldown_ends():
    check_suggestion(QueueState(1, 1, NOW - COOLDOWN), NOW)


def test_a_flood_from_many_members_fills_the_queue_and_stops():
    check_suggestion(QueueState(0, GUILD_WAITING_LIMIT - 1, None), NOW)
    with pytest.raises(SuggestionRefused, match="review queue is full"):
        check_suggestion(QueueState(0, GUILD_WAITING_LIMIT, None), NOW)


def test_one_members_own_limit_is_explained_before_the_full_queue():
    with pytest.raises(SuggestionRefused, match="already have"):
        check_suggestion(QueueState(MEMBER_WAITING_LIMIT, GUILD_WAITING_LIMIT, None), NOW)
