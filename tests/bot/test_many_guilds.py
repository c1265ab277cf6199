"""Thirty guilds in twenty-one time zones through a simulated day: each guild's jobs run once.

The simulation in ``testkit/many_guilds.py`` that ``benchmarks/bench_many_guilds.py`` runs with
300 guilds (reporting how late the jobs ran), here small and fast: 24 contest hours at 7,200× real
time.
"""

from __future__ import annotations

from testkit.many_guilds import simulate_day


async def test_every_guild_gets_each_days_contest_once(tmp_path):
    """Each guild has the contests its own schedule calls for (the day before's, caught up at
    start, then the day's own), each prompt and each results post once, all of them closed."""
    report = await simulate_day(30, 7200.0, tmp_path, margin_s=4.0)
    assert report.problems == []
    assert report.contests >= 30
    assert len(report.results_lateness) == report.contests
