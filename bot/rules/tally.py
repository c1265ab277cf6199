"""How ratings become a ranking, and how rankings become season points.

Each entry's ratings (3 funny · 2 somewhat · 1 not funny, :class:`~storage.models.Rating`) are summarised NYCCC-style by their
mean, shrunk toward the contest's mean by a prior worth ``PRIOR_VOTES`` ratings, and ordered by
a lower credible bound — posterior mean minus ``Z`` posterior standard deviations. An entry with
one 😂 is therefore uncertain and ranks below an entry with forty mostly-good ratings.

Tie rule (documented for members): entries with the same lower bound (to 1e-9) are ordered by
posterior mean, then by number of ratings, then the earlier submission first. Every entry gets a
distinct rank.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from storage.models import RatingCounts

PRIOR_VOTES = 3.0
Z = 1.0
DEFAULT_MEAN = 2.0
DEFAULT_VARIANCE = 2 / 3  # ratings spread evenly over 1, 2, 3
MIN_VARIANCE = 0.05
POINTS_FOR_RANK = {1: 10, 2: 6, 3: 4}
POINTS_FOR_TAKING_PART = 1


@dataclass(frozen=True)
class EntryRatings:
    """An entry's ratings."""

    entry_id: int
    author_id: int
    counts: RatingCounts

    @property
    def votes(self) -> int:
        return self.counts.votes

    @property
    def total(self) -> int:
        return self.counts.total


@dataclass(frozen=True)
class TallyLine:
    entry_id: int
    author_id: int
    rank: int
    votes: int
    counts: RatingCounts
    mean: float  # raw mean rating (prior mean when no votes)
    posterior_mean: float
    lower_bound: float
    points: int


def contest_prior(entries: Sequence[EntryRatings]) -> tuple[float, float]:
    """(mean, variance) of all ratings in the contest, with defaults when there are too few."""
    n = sum(e.votes for e in entries)
    if n == 0:
        return DEFAULT_MEAN, DEFAULT_VARIANCE
    mean = sum(e.total for e in entries) / n
    if n < 2:
        return mean, DEFAULT_VARIANCE
    squares = sum(c * (r - mean) ** 2 for e in entries for r, c in e.counts.by_rating())
    return mean, max(squares / (n - 1), MIN_VARIANCE)


def tally_contest(entries: Sequence[EntryRatings]) -> list[TallyLine]:
    """Rank a contest's live entries; ``entries`` must be in submission order."""
    prior_mean, variance = contest_prior(entries)
    scored = []
    for order, entry in enumerate(entries):
        posterior, spread = shrunk_mean(entry.counts, prior_mean, variance)
        lower = posterior - Z * spread
        mean = entry.total / entry.votes if entry.votes else prior_mean
        key = (-round(lower, 9), -round(posterior, 9), -entry.votes, order)
        scored.append((key, entry, mean, posterior, lower))
    scored.sort(key=lambda item: item[0])
    return [
        TallyLine(
            entry.entry_id,
            entry.author_id,
            rank,
            entry.votes,
            entry.counts,
            mean,
            posterior,
            lower,
            season_points(rank, entry.votes),
        )
        for rank, (_, entry, mean, posterior, lower) in enumerate(scored, start=1)
    ]


def shrunk_mean(counts: RatingCounts, prior_mean: float, variance: float) -> tuple[float, float]:
    """(posterior mean, posterior standard deviation) of an entry's rating: its mean shrunk
    toward the contest's ``prior_mean`` by ``PRIOR_VOTES`` pseudo-ratings."""
    weight = counts.votes + PRIOR_VOTES
    return (counts.total + PRIOR_VOTES * prior_mean) / weight, math.sqrt(variance / weight)


def season_points(rank: int, votes: int) -> int:
    """10 / 6 / 4 points for the top three; 1 for any other entry that was rated at all."""
    if votes == 0:
        return 0
    return POINTS_FOR_RANK.get(rank, POINTS_FOR_TAKING_PART)
