"""Shared fixtures. Everything runs offline: no model hub, no network but loopback."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

NYCCC = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nyccc"


@pytest.fixture
def db(tmp_path):
    """A fresh, migrated database file (real SQLite, WAL)."""
    from storage import open_database

    database = open_database(tmp_path / "punchline.db")
    yield database
    database.close()


@pytest.fixture
def now():
    return datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
