"""A community's taste as a small residual on top of its parent adapter, fitted in closed form.

The community's votes are read caption by caption: each caption's mean rating, centred within
its contest (only differences inside a contest mean anything). They are explained by

    a · parent(x)  +  non-embedding features(x) · β  +  Σ_k c_k · (embedding(x) · u_k)

- ``a`` rescales the parent (the base adapter, or the community's previous adapter): a community
  whose taste is the crowd's keeps it, one that disagrees turns it down;
- ``β`` is a ridge fit over the description, form and field features (length, questions,
  quotes, …): few columns, so a handful of contests pins a form taste down;
- the ``u_k`` are partial-least-squares directions of the caption embeddings: each is the
  embedding direction along which the votes' residual grows, ``c_k`` its least-squares weight
  times a shrinkage. A topic the community loves is one such direction; unlike a dense ridge over
  384 dimensions, one direction has one weight to learn, so it does not fit the votes' noise.

The ridge penalty, the number of directions (0 = none) and the shrinkage are chosen by
cross-validation over the community's contests, scored by agreement with their clear pairs.
The result folds into an adapter of the parent's kind and size (linear: the same weight vector),
its scores rescaled to Bradley–Terry logits by one factor fitted on the clear pairs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ranker.adapter import Adapter
from ranker.evaluate import pair_correctness
from ranker.pairs import PairSet

PARENT_COLUMN_SCALE = 1e3  # makes the ridge penalty on the parent's weight negligible


@dataclass(frozen=True)
class ResidualConfig:
    """The grid the cross-validation chooses from."""

    penalties: tuple[float, ...] = (1.0, 10.0, 100.0, 1000.0, math.inf)
    directions: tuple[int, ...] = (0, 1, 2)
    shrinkage: tuple[float, ...] = (0.5, 1.0)
    folds: int = 5


@dataclass(frozen=True)
class Residual:
    """One fitted residual, in the parent's feature layout (unstandardised)."""

    parent_weight: float
    other_weights: np.ndarray  # over the non-embedding standardised columns
    embedding_weights: np.ndarray  # Σ c_k u_k over the ``embeddings`` columns given to the fit

    def predict(self, parent: np.ndarray, others: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        return (
            self.parent_weight * parent
            + others @ self.other_weights
            + embeddings @ self.embedding_weights
        )


def centred(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """``values`` minus their mean within each contest (``owner`` gives each row's contest)."""
    counts = np.bincount(owner).astype(np.float64)
    sums = np.zeros((len(counts), *values.shape[1:]))
    np.add.at(sums, owner, values)
    return values - (sums / np.maximum(counts, 1.0).reshape(-1, *([1] * (values.ndim - 1))))[owner]


def fit_closed_form(
    targets: np.ndarray,
    parent: np.ndarray,
    others: np.ndarray,
    embeddings: np.ndarray,
    penalty: float,
    directions: int,
    shrinkage: float,
) -> Residual:
    """A residual fitted to ``targets`` (centred within contests, as every column): ridge on
    [parent, others] (a few dozen columns), then ``directions`` PLS directions of ``embeddings``
    (any representation of the captions, one row each) on what is left.

    An infinite ``penalty`` keeps only the parent's weight (least squares).
    """
    design = np.column_stack([parent * PARENT_COLUMN_SCALE, others])
    if math.isinf(penalty):
        solution = np.zeros(design.shape[1])
        solution[0] = design[:, 0] @ targets / max(float(design[:, 0] @ design[:, 0]), 1e-12)
    else:
        gram = design.T @ design + penalty * np.eye(design.shape[1])
        solution = np.linalg.solve(gram, design.T @ targets)
    residual = targets - design @ solution
    embedding_weights = np.zeros(embeddings.shape[1])
    for _ in range(directions):
        direction = embeddings.T @ residual
        norm = float(np.linalg.norm(direction))
        if norm < 1e-12:
            break
        direction /= norm
        projected = embeddings @ direction
        weight = float(projected @ residual / max(float(projected @ projected), 1e-12))
        residual = residual - weight * projected
        embedding_weights += shrinkage * weight * direction
    return Residual(solution[0] * PARENT_COLUMN_SCALE, solution[1:], embedding_weights)


def _bradley_terry_scale(scores: np.ndarray, pairs: PairSet) -> float:
    """The factor c maximising the likelihood of ``pairs`` under σ(c · score gap)."""
    gaps = scores[pairs.preferred] - scores[pairs.other]
    if len(gaps) == 0 or not np.any(gaps):
        return 1.0
    grid = np.exp(np.linspace(np.log(0.01), np.log(1000.0), 300)) / max(np.abs(gaps).mean(), 1e-12)
    losses = [np.mean(np.logaddexp(0.0, -c * gaps)) for c in grid]
    return float(grid[int(np.argmin(losses))])


def fit_residual(
    ratings: np.ndarray,
    owner: np.ndarray,
    features: np.ndarray,
    pairs: PairSet,
    parent: Adapter,
    config: ResidualConfig | None = None,
) -> Adapter:
    """A community adapter: ``parent`` plus a residual fitted to the mean ``ratings``.

    ``ratings`` is each caption's mean rating, ``owner`` its contest (0..n-1), ``features`` the
    feature rows, ``pairs`` the clear pairs over the same rows (they choose the grid point and
    the logit scale). The adapter has the parent's kind, weights and standardisation layout.
    """
    config = config or ResidualConfig()
    dim = parent.spec.embedding_dim
    parent_scores = parent.score_features(features).astype(np.float64)
    standardised = parent.standardise(features).astype(np.float64)
    targets = centred(ratings.astype(np.float64), owner)
    columns = (
        centred(parent_scores, owner),
        centred(standardised[:, dim:], owner),
        centred(features[:, :dim].astype(np.float64), owner),
    )
    grid = [
        (penalty, directions, shrink)
        for penalty, directions in itertools.product(config.penalties, config.directions)
        for shrink in (config.shrinkage if directions else config.shrinkage[-1:])
    ]
    contests = np.unique(owner)
    folds = min(config.folds, len(contests))
    predictions = np.zeros((len(grid), len(targets)))
    for fold in range(folds):
        held = np.isin(owner, contests[fold::folds])
        fitted = [c[~held] for c in columns]
        for row, (penalty, directions, shrink) in enumerate(grid):
            model = fit_closed_form(targets[~held], *fitted, penalty, directions, shrink)
            predictions[row, held] = model.predict(*(c[held] for c in columns))
    penalty, directions, shrink = grid[_simplest_within_noise(grid, predictions, targets, pairs)]
    model = fit_closed_form(targets, *columns, penalty, directions, shrink)
    scale = _bradley_terry_scale(model.predict(*columns), pairs)
    delta = np.concatenate(
        [model.embedding_weights * parent.feature_scale[:dim], model.other_weights]
    ).astype(np.float32)
    adapter = _folded(parent, scale * model.parent_weight, scale * delta)
    adapter.metadata["residual"] = {
        "penalty": penalty,
        "directions": directions,
        "shrinkage": shrink,
        "parent_weight": model.parent_weight,
        "logit_scale": scale,
    }
    return adapter


def _simplest_within_noise(
    grid: list[tuple[float, int, float]],
    predictions: np.ndarray,
    targets: np.ndarray,
    pairs: PairSet,
) -> int:
    """The grid point to use: the most regularised one whose cross-validated agreement with the
    clear pairs is within one standard error (over contests) of the best one's.

    Choosing the plain best of many noisy estimates picks whichever overfitted luckily; the
    one-standard-error rule keeps the parent unchanged unless the votes clearly say otherwise.
    Without pairs the squared error decides.
    """
    if not len(pairs):
        return int(np.argmin(((predictions - targets) ** 2).sum(axis=1)))
    correct = np.array([pair_correctness(p, pairs) for p in predictions])
    quality = correct.mean(axis=1)
    best = int(np.argmax(quality))
    contests, position = np.unique(pairs.contest, return_inverse=True)
    counts = np.bincount(position, minlength=len(contests))
    per_contest = np.bincount(position, weights=correct[best], minlength=len(contests)) / counts
    error = float(per_contest.std() / math.sqrt(len(contests))) if len(contests) > 1 else 0.0
    simplicity = sorted(range(len(grid)), key=lambda i: (grid[i][1], -grid[i][0], grid[i][2]))
    return next(i for i in simplicity if quality[i] >= quality[best] - error)


def _folded(parent: Adapter, parent_weight: float, delta: np.ndarray) -> Adapter:
    """``parent_weight`` × parent + ``delta`` · standardised features, as one adapter."""
    weights = {name: value.copy() for name, value in parent.weights.items()}
    if parent.kind == "linear":
        weights["w"] = (parent_weight * weights["w"] + delta).astype(np.float32)
        weights["b"] = (parent_weight * weights["b"]).astype(np.float32)
    else:
        weights["w2"] = (parent_weight * weights["w2"]).astype(np.float32)
        weights["b2"] = (parent_weight * weights["b2"]).astype(np.float32)
        weights["residual"] = (parent_weight * weights.get("residual", 0.0) + delta).astype(
            np.float32
        )
    metadata = {"feature_spec": parent.metadata["feature_spec"], "parent_version": parent.version}
    return Adapter(
        parent.kind, parent.feature_mean.copy(), parent.feature_scale.copy(), weights, metadata
    )


def caption_ratings(contests: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """(mean rating, contest index) of every caption of ``contests``, flat, in order."""
    ratings = np.array([c.mean for contest in contests for c in contest.captions])
    owner = np.repeat(np.arange(len(contests)), [len(c.captions) for c in contests])
    return ratings, owner
