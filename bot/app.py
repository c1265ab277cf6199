"""The Punchline client: intents, extensions, the command tree, the scheduler, the shards."""

from __future__ import annotations

import asyncio
import gc
import logging
import pkgutil
import sqlite3
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import aiohttp
import discord
import yarl
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord import app_commands
from discord.ext import commands

from bot import cogs
from bot.acknowledge import acknowledge_first
from bot.ballots import BALLOT_BUTTONS
from bot.checks import NotModerator
from bot.clock import Clock
from bot.config import ConfigError, Settings
from bot.context import BotContext, CommunityModels
from bot.engine import ContestEngine
from bot.images import ImageRejected
from bot.maintenance import arm_maintenance
from bot.rules.captions import CaptionRejected
from bot.rules.schedule import ScheduleError
from bot.shards import IdentifyPacer, ShardHealth, ShardLeases
from bot.store import Store
from bot.sync_errors import sync_refusal
from storage.db import StorageBusy, StorageFull, translate_error

log = logging.getLogger(__name__)


def cog_extensions() -> tuple[str, ...]:
    """Every module of the ``bot.cogs`` package, as an extension name: a new cog needs no list."""
    return tuple(
        sorted(module.name for module in pkgutil.iter_modules(cogs.__path__, f"{cogs.__name__}."))
    )


EXTENSIONS = cog_extensions()


def intents() -> discord.Intents:
    """Only what the bot uses: guilds (channels, threads) and reactions. No privileged intents."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.guild_reactions = True
    return chosen


class PunchlineBot(commands.AutoShardedBot):
    """The bot, sharded: this process runs the shards its settings name (else every shard
    Discord recommends), catches each one up when it connects, and schedules only their guilds."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store,
        ai: CommunityModels | None = None,
        clock: Clock | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.store = store
        self.clock = clock or Clock()
        self.context = BotContext(self, store, self.clock, settings, ai)
        self.scheduler = AsyncIOScheduler(timezone="UTC", job_defaults={"coalesce": True})
        self.engine = ContestEngine(self.context, self.scheduler)
        self.leases: ShardLeases | None = None
        self.identify_pacer = IdentifyPacer()
        self.shard_health: defaultdict[int, ShardHealth] = defaultdict(ShardHealth)
        self._catch_up_turns: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._catching_up: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self.started_up = False
        """Whether every shard of this process has caught up once since start."""
        skip_reactions_off_entries(self._connection, self.engine.votes.watches)
        self.tree.on_error = self.on_app_command_error
        self.tree.interaction_check = acknowledge_first  # answer within 3 s, then work

    @property
    def settings(self) -> Settings:
        """The configuration (the context's: one copy for the bot and every helper)."""
        return self.context.config

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self.context.config = settings

    @property
    def ai(self) -> CommunityModels | None:
        """The AI, or None when contests run without one."""
        return self.context.ai

    @ai.setter
    def ai(self, ai: CommunityModels | None) -> None:
        self.context.ai = ai

    async def setup_hook(self) -> None:
        await self.plan_shards()  # a process refused its shards stops here
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.add_dynamic_items(*BALLOT_BUTTONS)  # ballot buttons keep working across restarts
        guild = discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        try:
            await self.tree.sync(guild=guild)
        except app_commands.CommandSyncFailure as refused:
            sent = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
            rejected = sync_refusal(refused, sent)
            log.error("%s", rejected)
            raise rejected from None
        arm_maintenance(self.scheduler, self.context)
        self.scheduler.start()

    async def plan_shards(self) -> None:
        """Choose this process's shards (configured, else every shard Discord recommends),
        lease them (or raise :class:`ConfigError`), and identify at Discord's pace."""
        recommended, _, limits = await self.http.get_bot_gateway()
        shards = self.settings.shards(recommended)
        self.identify_pacer = IdentifyPacer(limits["max_concurrency"])
        self.leases = ShardLeases(
            self.store, shards, on_lost=lambda: asyncio.ensure_future(self.close())
        )
        await self.leases.claim()
        self.context.shards = shards
        self.shard_count, self.shard_ids = shards.count, sorted(shards.ids)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        await self.identify_pacer.wait_turn(shard_id or 0)

    async def on_ready(self) -> None:
        log.info(
            "connected as %s: %s, %d guild(s)",
            self.user,
            self.context.shards.describe(),
            len(self.guilds),
        )

    async def on_shard_ready(self, shard_id: int) -> None:
        """A shard has a fresh session (its first, or after Discord invalidated the last one):
        whatever its guilds did meanwhile was never sent, so catch up and reconcile them."""
        await self.catch_up(shard_id, "ready")

    async def on_shard_resumed(self, shard_id: int) -> None:
        """A shard resumed its session: Discord replayed what it missed, but a contest step due
        while it was away is armed again and the reactions of its voting contests re-read."""
        await self.catch_up(shard_id, "resumed")

    async def catch_up(self, shard_id: int, reason: str) -> None:
        """Rebuild the jobs of the shard's guilds and finish what was interrupted, one catch-up
        of a shard at a time; other shards carry on meanwhile."""
        if self._stopping:
            return
        task = asyncio.current_task()
        self._catching_up.add(task)
        try:
            await self._catch_up(shard_id, reason)
        finally:
            self._catching_up.discard(task)

    async def _catch_up(self, shard_id: int, reason: str) -> None:
        async with self._catch_up_turns[shard_id]:
            started = time.perf_counter()
            await self.engine.resume(self.context.shards.only({shard_id}))
            health = self.shard_health[shard_id]
            health.catch_ups += 1
            health.last_reason, health.last_at = reason, discord.utils.utcnow()
            health.last_seconds = time.perf_counter() - started
            log.info("shard %d (%s): caught up in %.1f s", shard_id, reason, health.last_seconds)
        if not self.started_up and all(self.shard_health[s].catch_ups for s in self.shard_ids):
            self.started_up = True
            keep_start_up_heap()

    async def close(self) -> None:
        """Stop scheduling, let contest steps already running finish, free the shards for a
        successor, then disconnect. A catch-up still running is stopped: its steps resume at
        the next start."""
        self._stopping = True
        for task in list(self._catching_up):
            task.cancel()
        await asyncio.gather(*self._catching_up, return_exceptions=True)
        if self.scheduler.running:
            self.scheduler.pause()  # no new jobs; shutting down would cancel the running ones
            await self.engine.drain()
            self.scheduler.shutdown(wait=False)
        if self.leases is not None:
            await self.leases.release()
        await super().close()

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Expected refusals are explained; anything else gets an apology with a reference."""
        original = getattr(error, "original", error)
        if isinstance(
            original,
            CaptionRejected
            | ScheduleError
            | ImageRejected
            | NotModerator
            | app_commands.NoPrivateMessage,
        ):
            message = str(original)
        elif isinstance(error, app_commands.CommandOnCooldown):
            message = f"Slow down a little: try again in {error.retry_after:.0f} s."
        elif isinstance(error, app_commands.CheckFailure):
            message = "You can't use this command here."
        elif isinstance(original, StorageBusy | StorageFull):
            log.error(
                "command %s: database %s",
                interaction.command and interaction.command.qualified_name,
                original,
            )
            message = (
                f"{storage_trouble(original)} Nothing was changed. Please try again in a moment."
            )
        else:
            reference = uuid.uuid4().hex[:8]
            log.error(
                "command %s failed (ref %s)",
                interaction.command and interaction.command.qualified_name,
                reference,
                exc_info=original,
            )
            message = f"Sorry, something went wrong on my side (reference `{reference}`). Please try again."
        await reply(interaction, message)


def keep_start_up_heap() -> None:
    """Once every shard has caught up: what start-up built (discord.py's caches of every guild,
    the scheduled jobs) stays for the process's life, so the garbage collector's full passes,
    which would scan it all and pause the event loop for a tenth of a second and more on a big
    bot, leave it out from now on (``gc.freeze``). Its garbage is collected first."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    log.info(
        "start-up heap kept out of the collector (%d objects; %.0f ms)",
        gc.get_freeze_count(),
        (time.perf_counter() - started) * 1000,
    )


