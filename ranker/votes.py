"""Plain vote data: what the crowd (or a Discord community) said about each caption.

The layout follows the NEXT New Yorker Caption Contest data: every caption carries how many voters
rated it funny (3), somewhat funny (2) and unfunny (1). Everything else — the mean rating and its
uncertainty — is derived from those counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ContestId = int | str


class RankerInputError(ValueError):
    """Input the ranker cannot work with (malformed CSV, empty contest, negative counts...)."""


@dataclass(frozen=True)
class CaptionVotes:
    """One caption and its vote counts.

    ``precision`` is the standard error of the mean rating as a data source reported it (NYCCC's
    ``precision`` column); when absent it is computed from the counts.
    """

    caption: str
    funny: int = 0
    somewhat_funny: int = 0
    unfunny: int = 0
    precision: float | None = None

    def __post_init__(self) -> None:
        if min(self.funny, self.somewhat_funny, self.unfunny) < 0:
            raise RankerInputError(f"negative vote count for caption {self.caption!r}")

    @property
    def votes(self) -> int:
        """Total number of ratings."""
        return self.funny + self.somewhat_funny + self.unfunny

    @property
    def mean(self) -> float:
        """Mean rating, 1.0 (unfunny) … 3.0 (funny); 2.0 when nobody voted."""
        if self.votes == 0:
            return 2.0
        return (3 * self.funny + 2 * self.somewhat_funny + self.unfunny) / self.votes

    def standard_error(self, prior_votes: float = 0.0) -> float:
        """Standard error of the mean rating.

        With ``prior_votes == 0`` and no reported ``precision`` this is NYCCC's formula (sample
        standard deviation over sqrt(votes)). ``prior_votes`` adds that many pseudo-votes spread
        evenly over the three ratings to the variance estimate, so that a handful of identical
        votes does not claim zero uncertainty.
        """
        if self.precision is not None and prior_votes == 0:
            return self.precision
        counts = (self.funny, self.somewhat_funny, self.unfunny)
        pseudo = prior_votes / 3.0
        weights = [c + pseudo for c in counts]
        total = sum(weights)
        if total <= 1:
            return math.inf
        ratings = (3.0, 2.0, 1.0)
        mean = sum(w * r for w, r in zip(weights, ratings, strict=True)) / total
        variance = sum(w * (r - mean) ** 2 for w, r in zip(weights, ratings, strict=True))
        variance /= total - 1
        return math.sqrt(variance / max(self.votes, 1))


@dataclass(frozen=True)
class ContestVotes:
    """All captions of one contest (one cartoon or prompt) with their votes."""

    contest: ContestId
    captions: tuple[CaptionVotes, ...]
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "captions", tuple(self.captions))

    @property
    def texts(self) -> list[str]:
        """The caption texts, in order."""
        return [c.caption for c in self.captions]

    @property
    def total_votes(self) -> int:
        """Ratings cast in this contest."""
        return sum(c.votes for c in self.captions)


def contest_sort_key(contest: ContestId) -> tuple[int, int | str]:
    """Chronological order of contest ids: numbers numerically, then strings."""
    if isinstance(contest, int):
        return (0, contest)
    text = str(contest)
    return (0, int(text)) if text.lstrip("-").isdigit() else (1, text)
