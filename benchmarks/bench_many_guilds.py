"""Many guilds: hundreds of servers, each on its own schedule in its own time zone, for a day.

    .venv/bin/python -m benchmarks.bench_many_guilds                # 300 guilds, the doc's figure
    .venv/bin/python -m benchmarks.bench_many_guilds --guilds 40    # smaller

Runs :func:`testkit.many_guilds.simulate_day` (the real bot in this process against the Discord
emulator, a contest clock ``--speed`` times faster than real time, 24 contest hours, every
guild's contests, prompts and results checked) and reports how late, in real and contest time,
the bot posted each prompt and each results post after the moment it was due.

``tests/bot/test_many_guilds.py`` runs the same simulation with fewer guilds in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from benchmarks.machine import describe_machine, load_average
from testkit.many_guilds import ZONES, DayReport, simulate_day


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def describe(report: DayReport) -> str:
    def lateness(values: list[float]) -> str:
        return " · ".join(
            f"{name} {percentile(values, p):.2f} s ({percentile(values, p) * report.speed / 60:.0f} contest min)"
            for name, p in (("p50", 50), ("p99", 99), ("max", 100))
        )

    return "\n".join(
        [
            f"{report.guilds} guilds in {len(ZONES)} time zones, 24 contest hours at {report.speed:.0f}×"
            f" real time ({report.real_seconds:.0f} s; the bot was ready"
            f" {report.startup.total_seconds() / report.speed:.1f} s after start)",
            f"  contests: {report.contests} ({report.contests / report.guilds:.1f} per guild: the"
            " day before's, caught up at start, and the day's own)",
            f"  problems (missing or duplicate contests, prompts, results): {len(report.problems)}",
            *(f"    {p}" for p in report.problems[:10]),
            f"  prompt posted after due: {lateness(report.prompt_lateness)}",
            f"  results posted after due: {lateness(report.results_lateness)}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--guilds", type=int, default=300)
    parser.add_argument(
        "--speed", type=float, default=480.0, help="contest seconds per real second"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(describe_machine())
    with tempfile.TemporaryDirectory(prefix="punchline-guilds-") as folder:
        report = asyncio.run(simulate_day(args.guilds, args.speed, Path(folder), seed=args.seed))
    print(describe(report))
    print(f"at the end: {load_average()}")


if __name__ == "__main__":
    main()
