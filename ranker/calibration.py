"""Calibrated confidence: turning score gaps into probabilities that mean what they say.

An adapter's score gap between two captions is a Bradley–Terry log-odds, but training with weight
decay and early stopping leaves it over- or under-confident. One temperature ``T``, fitted on pairs
the adapter was not trained on, makes ``σ(gap / T)`` calibrated: of the pairs where it says 70%,
about 70% go its way. Every fit and refit stores its temperature with the adapter (metadata
``calibration``), so the confidence the bot shows comes from that adapter's own held-out record.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

TEMPERATURE_GRID = np.exp(np.linspace(math.log(0.05), math.log(20.0), 200))


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    """The logistic function, stable for large ``|x|``."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    confidence: float  # mean predicted probability in the bin
    accuracy: float  # share of those predictions that were right
    count: int


def fit_temperature(gaps: np.ndarray) -> float:
    """The T that makes σ(gap / T) calibrated, ``gaps`` being score(preferred) − score(other)."""
    if len(gaps) == 0:
        return 1.0
    losses = [np.mean(np.logaddexp(0.0, -gaps / t)) for t in TEMPERATURE_GRID]
    return float(TEMPERATURE_GRID[int(np.argmin(losses))])


def reliability_table(
    gaps: np.ndarray, temperature: float, bins: int = 5
) -> tuple[list[ReliabilityBin], float | None]:
    """Confidence the AI would state for each pair vs how often it was right; and the ECE.

    For a pair the AI picks the caption it scores higher, with confidence σ(|gap| / T) ≥ 0.5.
    """
    if len(gaps) == 0:
        return [], None
    confidence = sigmoid(np.abs(gaps) / temperature)
    right = gaps > 0
    edges = np.linspace(0.5, 1.0, bins + 1)
    table, error = [], 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidence >= low) & ((confidence < high) | (high == 1.0))
        if inside.any():
            table.append(
                ReliabilityBin(
                    float(low),
                    float(high),
                    float(confidence[inside].mean()),
                    float(right[inside].mean()),
                    int(inside.sum()),
                )
            )
            error += inside.mean() * abs(confidence[inside].mean() - right[inside].mean())
    return table, float(error)


def calibration_record(gaps: np.ndarray, contests: np.ndarray) -> dict[str, float | int | None]:
    """Fit the temperature on half of the held-out contests and check it on the other half.

    ``gaps`` are score(preferred) − score(other) of held-out pairs, ``contests`` each pair's
    contest. Contests alternate between the halves, so the check is on contests the temperature
    never saw; with a single contest there is nothing to check on and the errors are None.
    """
    ids = np.unique(contests)
    fit = np.isin(contests, ids[::2]) if len(ids) > 1 else np.ones(len(gaps), dtype=bool)
    temperature = fit_temperature(gaps[fit])
    return {
        "temperature": temperature,
        "pairs_fit": int(fit.sum()),
        "pairs_check": int((~fit).sum()),
        "ece_uncalibrated": reliability_table(gaps[~fit], 1.0)[1],
        "ece": reliability_table(gaps[~fit], temperature)[1],
    }
