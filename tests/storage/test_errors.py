"""A busy or full database is raised as StorageBusy or StorageFull, told apart by SQLite's error
code, never by the message; every other error passes through unchanged."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import storage.db
from storage import StorageBusy, StorageFull, guilds, jokes
from storage.db import run_call, translate_error


@contextmanager
def write_lock(path) -> Iterator[None]:
    """A second connection holds SQLite's write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.fixture
def impatient_db(db):
    """The ``db`` fixture with a 50 ms busy timeout, so a held lock fails fast."""
    db.conn.execute("PRAGMA busy_timeout = 50")
    return db


def fill_up(db) -> None:
    """Cap the file at its current size, as a full disk does."""
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")


def write_much(db, guild_id: int, now) -> None:
    for i in range(2_000):
        jokes.block_term(db, guild_id, f"term {i} " + "x" * 200, 1, now)


def test_a_database_locked_by_another_connection_is_storage_busy(impatient_db, tmp_path, now):
    with write_lock(tmp_path / "punchline.db"), pytest.raises(StorageBusy) as raised:
        run_call(jokes.block_term, impatient_db, 1, "spoiler", 2, now)
    assert raised.value.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
    assert isinstance(raised.value, sqlite3.OperationalError)  # old handlers still catch it
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
    assert run_call(jokes.block_term, impatient_db, 1, "spoiler", 2, now)  # and then it works


def test_a_file_that_cannot_grow_is_storage_full(db, now):
    fill_up(db)
    with pytest.raises(StorageFull) as raised:
        run_call(write_much, db, 1, now)
    assert raised.value.sqlite_errorcode & 0xFF == sqlite3.SQLITE_FULL
    assert isinstance(raised.value, sqlite3.OperationalError)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_full_database_inside_a_transaction_is_still_storage_full(db, now):
    fill_up(db)

    def many_in_one_transaction(db):
        with storage.db.transaction(db):
            write_much(db, 1, now)

    with pytest.raises(StorageFull):
        run_call(many_in_one_transaction, db)
    assert not db.conn.in_transaction
    assert jokes.blocked_terms(db, 1) == []  # all or nothing


def test_other_errors_and_results_pass_through(db, now):
    with pytest.raises(sqlite3.OperationalError) as raised:
        run_call(lambda d: d.execute("SELECT * FROM no_such_table"), db)
    assert type(raised.value) is sqlite3.OperationalError
    with pytest.raises(ValueError, match="unknown setting"):
        run_call(guilds.update_settings, db, 1, now, colour="red")
    assert run_call(jokes.block_term, db, 1, "spoiler", 2, now) is True


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (sqlite3.SQLITE_BUSY, StorageBusy),
        (sqlite3.SQLITE_LOCKED, StorageBusy),
        (sqlite3.SQLITE_BUSY_SNAPSHOT, StorageBusy),  # extended codes count as their primary
        (sqlite3.SQLITE_LOCKED_SHAREDCACHE, StorageBusy),
        (sqlite3.SQLITE_FULL, StorageFull),
        (sqlite3.SQLITE_IOERR, sqlite3.OperationalError),
        (sqlite3.SQLITE_ERROR, sqlite3.OperationalError),
    ],
)
def test_the_error_code_decides_never_the_message(code, kind):
    misleading = sqlite3.OperationalError("database is locked and the disk is full")
    misleading.sqlite_errorcode = code
    translated = translate_error(misleading)
    assert type(translated) is kind
    assert translated.sqlite_errorcode == code
    assert str(translated) == str(misleading)


def test_an_error_without_a_code_is_left_alone():
    plain = sqlite3.OperationalError("database is locked")
    assert translate_error(plain) is plain
