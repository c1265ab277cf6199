"""Refitting the adapter to one community's votes, with an out-of-sample check before promotion.

The candidate is a residual on top of the current adapter (``ranker.community``), fitted on every
contest the community has. Whether it may replace the current adapter is judged on contests it
did not learn from: the contests are cut into consecutive blocks (in time), each block is scored
by a model fitted on the other blocks, and the current adapter is scored on the same contests.
The candidate is promoted only when the interval of its accuracy gain lies entirely above zero,
i.e. it beats the current adapter by more than the noise. The interval comes from how much the gain varies
from contest to contest (Student's t, ``ranker.evaluate.contest_t_interval``): with the handful
of contests a new community has, a bootstrap over them is far too sure of itself, and promoted
adapters that were worse on the next contests.

Input the refit cannot learn from makes it keep the current adapter and say why, in words a
moderator can act on: too few votes, votes that separate no captions, captions in a script the
encoder does not read. Contests of fewer than three captions are left out; instructions addressed
to a model inside captions are removed before the features are computed (``Ranker.features``).
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ranker.adapter import Adapter, new_version
from ranker.calibration import calibration_record
from ranker.community import ResidualConfig, caption_ratings, fit_residual
from ranker.evaluate import contest_t_interval, pairwise_accuracy
from ranker.guard import strip_injection
from ranker.pairs import PairSet, clear_pairs, contest_offsets, sample_per_contest
from ranker.training import TrainingConfig, train_adapter
from ranker.votes import ContestId, ContestVotes

FOREIGN_SCRIPT_LIMIT = 0.5
GRADIENT_TRAINING = TrainingConfig(steps=150, learning_rate=0.01, anchor=0.05, weight_decay=0.0)
MODELS = ("residual", "gradient")


@dataclass(frozen=True)
class RefitPolicy:
    """When a community has enough votes, how its pairs are drawn, how a candidate is judged.

    Community contests have far fewer votes per caption than NYCCC, so the pair rule uses a lower
    ``z`` (2 standard errors) and ``prior_votes`` pseudo-votes in each caption's variance, which
    keeps a caption with three identical votes from looking certain. The contests are judged in
    ``folds`` consecutive blocks, each by a model fitted on the rest (at least
    ``min_train_contests`` contests and ``min_train_pairs`` pairs); at least
    ``min_heldout_contests`` contests and ``min_heldout_pairs`` pairs must be judged.

    ``model`` is the candidate's kind: ``residual`` (``ranker.community``, the default) or
    ``gradient`` (the parent's head trained further with the Bradley–Terry loss on at most
    ``max_pairs_per_contest`` pairs a contest, ``training``; the refit before residuals).
    """

    z: float = 2.0
    prior_votes: float = 3.0
    folds: int = 5
    min_heldout_contests: int = 4
    min_train_contests: int = 2
    min_train_pairs: int = 100
    min_heldout_pairs: int = 30
    min_contest_captions: int = 3
    max_pairs_per_contest: int = 2000
    level: float = 0.95
    seed: int = 0
    model: str = "residual"
    residual: ResidualConfig = field(default_factory=ResidualConfig)
    training: TrainingConfig = field(default_factory=lambda: GRADIENT_TRAINING)


@dataclass(frozen=True)
class RefitResult:
    """What a refit did and why.

    ``accuracy_new`` / ``accuracy_current`` are pairwise agreement with the community's clear
    preferences on the judged contests (``contests_heldout``), each scored by a candidate fitted
    without it; ``difference_ci`` is the interval of their difference. ``adapter`` is the
    candidate fitted on every contest (also when it was not promoted, for inspection); ``None``
    when there was too little usable data to fit one.
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


def foreign_script_share(texts: Sequence[str]) -> float:
    """Share of captions whose letters are mostly outside the Latin script."""
    foreign = 0
    for text in texts:
        letters = [ch for ch in text if ch.isalpha()]
        latin = sum(unicodedata.name(ch, "").startswith("LATIN") for ch in letters)
        foreign += bool(letters) and latin < len(letters) / 2
    return foreign / max(len(texts), 1)


def _rows_of(contests: Sequence[ContestVotes], positions: Sequence[int]) -> np.ndarray:
    offsets = contest_offsets(contests)
    return np.concatenate(
        [np.arange(offsets[p], offsets[p + 1]) for p in positions] or [np.zeros(0, np.int64)]
    )


