"""The bot's sense of time. Real time by default; the demo runs it faster.

Contest times live in *contest time* (what ``now()`` returns); the scheduler fires in real
time, so ``to_real`` maps a contest moment onto the wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime


class Clock:
    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self._real_origin = self._contest_origin = datetime.now(UTC)

    def now(self) -> datetime:
        """The current contest time (aware, UTC)."""
        return self._contest_origin + (datetime.now(UTC) - self._real_origin) * self.speed

    def to_real(self, moment: datetime) -> datetime:
        """The wall-clock instant at which contest time reaches ``moment``."""
        return self._real_origin + (moment - self._contest_origin) / self.speed
