"""Plain records read from the database. Times are timezone-aware UTC datetimes."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Self

from storage.db import from_iso


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
