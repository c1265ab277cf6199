from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.rules.schedule import Phase
from bot.rules.voting import VoteGates, Voter, VoteRefused, check_vote
from storage.models import Rating

NOW = datetime(2026, 5, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=400)
NO_GATES = VoteGates()


def vote(voter=None, *, phase=Phase.VOTING, author=1, live=True, gates=NO_GATES):
    voter = voter or Voter(2, False, OLD, OLD)
    check_vote(
        phase=phase, voter=voter, entry_author_id=author, entry_live=live, gates=gates, now=NOW
    )


def test_an_ordinary_vote_counts():
    vote()


def test_the_three_emoji():
    assert {r.emoji: r.value for r in Rating} == {"😂": 3, "🙂": 2, "😐": 1}
    assert Rating.FUNNY.emoji == "😂"
    assert Rating.from_emoji("😐") is Rating.UNFUNNY
    assert Rating.from_emoji("👍") is None
    assert [r.label for r in Rating] == ["Funny", "Somewhat", "Not funny"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"voter": Voter(1, False, OLD, OLD)}, "own caption"),
        ({"voter": Voter(2, True, OLD, OLD)}, "Bots"),
        ({"phase": Phase.SUBMISSIONS}, "isn't open"),
        ({"phase": Phase.CLOSED}, "isn't open"),
        ({"live": False}, "no longer"),
    ],
)
def test_refused_votes(kwargs, message):
    with pytest.raises(VoteRefused, match=message):
        vote(**kwargs)


def test_account_age_and_membership_gates():
    gates = VoteGates(min_account_age=timedelta(days=7), min_membership=timedelta(days=1))
    vote(Voter(2, False, NOW - timedelta(days=8), NOW - timedelta(days=2)), gates=gates)
    with pytest.raises(VoteRefused, match="at least 7 days old"):
        vote(Voter(2, False, NOW - timedelta(days=6), OLD), gates=gates)
    with pytest.raises(VoteRefused, match="in this server for 1 day"):
        vote(Voter(2, False, OLD, NOW - timedelta(hours=2)), gates=gates)
    with pytest.raises(VoteRefused, match="in this server"):
        vote(Voter(2, False, OLD, None), gates=gates)
