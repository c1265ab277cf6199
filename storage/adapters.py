"""Versions of each guild's preference adapter: one active at a time, atomic swap, rollback."""

from __future__ import annotations

import json
from datetime import datetime

from sqlite_utils import Database

from storage.db import to_iso, transaction
from storage.models import AdapterVersion


def _versions(db: Database, where: str, params: list) -> list[AdapterVersion]:
    rows = db.query(f"SELECT * FROM adapters WHERE {where}", params)
    return [AdapterVersion.from_row(row) for row in rows]


def active_adapter(db: Database, guild_id: int) -> AdapterVersion | None:
    """The guild's adapter in use, or None while it runs on the shipped base adapter."""
    found = _versions(db, "guild_id = ? AND status = 'active'", [guild_id])
    return found[0] if found else None


def adapter_history(db: Database, guild_id: int) -> list[AdapterVersion]:
    """Every version, newest first."""
    return _versions(db, "guild_id = ? ORDER BY version DESC", [guild_id])


def register_adapter(
    db: Database, guild_id: int, path: str, metrics: dict, *, promote: bool, now: datetime
) -> AdapterVersion:
    """Record a refit's result as the next version: active if ``promote``, else rejected.

    Promotion retires the previous active version in the same transaction, so readers see the
    old adapter or the new one, never none.
    """
    with transaction(db):
        version = db.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM adapters WHERE guild_id = ?", [guild_id]
        ).fetchone()[0]
        if promote:
            db.execute(
                "UPDATE adapters SET status = 'retired' WHERE guild_id = ? AND status = 'active'",
                [guild_id],
            )
        db.execute(
            "INSERT INTO adapters (guild_id, version, path, metrics, status, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                guild_id,
                version,
                path,
                json.dumps(metrics),
                "active" if promote else "rejected",
                to_iso(now),
            ],
        )
    return _versions(db, "guild_id = ? AND version = ?", [guild_id, version])[0]


def rollback_adapter(db: Database, guild_id: int) -> AdapterVersion | None:
    """Retire the active version and re-activate the newest retired one before it.

    Returns the version now active, or None when the guild is back on the base adapter.
    """
    with transaction(db):
        current = active_adapter(db, guild_id)
        if current is None:
            return None
        db.execute("UPDATE adapters SET status = 'rejected' WHERE id = ?", [current.id])
        previous = _versions(
            db,
            "guild_id = ? AND status = 'retired' AND version < ? ORDER BY version DESC LIMIT 1",
            [guild_id, current.version],
        )
        if not previous:
            return None
        db.execute("UPDATE adapters SET status = 'active' WHERE id = ?", [previous[0].id])
    return active_adapter(db, guild_id)
