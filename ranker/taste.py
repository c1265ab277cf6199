"""What a community's votes reward, measured, and how far to trust the AI's picks.

**Factors.** Each caption gets a few interpretable measures: length, question form, dialogue or
quotation form, wordplay (a proxy: alliteration and repeated words), surprise (semantic distance
from the prompt's description), sentiment (a small lexicon), exclamation, addressing "you", and
topic (clusters of the captions' embeddings). Standardised, they enter one Bradley–Terry logistic
regression on the community's clear preference pairs: the effect of a factor is the change in log
odds of winning a pair per standard deviation, with a bootstrap interval over contests. Fitting
the same regression to the *adapter's* choices on the same pairs shows how strongly the model
weights each factor (factor-level alignment, after PROFILE).

**Trust.** Over the community's contests: how often the AI's top pick is the crowd's, how often
it orders a clear pair as the crowd did, and a reliability table of the confidence the bot states
(the adapter's held-out temperature, see ``ranker.calibration``) on contests the adapter was not
trained on.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ranker.adapter import Adapter
from ranker.calibration import ReliabilityBin, reliability_table
from ranker.pairs import PairSet, clear_pairs, contest_offsets
from ranker.votes import ContestVotes

MIN_REPORT_PAIRS = 30
MIN_REPORT_CONTESTS = 3

FORM_FACTORS = (
    "length (words)",
    "question",
    "dialogue or quote",
    "wordplay",
    "surprise",
    "sentiment",
    "exclamation",
    "speaks to 'you'",
)
_WORD = re.compile(r"[A-Za-z']+")
# Small word lists, written as text to keep them readable.
_POSITIVE = frozenset(
    "love great good happy best nice fun wonderful perfect beautiful win lucky glad sweet".split()
)
_NEGATIVE = frozenset(
    "hate bad sad worst awful terrible dead die kill angry lost wrong never broke ugly".split()
)
_STOP = frozenset(
    "the a an and or to of in on at it is i you he she we they my your that this for with was be are not but so "
    "just me his her our its what do if have has".split()
)


@dataclass(frozen=True)
class FactorEffect:
    name: str
    crowd: float  # log-odds of winning a pair per standard deviation of the factor
    crowd_low: float
    crowd_high: float
    model: float | None  # the same, fitted to the adapter's own choices

    @property
    def clear(self) -> bool:
        """Whether the crowd's interval excludes zero."""
        return self.crowd_low > 0 or self.crowd_high < 0


@dataclass(frozen=True)
class Trust:
    contests: int
    top_pick_agreement: float | None
    pair_agreement: float | None
    temperature: float
    reliability: tuple[ReliabilityBin, ...]  # on contests the adapter was not trained on
    calibration_error: float | None  # expected calibration error on the same


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def form_measures(text: str) -> list[float]:
    """The text-only factors of one caption (surprise is filled in from embeddings)."""
    words = _words(text)
    initials = [w[0] for w in words if w not in _STOP]
    alliteration = sum(a == b for a, b in itertools.pairwise(initials))
    repeats = sum(n - 1 for w, n in Counter(w for w in words if w not in _STOP).items() if n > 1)
    sentiment = (sum(w in _POSITIVE for w in words) - sum(w in _NEGATIVE for w in words)) / max(
        len(words), 1
    )
    return [
        float(len(words)),
        float("?" in text),
        float(bool(re.search(r"[\"“”]|^\s*\w+:", text))),
        float(alliteration + repeats),
        0.0,
        sentiment,
        float("!" in text),
        float("you" in words or "your" in words),
    ]


