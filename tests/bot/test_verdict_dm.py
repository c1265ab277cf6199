"""Telling a suggester the verdict by DM when their DMs are open.

The emulator has no DM route, so this one path runs against a stand-in for the client (only
``get_user`` and the user's ``send``); the storage underneath is real SQLite. The closed-DM
fallback runs end to end in ``test_suggestions.py``.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import discord

from bot.clock import Clock
from bot.config import Settings
from bot.context import BotContext
from bot.store import Store
from bot.suggestions import tell_suggester
from storage import suggestions

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
GUILD, MEMBER, MOD = 1, 100, 9


class Member:
    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.sent: list[tuple[str, dict]] = []

    async def send(self, content: str, **options) -> None:
        if self.refuse:  # what Discord answers for closed DMs
            raise discord.Forbidden(SimpleNamespace(status=403, reason="Forbidden"), "50007")
        self.sent.append((content, options))


async def told(tmp_path, member: Member, decide) -> tuple[bool, Store, int]:
    store = Store(tmp_path / "p.db")
    await store.open()
    queued = await store.call(
        suggestions.add_suggestion,
        GUILD,
        MEMBER,
        b"img",
        "png",
        "hash",
        "A *bold* cat @everyone",
        False,
        NOW,
        check=lambda queue: None,
    )
    result = await store.call(decide, GUILD, queued.suggestion.id, MOD, NOW)
    client = SimpleNamespace(get_user=lambda user_id: member)
    ctx = BotContext(client, store, Clock(), Settings(token="unused"))
    delivered = await tell_suggester(ctx, SimpleNamespace(name="Caption Club"), result.suggestion)
    return delivered, store, queued.suggestion.id


async def test_a_delivered_decline_is_forgotten_and_echoes_nothing_unsafe(tmp_path):
    member = Member()

    def decline(db, guild_id, suggestion_id, moderator_id, now):
        return suggestions.decline_suggestion(
            db, guild_id, suggestion_id, moderator_id, "Blurry", now
        )

    delivered, store, suggestion_id = await told(tmp_path, member, decline)
    try:
        assert delivered
        [(text, options)] = member.sent
        assert "was declined" in text
        assert "Reason: Blurry" in text
        assert "**Caption Club**" in text
        assert "\\*bold\\*" in text  # the member's markdown shown as typed
        assert "@everyone" not in text.replace("@\u200beveryone", "")
        assert options["allowed_mentions"].to_dict() == {"parse": []}
        assert await store.call(suggestions.get_suggestion, GUILD, suggestion_id) is None
    finally:
        await store.close()


async def test_a_delivered_approval_is_kept_as_told(tmp_path):
    member = Member()
    delivered, store, suggestion_id = await told(tmp_path, member, suggestions.approve_suggestion)
    try:
        assert delivered
        assert "was approved" in member.sent[0][0]
        assert "credited to you" in member.sent[0][0]
        assert (await store.call(suggestions.get_suggestion, GUILD, suggestion_id)).told
    finally:
        await store.close()


async def test_closed_dms_leave_the_verdict_for_prompt_mine(tmp_path):
    delivered, store, suggestion_id = await told(
        tmp_path, Member(refuse=True), suggestions.approve_suggestion
    )
    try:
        assert not delivered
        assert not (await store.call(suggestions.get_suggestion, GUILD, suggestion_id)).told
    finally:
        await store.close()
