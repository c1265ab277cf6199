from __future__ import annotations

from datetime import timedelta

import pytest

from storage import contests


@pytest.fixture
def contest(db, now):
    """An open contest in guild 1."""
    created, _ = contests.open_contest(
        db,
        guild_id=1,
        day="2026-03-01",
        prompt_id=None,
        season_id=None,
        opens_at=now,
        voting_at=now + timedelta(hours=12),
        closes_at=now + timedelta(hours=23),
        channel_id=10,
        now=now,
    )
    return created