def topic_clusters(
    embeddings: np.ndarray,
    texts: Sequence[str],
    k: int,
    rng: np.random.Generator,
    iterations: int = 25,
) -> tuple[np.ndarray, list[str]]:
    """k-means (cosine) over caption embeddings; (cluster of each caption, a label for each cluster)."""
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-9)
    k = min(k, len(unit))
    centres = unit[rng.choice(len(unit), size=k, replace=False)]
    for _ in range(iterations):
        assignment = np.argmax(unit @ centres.T, axis=1)
        for c in range(k):
            members = unit[assignment == c]
            if len(members):
                centre = members.mean(axis=0)
                centres[c] = centre / max(np.linalg.norm(centre), 1e-9)
    assignment = np.argmax(unit @ centres.T, axis=1)
    overall = Counter(w for t in texts for w in set(_words(t)) if w not in _STOP)
    labels = []
    for c in range(k):
        inside = Counter(
            w
            for t, a in zip(texts, assignment, strict=True)
            if a == c
            for w in set(_words(t))
            if w not in _STOP
        )
        size = max(int((assignment == c).sum()), 1)
        lift = {w: n / size - overall[w] / len(texts) for w, n in inside.items() if n >= 2}
        top = sorted(lift, key=lambda w: -lift[w])[:3]
        labels.append("topic: " + "/".join(top) if top else f"topic {c + 1}")
    return assignment, labels


def caption_factors(
    texts: Sequence[str],
    embeddings: np.ndarray,
    reference: np.ndarray,
    n_topics: int,
    rng: np.random.Generator,
) -> tuple[list[str], np.ndarray]:
    """(factor names, standardised factor matrix) for captions; ``reference`` is, per caption,
    the embedding of its prompt's description (or of its contest's average caption)."""
    rows = np.array([form_measures(t) for t in texts], dtype=np.float64)
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-9)
    ref = reference / np.maximum(np.linalg.norm(reference, axis=1, keepdims=True), 1e-9)
    rows[:, FORM_FACTORS.index("surprise")] = 1.0 - np.sum(unit * ref, axis=1)
    names = list(FORM_FACTORS)
    if n_topics >= 2 and len(texts) >= 4 * n_topics:
        assignment, labels = topic_clusters(embeddings, texts, n_topics, rng)
        rows = np.hstack([rows, np.eye(len(labels))[assignment]])
        names += labels
    spread = rows.std(axis=0)
    keep = spread > 1e-9
    standardised = (rows[:, keep] - rows[:, keep].mean(axis=0)) / spread[keep]
    return [n for n, k in zip(names, keep, strict=True) if k], standardised


def fit_bradley_terry(differences: np.ndarray, l2: float = 1.0, steps: int = 25) -> np.ndarray:
    """β maximising Σ log σ(β·d) − l2/2 |β|² over winner-minus-loser factor differences (Newton)."""
    beta = np.zeros(differences.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(differences @ beta)))
        gradient = differences.T @ (1.0 - p) - l2 * beta
        hessian = (differences * (p * (1 - p))[:, None]).T @ differences + l2 * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def factor_effects(
    names: Sequence[str],
    factors: np.ndarray,
    pairs: PairSet,
    model_scores: np.ndarray | None,
    rng: np.random.Generator,
    rounds: int = 300,
    level: float = 0.9,
) -> list[FactorEffect]:
    """Crowd effects with bootstrap intervals (contests resampled), beside the model's own."""
    differences = factors[pairs.preferred] - factors[pairs.other]
    crowd = fit_bradley_terry(differences)
    contests = np.unique(pairs.contest)
    by_contest = {c: np.nonzero(pairs.contest == c)[0] for c in contests}
    draws = []
    for _ in range(rounds):
        chosen = np.concatenate([by_contest[c] for c in rng.choice(contests, size=len(contests))])
        draws.append(fit_bradley_terry(differences[chosen]))
    low, high = np.quantile(np.array(draws), [(1 - level) / 2, (1 + level) / 2], axis=0)
    model = None
    if model_scores is not None:
        agrees = model_scores[pairs.preferred] >= model_scores[pairs.other]
        model = fit_bradley_terry(np.where(agrees[:, None], differences, -differences))
    return [
        FactorEffect(
            name,
            float(crowd[i]),
            float(low[i]),
            float(high[i]),
            None if model is None else float(model[i]),
        )
        for i, name in enumerate(names)
    ]


