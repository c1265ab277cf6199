"""A member's own data in one guild: what is held, and erasing it on request."""

from __future__ import annotations

from sqlite_utils import Database

from storage import prompts
from storage.db import transaction

ERASED_TEXT = "[deleted at its author's request]"
_GUILD_ENTRIES = (
    "SELECT e.id FROM entries e JOIN contests c ON c.id = e.contest_id WHERE c.guild_id = ?"
)


def member_data(db: Database, guild_id: int, user_id: int) -> dict[str, list[dict]]:
    """Everything stored about ``user_id`` in this guild, as plain rows."""
    return {
        "entries": list(
            db.query(
                "SELECT c.day, e.text, e.status, e.reason, e.created_at FROM entries e"
                " JOIN contests c ON c.id = e.contest_id WHERE c.guild_id = ? AND e.author_id = ? ORDER BY e.id",
                [guild_id, user_id],
            )
        ),
        "votes": list(
            db.query(
                f"SELECT entry_id, rating, source, updated_at FROM votes WHERE voter_id = ? AND entry_id IN ({_GUILD_ENTRIES})",
                [user_id, guild_id],
            )
        ),
        "ballot_exposures": list(
            db.query(
                "SELECT x.entry_id, x.shown_at FROM exposures x JOIN contests c ON c.id = x.contest_id"
                " WHERE c.guild_id = ? AND x.voter_id = ?",
                [guild_id, user_id],
            )
        ),
        "placements": list(
            db.query(
                "SELECT c.day, p.rank, p.points FROM placements p JOIN contests c ON c.id = p.contest_id"
                " WHERE c.guild_id = ? AND p.author_id = ?",
                [guild_id, user_id],
            )
        ),
        "jokes": list(
            db.query(
                "SELECT kind, topic, text, served_at FROM jokes WHERE guild_id = ? AND user_id = ?",
                [guild_id, user_id],
            )
        ),
        **prompts.suggester_data(db, guild_id, user_id),
    }


def erase_member(db: Database, guild_id: int, user_id: int) -> dict[str, int]:
    """Delete the member's votes, exposures and jokes; anonymise their captions and placings.

    Captions stay as anonymous lines so other members' results still add up; their text and
    author are gone.
    """
    with transaction(db):
        counts = {
            "votes": db.execute(
                f"DELETE FROM votes WHERE voter_id = ? AND entry_id IN ({_GUILD_ENTRIES})",
                [user_id, guild_id],
            ).rowcount,
            "ballot_exposures": db.execute(
                "DELETE FROM exposures WHERE voter_id = ? AND contest_id IN"
                " (SELECT id FROM contests WHERE guild_id = ?)",
                [user_id, guild_id],
            ).rowcount,
            "jokes": db.execute(
                "DELETE FROM jokes WHERE guild_id = ? AND user_id = ?", [guild_id, user_id]
            ).rowcount,
            "placements": db.execute(
                "UPDATE placements SET author_id = 0 WHERE author_id = ? AND contest_id IN"
                " (SELECT id FROM contests WHERE guild_id = ?)",
                [user_id, guild_id],
            ).rowcount,
            "entries": db.execute(
                f"UPDATE entries SET text = ?, normalized = 'erased:' || id, author_id = 0, reason = NULL"
                f" WHERE author_id = ? AND id IN ({_GUILD_ENTRIES})",
                [ERASED_TEXT, user_id, guild_id],
            ).rowcount,
        }
        counts |= prompts.erase_suggester(db, guild_id, user_id)
    return counts
