"""What the contest machinery needs from the running bot, handed over as one small object.

The engine, the vote keeper, the ballot box, the results and the scheduled jobs each get a
:class:`BotContext` rather than the bot or the engine: the database, the clock, the per-guild
locks, channel and name lookups, the AI and the configuration — nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import discord

from bot.rules.schedule import Phase
from storage import audit, contests, guilds
from storage.audit import AuditEntry
from storage.shards import ShardSet

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.config import Settings
    from bot.store import Store
    from ranker import AIRanking, JokeRun, RefitResult, TasteFindings
    from storage.models import Contest, GuildSettings

log = logging.getLogger(__name__)


class CommunityModels(Protocol):
    """What the bot asks of its AI (``bot.ai.CommunityAI`` provides it)."""

    @property
    def writes_jokes(self) -> bool:
        """Whether a language model is loaded (``/joke`` and suggestions)."""
        ...

    async def rank(self, guild_id: int, description: str, captions: Sequence[str]) -> AIRanking: ...

    async def refit(self, guild_id: int) -> RefitResult: ...

    def forget_adapter(self, guild_id: int) -> None:
        """Drop the guild's cached adapter (its active version changed in the database)."""
        ...

    async def jokes(self, guild_id: int | None, scene: str, *, cartoon: bool = False) -> JokeRun:
        """Gated, ranked jokes about ``scene`` (a cartoon's description when ``cartoon``)."""
        ...

    async def taste(self, guild_id: int) -> TasteFindings | None: ...

    async def aclose(self) -> None: ...


class GuildLocks:
    """One ``asyncio.Lock`` per guild: a guild's contest steps run one at a time, guilds in
    parallel. Hold one only around storage work, never across a call to Discord."""

    def __init__(self) -> None:
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    def __call__(self, guild_id: int) -> asyncio.Lock:
        return self._locks[guild_id]

    async def drain(self, seconds: float) -> None:
        """Wait up to ``seconds`` for every guild's running step to finish."""
        try:
            async with asyncio.timeout(seconds):
                for lock in list(self._locks.values()):
                    async with lock:
                        pass
        except TimeoutError:
            log.warning("shutting down with a contest step still running; it resumes on restart")


@dataclass
class BotContext:
    """The running bot's shared services (built once by ``PunchlineBot``)."""

    client: discord.Client
    store: Store
    clock: Clock
    config: Settings
    ai: CommunityModels | None = None
    lock: GuildLocks = field(default_factory=GuildLocks)
    shards: ShardSet = field(default_factory=lambda: ShardSet.every(1))
    """The shards this process runs: it schedules their guilds' contests and jobs, no others."""

    @property
    def user_id(self) -> int:
        """The bot's own user id (known once connected)."""
        return self.client.user.id

    _settings: dict[int, GuildSettings | None] = field(default_factory=dict, repr=False)

    async def guild_settings(self, guild_id: int) -> GuildSettings | None:
        """The guild's settings, from memory after the first read (every vote needs its gates)."""
        if guild_id not in self._settings:
            self._settings[guild_id] = await self.store.call(guilds.get_settings, guild_id)
        return self._settings[guild_id]

    async def update_settings(
        self,
        entry: AuditEntry | Callable[[GuildSettings], AuditEntry | None],
        guild_id: int,
        now: datetime,
        **changes: object,
    ) -> GuildSettings:
        """Change the guild's settings and write ``entry`` in one transaction; the bot's memory
        of them follows. The one way the bot changes settings."""
        settings = await self.store.call(
            audit.audited, entry, guilds.update_settings, guild_id, now, **changes
        )
        self._settings[guild_id] = settings
        return settings

    def forget_settings(self, guild_id: int) -> None:
        """Read the guild's settings from the database again (after a change made elsewhere)."""
        self._settings.pop(guild_id, None)

    async def current_contest(self, guild_id: int) -> Contest | None:
        """The guild's latest contest while it is still running."""
        latest = await self.store.call(contests.latest_contest, guild_id)
        return latest if latest and latest.phase != Phase.CLOSED else None

    async def channel(self, channel_id: int) -> discord.abc.Messageable:
        """A channel or thread by id, from the cache or from Discord."""
        return self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)

    async def display_name(self, guild_id: int, user_id: int) -> str:
        """The member's name in the guild, else their user name, else a neutral placeholder."""
        guild = self.client.get_guild(guild_id)
        member = guild.get_member(user_id) if guild else None
        if member is not None:
            return member.display_name
        try:
            return (await self.client.fetch_user(user_id)).display_name
        except discord.HTTPException:
            return f"member {user_id}"
