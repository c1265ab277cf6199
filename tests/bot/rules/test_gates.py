"""Describing and bounding the gates moderators set with /contest gates (defect 4)."""

from __future__ import annotations

from bot.rules.gates import describe_gates, gate_problem
from storage.models import GuildSettings


def test_a_guild_without_gates_lets_anyone_vote():
    assert describe_gates(None) == "🚧 Who may vote: anyone in the server · 1 caption per member"
    assert describe_gates(GuildSettings(guild_id=1)) == describe_gates(None)


def test_gates_read_as_a_sentence():
    settings = GuildSettings(
        guild_id=1, min_account_age_days=1, min_member_days=14, max_entries_per_member=3
    )
    assert describe_gates(settings) == (
        "🚧 Who may vote: accounts at least 1 day old · in the server at least 14 days"
        " · 3 captions per member"
    )


def test_values_outside_the_limits_are_refused_by_name():
    assert gate_problem({"min_account_age_days": 0, "max_entries_per_member": 10}) is None
    assert "account age must be between 0 and 365" in gate_problem({"min_account_age_days": -1})
    assert "entries per member must be between 1 and 10" in gate_problem(
        {"max_entries_per_member": 11}
    )
