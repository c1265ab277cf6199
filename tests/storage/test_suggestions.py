"""The picture-suggestion queue on real SQLite: queueing, verdicts, telling, privacy, pool health."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from storage import contests, prompts, suggestions
from storage.privacy import erase_member, member_data
from storage.suggestions import Outcome, QueueState

GUILD, ALICE, BOB, MOD = 1, 100, 101, 9


def allow_all(queue: QueueState) -> None:
    pass


def suggest(db, now, user=ALICE, digest="hash-a", anonymous=False, check=allow_all, guild=GUILD):
    return suggestions.add_suggestion(
        db,
        guild,
        user,
        b"jpeg-" + digest.encode(),
        "jpeg",
        digest,
        "A cat",
        anonymous,
        now,
        check=check,
    )


def test_a_suggestion_waits_with_its_picture_and_the_queue_state_counts_it(db, now):
    queued = suggest(db, now)
    assert queued.outcome == Outcome.QUEUED
    assert queued.suggestion.status == suggestions.PENDING
    suggest(db, now + timedelta(minutes=1), user=BOB, digest="hash-b")
    assert suggestions.queue_state(db, GUILD, ALICE) == QueueState(1, 2, now)
    assert suggestions.queue_state(db, GUILD, 555) == QueueState(0, 2, None)
    suggestion, image, waiting = suggestions.next_for_review(db, GUILD)
    assert (suggestion.id, image, waiting) == (queued.suggestion.id, b"jpeg-hash-a", 2)
    assert suggestions.next_for_review(db, 2) is None  # another guild's queue is its own


def test_the_limit_check_runs_inside_the_insert_and_a_refusal_writes_nothing(db, now):
    seen = []

    def refuse(queue: QueueState) -> None:
        seen.append(queue)
        raise ValueError("over the limit")

    with pytest.raises(ValueError, match="over the limit"):
        suggest(db, now, check=refuse)
    assert seen == [QueueState(0, 0, None)]
    assert suggestions.count_pending(db, GUILD) == 0


def test_the_same_picture_waits_once_and_one_in_the_pool_is_not_queued(db, now):
    assert suggest(db, now).outcome == Outcome.QUEUED
    assert suggest(db, now, user=BOB).outcome == Outcome.WAITING
    prompts.add_prompt(db, GUILD, b"x", "png", "In the pool", MOD, now, content_hash="hash-p")
    in_pool = suggest(db, now, user=BOB, digest="hash-p")
    assert in_pool.outcome == Outcome.IN_POOL
    assert suggestions.count_pending(db, GUILD) == 1
    with pytest.raises(sqlite3.IntegrityError):  # the database itself refuses a second one
        db.execute(
            "INSERT INTO prompt_suggestions (guild_id, user_id, image, image_format, image_hash,"
            " suggested_at) VALUES (?, ?, x'00', 'png', 'hash-a', 'x')",
            [GUILD, BOB],
        )


def test_approval_moves_the_picture_into_the_pool_with_its_credit(db, now):
    credited = suggest(db, now).suggestion
    anonymous = suggest(db, now, user=BOB, digest="hash-b", anonymous=True).suggestion
    approved = suggestions.approve_suggestion(db, GUILD, credited.id, MOD, now)
    assert approved.outcome == Outcome.APPROVED
    assert prompts.prompt_image(db, approved.prompt_id) == b"jpeg-hash-a"
    assert prompts.get_prompt(db, approved.prompt_id).added_by == MOD
    assert prompts.credited_suggester(db, approved.prompt_id) == ALICE
    hidden = suggestions.approve_suggestion(db, GUILD, anonymous.id, MOD, now)
    assert prompts.credited_suggester(db, hidden.prompt_id) is None
    left = db.execute("SELECT image, image_hash FROM prompt_suggestions").fetchall()
    assert left == [(None, None), (None, None)]  # the queue keeps no copy


def test_a_second_press_and_a_press_after_erasure_change_nothing(db, now):
    first = suggest(db, now).suggestion
    assert suggestions.approve_suggestion(db, GUILD, first.id, MOD, now).outcome == Outcome.APPROVED
    again = suggestions.approve_suggestion(db, GUILD, first.id, MOD + 1, now)
    assert again.outcome == Outcome.DECIDED
    assert again.suggestion.decided_by == MOD
    late_decline = suggestions.decline_suggestion(db, GUILD, first.id, MOD, "no", now)
    assert late_decline.outcome == Outcome.DECIDED
    assert prompts.count_prompts(db, GUILD) == 1
    second = suggest(db, now, user=BOB, digest="hash-b").suggestion
    erase_member(db, GUILD, BOB)
    gone = suggestions.approve_suggestion(db, GUILD, second.id, MOD, now)
    assert gone.outcome == Outcome.GONE
    assert suggestions.approve_suggestion(db, 2, first.id, MOD, now).outcome == Outcome.GONE
    assert prompts.count_prompts(db, GUILD) == 1


def test_a_picture_that_reached_the_pool_meanwhile_is_closed_not_added_twice(db, now):
    waiting = suggest(db, now).suggestion
    prompts.add_prompt(
        db, GUILD, b"other bytes", "png", "Same pixels", MOD, now, content_hash="hash-a"
    )
    result = suggestions.approve_suggestion(db, GUILD, waiting.id, MOD, now)
    assert result.outcome == Outcome.DUPLICATE
    assert result.suggestion.status == suggestions.DECLINED
    assert result.suggestion.reason == suggestions.ALREADY_IN_POOL
    assert prompts.count_prompts(db, GUILD) == 1


def test_a_declined_picture_is_deleted_and_its_verdict_goes_once_told(db, now):
    waiting = suggest(db, now).suggestion
    declined = suggestions.decline_suggestion(db, GUILD, waiting.id, MOD, "Too blurry", now)
    assert declined.outcome == Outcome.DECLINED
    assert declined.suggestion.reason == "Too blurry"
    assert db.execute("SELECT image FROM prompt_suggestions").fetchall() == [(None,)]
    assert [s.id for s in suggestions.member_suggestions(db, GUILD, ALICE)] == [waiting.id]
    suggestions.mark_told(db, [waiting.id])
    assert db.execute("SELECT count(*) FROM prompt_suggestions").fetchone()[0] == 0


def test_an_approved_verdict_is_kept_but_no_longer_news_once_told(db, now):
    waiting = suggest(db, now).suggestion
    suggestions.approve_suggestion(db, GUILD, waiting.id, MOD, now)
    suggestions.mark_told(db, [waiting.id])
    assert suggestions.member_suggestions(db, GUILD, ALICE) == []
    assert suggestions.get_suggestion(db, GUILD, waiting.id).told


def test_privacy_shows_and_erases_a_suggesters_pictures(db, now):
    used = suggestions.approve_suggestion(db, GUILD, suggest(db, now).suggestion.id, MOD, now)
    unused = suggestions.approve_suggestion(
        db, GUILD, suggest(db, now, digest="hash-b").suggestion.id, MOD, now
    )
    suggest(db, now, digest="hash-c")  # still waiting
    contests.open_contest(
        db,
        guild_id=GUILD,
        day="2026-03-01",
        prompt_id=used.prompt_id,
        season_id=None,
        opens_at=now,
        voting_at=now,
        closes_at=now,
        channel_id=10,
        now=now,
    )
    shown = member_data(db, GUILD, ALICE)
    assert [r["status"] for r in shown["picture_suggestions"]] == [
        "approved",
        "approved",
        "pending",
    ]
    assert [r["id"] for r in shown["pool_pictures"]] == [used.prompt_id, unused.prompt_id]
    assert shown["picture_suggestions"][2]["image_bytes"] == len(b"jpeg-hash-c")

    counts = erase_member(db, GUILD, ALICE).counts
    assert counts["picture_suggestions"] == 3
    assert counts["unused_pool_pictures"] == 1
    assert counts["used_pool_pictures_uncredited"] == 1
    assert prompts.get_prompt(db, unused.prompt_id) is None
    assert prompts.get_prompt(db, used.prompt_id) is not None  # the past contest still shows it
    assert prompts.credited_suggester(db, used.prompt_id) is None
    assert all(not rows for rows in member_data(db, GUILD, ALICE).values())


def test_pool_health_counts_new_pictures_and_waiting_suggestions(db, now):
    assert prompts.pool_health(db, GUILD) == prompts.PoolHealth(0, 0, 0)
    first, _ = prompts.add_prompt(db, GUILD, b"a", "png", "a", MOD, now)
    prompts.add_prompt(db, GUILD, b"b", "png", "b", MOD, now)
    removed, _ = prompts.add_prompt(db, GUILD, b"c", "png", "c", MOD, now)
    prompts.remove_prompt(db, GUILD, removed.id)
    prompts.mark_used(db, first.id, now)
    suggest(db, now)
    assert prompts.pool_health(db, GUILD) == prompts.PoolHealth(total=2, unused=1, waiting=1)


def test_the_pool_never_repeats_the_picture_used_last_unless_a_moderator_asks(db, now):
    a, _ = prompts.add_prompt(db, GUILD, b"a", "png", "a", MOD, now)
    b, _ = prompts.add_prompt(db, GUILD, b"b", "png", "b", MOD, now)
    c, _ = prompts.add_prompt(db, GUILD, b"c", "png", "c", MOD, now)
    for day, used in enumerate((a, b, c)):
        prompts.mark_used(db, used.id, now + timedelta(days=day))
    assert prompts.next_prompt(db, GUILD).id == a.id  # all used: the least recently used
    prompts.mark_used(db, a.id, now + timedelta(days=3))
    assert prompts.next_prompt(db, GUILD).id == b.id
    prompts.remove_prompt(db, GUILD, b.id)
    prompts.remove_prompt(db, GUILD, c.id)
    assert prompts.next_prompt(db, GUILD) is None  # only yesterday's is left
    assert prompts.queue_next(db, GUILD, a.id)
    assert prompts.next_prompt(db, GUILD).id == a.id  # a moderator's explicit choice wins


def test_a_rerun_knows_when_the_picture_was_shown_before(db, now):
    a, _ = prompts.add_prompt(db, GUILD, b"a", "png", "a", MOD, now)
    for day in ("2026-02-20", "2026-02-25"):
        contests.open_contest(
            db,
            guild_id=GUILD,
            day=day,
            prompt_id=a.id,
            season_id=None,
            opens_at=now,
            voting_at=now,
            closes_at=now,
            channel_id=10,
            now=now,
        )
    assert prompts.previous_use(db, GUILD, a.id, "2026-02-25") == "2026-02-20"
    assert prompts.previous_use(db, GUILD, a.id, "2026-02-20") is None
    assert prompts.previous_use(db, 2, a.id, "2026-03-01") is None


def test_a_low_pool_warning_is_claimed_once_per_episode(db, now):
    assert prompts.claim_low_pool_warning(db, GUILD, now)
    assert not prompts.claim_low_pool_warning(db, GUILD, now + timedelta(days=1))
    prompts.end_low_pool_warning(db, GUILD)
    assert prompts.claim_low_pool_warning(db, GUILD, now + timedelta(days=2))
