from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from bot.rules.tally import EntryRatings, season_points, tally_contest
from storage.models import Rating, RatingCounts


def entry(entry_id, not_funny=0, somewhat=0, funny=0):
    return EntryRatings(entry_id, 100 + entry_id, RatingCounts(funny, somewhat, not_funny))


def test_one_lucky_laugh_does_not_beat_forty_mixed_ratings():
    lucky = entry(1, funny=1)
    solid = entry(2, not_funny=8, somewhat=16, funny=16)  # mean 2.2 over 40
    filler = [entry(i, not_funny=10, somewhat=5) for i in range(3, 8)]
    ranking = tally_contest([lucky, solid, *filler])
    assert [line.entry_id for line in ranking[:2]] == [2, 1]


def test_many_laughs_beat_one():
    ranking = tally_contest([entry(1, funny=1), entry(2, funny=30, somewhat=2)])
    assert ranking[0].entry_id == 2


def test_ties_go_to_more_votes_then_earlier_submission():
    ranking = tally_contest([entry(5, somewhat=2), entry(3, somewhat=2), entry(4)])
    assert [line.entry_id for line in ranking] == [5, 3, 4]  # 4 has no votes: below at equal mean
    same = tally_contest([entry(9), entry(8)])
    assert [line.entry_id for line in same] == [9, 8]  # nothing to separate them: submission order


def test_points_for_the_podium_and_taking_part():
    assert [season_points(r, 5) for r in (1, 2, 3, 4, 50)] == [10, 6, 4, 1, 1]
    assert season_points(1, 0) == 0


ratings = st.lists(
    st.builds(RatingCounts, st.integers(0, 30), st.integers(0, 30), st.integers(0, 30)),
    min_size=1,
    max_size=25,
)


@given(ratings)
def test_ranks_are_a_permutation_and_bounds_are_ordered(counts):
    entries = [EntryRatings(i, i, c) for i, c in enumerate(counts)]
    ranking = tally_contest(entries)
    assert sorted(line.rank for line in ranking) == list(range(1, len(entries) + 1))
    bounds = [line.lower_bound for line in ranking]
    assert bounds == sorted(bounds, reverse=True)
    assert all(line.lower_bound <= line.posterior_mean for line in ranking)
    assert all(1 <= line.posterior_mean <= 3 for line in ranking)


@given(ratings, st.randoms(use_true_random=False))
def test_the_order_votes_arrive_in_does_not_matter(counts, rnd: random.Random):
    entries = [EntryRatings(i, i, c) for i, c in enumerate(counts)]
    first = tally_contest(entries)
    # the same ratings arriving as individual votes in any order give the same counts
    votes = [(i, r) for i, c in enumerate(counts) for r, n in c.by_rating() for _ in range(n)]
    rnd.shuffle(votes)
    rebuilt = [dict.fromkeys(Rating, 0) for _ in counts]
    for i, r in votes:
        rebuilt[i][r] += 1
    again = tally_contest(
        [EntryRatings(i, i, RatingCounts(*c.values())) for i, c in enumerate(rebuilt)]
    )
    assert [line.entry_id for line in first] == [line.entry_id for line in again]


@given(ratings, st.integers(0, 24))
def test_an_extra_funny_vote_never_lowers_an_entrys_estimate(counts, which):
    which %= len(counts)
    entries = [EntryRatings(i, i, c) for i, c in enumerate(counts)]
    before = {line.entry_id: line.posterior_mean for line in tally_contest(entries)}[which]
    entries[which] = EntryRatings(
        which, which, counts[which]._replace(funny=counts[which].funny + 1)
    )
    after = {line.entry_id: line.posterior_mean for line in tally_contest(entries)}[which]
    assert after >= before - 1e-12