def skip_reactions_off_entries(
    connection: discord.state.ConnectionState, watched: Callable[[int], bool]
) -> None:
    """Drop reaction dispatches on messages that are not live entries before discord.py builds
    anything for them (an event, a member, an emoji, a task per listener).

    Most of a big bot's 😂 are on ordinary messages; this makes each cost one dict lookup. The
    gateway hands every dispatch to ``connection.parsers[event](data)``; only adds and removes
    are filtered (clears are rare and already cheap).
    """
    for event in ("MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE"):
        parse = connection.parsers[event]

        def parse_if_watched(data: dict[str, Any], parse: Callable[..., None] = parse) -> None:
            if watched(int(data["message_id"])):
                parse(data)

        connection.parsers[event] = parse_if_watched


def storage_trouble(error: sqlite3.OperationalError) -> str | None:
    """A member-facing sentence for a busy or full database (told by its error code), else None."""
    error = translate_error(error)
    if isinstance(error, StorageBusy):
        return "I'm too busy to save that right now."
    if isinstance(error, StorageFull):
        return "I couldn't save that: my storage is full (the moderators can see why in the logs)."
    return None


async def reply(interaction: discord.Interaction, content: str, **kwargs: Any) -> None:
    """Answer ephemerally, whether or not the interaction was already answered or deferred."""
    kwargs.setdefault("allowed_mentions", discord.AllowedMentions.none())
    if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
        await interaction.edit_original_response(content=content, **kwargs)  # fills in "thinking…"
        return
    kwargs.setdefault("ephemeral", True)
    if interaction.response.is_done():
        await interaction.followup.send(content, **kwargs)
    else:
        await interaction.response.send_message(content, **kwargs)


async def use_discord_api(base_url: str, token: str) -> None:
    """Talk to the Discord-compatible API at ``base_url`` instead of Discord (``PUNCHLINE_DISCORD_API``).

    For local emulators and tests. REST goes to ``{base_url}/api/v10``; the gateway is the one
    that API names at ``GET /gateway/bot``, because a plain ``discord.Client`` otherwise opens its
    socket straight to Discord's gateway. Raises :class:`ConfigError` when nothing answers there.
    """
    api = base_url.rstrip("/") + "/api/v10"
    try:
        async with (
            aiohttp.ClientSession(headers={"Authorization": f"Bot {token}"}) as session,
            session.get(f"{api}/gateway/bot") as response,
        ):
            response.raise_for_status()
            gateway = (await response.json())["url"]
    except (aiohttp.ClientError, KeyError, ValueError) as problem:
        raise ConfigError(
            f"PUNCHLINE_DISCORD_API: no Discord-compatible API answered at {api} ({problem})"
        ) from None
    discord.http.Route.BASE = api
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
