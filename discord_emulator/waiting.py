"""Waiting for a condition on the emulator's (or the bot's) state."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_RECHECK_SECONDS = 0.02


class ChangeNotifier:
    """Wakes every waiter whenever something in the emulator changes.

    Conditions are also re-checked every 20 ms, so they may look at the bot's side too (its
    cache, its database), which cannot signal the emulator. Waits give up after ``timeout``
    seconds, so a test whose bot never answers fails quickly instead of hanging; wrap a call
    in ``asyncio.timeout()`` for a shorter limit.
    """

    def __init__(self, timeout: float = 5.0) -> None:
        self._changed = asyncio.Event()
        self.timeout = timeout

    def notify(self) -> None:
        """Signal a change: waiters re-check their conditions."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, check: Callable[[], T | None], what: str) -> T:
        """Return ``check()``'s first truthy result; raise ``TimeoutError`` naming ``what``."""
        timeout = self.timeout
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self._changed
                    result = check()
                    if result:
                        return result
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), _RECHECK_SECONDS)
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}") from None
