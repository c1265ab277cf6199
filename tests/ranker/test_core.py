"""Scoring and ranking with the real encoder and the shipped base adapter."""

from __future__ import annotations

import numpy as np
import pytest

from ranker import AdapterError, Ranker, RankerInputError, base_adapter_path, load_adapter
from ranker.adapter import Adapter
from ranker.features import CHAR_RANGE, WORD_RANGE

DESCRIPTION = "A man in a business suit sits at a desk in the middle of the ocean."
CAPTIONS = [
    "I said I wanted a corner office with a view.",
    "The commute is murder, but the parking is great.",
    "Remote work has gone too far.",
    "Has anyone seen my stapler?",
]


def test_base_adapter_is_small_and_self_describing():
    path = base_adapter_path()
    assert path.stat().st_size < 2_000_000
    adapter = load_adapter(path)
    assert adapter.metadata["encoder"]["name"] == "all-MiniLM-L6-v2"
    assert adapter.metadata["feature_spec"]["embedding_dim"] == 384
    assert len(adapter.training_contests) > 50
    assert set(adapter.training_contests).isdisjoint(adapter.metrics["heldout_contest_ids"])
    assert 0.5 < adapter.metrics["heldout_overall"] < 1.0
    calibration = adapter.metadata["calibration"]
    assert calibration["pairs_fit"] + calibration["pairs_check"] == adapter.metrics["heldout_pairs"]
    # Checked on held-out contests the temperature was not fitted on.
    assert calibration["ece"] < 0.02


def test_score_gives_one_finite_score_per_caption(ranker):
    scores = ranker.score(DESCRIPTION, CAPTIONS)
    assert scores.shape == (len(CAPTIONS),)
    assert np.isfinite(scores).all()
    assert len(set(scores.round(6))) == len(CAPTIONS)


def test_scoring_is_deterministic_and_batching_does_not_change_it(ranker):
    alone = ranker.score(DESCRIPTION, CAPTIONS)
    together = ranker.score_many([(DESCRIPTION, CAPTIONS), ("Two cats at a bar.", ["Meow."] * 3)])
    np.testing.assert_allclose(together[0], alone, rtol=1e-5, atol=1e-5)
    assert together[1].shape == (3,)


def test_rank_orders_by_score_and_reports_confidence(ranker):
    ranking = ranker.rank(DESCRIPTION, CAPTIONS)
    scores = np.array(ranking.scores)
    assert list(ranking.order) == list(np.argsort(-scores))
    assert ranking.top == CAPTIONS[ranking.order[0]]
    assert 0.5 <= ranking.confidence <= 1.0
    assert 0.5 <= ranking.field_confidence <= 1.0
    assert ranking.confidence <= ranking.field_confidence + 1e-9  # runner-up is the hardest
    assert ranking.adapter_version == ranker.adapter.version


def test_confidence_is_the_adapter_s_calibrated_probability(ranker):
    """σ(gap / T) with the temperature fitted on the adapter's held-out pairs: a hotter adapter
    states less confidence about the same scores."""
    base = ranker.adapter
    ranking = ranker.rank(DESCRIPTION, CAPTIONS)
    gap = ranking.scores[ranking.order[0]] - ranking.scores[ranking.order[1]]
    assert ranking.confidence == pytest.approx(1 / (1 + np.exp(-gap / base.temperature)))
    hotter = Adapter(
        base.kind,
        base.feature_mean,
        base.feature_scale,
        base.weights,
        {**base.metadata, "calibration": {"temperature": 4 * base.temperature}},
    )
    cooler = ranker.rank(DESCRIPTION, CAPTIONS, adapter=hotter)
    assert cooler.order == ranking.order
    assert 0.5 < cooler.confidence < ranking.confidence


def test_a_single_caption_ranks_with_full_confidence(ranker):
    ranking = ranker.rank(None, ["Only one entry today."])
    assert ranking.order == (0,)
    assert ranking.confidence == 1.0


@pytest.mark.parametrize("captions", [[], ["fine", "   "], "a string is not a list"])
def test_bad_caption_lists_are_clear_errors(ranker, captions):
    with pytest.raises(RankerInputError):
        ranker.score(DESCRIPTION, captions)


def test_padding_a_caption_cannot_buy_a_top_score(ranker):
    """Length enters only through clipped logs: a caption padded to absurd length gains at most
    the clipped amount, and its score stays finite and close to the moderate-length one."""
    base = "The commute is murder, but the parking is great"
    padded = base + ", and " + ", and ".join(["the parking is great"] * 40)
    scores = ranker.score(DESCRIPTION, [*CAPTIONS, padded + "."])
    assert np.isfinite(scores).all()
    assert scores[-1] - scores[1] < np.ptp(scores[:-1]) + 1.0


def test_length_alone_moves_a_base_score_by_little(ranker):
    """Across the whole clipped range (20-100 characters, 4-20 words) the length features shift a
    score by at most 0.6 logits, a third of the typical gap between a held-out NYCCC contest's
    median and top score (1.8): being short or long cannot by itself put a caption on top."""
    adapter = ranker.adapter
    raw = adapter.weights["w"] / adapter.feature_scale
    names = adapter.spec.names
    span = abs(raw[names.index("log_chars")]) * np.log(CHAR_RANGE[1] / CHAR_RANGE[0])
    span += abs(raw[names.index("log_words")]) * np.log(WORD_RANGE[1] / WORD_RANGE[0])
    assert span < 0.6


def test_incompatible_adapter_is_refused(ranker, encoder):
    adapter = load_adapter(base_adapter_path())
    wrong = Adapter(
        "linear",
        adapter.feature_mean[:10],
        adapter.feature_scale[:10],
        {"w": adapter.weights["w"][:10], "b": adapter.weights["b"]},
        {"feature_spec": {"version": 1, "embedding_dim": 2}},
    )
    with pytest.raises(AdapterError, match="expects features"):
        Ranker(wrong, encoder=encoder)
    with pytest.raises(AdapterError):
        ranker.score(DESCRIPTION, CAPTIONS, adapter=wrong)
