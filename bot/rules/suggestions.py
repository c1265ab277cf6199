"""How much members may suggest for the picture pool.

Each member may have a few pictures waiting and must pause between two suggestions; the whole
queue is capped too, so a flood from many members cannot bury the moderators. The limits are
checked against the queue as the inserting transaction sees it (``storage.suggestions``).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Protocol

MEMBER_WAITING_LIMIT = 3
GUILD_WAITING_LIMIT = 25
COOLDOWN = timedelta(minutes=10)


class SuggestionRefused(ValueError):
    """A suggestion over a limit; ``str(exc)`` is the polite answer to the member."""


class QueueState(Protocol):
    """The queue as the limits see it (``storage.suggestions.QueueState``)."""

    member_pending: int
    guild_pending: int
    member_last_at: datetime | None


def check_suggestion(queue: QueueState, now: datetime) -> None:
    """Raise :class:`SuggestionRefused` when this member may not suggest another picture now."""
    if queue.member_pending >= MEMBER_WAITING_LIMIT:
        raise SuggestionRefused(
            f"You already have {queue.member_pending} pictures waiting for review; you can "
            "suggest more once the moderators have looked at them (see **/prompt mine**)."
        )
    if queue.member_last_at is not None and now - queue.member_last_at < COOLDOWN:
        wait = COOLDOWN - (now - queue.member_last_at)
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        raise SuggestionRefused(
            f"You suggested a picture a moment ago; please wait {minutes} more "
            f"minute{'s' if minutes != 1 else ''} before the next."
        )
    if queue.guild_pending >= GUILD_WAITING_LIMIT:
        raise SuggestionRefused(
            f"The review queue is full ({queue.guild_pending} pictures waiting). Please try "
            "again once the moderators have caught up."
        )
