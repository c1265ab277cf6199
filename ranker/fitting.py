"""Fitting an adapter on a vote dataset (the NYCCC base adapter) and evaluating one honestly.

NYCCC keeps, per contest, the 60 best captions by mean plus a random sample of the rest. The
field features measure how crowded a caption's idea is among the other captions; against that
file as it stands, the top 60 are over-represented, so "close to many others" partly means "close
to the known winners" — a leak of the labels through the sampling design. The ``random-part``
field reference measures crowding against the random sample only, an unbiased stand-in for the
full pool of submissions a live contest has. ``all`` uses every caption, as a live contest does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from ranker.adapter import Adapter
from ranker.calibration import calibration_record, reliability_table
from ranker.core import FieldReference, featurize_contests, whole_field
from ranker.encoders import SentenceEncoder
from ranker.evaluate import PairwiseAccuracy, pairwise_accuracy
from ranker.features import FeatureSpec
from ranker.pairs import NYCCC_Z, PairSet, clear_pairs, sample_per_contest
from ranker.training import TrainingConfig, train_adapter
from ranker.votes import ContestVotes, RankerInputError

NYCCC_TOP = 60


def random_part(contest: ContestVotes) -> np.ndarray | None:
    """NYCCC field: the captions outside the contest's top 60 (its uniform random sample)."""
    if len(contest.captions) <= NYCCC_TOP:
        return None
    means = np.array([c.mean for c in contest.captions])
    reference = np.ones(len(means), dtype=bool)
    reference[np.argsort(-means, kind="stable")[:NYCCC_TOP]] = False
    return reference


FIELD_REFERENCES: dict[str, FieldReference] = {"random-part": random_part, "all": whole_field}


@dataclass(frozen=True)
class FitSettings:
    """How a dataset fit draws its split and its pairs."""

    heldout_fraction: float = 0.2
    pairs_per_contest: int = 3000
    field_reference: str = "random-part"
    seed: int = 0
    training: TrainingConfig = field(default_factory=TrainingConfig)


def split_contests(
    contests: Sequence[ContestVotes], heldout_fraction: float, seed: int
) -> tuple[list[ContestVotes], list[ContestVotes]]:
    """A seeded random split of whole contests into (training, held-out)."""
    if len(contests) < 2:
        raise RankerInputError("need at least two contests to split into training and held-out")
    order = np.random.default_rng(seed).permutation(len(contests))
    heldout_count = min(max(1, round(heldout_fraction * len(contests))), len(contests) - 1)
    heldout = set(order[:heldout_count].tolist())
    train = [c for i, c in enumerate(contests) if i not in heldout]
    return train, [c for i, c in enumerate(contests) if i in heldout]


def evaluate_adapter(
    encoder: SentenceEncoder,
    contests: Sequence[ContestVotes],
    adapter: Adapter,
    field_reference: str = "random-part",
    z: float = NYCCC_Z,
) -> tuple[PairwiseAccuracy, np.ndarray, PairSet]:
    """Pairwise accuracy of ``adapter`` on ``contests`` by the README's pair rule, and the gap
    score(preferred) − score(other) of every pair (what calibration is measured on), and the pairs.

    The caller chooses the contests; ``evaluate_dataset`` drops the adapter's training contests.
    """
    features = featurize_contests(encoder, contests, FIELD_REFERENCES[field_reference], True)
    scores = adapter.score_features(features)
    pairs = clear_pairs(contests, z=z)
    return pairwise_accuracy(scores, pairs), scores[pairs.preferred] - scores[pairs.other], pairs


def evaluate_dataset(
    encoder: SentenceEncoder,
    contests: Sequence[ContestVotes],
    adapter: Adapter,
    field_reference: str = "random-part",
) -> dict[str, object]:
    """Accuracy on the contests ``adapter`` was not trained on, as a JSON-ready report."""
    trained = set(adapter.training_contests)
    unseen = [c for c in contests if str(c.contest) not in trained]
    if not unseen:
        raise RankerInputError("every contest in the data was used to train this adapter")
    accuracy, gaps, pairs = evaluate_adapter(encoder, unseen, adapter, field_reference)
    # The calibration check skips the contests the temperature was fitted on, as accuracy skips
    # the training contests.
    fitted_on = set(adapter.calibration_contests)
    check = ~np.isin(
        pairs.contest, [i for i, c in enumerate(unseen) if str(c.contest) in fitted_on]
    )
    table, error = reliability_table(gaps[check], adapter.temperature)
    return {
        "adapter_version": adapter.version,
        "field_reference": field_reference,
        "contests_total": len(contests),
        "contests_excluded_as_training": len(contests) - len(unseen),
        "contests_evaluated": len(unseen),
        **accuracy.to_dict(),
        "calibration": {
            "temperature": adapter.temperature,
            "calibrated": adapter.calibrated,
            "contests_checked": len({int(i) for i in pairs.contest[check]}),
            "ece": error,
            "reliability": [
                {"stated": round(b.confidence, 4), "right": round(b.accuracy, 4), "pairs": b.count}
                for b in table
            ],
        },
    }


def fit_dataset(
    encoder: SentenceEncoder,
    contests: Sequence[ContestVotes],
    settings: FitSettings | None = None,
    init: Adapter | None = None,
    source: str = "",
) -> Adapter:
    """Fit an adapter on a training split of ``contests``, measure it on the held-out split."""
    settings = settings or FitSettings()
    train, heldout = split_contests(contests, settings.heldout_fraction, settings.seed)
    reference = FIELD_REFERENCES[settings.field_reference]
    features = featurize_contests(encoder, train, reference, progress=True)
    rng = np.random.default_rng(settings.seed)
    pairs = sample_per_contest(clear_pairs(train), settings.pairs_per_contest, rng)
    adapter = train_adapter(
        features, pairs, FeatureSpec(encoder.dimension), settings.training, init
    )
    accuracy, gaps, heldout_pairs = evaluate_adapter(
        encoder, heldout, adapter, settings.field_reference
    )
    adapter.metadata.update(
        {
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "encoder": {"name": encoder.name, "dimension": encoder.dimension},
            "training": {
                "source": source,
                "contests": [str(c.contest) for c in train],
                "pairs": len(pairs),
                "pairs_per_contest": settings.pairs_per_contest,
                "pair_rule": {"z": NYCCC_Z, "prior_votes": 0},
                "field_reference": settings.field_reference,
                "seed": settings.seed,
            },
            "metrics": {
                "heldout_contest_ids": [str(c.contest) for c in heldout],
                **{f"heldout_{k}": v for k, v in accuracy.to_dict().items()},
            },
            "calibration": calibration_record(
                gaps, heldout_pairs.contest, [str(c.contest) for c in heldout]
            ),
        }
    )
    return adapter
