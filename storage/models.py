"""Plain records read from the database. Times are timezone-aware UTC datetimes."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import IntEnum
from typing import Any, NamedTuple, Self

from storage.db import from_iso


class Rating(IntEnum):
    """One member's rating of one caption: the stored value, the emoji that casts it and its label.

    Iterating gives the one order used everywhere — funny, somewhat funny, unfunny — the order of
    :class:`RatingCounts`, of the emoji under each entry and of NYCCC's vote columns.
    """

    FUNNY = 3
    SOMEWHAT_FUNNY = 2
    UNFUNNY = 1

    @property
    def emoji(self) -> str:
        return _EMOJI[self]

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def from_emoji(cls, emoji: str) -> Rating | None:
        """The rating an emoji casts, or None for any other emoji."""
        return _BY_EMOJI.get(emoji)


_EMOJI = {Rating.FUNNY: "😂", Rating.SOMEWHAT_FUNNY: "🙂", Rating.UNFUNNY: "😐"}
_LABELS = {Rating.FUNNY: "Funny", Rating.SOMEWHAT_FUNNY: "Somewhat", Rating.UNFUNNY: "Not funny"}
_BY_EMOJI = {emoji: rating for rating, emoji in _EMOJI.items()}


class RatingCounts(NamedTuple):
    """How many ratings of each kind an entry has, in :class:`Rating` order."""

    funny: int = 0
    somewhat_funny: int = 0
    unfunny: int = 0

    @property
    def votes(self) -> int:
        return self.funny + self.somewhat_funny + self.unfunny

    @property
    def total(self) -> int:
        """The sum of the rating values (3 per funny, 2 per somewhat, 1 per unfunny)."""
        return sum(rating * count for rating, count in self.by_rating())

    def by_rating(self) -> list[tuple[Rating, int]]:
        return list(zip(Rating, self, strict=True))


class _Record:
    """Builds a dataclass from a row dict, parsing the fields whose names end in ``_at``."""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        values = {}
        for field in fields(cls):  # type: ignore[arg-type]
            value = row.get(field.name)
            if field.name.endswith("_at") and isinstance(value, str):
                value = from_iso(value)
            values[field.name] = value
        return cls(**values)


@dataclass(frozen=True)
class GuildSettings(_Record):
    guild_id: int
    channel_id: int | None = None
    timezone: str = "UTC"
    post_time: str = "09:00"
    submission_seconds: int = 43_200
    voting_seconds: int = 39_600
    max_entries_per_member: int = 1
    min_account_age_days: int = 0
    min_member_days: int = 0
    moderator_role_id: int | None = None
    champion_role_id: int | None = None
    enabled: int = 1
    vote_mode: str = "emoji"
    weekly_report: int = 0


@dataclass(frozen=True)
class Prompt(_Record):
    id: int
    guild_id: int
    image_hash: str
    image_format: str
    description: str
    added_by: int | None
    added_at: datetime
    last_used_at: datetime | None
    removed: int


@dataclass(frozen=True)
class Contest(_Record):
    id: int
    guild_id: int
    day: str
    prompt_id: int | None
    season_id: int | None
    phase: str
    opens_at: datetime
    voting_at: datetime
    closes_at: datetime
    channel_id: int | None
    prompt_message_id: int | None
    thread_id: int | None
    results_message_id: int | None


@dataclass(frozen=True)
class Entry(_Record):
    id: int
    contest_id: int
    author_id: int
    text: str
    normalized: str
    status: str
    reason: str | None
    number: int | None
    message_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Placement(_Record):
    contest_id: int
    entry_id: int
    author_id: int
    rank: int
    field_size: int
    mean: float
    lower_bound: float
    votes: int
    points: int


@dataclass(frozen=True)
class AdapterVersion(_Record):
    id: int
    guild_id: int
    version: int
    path: str
    metrics: str
    status: str
    created_at: datetime
