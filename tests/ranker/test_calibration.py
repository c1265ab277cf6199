"""Calibration: a temperature fitted on some held-out contests holds on others; too little data
keeps the parent's; the taste report grades the stated confidence only on unseen contests."""

from __future__ import annotations

import numpy as np
import pytest

from ranker.calibration import (
    MIN_FIT_PAIRS,
    TEMPERATURE_BOUNDS,
    calibration_record,
    fit_temperature,
    reliability_table,
)
from ranker.pairs import PairSet
from ranker.taste import trust


def planted_gaps(n: int, true_t: float, seed: int) -> np.ndarray:
    """score(preferred) − score(other) of pairs where the crowd agrees with a model's gap g with
    probability σ(g / true_t): a model whose confidence is calibrated at ``true_t``."""
    rng = np.random.default_rng(seed)
    gaps = rng.normal(scale=4.0, size=n)
    agrees = rng.random(n) < 1 / (1 + np.exp(-gaps / true_t))
    return np.where(agrees, gaps, -gaps)


def test_temperature_calibrates_on_held_out_pairs():
    signed = planted_gaps(6000, 2.5, seed=2)
    fitted = fit_temperature(signed[:3000])
    assert fitted == pytest.approx(2.5, rel=0.15)
    table, error = reliability_table(signed[3000:], fitted)
    assert error < 0.04
    assert all(abs(b.confidence - b.accuracy) < 0.06 for b in table if b.count > 200)
    overconfident = reliability_table(signed[3000:], 0.3)[1]
    assert overconfident > error * 3  # an uncalibrated model is visibly off


def test_record_fits_on_alternate_contests_and_checks_on_the_rest():
    gaps = planted_gaps(4000, 2.0, seed=5)
    contests = np.repeat(np.arange(8), 500)
    names = [f"c{i}" for i in range(8)]
    record = calibration_record(gaps, contests, names)
    assert record["fitted"]
    assert record["temperature"] == pytest.approx(2.0, rel=0.2)
    assert record["contests_fit"] == ["c0", "c2", "c4", "c6"]
    assert record["pairs_fit"] == record["pairs_check"] == 2000
    assert record["ece"] < 0.04 < record["ece_uncalibrated"]


def test_too_few_pairs_keep_the_parent_temperature():
    """Ten pairs all ordered right would fit T → 0 (certainty); the record keeps the fallback."""
    gaps = np.abs(planted_gaps(20, 2.0, seed=1))
    contests = np.repeat([0, 1], 10)
    assert fit_temperature(gaps[:10]) == pytest.approx(0.05)  # what an unguarded fit would say
    record = calibration_record(gaps, contests, ["a", "b"], fallback=1.7)
    assert not record["fitted"]
    assert record["temperature"] == 1.7
    assert record["contests_fit"] == []
    assert MIN_FIT_PAIRS > 10


def test_a_single_contest_has_nothing_to_check_on_and_bounds_hold():
    gaps = planted_gaps(1000, 50.0, seed=3)  # nearly random: the unbounded fit runs off
    record = calibration_record(gaps, np.zeros(1000, dtype=int), ["only"])
    assert record["pairs_check"] == 0
    assert record["ece"] is None
    assert record["temperature"] == TEMPERATURE_BOUNDS[1]


def test_trust_grades_the_stated_confidence_only_on_unseen_contests():
    # Two contests of 2 captions each; the model is right on contest 0, wrong on contest 1.
    scores = np.array([2.0, 0.0, 0.0, 2.0])
    pairs = PairSet(
        preferred=np.array([0, 2]),
        other=np.array([1, 3]),
        contest=np.array([0, 1]),
        involves_top=np.array([True, True]),
        close=np.array([False, False]),
    )
    offsets = np.array([0, 2, 4])
    seen_first = trust(scores, pairs, [0, 2], offsets, 1.0, unseen=np.array([False, True]))
    assert [b.accuracy for b in seen_first.reliability] == [0.0]  # only contest 1 is graded
    assert seen_first.top_pick_agreement == 0.5
    nothing_unseen = trust(scores, pairs, [0, 2], offsets, 1.0, unseen=np.array([False, False]))
    assert nothing_unseen.reliability == ()
    assert nothing_unseen.calibration_error is None
