"""``audit.audited``: a write and its audit line commit together, or neither does."""

from __future__ import annotations

from functools import partial

import pytest

from storage import audit, entries, guilds, jokes, prompts, seasons
from storage.audit import AuditEntry, AuditNotAtomic, audited
from storage.db import transaction
from storage.privacy import erase_member


def unloggable(now) -> AuditEntry:
    """A line that cannot be written: storage refuses naive times."""
    return entry(now.replace(tzinfo=None))


def entry(now, action="test.write") -> AuditEntry:
    return AuditEntry(1, 7, action, "thing:1", {"why": "a test"}, now=now)


def snapshot(db) -> list[str]:
    return list(db.conn.iterdump())


def test_the_write_and_its_line_commit_together(db, now):
    added = audited(db, entry(now, "joke.block"), jokes.block_term, 1, "spoiler", 7, now)
    assert added is True
    assert jokes.blocked_terms(db, 1) == ["spoiler"]
    [line] = audit.recent_actions(db, 1)
    assert (line.actor_id, line.action, line.target, line.details, line.at) == (
        7,
        "joke.block",
        "thing:1",
        {"why": "a test"},
        now,
    )
    assert not db.conn.in_transaction


def test_a_write_followed_by_an_audit_that_fails_leaves_nothing(db, now):
    before = snapshot(db)
    with pytest.raises(ValueError, match="naive"):
        audited(db, unloggable(now), jokes.block_term, 1, "spoiler", 7, now)
    assert snapshot(db) == before
    assert jokes.blocked_terms(db, 1) == []


def test_a_write_that_fails_logs_nothing(db, now):
    def writes_then_fails(db):
        jokes.block_term(db, 1, "spoiler", 7, now)
        raise RuntimeError("half-way")

    before = snapshot(db)
    with pytest.raises(RuntimeError, match="half-way"):
        audited(db, entry(now), writes_then_fails)
    assert snapshot(db) == before
    assert audit.recent_actions(db, 1) == []


def test_the_line_may_depend_on_the_result_or_be_skipped(db, now):
    def line(removed: bool) -> AuditEntry | None:
        return (
            AuditEntry(1, 7, "joke.unblock", None, {"removed": removed}, now=now)
            if removed
            else None
        )

    assert audited(db, line, jokes.unblock_term, 1, "spoiler") is False
    assert audit.recent_actions(db, 1) == []
    jokes.block_term(db, 1, "spoiler", 7, now)
    assert audited(db, line, jokes.unblock_term, 1, "spoiler") is True
    assert [(a.action, a.details) for a in audit.recent_actions(db, 1)] == [
        ("joke.unblock", {"removed": True})
    ]


def test_sqlite_utils_table_methods_stay_inside_the_transaction(db, now):
    """sqlite-utils' insert/upsert/update nest as savepoints inside an open transaction."""

    def table_writes(db):
        db["blocked_terms"].insert(
            {"guild_id": 1, "term": "a", "added_by": 7, "added_at": now.isoformat()}
        )
        db["blocked_terms"].upsert(
            {"guild_id": 1, "term": "b", "added_by": 7, "added_at": now.isoformat()},
            pk=("guild_id", "term"),
        )
        db["guild_settings"].insert(
            {"guild_id": 1, "created_at": now.isoformat(), "updated_at": now.isoformat()}
        )
        db["guild_settings"].update(1, {"post_time": "10:00"})

    before = snapshot(db)
    with pytest.raises(ValueError, match="naive"):
        audited(db, unloggable(now), table_writes)
    assert snapshot(db) == before


def test_a_write_that_commits_by_itself_is_refused(db, now):
    def commits(db):
        with db.conn:  # sqlite3's context manager commits, ending the audited transaction
            db.execute(
                "INSERT INTO blocked_terms (guild_id, term, added_by, added_at) VALUES (1, 'x', 7, '')"
            )

    with pytest.raises(AuditNotAtomic, match="committed on its own"):
        audited(db, entry(now), commits)
    assert audit.recent_actions(db, 1) == []
    assert not db.conn.in_transaction


def test_inside_an_outer_transaction_it_joins_it(db, now):
    before = snapshot(db)

    def outer_block_that_fails():
        with transaction(db):
            audited(db, entry(now), jokes.block_term, 1, "spoiler", 7, now)
            raise RuntimeError("the outer block fails")

    with pytest.raises(RuntimeError):
        outer_block_that_fails()
    assert snapshot(db) == before


@pytest.fixture
def moderated(db, now, contest):
    """Something for each moderator write to change."""
    guilds.update_settings(db, 1, now, channel_id=10)
    caption = entries.add_entry(db, contest.id, 5, "A caption", "a caption", now)
    picture, _ = prompts.add_prompt(db, 1, b"png-a", "png", "a cat", 7, now)
    guilds.ban_member(db, 1, 6, 7, "spam", now)
    jokes.block_term(db, 1, "spoiler", 7, now)
    return {"entry": caption.id, "prompt": picture.id}


# Every storage write the cogs pair with an audit line (bot/cogs/*.py).
COG_WRITES = {
    "update_settings": lambda ids, now: (
        partial(guilds.update_settings, post_time="11:00"),
        1,
        now,
    ),
    "ban_member": lambda ids, now: (guilds.ban_member, 1, 9, 7, "spam", now),
    "unban_member": lambda ids, now: (guilds.unban_member, 1, 6),
    "set_status": lambda ids, now: (entries.set_status, ids["entry"], "disqualified", "no", now),
    "add_prompt": lambda ids, now: (prompts.add_prompt, 1, b"png-b", "png", "a dog", 7, now),
    "remove_prompt": lambda ids, now: (prompts.remove_prompt, 1, ids["prompt"]),
    "queue_next": lambda ids, now: (prompts.queue_next, 1, ids["prompt"]),
    "block_term": lambda ids, now: (jokes.block_term, 1, "another", 7, now),
    "unblock_term": lambda ids, now: (jokes.unblock_term, 1, "spoiler"),
    "start_season": lambda ids, now: (seasons.start_season, 1, "Spring", now),
    "erase_member": lambda ids, now: (erase_member, 1, 5),
}


@pytest.mark.parametrize("write", sorted(COG_WRITES))
def test_each_cog_write_is_undone_when_its_audit_line_fails(db, now, moderated, write):
    write_fn, *args = COG_WRITES[write](moderated, now)
    before = snapshot(db)
    with pytest.raises(ValueError, match="naive"):
        audited(db, unloggable(now), write_fn, *args)
    assert snapshot(db) == before
    audited(db, entry(now), write_fn, *args)  # and with a good line, both land
    assert snapshot(db) != before
    assert audit.recent_actions(db, 1)[0].action == "test.write"
