"""A real full disk: the database on a 1 MiB tmpfs, written until the file system says ENOSPC.

The mount needs a private mount namespace (``unshare -rm``: an unprivileged user namespace, or
plain root), so the test runs its writer in a child process and reads its report. Where the
machine allows no namespaces the test skips and says why; the simulated full disk of
``tests/bot/test_storage_faults.py`` (SQLite's ``max_page_count``) still runs everywhere.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NO_MOUNT = 77  # the writer's exit code when the namespace exists but mounting is refused

WRITER = r"""
import json, os, sqlite3, subprocess, sys
from datetime import UTC, datetime
from pathlib import Path

from bot.app import storage_trouble
from storage import contests, entries, guilds, open_database
from storage.models import GuildSettings

mount = Path(sys.argv[1])
NO_MOUNT = 77
mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)])
if mounted.returncode != 0:
    sys.exit(NO_MOUNT)
now = datetime(2026, 11, 23, 9, tzinfo=UTC)
db = open_database(mount / "punchline.db")
guilds.save_settings(db, GuildSettings(guild_id=1, channel_id=2), now)
contest, _ = contests.open_contest(
    db, guild_id=1, day="2026-11-23", prompt_id=None, season_id=None, opens_at=now,
    voting_at=now, closes_at=now, channel_id=2, now=now,
)
# Something to delete later, as an operator frees space.
(mount / "old-log.txt").write_bytes(os.urandom(64 * 1024))
accepted, error = [], None
for author in range(10_000):
    text = f"Caption {author}: " + "and the meeting went on and on " * 8
    try:
        entries.add_entry(db, contest.id, author, text, text.lower(), now)
    except sqlite3.OperationalError as exc:
        error = exc
        break
    accepted.append(text)
stored = sorted(e.text for e in entries.contest_entries(db, contest.id))
integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
db.close()
reopened = open_database(mount / "punchline.db")
after_reopen = len(entries.contest_entries(reopened, contest.id))
(mount / "old-log.txt").unlink()
try:
    entries.add_entry(reopened, contest.id, 99_999, "Space is back.", "space is back.", now)
    retried = True
except sqlite3.OperationalError:
    retried = False
print(json.dumps({
    "accepted": len(accepted),
    "stored_match": stored == sorted(accepted),
    "error": str(error) if error else None,
    "member_message": storage_trouble(error) if error else None,
    "integrity": integrity,
    "after_reopen": after_reopen,
    "retried": retried,
    "final_integrity": reopened.execute("PRAGMA integrity_check").fetchone()[0],
    "final_count": len(entries.contest_entries(reopened, contest.id)),
}))
"""


def run_on_a_tiny_disk(tmp_path: Path) -> dict:
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) here: cannot mount a private tmpfs")
    mount = tmp_path / "disk"
    mount.mkdir()
    process = subprocess.run(
        ["unshare", "-rm", sys.executable, "-c", WRITER, str(mount)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    if process.returncode == NO_MOUNT or (
        process.returncode != 0 and process.stderr.startswith("unshare:")
    ):
        pytest.skip(f"this machine allows no private mounts: {process.stderr.strip()[-200:]}")
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout.strip().splitlines()[-1])


def test_a_full_disk_refuses_one_write_keeps_every_earlier_one_and_recovers(tmp_path):
    report = run_on_a_tiny_disk(tmp_path)
    assert report["error"] is not None, "1 MiB should fill up"
    assert "full" in report["error"]  # SQLITE_FULL: "database or disk is full"
    assert report["member_message"].startswith("I couldn't save that: my storage is full")
    assert report["accepted"] > 20  # it filled up with real captions, not at the first write
    assert report["stored_match"]  # every acknowledged caption is there, the refused one is not
    assert report["integrity"] == "ok"
    assert report["after_reopen"] == report["accepted"]  # nothing lost across a reopen either
    assert report["retried"], "once space is freed the next write goes through"
    assert report["final_integrity"] == "ok"
    assert report["final_count"] == report["accepted"] + 1
