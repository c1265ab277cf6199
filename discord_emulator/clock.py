"""The emulator's clock: real time plus an offset that tests can move forward.

Discord's time-based rules (the interaction deadlines, rate-limit windows, threads archiving
after inactivity) all read this clock, so a test can jump 15 minutes or a day ahead with
:meth:`EmulatorClock.advance` instead of waiting.
"""

from __future__ import annotations

import datetime as dt
import time


class EmulatorClock:
    """Seconds since the Unix epoch, as Discord's servers would see them."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._frozen_at: float | None = None

    def time(self) -> float:
        """Now, in epoch seconds (fractional)."""
        if self._frozen_at is not None:
            return self._frozen_at + self._offset
        return time.time() + self._offset

    def freeze(self) -> None:
        """Stop the clock (only :meth:`advance` moves it), for tests that count within a window
        however slowly the machine runs. A frozen clock never lets a rate limit reset by itself."""
        if self._frozen_at is None:
            self._frozen_at = time.time()

    def advance(self, by: float | dt.timedelta) -> None:
        """Move the clock forward by ``by`` (seconds or a timedelta); never backwards."""
        seconds = by.total_seconds() if isinstance(by, dt.timedelta) else float(by)
        if seconds < 0:
            raise ValueError("the emulator's clock only moves forward")
        self._offset += seconds
