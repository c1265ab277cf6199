"""The prompt pool: images stored by content hash, used least-recently-used first."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from storage.db import to_iso, transaction
from storage.models import Prompt

_COLUMNS = (
    "id, guild_id, image_hash, image_format, description, added_by, added_at, last_used_at, removed"
)


def image_hash(data: bytes) -> str:
    """The content hash that identifies an image in the pool."""
    return hashlib.sha256(data).hexdigest()


def add_prompt(
    db: Database,
    guild_id: int,
    image: bytes,
    image_format: str,
    description: str,
    added_by: int | None,
    now: datetime,
    *,
    content_hash: str | None = None,
    suggested_by: int | None = None,
    credited: bool = False,
) -> tuple[Prompt, bool]:
    """Add an image to the guild's pool; returns (prompt, created).

    The same image added twice is recognised by its hash and returned with ``created=False``
    (a removed one comes back into the pool with the new description). ``content_hash`` lets the
    caller identify images by their pixels rather than their bytes. ``suggested_by`` is the
    member who suggested the picture; ``credited`` whether posts name them.
    """
    digest = content_hash or image_hash(image)
    existing = _by_hash(db, guild_id, digest)
    if existing and not existing.removed:
        return existing, False
    if existing:
        db.execute(
            "UPDATE prompts SET removed = 0, description = ?, suggested_by = ?, credited = ?"
            " WHERE id = ?",
            [description, suggested_by, int(credited), existing.id],
        )
        return get_prompt(db, existing.id), True  # type: ignore[return-value]
    cursor = db.execute(
        "INSERT INTO prompts (guild_id, image_hash, image, image_format, description, added_by,"
        " added_at, suggested_by, credited) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            guild_id,
            digest,
            image,
            image_format,
            description,
            added_by,
            to_iso(now),
            suggested_by,
            int(credited),
        ],
    )
    return get_prompt(db, cursor.lastrowid), True  # type: ignore[return-value]


def live_prompt_by_hash(db: Database, guild_id: int, digest: str) -> Prompt | None:
    """The live pool picture with this content hash, if any."""
    found = _by_hash(db, guild_id, digest)
    return found if found and not found.removed else None


def _by_hash(db: Database, guild_id: int, digest: str) -> Prompt | None:
    rows = list(
        db.query(
            f"SELECT {_COLUMNS} FROM prompts WHERE guild_id = ? AND image_hash = ?",
            [guild_id, digest],
        )
    )
    return Prompt.from_row(rows[0]) if rows else None


def get_prompt(db: Database, prompt_id: int) -> Prompt | None:
    rows = list(db.query(f"SELECT {_COLUMNS} FROM prompts WHERE id = ?", [prompt_id]))
    return Prompt.from_row(rows[0]) if rows else None


def prompt_image(db: Database, prompt_id: int) -> bytes:
    """The stored (already validated and re-encoded) image bytes."""
    return db.execute("SELECT image FROM prompts WHERE id = ?", [prompt_id]).fetchone()[0]


def list_prompts(db: Database, guild_id: int, offset: int = 0, limit: int = 10) -> list[Prompt]:
    """One page of the guild's live pool, oldest first."""
    rows = db.query(
        f"SELECT {_COLUMNS} FROM prompts WHERE guild_id = ? AND removed = 0 ORDER BY id "
        "LIMIT ? OFFSET ?",
        [guild_id, limit, offset],
    )
    return [Prompt.from_row(row) for row in rows]


def count_prompts(db: Database, guild_id: int) -> int:
    return db.execute(
        "SELECT count(*) FROM prompts WHERE guild_id = ? AND removed = 0", [guild_id]
    ).fetchone()[0]


def remove_prompt(db: Database, guild_id: int, prompt_id: int) -> bool:
    """Take a prompt out of the pool (kept for past contests); returns whether it was there."""
    cursor = db.execute(
        "UPDATE prompts SET removed = 1 WHERE id = ? AND guild_id = ? AND removed = 0",
        [prompt_id, guild_id],
    )
    return cursor.rowcount > 0


def next_prompt(db: Database, guild_id: int) -> Prompt | None:
    """The prompt for the next contest: one a moderator queued, else the least recently used
    (never used first, then oldest use, then oldest added), but never the one used last.

    None when the pool is empty or holds only the picture used last: the caller then adds the
    built-in starter pictures, so no day repeats the day before.
    """
    rows = list(
        db.query(
            f"SELECT {_COLUMNS} FROM prompts WHERE guild_id = ? AND removed = 0"
            " AND (queued = 1 OR last_used_at IS NULL OR last_used_at <"
            " (SELECT max(last_used_at) FROM prompts WHERE guild_id = ?))"
            " ORDER BY queued DESC, last_used_at IS NOT NULL, last_used_at, id LIMIT 1",
            [guild_id, guild_id],
        )
    )
    return Prompt.from_row(rows[0]) if rows else None


