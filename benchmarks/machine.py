"""What a benchmark ran on, printed at the top of its report."""

from __future__ import annotations

import multiprocessing
import os
import platform
import sqlite3
from pathlib import Path

import discord


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def describe_machine() -> str:
    """CPU, cores, load, and the versions that matter to the figures."""
    return (
        f"machine: {cpu_name()}, {multiprocessing.cpu_count()} cores, {load_average()}"
        f" · Python {platform.python_version()} · SQLite {sqlite3.sqlite_version}"
        f" · discord.py {discord.__version__}"
    )


def load_average() -> str:
    """The 1, 5 and 15-minute load averages: other work on the machine skews every figure."""
    return "load average " + " / ".join(f"{x:.1f}" for x in os.getloadavg()) + " (1/5/15 min)"
