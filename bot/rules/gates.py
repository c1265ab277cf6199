"""The limits moderators set with /contest gates: who may vote, and how many captions each
member may keep in one contest. (The vote check itself is :mod:`bot.rules.voting`.)"""

from __future__ import annotations

from typing import Protocol

MAX_GATE_DAYS = 365
MAX_ENTRIES_PER_MEMBER = 10

# Each setting's name in a sentence and its limits; Discord's form enforces the same ones.
LIMITS = {
    "min_account_age_days": ("account age", 0, MAX_GATE_DAYS),
    "min_member_days": ("time in the server", 0, MAX_GATE_DAYS),
    "max_entries_per_member": ("entries per member", 1, MAX_ENTRIES_PER_MEMBER),
}


class GatedSettings(Protocol):
    """The guild settings the gates live in (``storage.models.GuildSettings``)."""

    min_account_age_days: int
    min_member_days: int
    max_entries_per_member: int


def gate_problem(changes: dict[str, int]) -> str | None:
    """A polite refusal for the first value outside its limits, else None."""
    for name, value in changes.items():
        label, low, high = LIMITS[name]
        if not low <= value <= high:
            return f"The {label} must be between {low} and {high}; nothing was changed."
    return None


def describe_gates(settings: GatedSettings | None) -> str:
    """The guild's vote gates and entry limit in one line (the defaults without settings)."""
    account = settings.min_account_age_days if settings else 0
    membership = settings.min_member_days if settings else 0
    per_member = settings.max_entries_per_member if settings else 1
    gates = [
        f"accounts at least {_days(account)} old" if account else "",
        f"in the server at least {_days(membership)}" if membership else "",
    ]
    who = " · ".join(g for g in gates if g) or "anyone in the server"
    return f"🚧 Who may vote: {who} · {per_member} caption{'s' * (per_member != 1)} per member"


def _days(count: int) -> str:
    return f"{count} day{'s' * (count != 1)}"
