"""Refitting the adapter to one community's votes, with a held-out check before promotion.

The contests are split in time: the newest ones are held out. A new adapter, initialised from
the current one, is fitted on the clear pairs of the older contests and compared with the current
adapter on the held-out contests' pairs. It is promoted only when the bootstrap interval (over
held-out contests) of its accuracy gain lies entirely above zero, i.e. it beats the current
adapter by more than the noise.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ranker.adapter import Adapter, new_version
from ranker.calibration import calibration_record
from ranker.evaluate import bootstrap_difference, pairwise_accuracy
from ranker.features import FeatureSpec
from ranker.pairs import clear_pairs, sample_per_contest
from ranker.training import TrainingConfig, train_adapter
from ranker.votes import ContestId, ContestVotes

REFIT_TRAINING = TrainingConfig(steps=150, learning_rate=0.01, anchor=0.05, weight_decay=0.0)


@dataclass(frozen=True)
class RefitPolicy:
    """When a community has enough votes, and how its pairs are drawn.

    Community contests have far fewer votes per caption than NYCCC, so the pair rule uses a lower
    ``z`` (2 standard errors) and ``prior_votes`` pseudo-votes in each caption's variance, which
    keeps a caption with three identical votes from looking certain.
    """

    z: float = 2.0
    prior_votes: float = 3.0
    heldout_fraction: float = 0.2
    min_heldout_contests: int = 3
    min_train_pairs: int = 100
    min_heldout_pairs: int = 30
    max_pairs_per_contest: int = 2000
    bootstrap_rounds: int = 2000
    level: float = 0.95
    seed: int = 0
    training: TrainingConfig = field(default_factory=lambda: REFIT_TRAINING)


@dataclass(frozen=True)
class RefitResult:
    """What a refit did and why.

    ``accuracy_new`` / ``accuracy_current`` are pairwise agreement with the community's clear
    preferences on the held-out (newest) contests; ``difference_ci`` is the bootstrap interval of
    their difference. ``adapter`` is the newly fitted adapter (also when it was not promoted, for
    inspection); ``None`` when there was too little data to fit one.
    """

    promoted: bool
    reason: str
    pairs_train: int = 0
    pairs_heldout: int = 0
    contests_train: tuple[ContestId, ...] = ()
    contests_heldout: tuple[ContestId, ...] = ()
    accuracy_new: float | None = None
    accuracy_current: float | None = None
    difference_ci: tuple[float, float] | None = None
    seconds: float = 0.0
    adapter: Adapter | None = field(default=None, repr=False)


def refit_adapter(
    contests: Sequence[ContestVotes],
    features: np.ndarray,
    current: Adapter,
    spec: FeatureSpec,
    policy: RefitPolicy | None = None,
) -> RefitResult:
    """Fit a community adapter on ``contests`` (oldest first) and decide on promotion.

    ``features`` holds one row per caption of all contests, concatenated in order.
    """
    policy = policy or RefitPolicy()
    started = time.perf_counter()
    pairs = clear_pairs(contests, z=policy.z, prior_votes=policy.prior_votes)
    with_pairs = [int(p) for p in np.unique(pairs.contest)]
    heldout_count = max(
        policy.min_heldout_contests, math.ceil(policy.heldout_fraction * len(with_pairs))
    )
    if len(with_pairs) <= heldout_count:
        return RefitResult(
            promoted=False,
            reason=(
                f"too few votes: {len(with_pairs)} contest(s) have clear preferences "
                f"({len(pairs)} pairs), need more than {heldout_count}; "
                f"staying on adapter {current.version}"
            ),
            seconds=time.perf_counter() - started,
        )
    heldout_positions = with_pairs[-heldout_count:]
    train_positions = with_pairs[:-heldout_count]
    rng = np.random.default_rng(policy.seed)
    train_pairs = sample_per_contest(
        pairs.in_contests(train_positions), policy.max_pairs_per_contest, rng
    )
    heldout_pairs = pairs.in_contests(heldout_positions)
    split = RefitResult(
        promoted=False,
        reason="",
        pairs_train=len(train_pairs),
        pairs_heldout=len(heldout_pairs),
        contests_train=tuple(contests[p].contest for p in train_positions),
        contests_heldout=tuple(contests[p].contest for p in heldout_positions),
    )
    if len(train_pairs) < policy.min_train_pairs or len(heldout_pairs) < policy.min_heldout_pairs:
        return replace(
            split,
            reason=(
                f"too few votes: {len(train_pairs)} training pairs (need {policy.min_train_pairs})"
                f" and {len(heldout_pairs)} held-out pairs (need {policy.min_heldout_pairs});"
                f" staying on adapter {current.version}"
            ),
            seconds=time.perf_counter() - started,
        )
    candidate = train_adapter(features, train_pairs, spec, policy.training, init=current)
    new_scores = candidate.score_features(features)
    current_scores = current.score_features(features)
    accuracy_new = pairwise_accuracy(new_scores, heldout_pairs).overall
    accuracy_current = pairwise_accuracy(current_scores, heldout_pairs).overall
    low, high = bootstrap_difference(
        new_scores,
        current_scores,
        heldout_pairs,
        policy.bootstrap_rounds,
        policy.level,
        policy.seed,
    )
    promoted = low > 0.0
    candidate.metadata.update(
        {
            "version": new_version(),
            "training": {
                "source": "community refit",
                "contests": [str(c) for c in split.contests_train],
                "pairs": len(train_pairs),
                "pair_rule": {"z": policy.z, "prior_votes": policy.prior_votes},
            },
            "metrics": {
                "heldout_contest_ids": [str(c) for c in split.contests_heldout],
                "heldout_pairs": len(heldout_pairs),
                "heldout_accuracy": accuracy_new,
                "parent_heldout_accuracy": accuracy_current,
                "difference_ci": [low, high],
            },
            "calibration": calibration_record(
                new_scores[heldout_pairs.preferred] - new_scores[heldout_pairs.other],
                heldout_pairs.contest,
                [str(c.contest) for c in contests],
                fallback=current.temperature,
            ),
        }
    )
    if "encoder" in current.metadata:
        candidate.metadata["encoder"] = current.metadata["encoder"]
    verdict = "promoted" if promoted else "kept current adapter"
    reason = (
        f"{verdict}: held-out accuracy {accuracy_new:.3f} vs {accuracy_current:.3f}, "
        f"{policy.level:.0%} interval of the gain [{low:+.3f}, {high:+.3f}] over "
        f"{heldout_count} held-out contest(s)"
    )
    return replace(
        split,
        promoted=promoted,
        reason=reason,
        accuracy_new=accuracy_new,
        accuracy_current=accuracy_current,
        difference_ci=(low, high),
        seconds=time.perf_counter() - started,
        adapter=candidate,
    )
