"""Per-guild exports as CSV or JSON, and as files Discord accepts however big the guild.

Discord takes at most 10 MiB per uploaded file in a server without boosts, 10 files and 25 MiB
per message (``message.mdx``). A CSV export bigger than a file is zipped; when even the zip is
too big, the rows are split into several zipped CSV files, each with the header, in order.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sqlite3
import zipfile
from collections.abc import Sequence
from pathlib import Path

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
MAX_FILE_BYTES = 10 * 1024 * 1024
"""Discord's upload limit per file in a server without boosts (``attachment_size_limit``)."""
MAX_MESSAGE_FILES, MAX_MESSAGE_BYTES = 10, 25 * 1024 * 1024
"""Per message: at most 10 files, and at most 25 MiB in one request."""


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


def read_guild_rows(path: Path, guild_id: int, *, season_id: int | None = None) -> list[dict]:
    """:func:`guild_rows` on a read-only connection of its own, for a worker thread: a big
    export reads beside the bot's database thread rather than in front of it (in WAL mode
    readers and the writer do not wait for each other)."""
    connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return guild_rows(Database(connection), guild_id, season_id=season_id)
    finally:
        connection.close()


def csv_text(rows: Sequence[dict]) -> str:
    """One row per entry, with the header."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def export_files(
    rows: Sequence[dict], stem: str, *, limit: int = MAX_FILE_BYTES
) -> list[tuple[str, bytes]]:
    """The rows as files of at most ``limit`` bytes: ``stem.csv`` when it fits, else
    ``stem.zip``, else ``stem-part-1-of-N.zip``… holding consecutive rows (each part's CSV has
    the header). CPU work for a worker thread."""
    text = csv_text(rows).encode()
    if len(text) <= limit:
        return [(f"{stem}.csv", text)]
    packed = _zipped(f"{stem}.csv", text)
    if len(packed) <= limit:
        return [(f"{stem}.zip", packed)]
    parts = math.ceil(len(packed) / (limit * 0.9))
    while True:
        size = math.ceil(len(rows) / parts)
        chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
        files = []
        for number, chunk in enumerate(chunks, start=1):
            name = f"{stem}-part-{number}-of-{len(chunks)}"
            files.append((f"{name}.zip", _zipped(f"{name}.csv", csv_text(chunk).encode())))
        if all(len(data) <= limit for _, data in files):
            return files
        parts += 1


def _zipped(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return out.getvalue()


def message_batches(files: Sequence[tuple[str, bytes]]) -> list[list[tuple[str, bytes]]]:
    """The files grouped into messages Discord accepts (10 files, 25 MiB each), in order."""
    batches: list[list[tuple[str, bytes]]] = []
    for file in files:
        last = batches[-1] if batches else None
        if (
            last is None
            or len(last) == MAX_MESSAGE_FILES
            or sum(len(data) for _, data in last) + len(file[1]) > MAX_MESSAGE_BYTES
        ):
            batches.append([])
        batches[-1].append(file)
    return batches


def export_guild(db: Database, guild_id: int, fmt: str, *, season_id: int | None = None) -> str:
    """The guild's contests as CSV (one row per entry) or JSON (contests with their entries)."""
    rows = guild_rows(db, guild_id, season_id=season_id)
    if fmt == "csv":
        return csv_text(rows)
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
