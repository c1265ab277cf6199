"""Several processes writing votes at once: nothing lost, nothing doubled, no 'database is locked'."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

from storage import entries, open_database, votes


def _vote_many(path: str, entry_ids: list[int], voters: range) -> None:
    db = open_database(path, check=False)
    now = datetime.now(UTC)
    for voter in voters:
        for entry_id in entry_ids:
            votes.record_vote(db, entry_id, voter, 1 + voter % 3, "emoji", now)
            votes.record_vote(db, entry_id, voter, 1 + (voter + 1) % 3, "emoji", now)  # change mind


def test_concurrent_writers_lose_nothing(db, now, contest, tmp_path):
    ids = [entries.add_entry(db, contest.id, 100 + i, f"c{i}", f"c{i}", now).id for i in range(5)]
    path = str(tmp_path / "punchline.db")
    ctx = multiprocessing.get_context("spawn")
    workers = [
        ctx.Process(target=_vote_many, args=(path, ids, range(k * 60, (k + 1) * 60)))
        for k in range(4)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0
    ratings = votes.contest_ratings(db, contest.id)
    assert len(ratings) == 4 * 60 * 5
    assert all(r.rating == 1 + (r.voter_id + 1) % 3 for r in ratings)