def _fit_on(
    contests: Sequence[ContestVotes],
    features: np.ndarray,
    pairs: PairSet,
    positions: Sequence[int],
    current: Adapter,
    policy: RefitPolicy,
) -> Adapter:
    """The candidate fitted on the contests at ``positions`` only."""
    if policy.model == "gradient":
        rng = np.random.default_rng(policy.seed)
        chosen = sample_per_contest(pairs.in_contests(positions), policy.max_pairs_per_contest, rng)
        return train_adapter(features, chosen, current.spec, policy.training, init=current)
    rows = _rows_of(contests, positions)
    ratings, owner = caption_ratings([contests[p] for p in positions])
    rated = np.array([c.votes > 0 for p in positions for c in contests[p].captions])
    local = np.full(len(features), -1, dtype=np.int64)
    local[rows[rated]] = np.arange(int(rated.sum()))
    chosen = pairs.in_contests(positions)
    chosen = chosen.subset((local[chosen.preferred] >= 0) & (local[chosen.other] >= 0))
    remapped = replace(chosen, preferred=local[chosen.preferred], other=local[chosen.other])
    return fit_residual(
        ratings[rated], owner[rated], features[rows[rated]], remapped, current, policy.residual
    )


def _refusal(contests: Sequence[ContestVotes], policy: RefitPolicy) -> str | None:
    """Why these contests cannot teach the ranker anything, or None."""
    texts = [text for contest in contests for text in contest.texts]
    if not texts:
        return "no contests with at least three captions"
    foreign = foreign_script_share(texts)
    if foreign > FOREIGN_SCRIPT_LIMIT:
        return (
            f"{foreign:.0%} of the captions are not in the Latin script, and the bundled encoder "
            "reads English: it cannot learn this community's taste"
        )
    if all(len({c.mean for c in contest.captions if c.votes}) <= 1 for contest in contests):
        return "the votes separate no captions (every caption of a contest got the same ratings)"
    return None


def _usable(
    contests: Sequence[ContestVotes], features: np.ndarray, policy: RefitPolicy
) -> tuple[list[ContestVotes], np.ndarray, str]:
    """The contests (and their feature rows) a refit learns from, and a note on what it left
    out: contests too small to compare captions in, words addressed to a model."""
    usable = [i for i, c in enumerate(contests) if len(c.captions) >= policy.min_contest_captions]
    notes = []
    if len(usable) < len(contests):
        left_out = len(contests) - len(usable)
        notes.append(
            f"left out {left_out} contest(s) of fewer than {policy.min_contest_captions} captions"
        )
        features = features[_rows_of(contests, usable)]
    contests = [contests[i] for i in usable]
    injected = sum(strip_injection(t)[1] for c in contests for t in c.texts)
    if injected:
        notes.append(f"{injected} caption(s) spoke to the model; those words were ignored")
    return contests, features, f" ({'; '.join(notes)})" if notes else ""


def _too_few(with_pairs: int, pairs: int, policy: RefitPolicy) -> str:
    return (
        f"too few votes: {with_pairs} contest(s) have clear preferences ({pairs} "
        f"pairs); judging a new adapter needs {policy.min_heldout_contests} contests judged "
        f"by models fitted on at least {policy.min_train_contests} other contests "
        f"({policy.min_train_pairs} pairs), and {policy.min_heldout_pairs} pairs to judge on"
    )


@dataclass(frozen=True)
class _Judgement:
    """The candidate against the current adapter on contests it was not fitted on."""

    judged: list[int]  # positions of the judged contests
    pairs: PairSet  # their clear pairs
    scores: np.ndarray  # every caption's score, the judged ones by a candidate fitted without them
    accuracy_new: float
    accuracy_current: float
    interval: tuple[float, float]  # of accuracy_new - accuracy_current

    @property
    def better(self) -> bool:
        return self.interval[0] > 0.0


def _judge(
    contests: Sequence[ContestVotes],
    features: np.ndarray,
    pairs: PairSet,
    with_pairs: list[int],
    current: Adapter,
    policy: RefitPolicy,
) -> _Judgement | None:
    """Cut the contests with pairs into ``policy.folds`` consecutive blocks, score each block by
    a candidate fitted on the others (when they leave enough to fit on) and compare with the
    current adapter; None when too little could be judged."""
    per_contest = np.bincount(pairs.contest, minlength=len(contests))
    current_scores = current.score_features(features)
    scores = current_scores.astype(np.float64)
    judged: list[int] = []
    for block in np.array_split(np.array(with_pairs), min(policy.folds, len(with_pairs))):
        held = set(block.tolist())
        rest = [p for p in with_pairs if p not in held]
        if (
            len(rest) < policy.min_train_contests
            or per_contest[rest].sum() < policy.min_train_pairs
        ):
            continue
        model = _fit_on(contests, features, pairs, rest, current, policy)
        rows = _rows_of(contests, block.tolist())
        scores[rows] = model.score_features(features[rows])
        judged.extend(block.tolist())
    judged_pairs = pairs.in_contests(judged)
    if len(judged) < policy.min_heldout_contests or len(judged_pairs) < policy.min_heldout_pairs:
        return None
    return _Judgement(
        judged,
        judged_pairs,
        scores,
        pairwise_accuracy(scores, judged_pairs).overall,
        pairwise_accuracy(current_scores, judged_pairs).overall,
        contest_t_interval(scores, current_scores, judged_pairs, policy.level),
    )


