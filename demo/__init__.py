"""``python bot.py --demo``: the whole contest, offline, in about a minute (see :mod:`demo.run`)."""

from .run import quiet_logging, run_demo

__all__ = ["quiet_logging", "run_demo"]
