"""Clear preference pairs: which caption the voters preferred, when the votes say so clearly.

The rule is NYCCC's: within one contest, captions a and b form a pair when
``|mean_a - mean_b| > z * sqrt(se_a² + se_b²)``, and the higher mean is preferred. With ``z = 3`` and
the data's own ``precision`` this is exactly the README's rule; a community with few votes per
caption uses a smaller ``z`` and pseudo-votes in the variance (see ``CaptionVotes.standard_error``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ranker.votes import ContestVotes

NYCCC_Z = 3.0
CLOSE_GAP = 0.25
TOP_K = 10


@dataclass(frozen=True)
class PairSet:
    """Preference pairs over a flat list of captions (all contests concatenated, in order).

    ``preferred[i]`` beat ``other[i]``; both index the flat caption list. ``contest[i]`` is the
    position of the pair's contest in the contest list. ``involves_top`` marks pairs with a
    top-10 caption of their contest, ``close`` those whose mean gap is under 0.25.
    """

    preferred: np.ndarray
    other: np.ndarray
    contest: np.ndarray
    involves_top: np.ndarray
    close: np.ndarray

    def __len__(self) -> int:
        return len(self.preferred)

    def subset(self, mask: np.ndarray) -> PairSet:
        """The pairs selected by a boolean mask or an index array."""
        return PairSet(
            self.preferred[mask],
            self.other[mask],
            self.contest[mask],
            self.involves_top[mask],
            self.close[mask],
        )

    def in_contests(self, contest_positions: Sequence[int]) -> PairSet:
        """The pairs whose contest position is in ``contest_positions``."""
        return self.subset(np.isin(self.contest, np.asarray(contest_positions, dtype=np.int64)))


def contest_offsets(contests: Sequence[ContestVotes]) -> np.ndarray:
    """Start of each contest in the flat caption list, plus the total at the end."""
    sizes = [len(c.captions) for c in contests]
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def clear_pairs(
    contests: Sequence[ContestVotes], z: float = NYCCC_Z, prior_votes: float = 0.0
) -> PairSet:
    """All clear pairs of every contest."""
    offsets = contest_offsets(contests)
    parts: list[tuple[np.ndarray, ...]] = []
    for position, contest in enumerate(contests):
        if not contest.captions:
            continue
        means = np.array([c.mean for c in contest.captions])
        errors = np.array([c.standard_error(prior_votes) for c in contest.captions])
        gap = means[:, None] - means[None, :]
        with np.errstate(invalid="ignore"):
            clear = gap > z * np.sqrt(errors[:, None] ** 2 + errors[None, :] ** 2)
        winner, loser = np.nonzero(clear)
        top = np.zeros(len(means), dtype=bool)
        top[np.argsort(-means, kind="stable")[:TOP_K]] = True
        parts.append(
            (
                winner + offsets[position],
                loser + offsets[position],
                np.full(len(winner), position, dtype=np.int64),
                top[winner] | top[loser],
                gap[winner, loser] < CLOSE_GAP,
            )
        )
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return PairSet(empty, empty, empty, empty.astype(bool), empty.astype(bool))
    columns = [np.concatenate(column) for column in zip(*parts, strict=True)]
    return PairSet(*columns)


def sample_per_contest(pairs: PairSet, limit: int, rng: np.random.Generator) -> PairSet:
    """At most ``limit`` pairs from each contest, drawn uniformly, so no contest dominates."""
    keep: list[np.ndarray] = []
    for position in np.unique(pairs.contest):
        members = np.nonzero(pairs.contest == position)[0]
        if len(members) > limit:
            members = np.sort(rng.choice(members, size=limit, replace=False))
        keep.append(members)
    if not keep:
        return pairs
    return pairs.subset(np.concatenate(keep))
