from __future__ import annotations

from datetime import timedelta

from storage import contests


def test_one_contest_per_guild_and_day(db, now, contest):
    again, created = contests.open_contest(
        db,
        guild_id=1,
        day="2026-03-01",
        prompt_id=None,
        season_id=None,
        opens_at=now,
        voting_at=now + timedelta(hours=1),
        closes_at=now + timedelta(hours=2),
        channel_id=10,
        now=now,
    )
    assert not created
    assert again.id == contest.id
    assert again.voting_at == contest.voting_at
    assert len(contests.guild_contests(db, 1)) == 1


def test_phase_moves_once_even_if_two_jobs_race(db, contest):
    assert contests.advance_phase(db, contest.id, "submissions", "voting")
    assert not contests.advance_phase(db, contest.id, "submissions", "voting")
    assert contests.get_contest(db, contest.id).phase == "voting"


def test_unfinished_contests_survive_a_restart(db, contest):
    assert [c.id for c in contests.unfinished_contests(db)] == [contest.id]
    contests.advance_phase(db, contest.id, "submissions", "closed")
    assert contests.unfinished_contests(db) == []


def test_message_ids_and_times_are_remembered(db, now, contest):
    contests.set_message_ids(db, contest.id, prompt_message_id=5, thread_id=6)
    contests.set_times(db, contest.id, closes_at=now + timedelta(days=1))
    got = contests.get_contest(db, contest.id)
    assert (got.prompt_message_id, got.thread_id) == (5, 6)
    assert got.closes_at == now + timedelta(days=1)
    assert contests.contest_by_message(db, 5).id == contest.id
