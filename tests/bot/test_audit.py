"""Every moderator command that changes something leaves its line in the audit log.

The moderator commands are read from the bot's command tree (those guarded by
``moderator_only``): each is either run below, through the real client against the emulator,
with the audit line it must write, or listed as read-only. A new moderator command that is
neither fails the first test, so nothing slips through unaudited.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from discord import app_commands
from PIL import Image

from bot.app import EXTENSIONS, PunchlineBot
from bot.config import Settings
from bot.store import Store
from storage import audit
from tests.bot.conftest import ClockFrom, Server, punchline, submit

READ_ONLY = {
    "bot status",
    "mod audit",
    "prompt list",
    "prompt queue",
    "ranker status",
    "ranker report",
}

START = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)  # the next prompt is due at 12:00


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@dataclass(frozen=True)
class Step:
    """A moderator runs ``command``; the audit log gains ``action`` on ``target``, by them."""

    command: str
    action: str
    target: str | None = None
    options: Callable[[Server, dict[str, int]], dict[str, Any]] = field(
        default=lambda server, ids: {}
    )


# In the order they run; a target names ids as ``{placeholders}`` (see ``newest_ids``).
SCENARIO = [
    Step(
        "contest setup",
        "contest.setup",
        "channel:{channel}",
        lambda s, ids: {
            "channel": s.channel.id,
            "timezone": "UTC",
            "post_time": "12:00",
            "submission_minutes": 60,
            "voting_minutes": 60,
        },
    ),
    Step(
        "contest schedule",
        "contest.schedule",
        "channel:{channel}",
        lambda s, ids: {"voting_minutes": 90},
    ),
    Step("contest mode", "contest.mode", None, lambda s, ids: {"mode": "emoji"}),
    Step("contest roles", "contest.roles"),
    Step("contest gates", "contest.gates", None, lambda s, ids: {"account_age_days": 7}),
    Step(
        "prompt add",
        "prompt.add",
        "prompt:{prompt}",
        lambda s, ids: {"image": ("red.png", png()), "description": "A red square, looking smug"},
    ),
    Step("prompt next", "prompt.next", "prompt:{prompt}", lambda s, ids: {"prompt": ids["prompt"]}),
    Step("contest start", "contest.open", "contest:{contest}"),
    Step(
        "mod disqualify",
        "entry.disqualify",
        "entry:{entry}",
        lambda s, ids: {"entry": ids["entry"], "reason": "spam"},
    ),
    Step("contest extend", "contest.extend", "contest:{contest}", lambda s, ids: {"minutes": 5}),
    Step("contest close", "contest.advance", "contest:{contest}"),  # submissions → voting
    Step("contest close", "contest.advance", "contest:{contest}"),  # voting → closed
    Step("contest reopen", "contest.reopen", "contest:{contest}", lambda s, ids: {"minutes": 5}),
    Step("mod ban", "member.ban", "user:{bob}", lambda s, ids: {"member": s.members["bob"].id}),
    Step("mod unban", "member.unban", "user:{bob}", lambda s, ids: {"member": s.members["bob"].id}),
    Step("mod block-term", "joke.block", None, lambda s, ids: {"term": "spoiler"}),
    Step("mod unblock-term", "joke.unblock", None, lambda s, ids: {"term": "spoiler"}),
    Step("mod export", "data.export"),
    Step(
        "prompt remove",
        "prompt.remove",
        "prompt:{prompt}",
        lambda s, ids: {"prompt": ids["prompt"]},
    ),
    Step("season start", "season.start", "season:{season}", lambda s, ids: {"name": "Spring"}),
    Step("ranker weekly", "ranker.weekly", None, lambda s, ids: {"enabled": False}),
    Step("ranker rollback", "ranker.rollback"),
]


class RollbackOnlyAI:
    """Enough of ``bot.ai.CommunityAI`` for /ranker rollback (the rollback itself is storage's)."""

    def forget_adapter(self, guild_id: int) -> None:
        pass


def newest_ids(db, server: Server) -> dict[str, int]:
    """The ids the steps refer to: the server's channel, bob, and the newest row of each kind."""

    def newest(sql: str) -> int:
        return db.execute(sql, [server.guild.id]).fetchone()[0] or 0

    return {
        "channel": server.channel.id,
        "bob": server.members["bob"].id,
        "prompt": newest("SELECT max(id) FROM prompts WHERE guild_id = ?"),
        "contest": newest("SELECT max(id) FROM contests WHERE guild_id = ?"),
        "season": newest("SELECT max(id) FROM seasons WHERE guild_id = ?"),
        "entry": newest(
            "SELECT max(e.id) FROM entries e JOIN contests c ON c.id = e.contest_id"
            " WHERE c.guild_id = ?"
        ),
    }


def moderator_commands(bot: PunchlineBot) -> set[str]:
    """The qualified names of the tree's commands guarded by ``moderator_only``."""
    return {
        command.qualified_name
        for command in bot.tree.walk_commands()
        if isinstance(command, app_commands.Command)
        and any(check.__qualname__.startswith("moderator_only.") for check in command.checks)
    }


async def test_every_moderator_command_is_audited_or_read_only(tmp_path):
    async with PunchlineBot(Settings(token="unused"), store=Store(tmp_path / "unused.db")) as bot:
        for extension in EXTENSIONS:
            await bot.load_extension(extension)
        found = moderator_commands(bot)
    audited = {step.command for step in SCENARIO}
    assert len(found) > 20, "the moderator_only check is no longer recognised"
    assert found - audited - READ_ONLY == set(), "moderator commands with no audit expectation"
    assert (audited | READ_ONLY) - found == set(), "expectations for commands that are gone"
    assert audited.isdisjoint(READ_ONLY)


async def test_each_moderator_command_writes_its_audit_line(emu, server, db_path, db):
    async with punchline(emu, db_path, clock=ClockFrom(START)) as bot:
        seen = 0
        for step in SCENARIO:
            if step.command == "mod disqualify":
                await submit(emu, server, server.members["alice"], "Hip to be square")
            if step.command.startswith("ranker "):
                bot.ai = RollbackOnlyAI()
            answer = await emu.slash(
                server.guild.id,
                server.channel.id,
                server.mod.id,
                step.command,
                **step.options(server, newest_ids(db, server)),
            )
            text = answer.content or ""
            assert "went wrong" not in text, (step.command, text)
            assert "Only moderators" not in text, (step.command, text)
            lines = audit.recent_actions(db, server.guild.id, limit=100)
            new = [a for a in lines if a.id > seen]
            seen = max((a.id for a in lines), default=seen)
            by_moderator = [(a.action, a.target) for a in new if a.actor_id == server.mod.id]
            target = step.target and step.target.format(**newest_ids(db, server))
            assert by_moderator == [(step.action, target)], (step.command, text, new)
