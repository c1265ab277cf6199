"""Which of Discord's rules the emulator enforces; all of them unless a test says otherwise.

Each rule follows a page of Discord's developer documentation (``../shared/discord/docs``):

- ``interaction_deadline``: the first answer to an interaction within 3 s, follow-ups and edits
  with its token for 15 minutes (``receiving-and-responding.mdx``, "Responding to an
  Interaction" and "Followup Messages");
- ``rate_limits``: per-route buckets with ``X-RateLimit-*`` headers, 429 with ``retry_after``,
  the global 50 requests a second (``rate-limits.mdx``);
- ``thread_archiving``: threads archive after their ``auto_archive_duration`` without activity
  and then refuse edits and reactions (``threads.mdx``, "Active & Archived Threads");
- ``command_rules``: the command tree's names, lengths, counts, order, nesting and size at sync
  (``application-commands.mdx``);
- ``message_limits``: content, embed, component and upload limits (``message.mdx``,
  ``reference.mdx``);
- ``identify_concurrency``: at most ``max_concurrency`` identifies per 5 seconds (one per
  rate-limit key ``shard_id % max_concurrency``), else Invalid Session (``gateway.mdx``, "Rate
  Limiting" and "Max Concurrency").
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Self

INITIAL_RESPONSE_DEADLINE_S = 3.0
"""``receiving-and-responding.mdx``: "you must send an initial response within 3 seconds"."""

INTERACTION_TOKEN_LIFETIME_S = 15 * 60
"""``receiving-and-responding.mdx``: "Interaction tokens are valid for 15 minutes"."""


@dataclass(frozen=True)
class Rules:
    """Switches for Discord's rules; ``Rules()`` is real Discord, everything on."""

    interaction_deadline: bool = True
    rate_limits: bool = True
    thread_archiving: bool = True
    command_rules: bool = True
    message_limits: bool = True
    identify_concurrency: bool = True

    @classmethod
    def lenient(cls) -> Self:
        """Every rule off: the emulator accepts what Discord would refuse (for raw speed)."""
        return cls(**{f.name: False for f in fields(cls)})

    def without(self, *names: str) -> Self:
        """These rules with ``names`` switched off, e.g. ``Rules().without("rate_limits")``."""
        known = {f.name for f in fields(self)}
        unknown = set(names) - known
        if unknown:
            raise ValueError(f"unknown rules {sorted(unknown)}; the rules are {sorted(known)}")
        return replace(self, **dict.fromkeys(names, False))
