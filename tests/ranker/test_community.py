"""The community residual (closed form, no encoder) and the contest-level interval."""

from __future__ import annotations

import numpy as np
import pytest

from ranker.community import caption_ratings, fit_residual
from ranker.evaluate import contest_t_interval, student_t_quantile
from ranker.features import FeatureSpec
from ranker.pairs import PairSet
from ranker.training import TrainingConfig, train_adapter
from ranker.votes import CaptionVotes, ContestVotes

SPEC = FeatureSpec(embedding_dim=8)
CONTESTS, SIZE = 12, 20


def pairs_by(values: np.ndarray, owner: np.ndarray, gap: float = 0.5) -> PairSet:
    """Every within-contest pair whose ``values`` differ by more than ``gap``."""
    preferred, other, contest = [], [], []
    for c in np.unique(owner):
        rows = np.nonzero(owner == c)[0]
        for i in rows:
            for j in rows:
                if values[i] - values[j] > gap:
                    preferred.append(i)
                    other.append(j)
                    contest.append(c)
    flags = np.zeros(len(preferred), dtype=bool)
    return PairSet(np.array(preferred), np.array(other), np.array(contest), flags, flags)


@pytest.fixture(scope="module")
def world():
    """Features of 12 contests of 20 captions and a parent adapter fitted on a hidden taste."""
    rng = np.random.default_rng(4)
    features = rng.normal(size=(CONTESTS * SIZE, SPEC.dim)).astype(np.float32)
    owner = np.repeat(np.arange(CONTESTS), SIZE)
    crowd = features @ np.linspace(1.0, -1.0, SPEC.dim)
    parent = train_adapter(features, pairs_by(crowd, owner), SPEC, TrainingConfig(kind="linear"))
    return features, owner, crowd, parent


def test_a_community_that_agrees_with_its_parent_keeps_its_order(world):
    features, owner, crowd, parent = world
    ratings = 2.0 + 0.3 * crowd
    adapter = fit_residual(ratings, owner, features, pairs_by(ratings, owner), parent)
    assert adapter.kind == parent.kind
    assert adapter.weights["w"].shape == parent.weights["w"].shape
    assert adapter.metadata["parent_version"] == parent.version
    assert adapter.metadata["residual"]["parent_weight"] > 0
    agreement = np.corrcoef(adapter.score_features(features), parent.score_features(features))
    assert agreement[0, 1] > 0.95


def test_a_form_taste_the_parent_lacks_is_learned_from_few_contests(world):
    features, owner, crowd, parent = world
    loved = features[:, SPEC.embedding_dim + 4] > 0.5  # one form column the parent ignores
    ratings = 2.0 + 0.1 * crowd + 0.8 * loved
    adapter = fit_residual(ratings, owner, features, pairs_by(ratings, owner), parent)
    scores = adapter.score_features(features)
    assert scores[loved].mean() - scores[~loved].mean() > 1.0
    before = parent.score_features(features)
    assert abs(before[loved].mean() - before[~loved].mean()) < 0.5


def test_an_mlp_parent_gets_a_residual_of_its_own(world):
    features, owner, crowd, _ = world
    parent = train_adapter(
        features, pairs_by(crowd, owner), SPEC, TrainingConfig(kind="mlp", steps=100)
    )
    loved = features[:, SPEC.embedding_dim + 4] > 0.5
    ratings = 2.0 + 0.8 * loved
    adapter = fit_residual(ratings, owner, features, pairs_by(ratings, owner), parent)
    assert adapter.kind == "mlp"
    assert adapter.weights["residual"].shape == (SPEC.dim,)
    scores = adapter.score_features(features)
    assert scores[loved].mean() > scores[~loved].mean()


def test_caption_ratings_are_flat_and_in_order():
    contests = [
        ContestVotes(1, (CaptionVotes("a", 2, 0, 0), CaptionVotes("b", 0, 0, 2))),
        ContestVotes(2, (CaptionVotes("c", 0, 2, 0),)),
    ]
    ratings, owner = caption_ratings(contests)
    assert ratings.tolist() == [3.0, 1.0, 2.0]
    assert owner.tolist() == [0, 0, 1]


@pytest.mark.parametrize(("degrees", "expected"), [(1, 12.706), (4, 2.776), (30, 2.042)])
def test_student_t_quantiles_match_the_tables(degrees, expected):
    assert student_t_quantile(0.975, degrees) == pytest.approx(expected, abs=2e-3)


def test_the_contest_interval_is_wider_with_fewer_contests():
    rng = np.random.default_rng(0)

    def interval(contests: int) -> tuple[float, float]:
        owner = np.repeat(np.arange(contests), 10)
        pairs = PairSet(
            np.arange(0, 10 * contests, 2),
            np.arange(1, 10 * contests, 2),
            owner[::2],
            np.zeros(5 * contests, dtype=bool),
            np.zeros(5 * contests, dtype=bool),
        )
        new = rng.normal(size=10 * contests) + np.tile([0.3, 0.0], 5 * contests)
        return contest_t_interval(new, np.zeros(10 * contests), pairs)

    few, many = interval(4), interval(40)
    assert few[1] - few[0] > many[1] - many[0]
    assert few[0] <= few[1]
