"""The test kit: a Discord world in the emulator and the real bot running against it.

Shared by the tests (their fixtures in ``tests/bot/conftest.py`` call it), the benchmarks and the
demo, so none of them imports another. Plain functions and classes; no pytest here.
"""

from .contest import (
    LONG_PHASE_MINUTES,
    is_entry,
    is_prompt,
    is_results,
    press,
    run_job_now,
    setup_contest,
)
from .running import ClockFrom, punchline, running_bot
from .world import BOT_PERMISSIONS, OLD_ACCOUNT, Server, build_server

__all__ = [
    "BOT_PERMISSIONS",
    "LONG_PHASE_MINUTES",
    "OLD_ACCOUNT",
    "ClockFrom",
    "Server",
    "build_server",
    "is_entry",
    "is_prompt",
    "is_results",
    "press",
    "punchline",
    "run_job_now",
    "running_bot",
    "setup_contest",
]