def _lineage(
    contests: Sequence[ContestVotes],
    trained_on: list[int],
    pairs: int,
    judgement: _Judgement,
    current: Adapter,
    policy: RefitPolicy,
) -> dict[str, object]:
    """The candidate's metadata: what it was fitted on, how it was judged, its calibration."""
    scores, judged_pairs = judgement.scores, judgement.pairs
    return {
        "version": new_version(),
        "training": {
            "source": "community refit",
            "contests": [str(contests[p].contest) for p in trained_on],
            "pairs": pairs,
            "pair_rule": {"z": policy.z, "prior_votes": policy.prior_votes},
        },
        "metrics": {
            "heldout_contest_ids": [str(contests[p].contest) for p in judgement.judged],
            "heldout_pairs": len(judged_pairs),
            "heldout_accuracy": judgement.accuracy_new,
            "parent_heldout_accuracy": judgement.accuracy_current,
            "difference_ci": list(judgement.interval),
            "judged": "blocks of consecutive contests, each by a model fitted on the rest",
        },
        "calibration": calibration_record(
            scores[judged_pairs.preferred] - scores[judged_pairs.other],
            judged_pairs.contest,
            [str(c.contest) for c in contests],
            fallback=current.temperature,
        ),
    }


def refit_adapter(
    contests: Sequence[ContestVotes],
    features: np.ndarray,
    current: Adapter,
    policy: RefitPolicy | None = None,
    encoder: dict[str, object] | None = None,
) -> RefitResult:
    """Fit a community adapter on ``contests`` (oldest first) and decide on promotion.

    ``features`` holds one row per caption of all contests, concatenated in order. ``encoder``
    (name and dimension) is the encoder that computed them, which the candidate records
    (default: the one ``current`` records).
    """
    policy = policy or RefitPolicy()
    if policy.model not in MODELS:
        raise ValueError(f"unknown refit model {policy.model!r} (one of {', '.join(MODELS)})")
    started = time.perf_counter()
    contests, features, note = _usable(contests, features, policy)

    def refused(why: str) -> RefitResult:
        reason = f"{why}; staying on adapter {current.version}{note}"
        return RefitResult(False, reason, seconds=time.perf_counter() - started)

    why = _refusal(contests, policy)
    if why:
        return refused(why)
    pairs = clear_pairs(contests, z=policy.z, prior_votes=policy.prior_votes)
    with_pairs = [
        int(p) for p in np.nonzero(np.bincount(pairs.contest, minlength=len(contests)))[0]
    ]
    if len(with_pairs) < policy.min_heldout_contests:
        return refused(_too_few(len(with_pairs), len(pairs), policy))
    judgement = _judge(contests, features, pairs, with_pairs, current, policy)
    if judgement is None:
        return refused(_too_few(len(with_pairs), len(pairs), policy))
    candidate = _fit_on(contests, features, pairs, with_pairs, current, policy)
    candidate.metadata.update(
        _lineage(contests, with_pairs, len(pairs), judgement, current, policy)
    )
    if encoder or "encoder" in current.metadata:
        candidate.metadata["encoder"] = encoder or current.metadata["encoder"]
    low, high = judgement.interval
    reason = (
        f"{'promoted' if judgement.better else 'kept current adapter'}: accuracy "
        f"{judgement.accuracy_new:.3f} vs {judgement.accuracy_current:.3f} on the "
        f"{len(judgement.judged)} contest(s), each judged by a model fitted on the others; "
        f"{policy.level:.0%} interval of the gain [{low:+.3f}, {high:+.3f}]{note}"
    )
    return RefitResult(
        promoted=judgement.better,
        reason=reason,
        pairs_train=len(pairs),
        pairs_heldout=len(judgement.pairs),
        contests_train=tuple(contests[p].contest for p in with_pairs),
        contests_heldout=tuple(contests[p].contest for p in judgement.judged),
        accuracy_new=judgement.accuracy_new,
        accuracy_current=judgement.accuracy_current,
        difference_ci=judgement.interval,
        seconds=time.perf_counter() - started,
        adapter=candidate,
    )
