"""Community refits: learning a taste NYCCC does not have, and refusing to promote a worse model."""

from __future__ import annotations

import pytest

from ranker import RefitPolicy, load_adapter, save_adapter
from ranker.pairs import clear_pairs
from ranker.votes import CaptionVotes, ContestVotes

# At most 40 pairs from each of the 20 training contests: at most 800 pairs in all.
SMALL_REFIT = RefitPolicy(max_pairs_per_contest=40)


@pytest.fixture(scope="module")
def food_lovers(make_community):
    return make_community(contests=25, loves="food", seed=1)


@pytest.fixture(scope="module")
def food_refit(ranker, food_lovers):
    return ranker.refit(food_lovers, policy=SMALL_REFIT)


def test_refit_learns_a_community_taste_the_base_adapter_lacks(food_refit):
    result = food_refit
    assert result.pairs_train <= 1000
    assert result.accuracy_current < 0.7, "the base adapter should be near chance on this taste"
    assert result.accuracy_new >= 0.85
    assert result.difference_ci[0] > 0
    assert result.promoted, result.reason
    assert "promoted" in result.reason
    assert len(result.contests_heldout) == 5
    assert result.contests_heldout == (20, 21, 22, 23, 24)  # the newest are held out


def test_refit_adapter_records_its_lineage(food_refit, ranker, tmp_path):
    adapter = food_refit.adapter
    assert adapter.metadata["parent_version"] == ranker.adapter.version
    assert adapter.metadata["training"]["contests"] == [str(c) for c in range(20)]
    assert adapter.metrics["heldout_accuracy"] == pytest.approx(food_refit.accuracy_new)
    loaded = load_adapter(save_adapter(adapter, tmp_path / "community.npz"))
    assert loaded.metadata["encoder"] == ranker.adapter.metadata["encoder"]
    calibration = loaded.metadata["calibration"]
    assert calibration["pairs_fit"] + calibration["pairs_check"] == food_refit.pairs_heldout
    assert calibration["fitted"]  # 5 held-out contests: enough pairs to fit on
    assert loaded.temperature == calibration["temperature"]
    assert 0.25 <= loaded.temperature <= 4.0
    assert set(loaded.calibration_contests) < {str(c) for c in food_refit.contests_heldout}
    assert calibration["ece"] is not None


def test_promoted_adapter_scores_the_community_favourite_higher(food_refit, ranker):
    captions = ["Nobody warned me about the meatloaf.", "Nobody warned me about the jury."]
    base = ranker.score("A cartoon about everyday trouble.", captions)
    community = ranker.score("A cartoon about everyday trouble.", captions, food_refit.adapter)
    assert community[0] - community[1] > base[0] - base[1]
    assert community[0] > community[1]


def test_a_worse_adapter_is_not_promoted(ranker, make_community, food_refit):
    # The community's taste flips for its newest contests: an adapter fitted on the older ones
    # does worse there than the current adapter, and must not replace it.
    fickle = make_community(contests=25, loves="food", reversed_from=20, seed=2)
    result = ranker.refit(fickle, current=food_refit.adapter, policy=SMALL_REFIT)
    assert not result.promoted
    assert result.accuracy_new <= result.accuracy_current + 0.05
    assert result.difference_ci[0] <= 0
    assert "kept current adapter" in result.reason


def test_too_few_votes_stay_on_the_base_adapter(ranker):
    contests = [
        ContestVotes(
            day,
            (CaptionVotes("We need a bigger boat.", 2, 0, 0), CaptionVotes("Meh.", 0, 1, 1)),
        )
        for day in range(3)
    ]
    result = ranker.refit(contests)
    assert not result.promoted
    assert result.adapter is None
    assert "too few votes" in result.reason
    assert ranker.adapter.version in result.reason


def test_refit_pair_rule_is_stricter_than_raw_differences(food_lovers):
    policy = RefitPolicy()
    strict = clear_pairs(food_lovers, z=policy.z, prior_votes=policy.prior_votes)
    loose = clear_pairs(food_lovers, z=0.0)
    assert 0 < len(strict) < len(loose)
