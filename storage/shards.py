"""Shards: which guilds a bot process runs, and the leases that keep two processes apart.

Discord sends a guild's events to shard ``(guild_id >> 22) % shard_count`` (``gateway.mdx``,
"Sharding Formula"). A big bot runs its shards in several processes; when they share one
database file, each process must schedule only its own shards' guilds, and no two processes may
run the same shard. Each process therefore holds a lease on every shard it runs, renewed by a
heartbeat: a second process configured with an overlapping shard is refused at start, and a
process that died leaves leases that expire after their time to live.

Every query that starts work for "all guilds" takes a :class:`ShardSet` and selects in SQL, so a
process reads its own guilds only; the same condition works on any database that has ``>>``
and ``%`` on integers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from storage.db import from_iso, to_iso, transaction


@dataclass(frozen=True)
class ShardSet:
    """Shards ``ids`` out of ``count``: the guilds a process runs."""

    count: int
    ids: frozenset[int]

    def __post_init__(self) -> None:
        if self.count < 1 or not self.ids or not all(0 <= i < self.count for i in self.ids):
            raise ValueError(f"shard ids {sorted(self.ids)} do not fit {self.count} shard(s)")

    @classmethod
    def every(cls, count: int) -> ShardSet:
        """All ``count`` shards (one process runs the whole bot)."""
        return cls(count, frozenset(range(count)))

    def shard_of(self, guild_id: int) -> int:
        """The shard Discord routes ``guild_id``'s events to."""
        return (guild_id >> 22) % self.count

    def owns(self, guild_id: int) -> bool:
        return self.shard_of(guild_id) in self.ids

    def only(self, ids: Iterable[int]) -> ShardSet:
        """The same shard count, with just ``ids`` (which must be among this set's)."""
        chosen = frozenset(ids)
        if not chosen <= self.ids:
            raise ValueError(f"shards {sorted(chosen - self.ids)} are not run here")
        return ShardSet(self.count, chosen)

    def where(self, column: str) -> tuple[str, list[int]]:
        """An SQL condition (and its parameters) selecting rows whose guild id ``column`` is on
        these shards."""
        if len(self.ids) == self.count:
            return "1", []
        marks = ", ".join("?" for _ in self.ids)
        return f"(({column} >> 22) % ?) IN ({marks})", [self.count, *sorted(self.ids)]

    def describe(self) -> str:
        """``"shards 0, 2 of 3"`` (for logs and messages)."""
        if len(self.ids) == self.count:
            return f"all {self.count} shard(s)"
        return f"shard(s) {', '.join(map(str, sorted(self.ids)))} of {self.count}"


def on_shards(shards: ShardSet | None, column: str = "guild_id") -> tuple[str, list[int]]:
    """:meth:`ShardSet.where`, or no condition at all for ``None`` (every guild)."""
    return ("1", []) if shards is None else shards.where(column)


@dataclass(frozen=True)
class Lease:
    """A process's claim on one shard, alive while its heartbeat is recent."""

    shard_id: int
    shard_count: int
    owner: str
    heartbeat_at: datetime


class ShardsTaken(Exception):
    """Another live process runs shards this one was configured with (or another shard count)."""

    def __init__(self, wanted: ShardSet, conflicts: list[Lease]) -> None:
        self.wanted = wanted
        self.conflicts = conflicts
        held = "; ".join(
            f"shard {lease.shard_id} of {lease.shard_count} by {lease.owner}" for lease in conflicts
        )
        super().__init__(f"{wanted.describe()} overlap what other processes run ({held})")


def live_leases(db: Database, now: datetime, ttl: timedelta) -> list[Lease]:
    """The leases whose heartbeat is younger than ``ttl``."""
    rows = db.execute(
        "SELECT shard_id, shard_count, owner, heartbeat_at FROM shard_leases"
        " WHERE heartbeat_at >= ? ORDER BY shard_id",
        [to_iso(now - ttl)],
    ).fetchall()
    return [Lease(shard, count, owner, from_iso(at)) for shard, count, owner, at in rows]


def claim_shards(
    db: Database,
    owner: str,
    shards: ShardSet,
    now: datetime,
    ttl: timedelta,
    gone: Collection[str] = (),
) -> None:
    """Lease ``shards`` to ``owner``, or raise :class:`ShardsTaken` and claim nothing.

    Expired leases, and those of the ``gone`` owners (processes known to have died), are removed
    first. A live lease of another owner conflicts when it is on one of ``shards`` or was taken
    with another shard count (the guilds of the two processes would then overlap).
    """
    with transaction(db):
        db.execute("DELETE FROM shard_leases WHERE heartbeat_at < ?", [to_iso(now - ttl)])
        for dead in gone:
            db.execute("DELETE FROM shard_leases WHERE owner = ?", [dead])
        conflicts = [
            lease
            for lease in live_leases(db, now, ttl)
            if lease.owner != owner
            and (lease.shard_id in shards.ids or lease.shard_count != shards.count)
        ]
        if conflicts:
            raise ShardsTaken(shards, conflicts)
        db.execute("DELETE FROM shard_leases WHERE owner = ?", [owner])
        db.conn.executemany(
            "INSERT INTO shard_leases (shard_id, shard_count, owner, heartbeat_at)"
            " VALUES (?, ?, ?, ?)",
            [(shard, shards.count, owner, to_iso(now)) for shard in sorted(shards.ids)],
        )


def renew_leases(db: Database, owner: str, now: datetime) -> int:
    """The heartbeat: refresh ``owner``'s leases; returns how many it still holds."""
    return db.execute(
        "UPDATE shard_leases SET heartbeat_at = ? WHERE owner = ?", [to_iso(now), owner]
    ).rowcount


def release_shards(db: Database, owner: str) -> None:
    """Give ``owner``'s leases up (a clean shutdown), so a successor need not wait for expiry."""
    db.execute("DELETE FROM shard_leases WHERE owner = ?", [owner])