def trust(
    scores: np.ndarray,
    pairs: PairSet,
    crowd_best: Sequence[int],
    contest_offsets: np.ndarray,
    temperature: float,
    unseen: np.ndarray,
) -> Trust:
    """AI vs crowd over the contests, and the reliability of the confidence the bot states.

    ``temperature`` is the adapter's own (the one results use); the reliability table is computed
    on the pairs of the contests marked ``unseen`` (not used to train the adapter), so it shows
    how the stated confidence held up on votes the model had not learned from.
    """
    picks = [
        int(np.argmax(scores[a:b])) + a
        for a, b in itertools.pairwise(contest_offsets.tolist())
        if b > a
    ]
    top = (
        float(np.mean([p == c for p, c in zip(picks, crowd_best, strict=True)])) if picks else None
    )
    gaps = scores[pairs.preferred] - scores[pairs.other]
    table, error = reliability_table(gaps[unseen[pairs.contest]], temperature)
    return Trust(
        len(contest_offsets) - 1,
        top,
        float(np.mean(gaps > 0)) if len(gaps) else None,
        temperature,
        tuple(table),
        error,
    )


@dataclass(frozen=True)
class TasteFindings:
    """A community's taste report: factor effects, trust in the AI, and what they rest on."""

    effects: list[FactorEffect]
    trust: Trust
    pairs: int
    contests: int


@dataclass(frozen=True)
class TasteInputs:
    """A community's contests ready for :func:`measure_taste` (see ``AsyncRanker.taste``)."""

    contests: list[ContestVotes]
    crowd_best: list[int]  # per contest, the position of the crowd's winner
    pairs: PairSet


def taste_inputs(
    contests: Sequence[ContestVotes], crowd_best: Sequence[int], z: float, prior_votes: float
) -> TasteInputs | None:
    """The contests of two or more captions and their clear pairs; None while there are too few
    for a report (``MIN_REPORT_PAIRS`` pairs in ``MIN_REPORT_CONTESTS`` contests)."""
    kept = [(c, b) for c, b in zip(contests, crowd_best, strict=True) if len(c.captions) >= 2]
    data = [c for c, _ in kept]
    pairs = clear_pairs(data, z=z, prior_votes=prior_votes)
    if len(pairs) < MIN_REPORT_PAIRS or len(data) < MIN_REPORT_CONTESTS:
        return None
    return TasteInputs(data, [b for _, b in kept], pairs)


def measure_taste(
    inputs: TasteInputs,
    embeddings: np.ndarray,
    described: np.ndarray,
    scores: np.ndarray,
    adapter: Adapter,
) -> TasteFindings:
    """The factor effects and the trust figures from the captions' embeddings and scores.

    ``described`` holds one embedding per contest of its description (ignored for a contest
    without one, whose captions' centroid stands in as the reference for "surprise").
    """
    data = inputs.contests
    offsets = contest_offsets(data)
    reference = np.vstack(
        [
            np.repeat(
                described[i : i + 1] if c.description else embeddings[a:b].mean(0, keepdims=True),
                b - a,
                0,
            )
            for i, (c, a, b) in enumerate(zip(data, offsets[:-1], offsets[1:], strict=True))
        ]
    )
    crowd_best = [int(a) + best for a, best in zip(offsets[:-1], inputs.crowd_best, strict=True)]
    learned_from = {*adapter.training_contests, *adapter.calibration_contests}
    unseen = np.array([str(c.contest) not in learned_from for c in data])
    rng = np.random.default_rng(0)
    texts = [c.caption for contest in data for c in contest.captions]
    names, factors = caption_factors(texts, embeddings, reference, n_topics=4, rng=rng)
    effects = factor_effects(names, factors, inputs.pairs, scores, rng)
    held_out = trust(scores, inputs.pairs, crowd_best, offsets, adapter.temperature, unseen)
    return TasteFindings(effects, held_out, len(inputs.pairs), len(data))
