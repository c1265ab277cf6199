from __future__ import annotations

import sqlite3

import pytest

from storage import entries, votes
from storage.entries import DuplicateCaption
from storage.votes import Vote


def test_duplicate_live_caption_is_refused_by_the_database(db, now, contest):
    entries.add_entry(db, contest.id, 100, "Hello", "hello", now)
    with pytest.raises(DuplicateCaption):
        entries.add_entry(db, contest.id, 101, "HELLO", "hello", now)


def test_a_withdrawn_caption_no_longer_blocks_its_text(db, now, contest):
    first = entries.add_entry(db, contest.id, 100, "Hello", "hello", now)
    entries.set_status(db, first.id, "withdrawn", None, now)
    again = entries.add_entry(db, contest.id, 101, "hello", "hello", now)
    assert again.status == "active"
    assert [e.id for e in entries.contest_entries(db, contest.id)] == [again.id]


def test_numbering_is_shuffled_stable_and_idempotent(db, now, contest):
    for i in range(12):
        entries.add_entry(db, contest.id, 100 + i, f"caption {i}", f"caption {i}", now)
    first = [(e.id, e.number) for e in entries.number_entries(db, contest.id)]
    second = [(e.id, e.number) for e in entries.number_entries(db, contest.id)]
    assert first == second
    assert sorted(n for _, n in first) == list(range(1, 13))
    assert [i for i, _ in first] != sorted(i for i, _ in first), "numbers follow submission order"


def test_one_rating_per_person_per_entry(db, now, contest):
    entry = entries.add_entry(db, contest.id, 100, "x", "x", now)
    votes.record_vote(db, entry.id, 200, 3, "emoji", now)
    votes.record_vote(db, entry.id, 200, 1, "emoji", now)
    assert votes.contest_ratings(db, contest.id) == [Vote(entry.id, 200, 1, "emoji")]
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO votes (entry_id, voter_id, rating, source, created_at, updated_at)"
            " VALUES (?, 200, 2, 'emoji', 'x', 'x')",
            [entry.id],
        )


def test_removing_an_old_emoji_keeps_the_newer_rating(db, now, contest):
    entry = entries.add_entry(db, contest.id, 100, "x", "x", now)
    votes.record_vote(db, entry.id, 200, 3, "emoji", now)
    votes.record_vote(db, entry.id, 200, 2, "emoji", now)  # switched 😂 → 🙂
    assert not votes.remove_vote(db, entry.id, 200, rating=3)  # the 😂 reaction goes away
    assert votes.contest_ratings(db, contest.id)[0].rating == 2
    assert votes.remove_vote(db, entry.id, 200, rating=2)
    assert votes.contest_ratings(db, contest.id) == []


def test_ratings_outside_1_to_3_are_refused(db, now, contest):
    entry = entries.add_entry(db, contest.id, 100, "x", "x", now)
    with pytest.raises(sqlite3.IntegrityError):
        votes.record_vote(db, entry.id, 200, 4, "emoji", now)


def test_reconciling_emoji_votes_adds_missing_and_drops_gone(db, now, contest):
    a = entries.add_entry(db, contest.id, 100, "a", "a", now)
    b = entries.add_entry(db, contest.id, 101, "b", "b", now)
    votes.record_vote(db, a.id, 1, 3, "emoji", now)  # will be gone
    votes.record_vote(db, a.id, 2, 2, "emoji", now)  # unchanged
    votes.record_vote(db, b.id, 3, 1, "ballot", now)  # ballots are never touched
    upserted, deleted = votes.replace_emoji_votes(
        db, contest.id, [Vote(a.id, 2, 2, "emoji"), Vote(b.id, 4, 3, "emoji")], now
    )
    assert (upserted, deleted) == (1, 1)
    got = {
        (r.entry_id, r.voter_id, r.rating, r.source) for r in votes.contest_ratings(db, contest.id)
    }
    assert got == {(a.id, 2, 2, "emoji"), (b.id, 4, 3, "emoji"), (b.id, 3, 1, "ballot")}


def test_exposures_and_seen_entries(db, now, contest):
    a = entries.add_entry(db, contest.id, 100, "a", "a", now)
    b = entries.add_entry(db, contest.id, 101, "b", "b", now)
    votes.log_exposure(db, contest.id, a.id, 7, now)
    votes.log_exposure(db, contest.id, a.id, 8, now)
    votes.record_vote(db, b.id, 7, 2, "ballot", now)
    assert votes.exposure_counts(db, contest.id) == {a.id: 2}
    assert votes.seen_by(db, contest.id, 7) == {a.id, b.id}
