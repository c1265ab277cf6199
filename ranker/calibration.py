"""Calibrated confidence: turning score gaps into probabilities that mean what they say.

An adapter's score gap between two captions is a Bradley–Terry log-odds, but training with weight
decay and early stopping leaves it over- or under-confident. One temperature ``T``, fitted on pairs
the adapter was not trained on, makes ``σ(gap / T)`` calibrated: of the pairs where it says 70%,
about 70% go its way. Every fit and refit stores its temperature with the adapter (metadata
``calibration``), so the confidence the bot shows comes from that adapter's own held-out record.

The pairs are *clear* ones (the crowd's preference is beyond the noise), so a confidence reads
"the chance the AI orders the two as the crowd does, where the crowd has a clear preference".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TEMPERATURE_GRID = np.exp(np.linspace(math.log(0.05), math.log(20.0), 200))
TEMPERATURE_BOUNDS = (0.25, 4.0)
MIN_FIT_PAIRS = 200


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


def calibration_record(
    gaps: np.ndarray,
    pair_contests: np.ndarray,
    contest_names: Sequence[str],
    fallback: float = 1.0,
) -> dict[str, object]:
    """Fit the temperature on half of the held-out contests and check it on the other half.

    ``gaps`` are score(preferred) − score(other) of held-out pairs; ``pair_contests`` each pair's
    contest as an index into ``contest_names``. Contests alternate between the halves, so the
    check is on contests the temperature never saw (with one contest there is nothing to check on
    and the errors are None). Under :data:`MIN_FIT_PAIRS` pairs to fit on, a temperature is mostly
    noise (a handful of pairs all ordered right drives it to zero, i.e. certainty): the record
    keeps ``fallback`` (the parent adapter's) and says it was not fitted. The fitted value is
    kept within :data:`TEMPERATURE_BOUNDS`.
    """
    ids = np.unique(pair_contests)
    fit = np.isin(pair_contests, ids[::2]) if len(ids) > 1 else np.ones(len(gaps), dtype=bool)
    fitted = int(fit.sum()) >= MIN_FIT_PAIRS
    temperature = (
        float(np.clip(fit_temperature(gaps[fit]), *TEMPERATURE_BOUNDS)) if fitted else fallback
    )
    return {
        "temperature": temperature,
        "fitted": fitted,
        "contests_fit": sorted({str(contest_names[i]) for i in ids[::2]}) if fitted else [],
        "pairs_fit": int(fit.sum()),
        "pairs_check": int((~fit).sum()),
        "ece_uncalibrated": reliability_table(gaps[~fit], 1.0)[1],
        "ece": reliability_table(gaps[~fit], temperature)[1],
    }
