"""Erasure in storage: running entries leave, closed ones stay apart and anonymous, nothing
naming the member is left, and the file (and its backups) keep no deleted copy."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage import audit, contests, entries, guilds, jokes, open_database, prompts, seasons
from storage.backup import backup_database
from storage.db import connect
from storage.migrations import migrate
from storage.models import Placement
from storage.privacy import (
    ERASED_TEXT,
    erase_from_backups,
    erase_member,
    is_former_member,
    member_data,
    purge_deleted_content,
)

ALICE, BOB, CAROL, MOD = 100, 101, 102, 7
SECRET = "Zebra quokka wears the marmalade crown"


def closed_contest(db, now, day: str, season_id: int | None = None):
    contest, _ = contests.open_contest(
        db,
        guild_id=1,
        day=day,
        prompt_id=None,
        season_id=season_id,
        opens_at=now,
        voting_at=now + timedelta(hours=1),
        closes_at=now + timedelta(hours=2),
        channel_id=10,
        now=now,
    )
    contests.advance_phase(db, contest.id, "submissions", "closed")
    return contest


def place(db, contest, ranked: list[tuple[int, str]], now) -> list[int]:
    """Entries by (author, text), placed in this order with 10 / 6 / 4 points."""
    ids = [
        entries.add_entry(db, contest.id, author, text, text.lower(), now).id
        for author, text in ranked
    ]
    seasons.save_placements(
        db,
        contest.id,
        [
            Placement(
                contest.id, entry_id, author, rank, len(ids), 2.0, 1.5, 3, (10, 6, 4)[rank - 1]
            )
            for rank, (entry_id, (author, _)) in enumerate(zip(ids, ranked, strict=True), start=1)
        ],
    )
    return ids


def test_two_erased_members_stay_two_on_the_leaderboard(db, now):
    """Defect 2: two members erased after a contest were merged into one "<@0>" line."""
    season_id, _ = seasons.start_season(db, 1, "Spring", now)
    first = closed_contest(db, now, "2026-03-01", season_id)
    second = closed_contest(db, now, "2026-03-02", season_id)
    place(db, first, [(ALICE, "a1"), (BOB, "b1"), (CAROL, "c1")], now)
    place(db, second, [(BOB, "b2"), (ALICE, "a2"), (CAROL, "c2")], now)

    alice = erase_member(db, 1, ALICE)
    bob = erase_member(db, 1, BOB)

    assert alice.pseudonym != bob.pseudonym
    assert is_former_member(alice.pseudonym)
    assert is_former_member(bob.pseudonym)
    table = seasons.standings(db, 1, season_id=season_id)
    assert sorted((s.author_id, s.points, s.contests) for s in table) == sorted(
        [(alice.pseudonym, 16, 2), (bob.pseudonym, 16, 2), (CAROL, 8, 2)]
    )
    assert 0 not in {s.author_id for s in table}


def test_erased_captions_are_no_examples_for_jokes(db, now):
    """Defect 2 follow-on: with pseudonyms instead of author 0, the erased text must not become
    a few-shot example for /joke."""
    contest = closed_contest(db, now, "2026-03-01")
    place(db, contest, [(ALICE, "a1"), (BOB, "b1"), (CAROL, "c1")], now)
    erase_member(db, 1, ALICE)
    assert [caption for _, caption in jokes.best_captions(db, 1)] == ["b1"]


def test_an_entry_in_a_running_contest_leaves_it(db, now, contest):
    """Defect 1: an erased entry stayed active, was posted, rated and could win."""
    mine = entries.add_entry(db, contest.id, ALICE, SECRET, SECRET.lower(), now)
    theirs = entries.add_entry(db, contest.id, BOB, "bob's", "bob's", now)

    erasure = erase_member(db, 1, ALICE)

    assert entries.get_entry(db, mine.id).status == "withdrawn"
    assert entries.get_entry(db, mine.id).text == ERASED_TEXT
    assert [e.id for e in entries.contest_entries(db, contest.id)] == [theirs.id]
    assert erasure.counts["captions_withdrawn"] == 1
    numbered = entries.number_entries(db, contest.id)  # voting opens: it is never posted
    assert [e.id for e in numbered] == [theirs.id]


def test_nothing_naming_the_member_is_left_and_show_listed_it_all(db, now, contest):
    """Defect 3: the ban row and audit lines naming the member survived, unlisted by /privacy show."""
    entries.add_entry(db, contest.id, ALICE, SECRET, SECRET.lower(), now)
    guilds.ban_member(db, 1, ALICE, MOD, "spam", now)
    guilds.ban_member(db, 1, BOB, ALICE, "she was a moderator once", now)
    prompts.add_prompt(db, 1, b"png", "png", "a cat", ALICE, now)
    jokes.block_term(db, 1, "spoiler", ALICE, now)
    audit.log_action(db, 1, MOD, "member.ban", f"user:{ALICE}", {"reason": "spam"}, now=now)
    audit.log_action(db, 1, ALICE, "prompt.add", "prompt:1", {}, now=now)
    audit.log_action(db, 1, MOD, "entry.disqualify", "entry:9", {"author": ALICE}, now=now)
    audit.log_action(db, 1, MOD, "contest.extend", "contest:1", {"minutes": 5}, now=now)

    shown = member_data(db, 1, ALICE)
    assert len(shown["ban"]) == 1
    assert len(shown["bans_issued"]) == 1
    assert len(shown["pictures_added"]) == 1
    assert len(shown["blocked_terms_added"]) == 1
    assert len(shown["audit_lines"]) == 3

    erasure = erase_member(db, 1, ALICE)

    assert all(not rows for rows in member_data(db, 1, ALICE).values())
    assert not guilds.is_banned(db, 1, ALICE)
    assert guilds.is_banned(db, 1, BOB)  # the ban she issued stands, issued by a former member
    lines = {a.action: a for a in audit.recent_actions(db, 1)}
    assert lines["member.ban"].target == f"former-member:{-erasure.pseudonym}"
    assert lines["prompt.add"].actor_id == erasure.pseudonym
    assert lines["entry.disqualify"].details == {"author": erasure.pseudonym}
    assert lines["contest.extend"].details == {"minutes": 5}
    everything = json.dumps([list(r) for r in db.execute("SELECT * FROM audit_log")])
    assert str(ALICE) not in everything
    assert erasure.counts["ban"] == 1
    assert erasure.counts["audit_lines"] == 3
    assert erasure.counts["moderation_records"] == 3


def raw_bytes(path: Path) -> bytes:
    """The file and its WAL and shared-memory files, as they lie on disk."""
    return b"".join(
        p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


def test_the_file_keeps_no_deleted_copy_of_the_caption(tmp_path, now):
    """Defect 3: the caption stayed readable in the SQLite file and its WAL after erasure."""
    path = tmp_path / "punchline.db"
    db = open_database(path)
    contest = closed_contest(db, now, "2026-03-01")
    place(db, contest, [(ALICE, SECRET), (BOB, "b1")], now)
    entries.edit_entry(db, 1, SECRET + "!", SECRET.lower() + "!", now)  # more old copies
    assert SECRET.encode() in raw_bytes(path)

    erase_member(db, 1, ALICE)
    assert purge_deleted_content(db)

    on_disk = raw_bytes(path).lower()
    assert SECRET.lower().encode() not in on_disk
    assert b"marmalade" not in on_disk
    assert entries.get_entry(db, 1).text == ERASED_TEXT
    db.close()


def test_backups_taken_before_are_scrubbed(tmp_path, now):
    """Defect 3: every backup taken before the erasure still held the caption."""
    path, folder = tmp_path / "punchline.db", tmp_path / "backups"
    db = open_database(path)
    contest = closed_contest(db, now, "2026-03-01")
    place(db, contest, [(ALICE, SECRET), (BOB, "b1")], now)
    folder.mkdir()
    backup = backup_database(path, folder / "punchline-20260301-033000.db")
    (folder / "punchline-20260302-033000.db.partial").write_bytes(SECRET.encode())
    (folder / "punchline-20260303-033000.db").write_bytes(b"not a database at all")
    assert SECRET.encode() in backup.read_bytes()

    scrubbed, failed = erase_from_backups(folder, 1, ALICE)

    assert scrubbed == [backup]
    assert [p.name for p in failed] == ["punchline-20260303-033000.db"]
    assert SECRET.encode() not in raw_bytes(backup)
    assert not Path(f"{backup}-wal").exists()
    assert not (folder / "punchline-20260302-033000.db.partial").exists()
    restored = open_database(backup)
    assert member_data(restored, 1, ALICE)["placements"] == []
    assert entries.get_entry(restored, 1).text == ERASED_TEXT
    restored.close()
    db.close()


def test_version_9_splits_the_authors_earlier_erasures_merged(tmp_path, now):
    """Defect 2: erasures before version 9 left every erased entry with author 0, merged."""
    path = tmp_path / "old.db"
    old = Database(connect(path))
    migrate(old, target=7)
    first = closed_contest(old, now, "2026-03-01")
    running, _ = contests.open_contest(
        old,
        guild_id=1,
        day="2026-03-02",
        prompt_id=None,
        season_id=None,
        opens_at=now,
        voting_at=now + timedelta(hours=1),
        closes_at=now + timedelta(hours=2),
        channel_id=10,
        now=now,
    )
    a, b, _ = place(old, first, [(0, "erased:1"), (0, "erased:2"), (CAROL, "c")], now)
    live = entries.add_entry(old, running.id, 0, ERASED_TEXT, "erased:x", now)
    old.close()

    db = open_database(path)
    table = seasons.standings(db, 1)
    assert [s.points for s in table] == [10, 6, 4]
    assert len({s.author_id for s in table}) == 3
    assert {s.author_id for s in table} == {-a, -b, CAROL}
    assert entries.get_entry(db, live.id).status == "withdrawn"
    fresh = erase_member(db, 1, CAROL)
    assert fresh.pseudonym < -live.id  # never one of the numbers the migration handed out
    db.close()


def test_an_erasure_is_all_or_nothing(db, now, contest):
    entries.add_entry(db, contest.id, ALICE, SECRET, SECRET.lower(), now)
    db.execute("DROP TABLE blocked_terms")  # a late step fails
    with pytest.raises(sqlite3.OperationalError):
        erase_member(db, 1, ALICE)
    assert [e.text for e in entries.contest_entries(db, contest.id)] == [SECRET]
    assert db.execute("SELECT count(*) FROM former_members").fetchone()[0] == 0


def test_a_refit_never_learns_from_an_erased_caption(db, now):
    """Issue 16, defect 3 (follow-up): the erased text "[deleted …]" and its votes are kept for
    the standings, but the nightly refit's training data leaves them out."""
    contest = closed_contest(db, now, "2026-03-01")
    place(db, contest, [(ALICE, SECRET), (BOB, "Second place")], now)
    before = [text for text, _ in contests.closed_contest_votes(db, 1)[0]["captions"]]
    erase_member(db, 1, ALICE)
    after = [text for text, _ in contests.closed_contest_votes(db, 1)[0]["captions"]]
    assert before == [SECRET, "Second place"]
    assert after == ["Second place"]