@dataclass(frozen=True)
class PoolHealth:
    total: int  # live pictures
    unused: int  # live pictures no contest has used yet: days of new prompts left
    waiting: int  # members' suggestions waiting for review


def pool_health(db: Database, guild_id: int) -> PoolHealth:
    total, unused, waiting = db.execute(
        "SELECT count(*), count(*) FILTER (WHERE last_used_at IS NULL),"
        " (SELECT count(*) FROM prompt_suggestions WHERE guild_id = ? AND status = 'pending')"
        " FROM prompts WHERE guild_id = ? AND removed = 0",
        [guild_id, guild_id],
    ).fetchone()
    return PoolHealth(total, unused, waiting)


def previous_use(db: Database, guild_id: int, prompt_id: int, before_day: str) -> str | None:
    """The latest contest day before ``before_day`` that used this picture (a rerun's original)."""
    return db.execute(
        "SELECT max(day) FROM contests WHERE guild_id = ? AND prompt_id = ? AND day < ?",
        [guild_id, prompt_id, before_day],
    ).fetchone()[0]


def credited_suggester(db: Database, prompt_id: int) -> int | None:
    """The member a post names as the picture's author (None: a moderator's, or anonymous)."""
    row = db.execute(
        "SELECT suggested_by FROM prompts WHERE id = ? AND credited = 1", [prompt_id]
    ).fetchone()
    return row[0] if row else None


def claim_low_pool_warning(db: Database, guild_id: int, now: datetime) -> bool:
    """Whether this call may warn about a low pool: once per low-water episode."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO pool_warnings (guild_id, warned_at) VALUES (?, ?)",
        [guild_id, to_iso(now)],
    )
    return cursor.rowcount > 0


def end_low_pool_warning(db: Database, guild_id: int) -> None:
    """The pool is healthy again (or the warning never went out): the next low water warns anew."""
    db.execute("DELETE FROM pool_warnings WHERE guild_id = ?", [guild_id])


def mark_used(db: Database, prompt_id: int, now: datetime) -> None:
    db.execute(
        "UPDATE prompts SET last_used_at = ?, queued = 0 WHERE id = ?", [to_iso(now), prompt_id]
    )


def queue_next(db: Database, guild_id: int, prompt_id: int) -> bool:
    """Make this live prompt the next one used (replacing any earlier choice)."""
    with transaction(db):
        db.execute("UPDATE prompts SET queued = 0 WHERE guild_id = ?", [guild_id])
        cursor = db.execute(
            "UPDATE prompts SET queued = 1 WHERE id = ? AND guild_id = ? AND removed = 0",
            [prompt_id, guild_id],
        )
    return cursor.rowcount > 0


def suggester_data(db: Database, guild_id: int, user_id: int) -> dict[str, list[dict]]:
    """The member's picture suggestions and their pictures in the pool (without image bytes)."""
    return {
        "picture_suggestions": list(
            db.query(
                "SELECT id, status, description, anonymous, suggested_at, decided_at, reason,"
                " length(image) AS image_bytes FROM prompt_suggestions"
                " WHERE guild_id = ? AND user_id = ? ORDER BY id",
                [guild_id, user_id],
            )
        ),
        "pool_pictures": list(
            db.query(
                "SELECT id, description, credited, added_at, last_used_at, removed,"
                " length(image) AS image_bytes FROM prompts"
                " WHERE guild_id = ? AND suggested_by = ? ORDER BY id",
                [guild_id, user_id],
            )
        ),
    }


def erase_suggester(db: Database, guild_id: int, user_id: int) -> dict[str, int]:
    """Delete the member's suggestions and their pool pictures no contest has used; the ones
    past contests used stay (those contests show them) with their credit removed."""
    with transaction(db):
        return {
            "picture_suggestions": db.execute(
                "DELETE FROM prompt_suggestions WHERE guild_id = ? AND user_id = ?",
                [guild_id, user_id],
            ).rowcount,
            "unused_pool_pictures": db.execute(
                "DELETE FROM prompts WHERE guild_id = ? AND suggested_by = ? AND id NOT IN"
                " (SELECT prompt_id FROM contests WHERE prompt_id IS NOT NULL)",
                [guild_id, user_id],
            ).rowcount,
            "used_pool_pictures_uncredited": db.execute(
                "UPDATE prompts SET suggested_by = NULL, credited = 0"
                " WHERE guild_id = ? AND suggested_by = ?",
                [guild_id, user_id],
            ).rowcount,
        }
