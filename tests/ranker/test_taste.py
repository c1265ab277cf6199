"""The taste report recovers effects planted in synthetic votes, and its calibration holds out."""

from __future__ import annotations

import numpy as np
import pytest

from ranker.pairs import PairSet
from ranker.taste import (
    caption_factors,
    factor_effects,
    fit_bradley_terry,
    form_measures,
)

WORDS = "cat dog boss office coffee meeting rocket island penguin lawyer taxes piano".split()


def synthetic_captions(rng: np.random.Generator, n: int) -> list[str]:
    captions = []
    for _ in range(n):
        words = list(rng.choice(WORDS, size=int(rng.integers(3, 16))))
        text = " ".join(words)
        captions.append(text + ("?" if rng.random() < 0.4 else "."))
    return captions


def planted_pairs(
    factors: np.ndarray,
    names: list[str],
    effects: dict[str, float],
    contests: int,
    per: int,
    rng: np.random.Generator,
) -> PairSet:
    """Pairs within contests of ``per`` captions, winners drawn from a BT model with ``effects``."""
    utility = sum(factors[:, names.index(name)] * size for name, size in effects.items())
    preferred, other, contest = [], [], []
    for c in range(contests):
        members = np.arange(c * per, (c + 1) * per)
        for _ in range(per * 3):
            i, j = rng.choice(members, size=2, replace=False)
            p = 1 / (1 + np.exp(-(utility[i] - utility[j])))
            win, lose = (i, j) if rng.random() < p else (j, i)
            preferred.append(win)
            other.append(lose)
            contest.append(c)
    n = len(preferred)
    return PairSet(
        np.array(preferred),
        np.array(other),
        np.array(contest),
        np.zeros(n, bool),
        np.zeros(n, bool),
    )


def test_form_measures_read_what_they_say():
    length, question, dialogue, wordplay, _, sentiment, exclaim, you = form_measures(
        '"Peter Piper picked peppers?" I love you!'
    )
    assert (length, question, dialogue, exclaim, you) == (7.0, 1.0, 1.0, 1.0, 1.0)
    assert wordplay >= 2
    assert sentiment > 0


def test_bradley_terry_recovers_a_known_coefficient():
    rng = np.random.default_rng(0)
    diffs = rng.normal(size=(4000, 2))
    wins = rng.random(4000) < 1 / (1 + np.exp(-(diffs @ np.array([1.0, -0.5]))))
    beta = fit_bradley_terry(np.where(wins[:, None], diffs, -diffs), l2=0.1)
    assert beta == pytest.approx([1.0, -0.5], abs=0.12)


def test_planted_taste_is_recovered_in_sign_and_rough_size():
    rng = np.random.default_rng(1)
    contests, per = 40, 12
    captions = synthetic_captions(rng, contests * per)
    embeddings = rng.normal(size=(len(captions), 16))
    names, factors = caption_factors(
        captions,
        embeddings,
        embeddings.mean(axis=0, keepdims=True).repeat(len(captions), 0),
        n_topics=0,
        rng=rng,
    )
    planted = {"length (words)": -0.8, "question": 0.6}  # hates long captions, loves questions
    pairs = planted_pairs(factors, names, planted, contests, per, rng)
    model_scores = factors[:, names.index("question")]  # a model that only likes questions
    effects = {
        e.name: e for e in factor_effects(names, factors, pairs, model_scores, rng, rounds=100)
    }
    assert effects["length (words)"].crowd == pytest.approx(-0.8, abs=0.3)
    assert effects["question"].crowd == pytest.approx(0.6, abs=0.3)
    assert effects["length (words)"].clear
    assert effects["question"].clear
    assert abs(effects["wordplay"].crowd) < 0.25  # not planted: near zero
    assert effects["question"].model > abs(effects["length (words)"].model)
