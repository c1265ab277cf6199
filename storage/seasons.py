"""Seasons, contest placements and the leaderboards derived from them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from storage.db import to_iso, transaction
from storage.models import Placement


@dataclass(frozen=True)
class Standing:
    """One member's line on a leaderboard."""

    author_id: int
    points: int
    contests: int
    wins: int
    average_placing: float  # mean of rank / field size: 0 is always first, 1 always last
    best_rank: int


def current_season(db: Database, guild_id: int) -> tuple[int, str] | None:
    """(id, name) of the guild's open season, if any."""
    row = db.execute(
        "SELECT id, name FROM seasons WHERE guild_id = ? AND ended_at IS NULL", [guild_id]
    ).fetchone()
    return (row[0], row[1]) if row else None


def start_season(db: Database, guild_id: int, name: str, now: datetime) -> tuple[int, int | None]:
    """End the open season (if any) and start a new one; returns (new id, ended id)."""
    with transaction(db):
        ended = current_season(db, guild_id)
        if ended:
            db.execute("UPDATE seasons SET ended_at = ? WHERE id = ?", [to_iso(now), ended[0]])
        cursor = db.execute(
            "INSERT INTO seasons (guild_id, name, started_at) VALUES (?, ?, ?)",
            [guild_id, name, to_iso(now)],
        )
    return cursor.lastrowid, ended[0] if ended else None  # type: ignore[return-value]


def save_placements(db: Database, contest_id: int, placements: Iterable[Placement]) -> None:
    """Store a closed contest's final ranking (replacing any earlier one for the contest)."""
    with transaction(db):
        db.execute("DELETE FROM placements WHERE contest_id = ?", [contest_id])
        for p in placements:
            db.execute(
                "INSERT INTO placements (contest_id, entry_id, author_id, rank, field_size, mean,"
                " lower_bound, votes, points) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    contest_id,
                    p.entry_id,
                    p.author_id,
                    p.rank,
                    p.field_size,
                    p.mean,
                    p.lower_bound,
                    p.votes,
                    p.points,
                ],
            )


def contest_placements(db: Database, contest_id: int) -> list[Placement]:
    rows = db.query("SELECT * FROM placements WHERE contest_id = ? ORDER BY rank", [contest_id])
    return [Placement.from_row(row) for row in rows]


def standings(db: Database, guild_id: int, *, season_id: int | None = None) -> list[Standing]:
    """Every placed member's totals in a season (or all-time with ``season_id=None``).

    Sorted by points, then wins, then average placing; the caller may re-sort by placing.
    """
    sql = (
        "SELECT p.author_id, sum(p.points), count(*), sum(p.rank = 1),"
        " avg(CAST(p.rank - 1 AS REAL) / max(p.field_size - 1, 1)), min(p.rank)"
        " FROM placements p JOIN contests c ON c.id = p.contest_id WHERE c.guild_id = ?"
    )
    params: list = [guild_id]
    if season_id is not None:
        sql, params = sql + " AND c.season_id = ?", [*params, season_id]
    sql += " GROUP BY p.author_id ORDER BY 2 DESC, 4 DESC, 5 ASC, p.author_id"
    return [Standing(*row) for row in db.execute(sql, params).fetchall()]


def season_before(db: Database, guild_id: int, season_id: int) -> int | None:
    """The id of the guild's season that came before ``season_id``, if any."""
    return db.execute(
        "SELECT max(id) FROM seasons WHERE guild_id = ? AND id < ?", [guild_id, season_id]
    ).fetchone()[0]
