"""Vote arithmetic and the clear-pair rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ranker.pairs import clear_pairs, sample_per_contest
from ranker.votes import CaptionVotes, ContestVotes, RankerInputError


def test_mean_and_standard_error_follow_nyccc():
    votes = CaptionVotes("We're pretentious, not ostentatious.", 19, 2, 11)
    assert votes.votes == 32
    assert votes.mean == pytest.approx(2.25)
    assert votes.standard_error() == pytest.approx(0.1680, abs=1e-4)  # NYCCC's precision


def test_reported_precision_wins_unless_pseudo_votes_are_asked_for():
    votes = CaptionVotes("x", 1, 1, 1, precision=0.5)
    assert votes.standard_error() == 0.5
    assert votes.standard_error(prior_votes=3) != 0.5


def test_pseudo_votes_keep_unanimous_captions_uncertain():
    unanimous = CaptionVotes("x", 3, 0, 0)
    assert unanimous.standard_error() == 0.0
    assert unanimous.standard_error(prior_votes=3) > 0.2


def test_negative_counts_are_rejected():
    with pytest.raises(RankerInputError):
        CaptionVotes("x", -1, 0, 0)


def test_clear_pairs_follow_the_readme_rule():
    contest = ContestVotes(
        1,
        (
            CaptionVotes("best", 30, 0, 0, precision=0.05),
            CaptionVotes("middle", 0, 30, 0, precision=0.05),
            CaptionVotes("close to middle", 1, 29, 0, precision=0.05),
            CaptionVotes("worst", 0, 0, 30, precision=0.05),
        ),
    )
    pairs = clear_pairs([contest])
    found = {(int(a), int(b)) for a, b in zip(pairs.preferred, pairs.other, strict=True)}
    # |2.033 - 2.0| = 0.033 < 3 * sqrt(2) * 0.05: middle vs close-to-middle is not a pair.
    assert found == {(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)}
    assert pairs.involves_top.all()  # four captions: all are in the top 10
    assert not pairs.close.any()


def test_pairs_index_the_flat_caption_list():
    first = ContestVotes(1, (CaptionVotes("a", 20, 0, 0), CaptionVotes("b", 0, 0, 20)))
    second = ContestVotes(2, (CaptionVotes("c", 0, 0, 20), CaptionVotes("d", 20, 0, 0)))
    pairs = clear_pairs([first, second], prior_votes=3)
    assert sorted(zip(pairs.preferred.tolist(), pairs.other.tolist(), strict=True)) == [
        (0, 1),
        (3, 2),
    ]
    assert pairs.contest.tolist() == [0, 1]


counts = st.integers(min_value=0, max_value=40)
captions = st.lists(st.tuples(counts, counts, counts), min_size=1, max_size=12)


@given(st.lists(captions, min_size=1, max_size=4), st.floats(min_value=0.5, max_value=4))
def test_pairs_are_consistent(contests, z):
    data = [
        ContestVotes(i, tuple(CaptionVotes(f"{i}-{j}", *c) for j, c in enumerate(rows)))
        for i, rows in enumerate(contests)
    ]
    pairs = clear_pairs(data, z=z, prior_votes=3)
    flat = [c for contest in data for c in contest.captions]
    for a, b in zip(pairs.preferred, pairs.other, strict=True):
        assert a != b
        assert flat[a].mean > flat[b].mean
        se = math.hypot(flat[a].standard_error(3), flat[b].standard_error(3))
        assert flat[a].mean - flat[b].mean > z * se - 1e-9
    assert len(set(zip(pairs.preferred.tolist(), pairs.other.tolist(), strict=True))) == len(pairs)


def test_sampling_caps_each_contest():
    big = ContestVotes(1, tuple(CaptionVotes(str(i), i, 0, 30 - i) for i in range(31)))
    small = ContestVotes(2, (CaptionVotes("a", 30, 0, 0), CaptionVotes("b", 0, 0, 30)))
    pairs = clear_pairs([big, small], prior_votes=3)
    sampled = sample_per_contest(pairs, 10, np.random.default_rng(0))
    assert (sampled.contest == 0).sum() == 10
    assert (sampled.contest == 1).sum() == 1
