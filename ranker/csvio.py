"""Reading and writing the CSV files the CLI works on, with one-line errors for bad input.

Vote files use the NYCCC layout: ``contest, caption, funny, somewhat_funny, unfunny`` and
optionally ``description`` and ``precision`` (other columns are ignored). A data directory holds
``captions.csv.gz`` or ``captions.csv`` and, optionally, ``descriptions.csv``
(``contest, description``).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ranker.votes import CaptionVotes, ContestId, ContestVotes, RankerInputError, contest_sort_key

VOTE_COLUMNS = ("contest", "caption", "funny", "somewhat_funny", "unfunny")
SCORE_COLUMNS = ("contest", "caption")
CAPTION_FILES = ("captions.csv.gz", "captions.csv")
DESCRIPTION_FILE = "descriptions.csv"


def parse_contest_id(text: str) -> ContestId:
    """Contest ids that are integers become ``int``; anything else stays a string."""
    stripped = text.strip()
    return int(stripped) if stripped.lstrip("-").isdigit() else stripped


@contextmanager
def _open_text(path: Path) -> Iterator[io.TextIOBase]:
    if not path.is_file():
        raise RankerInputError(f"{path}: no such file")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as stream:  # type: ignore[operator]
            yield stream
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise RankerInputError(f"{path}: cannot read: {error}") from error


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) pairs, after checking the header has the ``required`` columns."""
    with _open_text(path) as stream:
        reader = csv.DictReader(stream, strict=True)
        try:
            header = reader.fieldnames
        except csv.Error as error:
            raise RankerInputError(f"{path}: malformed CSV: {error}") from error
        if not header:
            raise RankerInputError(
                f"{path}: empty file (expected a header with {', '.join(required)})"
            )
        missing = [c for c in required if c not in header]
        if missing:
            raise RankerInputError(f"{path}: missing column(s) {', '.join(missing)}")
        try:
            for row in reader:
                if None in row or any(row[c] is None for c in required):
                    raise RankerInputError(
                        f"{path}:{reader.line_num}: expected {len(header)} fields"
                    )
                yield reader.line_num, row
        except csv.Error as error:
            raise RankerInputError(f"{path}:{reader.line_num}: malformed CSV: {error}") from error


def _count(path: Path, line: int, row: dict[str, str], column: str) -> int:
    text = row[column].strip()
    try:
        value = int(float(text)) if text else 0
    except ValueError:
        raise RankerInputError(f"{path}:{line}: {column} is not a number: {text!r}") from None
    if value < 0:
        raise RankerInputError(f"{path}:{line}: {column} is negative")
    return value


def read_descriptions(path: str | os.PathLike[str]) -> dict[str, str]:
    """``contest -> description`` from a two-column CSV."""
    source = Path(path)
    return {
        row["contest"].strip(): row["description"].strip()
        for _, row in _rows(source, ("contest", "description"))
    }


def read_votes(
    path: str | os.PathLike[str], descriptions: dict[str, str] | None = None
) -> list[ContestVotes]:
    """Contests (sorted oldest first by id) from a vote CSV (plain or gzip)."""
    source = Path(path)
    captions: dict[str, list[CaptionVotes]] = {}
    described: dict[str, str] = dict(descriptions or {})
    for line, row in _rows(source, VOTE_COLUMNS):
        contest = row["contest"].strip()
        text = row["caption"].strip()
        if not contest:
            raise RankerInputError(f"{source}:{line}: empty contest")
        if not text:
            raise RankerInputError(f"{source}:{line}: empty caption")
        precision_text = (row.get("precision") or "").strip()
        try:
            precision = float(precision_text) if precision_text else None
        except ValueError:
            raise RankerInputError(f"{source}:{line}: precision is not a number") from None
        captions.setdefault(contest, []).append(
            CaptionVotes(
                text,
                _count(source, line, row, "funny"),
                _count(source, line, row, "somewhat_funny"),
                _count(source, line, row, "unfunny"),
                precision,
            )
        )
        description = (row.get("description") or "").strip()
        if description and contest not in described:
            described[contest] = description
    if not captions:
        raise RankerInputError(f"{source}: no captions")
    ordered = sorted(captions, key=lambda c: contest_sort_key(parse_contest_id(c)))
    return [
        ContestVotes(parse_contest_id(c), tuple(captions[c]), described.get(c, "")) for c in ordered
    ]


def read_dataset(path: str | os.PathLike[str]) -> list[ContestVotes]:
    """Contests from a data directory (NYCCC layout) or from a single vote CSV."""
    source = Path(path)
    if source.is_file():
        return read_votes(source)
    if not source.is_dir():
        raise RankerInputError(f"{source}: no such file or directory")
    for name in CAPTION_FILES:
        if (source / name).is_file():
            descriptions_path = source / DESCRIPTION_FILE
            descriptions = (
                read_descriptions(descriptions_path) if descriptions_path.is_file() else {}
            )
            return read_votes(source / name, descriptions)
    raise RankerInputError(f"{source}: no {' or '.join(CAPTION_FILES)} in this directory")


def read_captions_to_score(path: str | os.PathLike[str]) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV with ``contest, caption`` (and optional ``description``)."""
    source = Path(path)
    rows = []
    header: list[str] = []
    for line, row in _rows(source, SCORE_COLUMNS):
        if not row["caption"].strip():
            raise RankerInputError(f"{source}:{line}: empty caption")
        if not header:
            header = list(row)
        rows.append(row)
    if not rows:
        raise RankerInputError(f"{source}: no captions to score")
    return header, rows


def write_scored_csv(
    path: str | os.PathLike[str], header: list[str], rows: list[dict[str, str]], scores: list[float]
) -> None:
    """The input rows with a ``score`` column appended, written atomically."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.tmp")
    columns = [c for c in header if c != "score"] + ["score"]
    with temporary.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row, score in zip(rows, scores, strict=True):
            writer.writerow({**row, "score": f"{score:.6f}"})
    os.replace(temporary, target)
