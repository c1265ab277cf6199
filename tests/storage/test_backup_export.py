from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import threading
from pathlib import Path

from storage import entries, open_database, votes
from storage.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def _fill(db, contest, now):
    a = entries.add_entry(db, contest.id, 100, 'Funny, "quoted"', 'funny, "quoted"', now)
    b = entries.add_entry(db, contest.id, 101, "Less funny", "less funny", now)
    votes.record_vote(db, a.id, 1, 3, "emoji", now)
    votes.record_vote(db, a.id, 2, 2, "emoji", now)
    votes.record_vote(db, b.id, 1, 1, "emoji", now)
    return a, b


def test_export_csv_and_json(db, now, contest, tmp_path, capsys):
    a, _ = _fill(db, contest, now)
    assert (
        main(["--db", str(tmp_path / "punchline.db"), "export", "--guild", "1", "--format", "csv"])
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["text"], r["funny"], r["somewhat_funny"], r["votes"]) for r in rows] == [
        ('Funny, "quoted"', "1", "1", "2"),
        ("Less funny", "0", "0", "1"),
    ]
    assert (
        main(["--db", str(tmp_path / "punchline.db"), "export", "--guild", "1", "--format", "json"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["contests"][0]["entries"][0]["entry_id"] == a.id
    assert (
        main(["--db", str(tmp_path / "punchline.db"), "export", "--guild", "2", "--format", "json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["contests"] == []


def test_backup_while_another_thread_writes(db, now, contest, tmp_path):
    _fill(db, contest, now)
    writer_db = open_database(tmp_path / "punchline.db")
    entry = entries.add_entry(writer_db, contest.id, 300, "busy", "busy", now)
    stop = threading.Event()

    def keep_voting():
        voter = 1000
        while not stop.is_set():
            votes.record_vote(writer_db, entry.id, voter, 2, "emoji", now)
            voter += 1

    thread = threading.Thread(target=keep_voting)
    thread.start()
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "storage",
                "--db",
                str(tmp_path / "punchline.db"),
                "backup",
                str(tmp_path / "copy.db"),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        stop.set()
        thread.join()
    assert result.returncode == 0, result.stderr
    copy = open_database(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM entries").fetchone()[0] == 3


def test_cli_errors_are_one_line(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "storage",
            "--db",
            str(tmp_path / "none.db"),
            "export",
            "--guild",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"error: no database at {tmp_path / 'none.db'} (set --db or PUNCHLINE_DB)"
    )
