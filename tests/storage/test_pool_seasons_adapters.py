from __future__ import annotations

from datetime import timedelta

from storage import adapters, audit, guilds, prompts, seasons
from storage.models import GuildSettings, Placement


def test_settings_roundtrip_and_partial_update(db, now):
    assert guilds.get_settings(db, 5) is None
    guilds.save_settings(db, GuildSettings(guild_id=5, channel_id=50, timezone="Asia/Tokyo"), now)
    updated = guilds.update_settings(db, 5, now, post_time="18:30", vote_mode="ballot")
    assert (updated.channel_id, updated.timezone, updated.post_time, updated.vote_mode) == (
        50,
        "Asia/Tokyo",
        "18:30",
        "ballot",
    )
    assert [g.guild_id for g in guilds.configured_guilds(db)] == [5]


def test_bans(db, now):
    guilds.ban_member(db, 1, 9, banned_by=2, reason="spam", now=now)
    assert guilds.is_banned(db, 1, 9)
    assert not guilds.is_banned(db, 2, 9)
    assert guilds.unban_member(db, 1, 9)
    assert not guilds.is_banned(db, 1, 9)


def test_same_image_is_recognised_and_pool_is_least_recently_used(db, now):
    first, created = prompts.add_prompt(db, 1, b"png-a", "png", "a cat", 3, now)
    again, created_again = prompts.add_prompt(db, 1, b"png-a", "png", "the same cat", 3, now)
    assert created
    assert not created_again
    assert again.id == first.id
    second, _ = prompts.add_prompt(db, 1, b"png-b", "png", "a dog", 3, now)
    assert prompts.next_prompt(db, 1).id == first.id
    prompts.mark_used(db, first.id, now)
    assert prompts.next_prompt(db, 1).id == second.id
    prompts.mark_used(db, second.id, now + timedelta(days=1))
    assert prompts.next_prompt(db, 1).id == first.id
    assert prompts.remove_prompt(db, 1, first.id)
    assert prompts.next_prompt(db, 1) is None  # only the picture used last is left: never twice
    assert prompts.count_prompts(db, 1) == 1
    assert prompts.prompt_image(db, second.id) == b"png-b"


def test_season_standings_add_up(db, now, contest):
    season_id, ended = seasons.start_season(db, 1, "Spring", now)
    assert ended is None
    assert seasons.current_season(db, 1) == (season_id, "Spring")
    db.execute("UPDATE contests SET season_id = ? WHERE id = ?", [season_id, contest.id])
    db.execute(
        "INSERT INTO entries (id, contest_id, author_id, text, normalized, created_at, updated_at)"
        " VALUES (1, ?, 100, 'a', 'a', 'x', 'x'), (2, ?, 101, 'b', 'b', 'x', 'x'),"
        " (3, ?, 102, 'c', 'c', 'x', 'x')",
        [contest.id] * 3,
    )
    seasons.save_placements(
        db,
        contest.id,
        [
            Placement(contest.id, 1, 100, 1, 3, 2.5, 2.2, 10, 10),
            Placement(contest.id, 2, 101, 2, 3, 2.1, 1.9, 10, 6),
            Placement(contest.id, 3, 102, 3, 3, 1.5, 1.2, 10, 4),
        ],
    )
    table = seasons.standings(db, 1, season_id=season_id)
    assert [(s.author_id, s.points, s.wins, s.average_placing) for s in table] == [
        (100, 10, 1, 0.0),
        (101, 6, 0, 0.5),
        (102, 4, 0, 1.0),
    ]
    new_id, ended = seasons.start_season(db, 1, "Summer", now)
    assert ended == season_id
    assert seasons.standings(db, 1, season_id=new_id) == []
    assert len(seasons.standings(db, 1)) == 3  # all-time keeps everything


def test_adapter_promotion_and_rollback(db, now):
    assert adapters.active_adapter(db, 1) is None
    v1 = adapters.register_adapter(db, 1, "a1", {"acc": 0.6}, promote=True, now=now)
    v2 = adapters.register_adapter(db, 1, "a2", {"acc": 0.5}, promote=False, now=now)
    assert (v1.version, v2.version, v2.status) == (1, 2, "rejected")
    assert adapters.active_adapter(db, 1).path == "a1"
    adapters.register_adapter(db, 1, "a3", {"acc": 0.7}, promote=True, now=now)
    assert adapters.active_adapter(db, 1).path == "a3"
    assert adapters.rollback_adapter(db, 1).path == "a1"
    assert adapters.rollback_adapter(db, 1) is None  # back on the base adapter
    assert adapters.active_adapter(db, 1) is None


def test_audit_log_pages_newest_first(db, now):
    for i in range(5):
        audit.log_action(db, 1, 42, "contest.extend", f"contest:{i}", {"minutes": i}, now=now)
    page = audit.recent_actions(db, 1, offset=1, limit=2)
    assert [a.target for a in page] == ["contest:3", "contest:2"]
    assert page[0].details == {"minutes": 3}
    assert page[0].at == now
