"""Echoing user text safely: no pings, no markdown surprises, nothing over Discord's limits."""

from __future__ import annotations

from datetime import datetime

import discord

NO_PINGS = discord.AllowedMentions.none()
MESSAGE_LIMIT = 2000


def quote_caption(text: str) -> str:
    """A caption ready to show: markdown escaped and mentions defused.

    ``allowed_mentions=NO_PINGS`` already stops the ping; escaping also keeps ``@everyone`` and
    ``<@&id>`` from *rendering* as mentions, so nobody is even shown as addressed.
    """
    escaped = discord.utils.escape_markdown(text, as_needed=False)
    escaped = discord.utils.escape_mentions(escaped)
    return escaped.replace("<@", "<\u200b@").replace("<#", "<\u200b#")


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Trim to Discord's length limit with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def timestamp(moment: datetime, style: str = "R") -> str:
    """A Discord timestamp that every member sees in their own time zone."""
    return discord.utils.format_dt(moment, style=style)
