"""Shards in storage: the routing formula in SQL, and leases that keep two processes apart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import contests, guilds, open_database, votes
from storage.models import GuildSettings
from storage.shards import (
    ShardSet,
    ShardsTaken,
    claim_shards,
    live_leases,
    release_shards,
    renew_leases,
)

TTL = timedelta(seconds=60)


def guild_on(shard: int, count: int, n: int = 0) -> int:
    """A guild id whose events Discord routes to ``shard`` of ``count`` (``gateway.mdx``,
    "Sharding Formula": ``shard_id = (guild_id >> 22) % num_shards``)."""
    return ((1000 * count + n * count + shard) << 22) | 7


def test_the_formula_is_discords():
    three = ShardSet.every(3)
    assert [three.shard_of(guild_on(s, 3)) for s in range(3)] == [0, 1, 2]
    assert three.shard_of(81384788765712384) == 1  # 81384788765712384 >> 22 = 19403645698
    assert three.only({1}).owns(guild_on(1, 3))
    assert not three.only({1}).owns(guild_on(2, 3))


def test_a_shard_set_refuses_ids_outside_its_count():
    with pytest.raises(ValueError, match="do not fit"):
        ShardSet(2, frozenset({2}))
    with pytest.raises(ValueError, match="not run here"):
        ShardSet(3, frozenset({0})).only({1})


def test_the_queries_select_a_shards_guilds_in_sql(db, now):
    ids = [guild_on(s, 3, n) for s in range(3) for n in range(2)]
    for i, guild_id in enumerate(ids):
        guilds.save_settings(db, GuildSettings(guild_id, channel_id=10 + i), now)
        contests.open_contest(
            db,
            guild_id=guild_id,
            day="2026-03-01",
            prompt_id=None,
            season_id=None,
            opens_at=now,
            voting_at=now + timedelta(hours=1),
            closes_at=now + timedelta(hours=2),
            channel_id=10 + i,
            now=now,
        )
    middle = ShardSet(3, frozenset({1}))
    assert [s.guild_id for s in guilds.configured_guilds(db, middle)] == ids[2:4]
    assert {c.guild_id for c in contests.unfinished_contests(db, middle)} == set(ids[2:4])
    assert len(contests.unfinished_contests(db)) == 6
    assert len(guilds.configured_guilds(db, ShardSet.every(3))) == 6
    assert votes.posted_live_entries(db, middle) == []


def test_a_second_owner_is_refused_an_overlapping_shard(db, now):
    claim_shards(db, "a", ShardSet(3, frozenset({0, 1})), now, TTL)
    with pytest.raises(ShardsTaken, match="shard 1 of 3 by a") as refused:
        claim_shards(db, "b", ShardSet(3, frozenset({1, 2})), now, TTL)
    assert [lease.shard_id for lease in refused.value.conflicts] == [1]
    assert {lease.owner for lease in live_leases(db, now, TTL)} == {"a"}  # b claimed nothing
    claim_shards(db, "b", ShardSet(3, frozenset({2})), now, TTL)
    assert [(x.shard_id, x.owner) for x in live_leases(db, now, TTL)] == [
        (0, "a"),
        (1, "a"),
        (2, "b"),
    ]


def test_another_shard_count_is_refused_while_the_first_runs(db, now):
    """Shard 1 of 2 and shard 2 of 3 hold overlapping guilds: one count per database."""
    claim_shards(db, "a", ShardSet(2, frozenset({0})), now, TTL)
    with pytest.raises(ShardsTaken, match="shard 0 of 2 by a"):
        claim_shards(db, "b", ShardSet(3, frozenset({2})), now, TTL)


def test_a_dead_processes_leases_expire_or_are_taken_over(db, now):
    claim_shards(db, "dead", ShardSet.every(2), now, TTL)
    with pytest.raises(ShardsTaken):
        claim_shards(db, "next", ShardSet.every(2), now + TTL / 2, TTL)
    claim_shards(db, "next", ShardSet.every(2), now + TTL * 2, TTL)  # the heartbeat stopped
    claim_shards(db, "third", ShardSet.every(2), now + TTL * 2, TTL, gone={"next"})  # known dead
    assert {lease.owner for lease in live_leases(db, now + TTL * 2, TTL)} == {"third"}


def test_the_heartbeat_keeps_leases_alive_and_release_frees_them(db, now):
    claim_shards(db, "a", ShardSet.every(2), now, TTL)
    later = now + TTL * 3
    assert renew_leases(db, "a", later - TTL / 2) == 2
    with pytest.raises(ShardsTaken):
        claim_shards(db, "b", ShardSet.every(2), later, TTL)
    release_shards(db, "a")
    assert renew_leases(db, "a", later) == 0  # what a process that lost its leases sees
    claim_shards(db, "b", ShardSet.every(2), later, TTL)


def test_a_claim_through_another_connection_is_seen(tmp_path, now):
    """Two processes mean two connections: each claim is one write transaction (``BEGIN
    IMMEDIATE``), so the second connection sees the first's leases."""
    first, second = (open_database(tmp_path / "shared.db") for _ in range(2))
    claim_shards(first, "a", ShardSet.every(1), now, TTL)
    with pytest.raises(ShardsTaken):
        claim_shards(second, "b", ShardSet.every(1), now, TTL)
    first.close()
    second.close()
