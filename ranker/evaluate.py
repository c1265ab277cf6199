"""Pairwise accuracy: how often a ranker orders clear preference pairs the way the voters did."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ranker.pairs import PairSet


@dataclass(frozen=True)
class PairwiseAccuracy:
    """Share of pairs ordered correctly (ties count half), overall and per bucket.

    ``top10`` covers pairs involving one of the contest's ten best captions, ``close`` pairs whose
    mean ratings differ by less than 0.25. A bucket without pairs has accuracy ``None``.
    """

    overall: float | None
    top10: float | None
    close: float | None
    pairs: int
    top10_pairs: int
    close_pairs: int
    contests: int

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON-ready form."""
        return asdict(self)


def pair_correctness(scores: np.ndarray, pairs: PairSet) -> np.ndarray:
    """1 where the preferred caption scores higher, 0.5 on a tie, 0 otherwise."""
    margin = scores[pairs.preferred] - scores[pairs.other]
    return (margin > 0).astype(np.float64) + 0.5 * (margin == 0)


def _share(correct: np.ndarray) -> float | None:
    return float(correct.mean()) if len(correct) else None


def pairwise_accuracy(scores: np.ndarray, pairs: PairSet) -> PairwiseAccuracy:
    """Accuracy of ``scores`` (one per caption of the flat list) on ``pairs``."""
    correct = pair_correctness(scores, pairs)
    return PairwiseAccuracy(
        overall=_share(correct),
        top10=_share(correct[pairs.involves_top]),
        close=_share(correct[pairs.close]),
        pairs=len(pairs),
        top10_pairs=int(pairs.involves_top.sum()),
        close_pairs=int(pairs.close.sum()),
        contests=len(np.unique(pairs.contest)),
    )


def bootstrap_difference(
    scores_new: np.ndarray,
    scores_current: np.ndarray,
    pairs: PairSet,
    rounds: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Interval of (accuracy_new - accuracy_current), resampling contests with replacement.

    Contests, not pairs, are the unit: pairs of one contest share captions and a prompt, so they
    are far from independent, and a pair-level bootstrap would claim too much certainty.
    """
    if len(pairs) == 0:
        raise ValueError("no pairs to compare on")
    gain = pair_correctness(scores_new, pairs) - pair_correctness(scores_current, pairs)
    contests, position = np.unique(pairs.contest, return_inverse=True)
    gain_by_contest = np.bincount(position, weights=gain, minlength=len(contests))
    pairs_by_contest = np.bincount(position, minlength=len(contests)).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(contests), size=(rounds, len(contests)))
    differences = gain_by_contest[draws].sum(axis=1) / pairs_by_contest[draws].sum(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(differences, [tail, 1.0 - tail])
    return float(low), float(high)


def student_t_quantile(probability: float, degrees: int) -> float:
    """The ``probability`` quantile of Student's t with ``degrees`` degrees of freedom."""
    grid = np.linspace(0.0, 60.0, 120_001)
    density = (1.0 + grid**2 / degrees) ** (-(degrees + 1) / 2.0)
    density *= math.exp(math.lgamma((degrees + 1) / 2.0) - math.lgamma(degrees / 2.0)) / math.sqrt(
        degrees * math.pi
    )
    upper = 0.5 + np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2.0)]) * (
        grid[1] - grid[0]
    )
    return float(np.interp(probability, upper, grid))


def contest_t_interval(
    scores_new: np.ndarray, scores_current: np.ndarray, pairs: PairSet, level: float = 0.95
) -> tuple[float, float]:
    """Interval of (accuracy_new - accuracy_current) from the spread of the gain across contests.

    The pooled gain is a ratio (gain summed over pairs / pairs); its standard error is the
    cluster-robust one with contests as clusters, and the quantile is Student's t with one degree
    of freedom fewer than contests. With a handful of contests this is much wider than a
    bootstrap, whose resamples of four contests cannot show how much a fifth would differ.
    """
    gain = pair_correctness(scores_new, pairs) - pair_correctness(scores_current, pairs)
    contests, position = np.unique(pairs.contest, return_inverse=True)
    if len(contests) < 2:
        return -1.0, 1.0
    gain_by_contest = np.bincount(position, weights=gain, minlength=len(contests))
    pairs_by_contest = np.bincount(position, minlength=len(contests)).astype(np.float64)
    pooled = gain_by_contest.sum() / pairs_by_contest.sum()
    spread = (gain_by_contest - pooled * pairs_by_contest) / pairs_by_contest.mean()
    error = math.sqrt(float((spread**2).sum()) / (len(contests) * (len(contests) - 1)))
    half = student_t_quantile(0.5 + level / 2.0, len(contests) - 1) * error
    return float(pooled - half), float(pooled + half)
