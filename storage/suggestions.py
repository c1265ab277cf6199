"""Pictures members suggest for the prompt pool, waiting for a moderator's verdict.

A suggestion keeps its (already validated and cleaned) picture only while it waits: approving
moves the picture into the pool, declining deletes it. What remains of a decided suggestion is
its verdict without the picture, so the suggester can be told; a declined one is deleted as soon
as they have been. The limits on how much one member or a whole guild may queue are checked by a
function the caller passes in, inside the transaction that inserts, so two suggestions arriving
together cannot both slip under a limit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlite_utils import Database

from storage import prompts
from storage.db import from_iso, to_iso, transaction

PENDING, APPROVED, DECLINED = "pending", "approved", "declined"
ALREADY_IN_POOL = "That picture is already in the pool."
_COLUMNS = (
    "id, guild_id, user_id, image_format, description, anonymous, status, reason, decided_by,"
    " decided_at, prompt_id, told, suggested_at"
)


@dataclass(frozen=True)
class Suggestion:
    id: int
    guild_id: int
    user_id: int
    image_format: str
    description: str
    anonymous: bool
    status: str
    reason: str | None
    decided_by: int | None
    decided_at: datetime | None
    prompt_id: int | None
    told: bool
    suggested_at: datetime


def _suggestion(row: tuple) -> Suggestion:
    values = list(row)
    values[5], values[11] = bool(values[5]), bool(values[11])
    values[9], values[12] = from_iso(values[9]), from_iso(values[12])
    return Suggestion(*values)


@dataclass(frozen=True)
class QueueState:
    """What the suggestion limits look at, read in the transaction that would insert."""

    member_pending: int
    guild_pending: int
    member_last_at: datetime | None


class Outcome(StrEnum):
    QUEUED = "queued"  # the suggestion now waits for review
    IN_POOL = "in_pool"  # the picture is already in the live pool: nothing queued
    WAITING = "waiting"  # the same picture already waits for review: nothing queued
    APPROVED = "approved"
    DECLINED = "declined"
    DUPLICATE = "duplicate"  # approved, but the picture had reached the pool meanwhile: closed
    DECIDED = "decided"  # a moderator had already decided it: nothing changed
    GONE = "gone"  # no such suggestion in this guild (erased by its suggester, or never was)


@dataclass(frozen=True)
class Result:
    """What a suggestion, an approval or a decline did; ``suggestion`` as it now stands."""

    outcome: Outcome
    suggestion: Suggestion | None = None
    prompt_id: int | None = None


def queue_state(db: Database, guild_id: int, user_id: int) -> QueueState:
    member_pending, guild_pending, last = db.execute(
        "SELECT sum(user_id = ? AND status = 'pending'), sum(status = 'pending'),"
        " max(CASE WHEN user_id = ? THEN suggested_at END)"
        " FROM prompt_suggestions WHERE guild_id = ?",
        [user_id, user_id, guild_id],
    ).fetchone()
    return QueueState(member_pending or 0, guild_pending or 0, from_iso(last))


def add_suggestion(
    db: Database,
    guild_id: int,
    user_id: int,
    image: bytes,
    image_format: str,
    content_hash: str,
    description: str,
    anonymous: bool,
    now: datetime,
    *,
    check: Callable[[QueueState], None],
) -> Result:
    """Queue a picture for review, unless it is already in the pool or waiting.

    ``check`` sees the queue as this transaction does and raises to refuse; nothing is written then.
    """
    with transaction(db):
        in_pool = prompts.live_prompt_by_hash(db, guild_id, content_hash)
        if in_pool is not None:
            return Result(Outcome.IN_POOL, prompt_id=in_pool.id)
        check(queue_state(db, guild_id, user_id))
        try:
            cursor = db.execute(
                "INSERT INTO prompt_suggestions (guild_id, user_id, image, image_format, image_hash,"
                " description, anonymous, suggested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    guild_id,
                    user_id,
                    image,
                    image_format,
                    content_hash,
                    description,
                    int(anonymous),
                    to_iso(now),
                ],
            )
        except sqlite3.IntegrityError:  # the one_waiting_picture index: someone was first
            return Result(Outcome.WAITING)
    return Result(Outcome.QUEUED, get_suggestion(db, guild_id, cursor.lastrowid))


def get_suggestion(db: Database, guild_id: int, suggestion_id: int) -> Suggestion | None:
    """The guild's suggestion with this id (None for another guild's: ids come from buttons)."""
    row = db.execute(
        f"SELECT {_COLUMNS} FROM prompt_suggestions WHERE id = ? AND guild_id = ?",
        [suggestion_id, guild_id],
    ).fetchone()
    return _suggestion(row) if row else None


def next_for_review(db: Database, guild_id: int) -> tuple[Suggestion, bytes, int] | None:
    """The suggestion that has waited longest, its picture, and how many wait in all."""
    row = db.execute(
        f"SELECT {_COLUMNS}, image FROM prompt_suggestions WHERE guild_id = ? AND status = 'pending'"
        " ORDER BY id LIMIT 1",
        [guild_id],
    ).fetchone()
    if row is None:
        return None
    return _suggestion(row[:-1]), row[-1], count_pending(db, guild_id)


def count_pending(db: Database, guild_id: int) -> int:
    return db.execute(
        "SELECT count(*) FROM prompt_suggestions WHERE guild_id = ? AND status = 'pending'",
        [guild_id],
    ).fetchone()[0]


def approve_suggestion(
    db: Database, guild_id: int, suggestion_id: int, moderator_id: int, now: datetime
) -> Result:
    """Move a waiting picture into the pool, crediting its suggester unless they asked not to be.

    A picture that reached the pool some other way meanwhile closes the suggestion as declined
    (``DUPLICATE``) rather than adding it twice.
    """
    with transaction(db):
        waiting = get_suggestion(db, guild_id, suggestion_id)
        if waiting is None:
            return Result(Outcome.GONE)
        if waiting.status != PENDING:
            return Result(Outcome.DECIDED, waiting)
        image, digest = db.execute(
            "SELECT image, image_hash FROM prompt_suggestions WHERE id = ?", [suggestion_id]
        ).fetchone()
        prompt, created = prompts.add_prompt(
            db,
            guild_id,
            image,
            waiting.image_format,
            waiting.description,
            moderator_id,
            now,
            content_hash=digest,
            suggested_by=waiting.user_id,
            credited=not waiting.anonymous,
        )
        if not created:
            _decide(db, suggestion_id, DECLINED, moderator_id, ALREADY_IN_POOL, now)
            return Result(Outcome.DUPLICATE, get_suggestion(db, guild_id, suggestion_id), prompt.id)
        _decide(db, suggestion_id, APPROVED, moderator_id, None, now, prompt_id=prompt.id)
    return Result(Outcome.APPROVED, get_suggestion(db, guild_id, suggestion_id), prompt.id)


def decline_suggestion(
    db: Database,
    guild_id: int,
    suggestion_id: int,
    moderator_id: int,
    reason: str | None,
    now: datetime,
) -> Result:
    """Decline a waiting suggestion: its picture is deleted; the verdict waits to be told."""
    with transaction(db):
        waiting = get_suggestion(db, guild_id, suggestion_id)
        if waiting is None:
            return Result(Outcome.GONE)
        if waiting.status != PENDING:
            return Result(Outcome.DECIDED, waiting)
        _decide(db, suggestion_id, DECLINED, moderator_id, reason, now)
    return Result(Outcome.DECLINED, get_suggestion(db, guild_id, suggestion_id))


def _decide(
    db: Database,
    suggestion_id: int,
    status: str,
    moderator_id: int,
    reason: str | None,
    now: datetime,
    *,
    prompt_id: int | None = None,
) -> None:
    db.execute(
        "UPDATE prompt_suggestions SET status = ?, image = NULL, image_hash = NULL, reason = ?,"
        " decided_by = ?, decided_at = ?, prompt_id = ? WHERE id = ?",
        [status, reason, moderator_id, to_iso(now), prompt_id, suggestion_id],
    )


def mark_told(db: Database, suggestion_ids: list[int]) -> None:
    """The suggester has heard these verdicts: a declined one is deleted, an approved one kept."""
    marks = ", ".join("?" * len(suggestion_ids))
    with transaction(db):
        db.execute(
            f"DELETE FROM prompt_suggestions WHERE status = 'declined' AND id IN ({marks})",
            suggestion_ids,
        )
        db.execute(f"UPDATE prompt_suggestions SET told = 1 WHERE id IN ({marks})", suggestion_ids)


def member_suggestions(db: Database, guild_id: int, user_id: int) -> list[Suggestion]:
    """The member's waiting suggestions and the verdicts they have not heard yet, oldest first."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM prompt_suggestions WHERE guild_id = ? AND user_id = ?"
        " AND (status = 'pending' OR told = 0) ORDER BY id",
        [guild_id, user_id],
    ).fetchall()
    return [_suggestion(row) for row in rows]
