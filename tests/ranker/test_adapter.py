"""Adapter files: round trip, atomic writes, clear refusals, and learning planted preferences."""

from __future__ import annotations

import numpy as np
import pytest

from ranker.adapter import Adapter, AdapterError, load_adapter, save_adapter
from ranker.features import FeatureSpec
from ranker.pairs import PairSet
from ranker.training import TrainingConfig, train_adapter

SPEC = FeatureSpec(embedding_dim=8)


def planted_pairs(features: np.ndarray, truth: np.ndarray, count: int, seed: int) -> PairSet:
    """Pairs labelled by a hidden linear taste ``truth``."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(features), count)
    b = rng.integers(0, len(features), count)
    keep = a != b
    a, b = a[keep], b[keep]
    a_wins = features[a] @ truth > features[b] @ truth
    preferred = np.where(a_wins, a, b)
    other = np.where(a_wins, b, a)
    flags = np.zeros(len(preferred), dtype=bool)
    return PairSet(preferred, other, np.zeros(len(preferred), dtype=np.int64), flags, flags)


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(600, SPEC.dim)).astype(np.float32)
    truth = np.zeros(SPEC.dim)
    truth[[0, 3, SPEC.dim - 1]] = [2.0, -1.0, 1.5]
    return features, truth


@pytest.mark.parametrize("kind", ["linear", "mlp"])
def test_adapter_learns_a_planted_preference(planted, kind):
    features, truth = planted
    train = planted_pairs(features[:400], truth, 2000, seed=2)
    adapter = train_adapter(features, train, SPEC, TrainingConfig(kind=kind, steps=300))
    scores = adapter.score_features(features[400:])
    test = planted_pairs(features[400:], truth, 2000, seed=3)
    accuracy = np.mean(scores[test.preferred] > scores[test.other])
    assert accuracy > 0.9


def test_round_trip_keeps_scores_and_metadata(planted, tmp_path):
    features, truth = planted
    pairs = planted_pairs(features, truth, 500, seed=4)
    adapter = train_adapter(features, pairs, SPEC, TrainingConfig(kind="mlp", steps=20))
    adapter.metadata["metrics"] = {"heldout_overall": 0.61}
    path = save_adapter(adapter, tmp_path / "adapters" / "community.npz")
    loaded = load_adapter(path)
    assert loaded.version == adapter.version
    assert loaded.kind == "mlp"
    assert loaded.spec == SPEC
    assert loaded.metrics == {"heldout_overall": 0.61}
    np.testing.assert_allclose(
        loaded.score_features(features), adapter.score_features(features), rtol=1e-5, atol=1e-5
    )
    assert [p.name for p in path.parent.iterdir()] == ["community.npz"]  # no temp files left


def test_save_replaces_atomically(planted, tmp_path):
    features, truth = planted
    pairs = planted_pairs(features, truth, 200, seed=5)
    first = train_adapter(features, pairs, SPEC, TrainingConfig(steps=5))
    second = train_adapter(features, pairs, SPEC, TrainingConfig(steps=5, seed=1))
    path = tmp_path / "current.npz"
    save_adapter(first, path)
    save_adapter(second, path)
    assert load_adapter(path).version == second.version


def test_init_keeps_the_parent_and_its_standardisation(planted):
    features, truth = planted
    pairs = planted_pairs(features, truth, 500, seed=6)
    parent = train_adapter(features, pairs, SPEC, TrainingConfig(steps=50))
    child = train_adapter(features * 3, pairs, SPEC, TrainingConfig(steps=10), init=parent)
    assert child.metadata["parent_version"] == parent.version
    np.testing.assert_array_equal(child.feature_mean, parent.feature_mean)


def test_not_an_adapter_is_refused(tmp_path):
    junk = tmp_path / "junk.npz"
    np.savez(junk, something=np.zeros(3))
    with pytest.raises(AdapterError, match="not a ranker adapter"):
        load_adapter(junk)
    with pytest.raises(AdapterError, match="not found"):
        load_adapter(tmp_path / "missing.npz")
    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(AdapterError):
        load_adapter(text)


def test_feature_width_mismatch_is_refused():
    adapter = Adapter(
        "linear",
        np.zeros(4, dtype=np.float32),
        np.ones(4, dtype=np.float32),
        {"w": np.ones(4, dtype=np.float32), "b": np.zeros(1, dtype=np.float32)},
        {"feature_spec": SPEC.to_dict()},
    )
    with pytest.raises(AdapterError, match="expects"):
        adapter.score_features(np.zeros((2, 5), dtype=np.float32))
