"""Ballot mode: which few entries a voter is shown next, so every entry is seen and the winner is found.

With emoji voting on posted entries, early and prominent entries collect most of the ratings.
In ballot mode the bot instead hands a voter a short ballot of entries to rate (😂 🙂 😐), in
the spirit of the New Yorker's NEXT system (adaptive best-arm identification, LUCB style).
Every time an entry is put on a ballot is an *exposure*, and the bot logs it.

How a ballot is filled, in terms a moderator can check against the exposure log:

1. A voter never gets their own entries, nor an entry they have already been shown or rated.
2. Entries that nobody has been shown yet come first (in random order), so every entry is seen
   at least once before any entry is shown a second time.
3. Each remaining slot is, with probability ``explore_share`` (25% by default), a uniformly
   random pick among what is left; otherwise it goes to the next *contender*: first the entry
   in first place on the leaderboard (the same ranking as :func:`bot.rules.tally.tally_contest`),
   then the others by their *optimistic score* — posterior mean plus ``UCB_Z`` posterior
   standard deviations — highest first. An entry with few ratings has a wide margin, so it is
   shown until its ratings show it cannot catch the leader; an entry with many mediocre
   ratings drops out of the contenders, and only the random picks still reach it.

Ties in the contender order are broken at random. Given the same state and the same
``random.Random``, the same ballot comes out.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from bot.rules.tally import EntryRatings, Z, contest_prior, shrunk_mean
from storage.models import RatingCounts

UCB_Z = 2.0
NO_RATINGS = RatingCounts()


@dataclass(frozen=True)
class BallotEntry:
    """An entry's state in ballot mode."""

    entry_id: int
    author_id: int
    counts: RatingCounts = NO_RATINGS
    exposures: int = 0

    @property
    def ratings(self) -> EntryRatings:
        return EntryRatings(self.entry_id, self.author_id, self.counts)


def contender_order(entries: Sequence[BallotEntry], rng: random.Random) -> list[int]:
    """Entry ids, most worth another look first: the leader, then by optimistic score.

    Posterior mean and spread are :mod:`bot.rules.tally`'s, and the leader is the entry that
    :func:`~bot.rules.tally.tally_contest` ranks first (the same key, without building the table).
    """
    if not entries:
        return []
    ratings = [e.ratings for e in entries]
    prior_mean, variance = contest_prior(ratings)
    leader_key: dict[int, tuple[float, float, int, int]] = {}
    upper: dict[int, float] = {}
    for order, entry in enumerate(ratings):
        posterior, spread = shrunk_mean(entry.counts, prior_mean, variance)
        lower = posterior - Z * spread
        leader_key[entry.entry_id] = (-round(lower, 9), -round(posterior, 9), -entry.votes, order)
        upper[entry.entry_id] = round(posterior + UCB_Z * spread, 9)
    leader = min(leader_key, key=leader_key.__getitem__)
    others = [i for i in upper if i != leader]
    rng.shuffle(others)  # random tie-breaks; sort() is stable
    others.sort(key=upper.__getitem__, reverse=True)
    return [leader, *others]


def choose_ballot(
    entries: Sequence[BallotEntry],
    *,
    voter_id: int,
    already_seen: set[int],
    size: int,
    rng: random.Random,
    explore_share: float = 0.25,
) -> list[int]:
    """Up to ``size`` distinct entry ids to show ``voter_id`` next (see the module docstring).

    ``entries`` are the contest's live entries, in submission order; ``already_seen`` holds the
    ids this voter has been shown or has rated. The caller records the exposures.
    """
    if not 0.0 <= explore_share <= 1.0:
        raise ValueError("explore_share must be between 0 and 1")
    eligible = [e for e in entries if e.author_id != voter_id and e.entry_id not in already_seen]
    if size <= 0 or not eligible:
        return []

    unseen = [e.entry_id for e in eligible if e.exposures == 0]
    rng.shuffle(unseen)
    ballot = unseen[:size]

    left = [e.entry_id for e in eligible if e.exposures > 0]
    if len(ballot) < size and left:
        eligible_ids = set(left)
        contenders = [i for i in contender_order(entries, rng) if i in eligible_ids]
        while len(ballot) < size and left:
            pick = rng.choice(left) if rng.random() < explore_share else contenders[0]
            ballot.append(pick)
            left.remove(pick)
            contenders.remove(pick)
    return ballot
