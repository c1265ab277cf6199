"""Who may rate which entry. (What each emoji means is :class:`storage.models.Rating`.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.rules.schedule import Phase


class GateSettings(Protocol):
    """The guild settings the vote gates are read from (``storage.models.GuildSettings``)."""

    min_account_age_days: int
    min_member_days: int


class ContestPhase(Protocol):
    phase: str


class RatedEntry(Protocol):
    author_id: int
    status: str


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


def gates_of(settings: GateSettings | None) -> VoteGates:
    """The guild's vote gates; none for a guild without settings."""
    if settings is None:
        return VoteGates()
    return VoteGates(
        timedelta(days=settings.min_account_age_days), timedelta(days=settings.min_member_days)
    )


def check_voter(
    contest: ContestPhase,
    entry: RatedEntry,
    voter: Voter,
    settings: GateSettings | None,
    now: datetime,
) -> None:
    """Raise :class:`VoteRefused` when ``voter`` may not rate ``entry`` now: the contest's phase,
    a withdrawn entry, one's own entry, bots, and the guild's account and membership age gates."""
    check_vote(
        phase=Phase(contest.phase),
        voter=voter,
        entry_author_id=entry.author_id,
        entry_live=entry.status == "active",
        gates=gates_of(settings),
        now=now,
    )


def _days(span: timedelta) -> str:
    days = span / timedelta(days=1)
    return f"{days:g} day" + ("" if days == 1 else "s")
