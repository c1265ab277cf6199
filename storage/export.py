"""Per-guild exports as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json

from sqlite_utils import Database

from storage.models import RatingCounts
from storage.votes import count_columns

EXPORT_COLUMNS = [
    "contest_id",
    "day",
    "phase",
    "entry_id",
    "number",
    "author_id",
    "text",
    "status",
    "reason",
    *RatingCounts._fields,
    "votes",
    "rank",
    "points",
]


def guild_rows(db: Database, guild_id: int, *, season_id: int | None = None) -> list[dict]:
    """One row per entry of the guild's contests, with its vote counts and final placing."""
    sql = (
        "SELECT c.id AS contest_id, c.day, c.phase, e.id AS entry_id, e.number, e.author_id,"
        " e.text, e.status, e.reason, "
        + count_columns()
        + ", count(v.id) AS votes, p.rank, p.points"
        " FROM contests c JOIN entries e ON e.contest_id = c.id"
        " LEFT JOIN votes v ON v.entry_id = e.id"
        " LEFT JOIN placements p ON p.entry_id = e.id AND p.contest_id = c.id"
        " WHERE c.guild_id = ?"
    )
    params: list = [guild_id]
    if season_id is not None:
        sql, params = sql + " AND c.season_id = ?", [*params, season_id]
    sql += " GROUP BY e.id ORDER BY c.day, e.id"
    return list(db.query(sql, params))


def export_guild(db: Database, guild_id: int, fmt: str, *, season_id: int | None = None) -> str:
    """The guild's contests as CSV (one row per entry) or JSON (contests with their entries)."""
    rows = guild_rows(db, guild_id, season_id=season_id)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    if fmt == "json":
        contests: dict[int, dict] = {}
        for row in rows:
            contest = contests.setdefault(
                row["contest_id"],
                {
                    "contest_id": row["contest_id"],
                    "day": row["day"],
                    "phase": row["phase"],
                    "entries": [],
                },
            )
            contest["entries"].append({k: row[k] for k in EXPORT_COLUMNS[3:]})
        return json.dumps(
            {"guild_id": guild_id, "contests": list(contests.values())},
            ensure_ascii=False,
            indent=2,
        )
    raise ValueError(f"unknown export format {fmt!r}; use csv or json")
