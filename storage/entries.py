"""Caption entries. The partial UNIQUE index refuses duplicate live captions in a contest."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime

from sqlite_utils import Database

from storage.db import to_iso, transaction
from storage.models import Entry

_COLUMNS = (
    "id, contest_id, author_id, text, normalized, status, reason, number, message_id, "
    "created_at, updated_at"
)


class DuplicateCaption(ValueError):
    """Another live entry of the contest has the same normalised text."""


def _rows(db: Database, where: str, params: list) -> list[Entry]:
    return [
        Entry.from_row(r) for r in db.query(f"SELECT {_COLUMNS} FROM entries WHERE {where}", params)
    ]


def get_entry(db: Database, entry_id: int) -> Entry | None:
    found = _rows(db, "id = ?", [entry_id])
    return found[0] if found else None


def entry_by_message(db: Database, message_id: int) -> Entry | None:
    """The entry posted as this Discord message (for reaction votes)."""
    found = _rows(db, "message_id = ?", [message_id])
    return found[0] if found else None


def contest_entries(db: Database, contest_id: int, *, status: str | None = "active") -> list[Entry]:
    """The contest's entries in submission order (``status=None`` for all of them)."""
    if status is None:
        return _rows(db, "contest_id = ? ORDER BY id", [contest_id])
    return _rows(db, "contest_id = ? AND status = ? ORDER BY id", [contest_id, status])


def author_entries(db: Database, contest_id: int, author_id: int) -> list[Entry]:
    """An author's live entries in a contest, oldest first."""
    return _rows(
        db,
        "contest_id = ? AND author_id = ? AND status = 'active' ORDER BY id",
        [contest_id, author_id],
    )


def add_entry(
    db: Database, contest_id: int, author_id: int, text: str, normalized: str, now: datetime
) -> Entry:
    """Insert a new live entry; raises :class:`DuplicateCaption`."""
    try:
        cursor = db.execute(
            "INSERT INTO entries (contest_id, author_id, text, normalized, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [contest_id, author_id, text, normalized, to_iso(now), to_iso(now)],
        )
    except sqlite3.IntegrityError as exc:
        raise DuplicateCaption(normalized) from exc
    return get_entry(db, cursor.lastrowid)  # type: ignore[return-value]


def edit_entry(db: Database, entry_id: int, text: str, normalized: str, now: datetime) -> Entry:
    """Replace an entry's text; raises :class:`DuplicateCaption`."""
    try:
        db.execute(
            "UPDATE entries SET text = ?, normalized = ?, updated_at = ? WHERE id = ?",
            [text, normalized, to_iso(now), entry_id],
        )
    except sqlite3.IntegrityError as exc:
        raise DuplicateCaption(normalized) from exc
    return get_entry(db, entry_id)  # type: ignore[return-value]


def set_status(
    db: Database, entry_id: int, status: str, reason: str | None, now: datetime
) -> Entry:
    """Withdraw, disqualify or reinstate an entry."""
    db.execute(
        "UPDATE entries SET status = ?, reason = ?, updated_at = ? WHERE id = ?",
        [status, reason, to_iso(now), entry_id],
    )
    return get_entry(db, entry_id)  # type: ignore[return-value]


def number_entries(db: Database, contest_id: int) -> list[Entry]:
    """Give the live entries their public numbers when voting opens; idempotent.

    The order is shuffled with the contest id as seed, so early submitters gain no spot at the
    top of the thread, and a second call (a restart mid-way) yields the same numbers.
    """
    with transaction(db):
        entries = contest_entries(db, contest_id)
        if entries and all(e.number is not None for e in entries):
            return sorted(entries, key=lambda e: e.number)  # type: ignore[arg-type, return-value]
        order = [e.id for e in entries]
        random.Random(contest_id).shuffle(order)
        for number, entry_id in enumerate(order, start=1):
            db.execute("UPDATE entries SET number = ? WHERE id = ?", [number, entry_id])
    return sorted(contest_entries(db, contest_id), key=lambda e: e.number)  # type: ignore[arg-type, return-value]


def set_entry_message(db: Database, entry_id: int, message_id: int) -> None:
    db.execute("UPDATE entries SET message_id = ? WHERE id = ?", [message_id, entry_id])
