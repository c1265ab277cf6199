"""Who may rate which entry, and what each emoji means."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.rules.schedule import Phase

FUNNY, SOMEWHAT, NOT_FUNNY = 3, 2, 1
EMOJI_RATINGS: dict[str, int] = {"😂": FUNNY, "🙂": SOMEWHAT, "😐": NOT_FUNNY}
RATING_EMOJI: dict[int, str] = {rating: emoji for emoji, rating in EMOJI_RATINGS.items()}


@dataclass(frozen=True)
class VoteGates:
    """Optional minimums that keep fresh alt accounts from voting."""

    min_account_age: timedelta = timedelta(0)
    min_membership: timedelta = timedelta(0)


@dataclass(frozen=True)
class Voter:
    id: int
    is_bot: bool
    created_at: datetime
    joined_at: datetime | None  # None when unknown (not a member any more)


class VoteRefused(ValueError):
    """Why a vote does not count; ``str(exc)`` is a polite, user-facing reason."""


def check_vote(
    *,
    phase: Phase,
    voter: Voter,
    entry_author_id: int,
    entry_live: bool,
    gates: VoteGates,
    now: datetime,
) -> None:
    """Raise :class:`VoteRefused` unless ``voter`` may rate this entry at ``now``."""
    if voter.is_bot:
        raise VoteRefused("Bots don't vote.")
    if phase is not Phase.VOTING:
        raise VoteRefused("Voting isn't open for this contest.")
    if not entry_live:
        raise VoteRefused("That entry is no longer in the contest.")
    if voter.id == entry_author_id:
        raise VoteRefused("You can't rate your own caption, however funny it is.")
    if now - voter.created_at < gates.min_account_age:
        raise VoteRefused(
            f"Your account must be at least {_days(gates.min_account_age)} old to vote here."
        )
    if gates.min_membership and (
        voter.joined_at is None or now - voter.joined_at < gates.min_membership
    ):
        raise VoteRefused(
            f"You must have been in this server for {_days(gates.min_membership)} to vote."
        )


def _days(span: timedelta) -> str:
    days = span / timedelta(days=1)
    return f"{days:g} day" + ("" if days == 1 else "s")
