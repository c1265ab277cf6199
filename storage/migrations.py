"""Versioned schema migrations.

The schema version lives in ``PRAGMA user_version``. Each migration is a list of SQL statements
run in one transaction together with the version bump, so a crash mid-upgrade leaves the file at
the old version, never half-way. Append new migrations; never edit one that has shipped.
"""

from __future__ import annotations

from sqlite_utils import Database

from storage.db import DatabaseError, transaction

_V1_CORE = [
    """CREATE TABLE guild_settings (
        guild_id INTEGER PRIMARY KEY,
        channel_id INTEGER,
        timezone TEXT NOT NULL DEFAULT 'UTC',
        post_time TEXT NOT NULL DEFAULT '09:00',
        submission_seconds INTEGER NOT NULL DEFAULT 43200 CHECK (submission_seconds > 0),
        voting_seconds INTEGER NOT NULL DEFAULT 39600 CHECK (voting_seconds > 0),
        max_entries_per_member INTEGER NOT NULL DEFAULT 1 CHECK (max_entries_per_member > 0),
        min_account_age_days INTEGER NOT NULL DEFAULT 0,
        min_member_days INTEGER NOT NULL DEFAULT 0,
        moderator_role_id INTEGER,
        champion_role_id INTEGER,
        enabled INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE prompts (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        image_hash TEXT NOT NULL,
        image BLOB NOT NULL,
        image_format TEXT NOT NULL,
        description TEXT NOT NULL,
        added_by INTEGER,
        added_at TEXT NOT NULL,
        last_used_at TEXT,
        removed INTEGER NOT NULL DEFAULT 0,
        UNIQUE (guild_id, image_hash)
    )""",
    """CREATE TABLE seasons (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT
    )""",
    "CREATE UNIQUE INDEX one_open_season ON seasons (guild_id) WHERE ended_at IS NULL",
    """CREATE TABLE contests (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        day TEXT NOT NULL,
        prompt_id INTEGER REFERENCES prompts (id),
        season_id INTEGER REFERENCES seasons (id),
        phase TEXT NOT NULL CHECK (phase IN ('submissions', 'voting', 'closed')),
        opens_at TEXT NOT NULL,
        voting_at TEXT NOT NULL,
        closes_at TEXT NOT NULL,
        channel_id INTEGER,
        prompt_message_id INTEGER,
        thread_id INTEGER,
        results_message_id INTEGER,
        created_at TEXT NOT NULL,
        UNIQUE (guild_id, day)
    )""",
    """CREATE TABLE entries (
        id INTEGER PRIMARY KEY,
        contest_id INTEGER NOT NULL REFERENCES contests (id) ON DELETE CASCADE,
        author_id INTEGER NOT NULL,
        text TEXT NOT NULL,
        normalized TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active'
            CHECK (status IN ('active', 'withdrawn', 'disqualified')),
        reason TEXT,
        number INTEGER,
        message_id INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    # The database itself refuses a duplicate caption among a contest's live entries.
    """CREATE UNIQUE INDEX entries_unique_text ON entries (contest_id, normalized)
        WHERE status = 'active'""",
    "CREATE INDEX entries_author ON entries (contest_id, author_id)",
    "CREATE UNIQUE INDEX entries_message ON entries (message_id) WHERE message_id IS NOT NULL",
    """CREATE TABLE votes (
        id INTEGER PRIMARY KEY,
        entry_id INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
        voter_id INTEGER NOT NULL,
        rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 3),
        source TEXT NOT NULL CHECK (source IN ('emoji', 'ballot')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (entry_id, voter_id)
    )""",
    "CREATE INDEX votes_voter ON votes (voter_id)",
    """CREATE TABLE placements (
        contest_id INTEGER NOT NULL REFERENCES contests (id) ON DELETE CASCADE,
        entry_id INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
        author_id INTEGER NOT NULL,
        rank INTEGER NOT NULL,
        field_size INTEGER NOT NULL,
        mean REAL NOT NULL,
        lower_bound REAL NOT NULL,
        votes INTEGER NOT NULL,
        points INTEGER NOT NULL,
        PRIMARY KEY (contest_id, entry_id)
    )""",
    """CREATE TABLE bans (
        guild_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        reason TEXT,
        banned_by INTEGER NOT NULL,
        banned_at TEXT NOT NULL,
        PRIMARY KEY (guild_id, user_id)
    )""",
    """CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        actor_id INTEGER,
        action TEXT NOT NULL,
        target TEXT,
        details TEXT,
        at TEXT NOT NULL
    )""",
    "CREATE INDEX audit_guild ON audit_log (guild_id, id)",
]

_V2_BALLOTS = [
    "ALTER TABLE guild_settings ADD COLUMN vote_mode TEXT NOT NULL DEFAULT 'emoji'"
    " CHECK (vote_mode IN ('emoji', 'ballot'))",
    """CREATE TABLE exposures (
        id INTEGER PRIMARY KEY,
        contest_id INTEGER NOT NULL REFERENCES contests (id) ON DELETE CASCADE,
        entry_id INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
        voter_id INTEGER NOT NULL,
        shown_at TEXT NOT NULL
    )""",
    "CREATE INDEX exposures_voter ON exposures (contest_id, voter_id)",
]

_V3_MODELS = [
    """CREATE TABLE adapters (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        path TEXT NOT NULL,
        metrics TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL CHECK (status IN ('active', 'retired', 'rejected')),
        created_at TEXT NOT NULL,
        UNIQUE (guild_id, version)
    )""",
    "CREATE UNIQUE INDEX one_active_adapter ON adapters (guild_id) WHERE status = 'active'",
    """CREATE TABLE jokes (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER,
        user_id INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('joke', 'suggestion')),
        topic TEXT,
        text TEXT NOT NULL,
        score REAL,
        served_at TEXT NOT NULL
    )""",
]

_V4_PROMPT_QUEUE = [
    # A moderator can put a prompt at the front of the queue (/prompt next).
    "ALTER TABLE prompts ADD COLUMN queued INTEGER NOT NULL DEFAULT 0",
]

_V5_JOKE_FILTER = [
    """CREATE TABLE blocked_terms (
        guild_id INTEGER NOT NULL,
        term TEXT NOT NULL,
        added_by INTEGER,
        added_at TEXT NOT NULL,
        PRIMARY KEY (guild_id, term)
    )""",
]

_V6_VOTE_COUNTS = [
    # Tallies count ratings per entry on every ballot press and at every close: a covering index.
    "CREATE INDEX votes_entry_rating ON votes (entry_id, rating)",
]

_V7_WEEKLY_REPORT = [
    # Moderators may have the taste report posted in the contest channel every week.
    "ALTER TABLE guild_settings ADD COLUMN weekly_report INTEGER NOT NULL DEFAULT 0",
]

_V8_PICTURE_SUGGESTIONS = [
    # Pictures members suggest wait here for a moderator; only a waiting one keeps its picture.
    """CREATE TABLE prompt_suggestions (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        image BLOB,
        image_format TEXT NOT NULL,
        image_hash TEXT,
        description TEXT NOT NULL DEFAULT '',
        anonymous INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'approved', 'declined')),
        reason TEXT,
        decided_by INTEGER,
        decided_at TEXT,
        prompt_id INTEGER REFERENCES prompts (id) ON DELETE SET NULL,
        told INTEGER NOT NULL DEFAULT 0,
        suggested_at TEXT NOT NULL,
        CHECK ((status = 'pending') = (image IS NOT NULL AND image_hash IS NOT NULL))
    )""",
    # The same picture waits in a guild's queue once, whoever suggested it.
    """CREATE UNIQUE INDEX one_waiting_picture ON prompt_suggestions (guild_id, image_hash)
        WHERE status = 'pending'""",
    "CREATE INDEX suggestions_member ON prompt_suggestions (guild_id, user_id)",
    # An approved suggestion's picture credits its suggester ("picture by …") unless anonymous.
    "ALTER TABLE prompts ADD COLUMN suggested_by INTEGER",
    "ALTER TABLE prompts ADD COLUMN credited INTEGER NOT NULL DEFAULT 0",
    # A guild whose pool of unused pictures is low and whose moderators were told so.
    """CREATE TABLE pool_warnings (
        guild_id INTEGER PRIMARY KEY,
        warned_at TEXT NOT NULL
    )""",
]

_V9_FORMER_MEMBERS = [
    # An erased member's results stay under a pseudonym, minus this table's id: one per erasure,
    # never reused (AUTOINCREMENT), so two erased members never merge. Nothing says who it was.
    """CREATE TABLE former_members (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        guild_id INTEGER NOT NULL
    )""",
    # Erasures before this version gave every erased entry the author 0, merging their authors
    # on the leaderboards. Who wrote which is gone, so each such entry becomes its own former
    # member (numbered by the entry's id), and one in a running contest leaves it.
    """INSERT INTO former_members (id, guild_id)
        SELECT e.id, c.guild_id FROM entries e JOIN contests c ON c.id = e.contest_id
        WHERE e.author_id = 0""",
    "UPDATE placements SET author_id = -entry_id WHERE author_id = 0",
    "UPDATE entries SET author_id = -id WHERE author_id = 0",
    """UPDATE entries SET status = 'withdrawn'
        WHERE author_id < 0 AND status = 'active'
        AND contest_id IN (SELECT id FROM contests WHERE phase != 'closed')""",
]

_V10_SHARD_LEASES = [
    # Each bot process leases the shards it runs; a heartbeat keeps a lease alive, so a second
    # process on the same shard is refused and a dead process's leases expire.
    """CREATE TABLE shard_leases (
        shard_id INTEGER PRIMARY KEY,
        shard_count INTEGER NOT NULL CHECK (shard_count > 0),
        owner TEXT NOT NULL,
        heartbeat_at TEXT NOT NULL,
        CHECK (shard_id >= 0 AND shard_id < shard_count)
    )""",
]

MIGRATIONS: list[list[str]] = [
    _V1_CORE,
    _V2_BALLOTS,
    _V3_MODELS,
    _V4_PROMPT_QUEUE,
    _V5_JOKE_FILTER,
    _V6_VOTE_COUNTS,
    _V7_WEEKLY_REPORT,
    _V8_PICTURE_SUGGESTIONS,
    _V9_FORMER_MEMBERS,
    _V10_SHARD_LEASES,
]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(db: Database) -> int:
    """The version the file is at (0 for a new, empty file)."""
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: Database, target: int = SCHEMA_VERSION) -> int:
    """Bring the database up to ``target``, one migration per transaction; returns the version."""
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise DatabaseError(
            f"the database is at schema version {current}, newer than this Punchline "
            f"({SCHEMA_VERSION}); upgrade Punchline rather than downgrade the file"
        )
    for version in range(current + 1, target + 1):
        with transaction(db):
            for statement in MIGRATIONS[version - 1]:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {version}")
    return schema_version(db)
