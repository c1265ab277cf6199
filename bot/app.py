"""The Punchline client: intents, extensions, the command tree, the scheduler."""

from __future__ import annotations

import logging
import pkgutil
import sqlite3
import uuid
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


class PunchlineBot(commands.Bot):
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

    async def on_ready(self) -> None:
        """On every (re)connection that was not a RESUME: catch up and reconcile."""
        log.info("connected as %s to %d guild(s)", self.user, len(self.guilds))
        await self.engine.resume()

    async def close(self) -> None:
        """Stop scheduling, let contest steps already running finish, then disconnect."""
        if self.scheduler.running:
            self.scheduler.pause()  # no new jobs; shutting down would cancel the running ones
            await self.engine.drain()
            self.scheduler.shutdown(wait=False)
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
