"""The prompt pool: images stored by content hash, used least-recently-used first."""

from __future__ import annotations

import hashlib
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
) -> tuple[Prompt, bool]:
    """Add an image to the guild's pool; returns (prompt, created).

    The same image added twice is recognised by its hash and returned with ``created=False``
    (a removed one comes back into the pool with the new description). ``content_hash`` lets the
    caller identify images by their pixels rather than their bytes.
    """
    digest = content_hash or image_hash(image)
    existing = _by_hash(db, guild_id, digest)
    if existing and not existing.removed:
        return existing, False
    if existing:
        db.execute(
            "UPDATE prompts SET removed = 0, description = ? WHERE id = ?",
            [description, existing.id],
        )
        return get_prompt(db, existing.id), True  # type: ignore[return-value]
    cursor = db.execute(
        "INSERT INTO prompts (guild_id, image_hash, image, image_format, description, added_by, added_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [guild_id, digest, image, image_format, description, added_by, to_iso(now)],
    )
    return get_prompt(db, cursor.lastrowid), True  # type: ignore[return-value]


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
    (never used first, then oldest use, then oldest added)."""
    rows = list(
        db.query(
            f"SELECT {_COLUMNS} FROM prompts WHERE guild_id = ? AND removed = 0 "
            "ORDER BY queued DESC, last_used_at IS NOT NULL, last_used_at, id LIMIT 1",
            [guild_id],
        )
    )
    return Prompt.from_row(rows[0]) if rows else None


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
