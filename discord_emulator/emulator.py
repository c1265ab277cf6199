"""The test-facing emulator: start it, build a world, let users act, inspect what the bot did."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self, TypeVar

import discord.gateway
import discord.http
import yarl

from .clock import EmulatorClock
from .commands import CommandRegistry
from .faults import FaultInjector
from .gateway import GatewayServer
from .gateway_shards import GUILD_LIMIT
from .interactions import InteractionHub
from .ratelimits import RateLimiter
from .routes_channels import ChannelRoutes
from .routes_guilds import GuildRoutes
from .routes_interactions import InteractionRoutes
from .rules import Rules
from .server import API_PREFIX, Exchange, HttpServer, RequestRecord
from .service import DiscordService
from .state import Channel, Message, State, User
from .users import UserActions
from .waiting import ChangeNotifier
from .world import WorldBuilder, as_id

DEFAULT_TIMEOUT = 5.0
T = TypeVar("T")


class DiscordEmulator(WorldBuilder, UserActions):
    """A Discord (REST API v10 + gateway) on loopback for one bot application.

    ``await start()`` binds ``127.0.0.1``; ``configure_discord_py()`` points discord.py at it.
    State lives in memory and outlives bot clients, so a restarted bot sees the same world.

    ``rules`` says which of Discord's rules are enforced: all of them unless a test says
    otherwise, here or for a whole suite through :attr:`default_rules`; it can be changed at
    any time through :attr:`rules`. ``record_exchanges`` keeps
    every REST request and answer in :attr:`exchanges` for :mod:`.conformance`.

    The gateway shards as Discord does (:mod:`.gateway_shards`): ``guild_limit`` guilds a
    session may hold before 4011 (Discord's 2,500), ``max_concurrency`` identifies per 5 s.
    """

    default_rules: Rules = Rules()
    """The rules of an emulator built without ``rules=`` (a suite's fixture may set it)."""

    def __init__(
        self,
        token: str = "test-token",
        *,
        bot_name: str = "Punchline",
        heartbeat_interval_ms: int = 41_250,
        timeout: float = DEFAULT_TIMEOUT,
        state: State | None = None,
        rules: Rules | None = None,
        record_exchanges: bool = False,
        guild_limit: int = GUILD_LIMIT,
        max_concurrency: int = 1,
    ) -> None:
        if state is None:
            state = _fresh_state(token, bot_name)
        self.state = state
        self.rules = self.default_rules if rules is None else rules
        self.clock = EmulatorClock()
        self.notifier = ChangeNotifier(timeout)
        self.faults = FaultInjector()
        self.rate_limiter = RateLimiter(self.clock)
        self.gateway = GatewayServer(
            state,
            self.notifier,
            url=lambda: self.gateway_url,
            clock=self.clock,
            rules=lambda: self.rules,
            heartbeat_interval_ms=heartbeat_interval_ms,
            guild_limit=guild_limit,
            max_concurrency=max_concurrency,
        )
        self._service = DiscordService(
            state,
            self.gateway,
            self.notifier,
            lambda: self.base_url,
            clock=self.clock,
            rules=lambda: self.rules,
        )
        self.interactions = InteractionHub(self._service)
        self._commands = CommandRegistry(state, lambda: self.rules.command_rules)
        routes = [
            *ChannelRoutes(self._service).table(),
            *GuildRoutes(state, self.gateway.bot_gateway).table(),
            *InteractionRoutes(state, self._commands, self.interactions).table(),
        ]
        self._http = HttpServer(
            state,
            self.gateway,
            self.faults,
            routes,
            rules=lambda: self.rules,
            limiter=self.rate_limiter,
            before_request=self._service.threads.expire_idle,
        )
        if record_exchanges:
            self._http.record_exchanges()
        self._saved_discord_py: tuple[Any, Any] | None = None

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Self:
        """An emulator restored from :meth:`save`'s file."""
        state = State.from_snapshot(Path(path).read_bytes())
        return cls(state.token, state=state, **options)

    def save(self, path: str | Path) -> None:
        """Write the whole world (guilds, messages, reactions, commands) to ``path``."""
        Path(path).write_bytes(self.state.to_snapshot())

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        """Serve on ``127.0.0.1:port``; 0 picks a free port."""
        await self._http.start(port)

    async def stop(self) -> None:
        """Close gateway sockets and the server; undo :meth:`configure_discord_py`."""
        await self._http.stop()
        if self._saved_discord_py is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = (
                self._saved_discord_py
            )
            self._saved_discord_py = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def timeout(self) -> float:
        """Seconds any wait in the test API allows before ``TimeoutError`` (settable)."""
        return self.notifier.timeout

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        self.notifier.timeout = seconds

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def base_url(self) -> str:
        return self._http.base_url

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._http.port}/gateway"

    @property
    def bot_user(self) -> User:
        return self.state.bot_user

    @property
    def application_id(self) -> int:
        return self.state.application_id

    @property
    def request_log(self) -> list[RequestRecord]:
        """Every REST request so far: ``(method, path, status)``."""
        return self._http.request_log

    @property
    def exchanges(self) -> list[Exchange]:
        """Every REST request with its body and answer (``record_exchanges=True`` only)."""
        if self._http.exchanges is None:
            raise RuntimeError("build the emulator with record_exchanges=True to keep exchanges")
        return self._http.exchanges

    @property
    def first_answer_times(self) -> list[float]:
        """Seconds from each interaction to the bot's first answer to it, oldest first
        (late answers included: compare with ``rules.INITIAL_RESPONSE_DEADLINE_S``)."""
        return self.interactions.first_answer_times

    def advance_time(self, by: float | dt.timedelta) -> None:
        """Move the emulator's clock forward: interaction tokens age, rate-limit windows
        reset, idle threads archive (the bot gets THREAD_UPDATE)."""
        self.clock.advance(by)
        self._service.threads.expire_idle()
        self.notifier.notify()

    def configure_discord_py(self) -> None:
        """Point discord.py's REST base and default gateway URL at this emulator.

        A plain ``discord.Client`` never asks ``GET /gateway/bot``: it connects to
        ``DiscordWebSocket.DEFAULT_GATEWAY`` (and returns there after INVALID_SESSION), so both
        class attributes are set. :meth:`stop` restores them.
        """
        if self._saved_discord_py is None:
            self._saved_discord_py = (
                discord.http.Route.BASE,
                discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
            )
        discord.http.Route.BASE = self.api_url
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    # -- inspection ------------------------------------------------------------------------

    def messages(self, channel_id: Any, *, include_ephemeral: bool = False) -> list[Message]:
        """A channel's messages, oldest first (ephemeral ones only on request)."""
        channel = as_id(channel_id)
        if not include_ephemeral:
            return self.state.visible_messages(channel)
        found = [m for m in self.state.messages.values() if m.channel_id == channel]
        return sorted((m for m in found if not m.deleted), key=lambda m: m.id)

    def message(self, message_id: Any) -> Message:
        """Any stored message by id, ephemeral ones included."""
        message = self.state.messages.get(as_id(message_id))
        if message is None or message.deleted:
            raise KeyError(f"no message {as_id(message_id)}")
        return message

    def dm_channel(self, user_id: Any) -> Channel | None:
        """The DM channel the bot opened with ``user_id`` (None until it did)."""
        return self.state.dm_channel(as_id(user_id))

    def direct_messages(self, user_id: Any) -> list[Message]:
        """What the bot sent ``user_id`` in DMs, oldest first."""
        channel = self.dm_channel(user_id)
        return [] if channel is None else self.state.visible_messages(channel.id)

    def commands(self, guild_id: Any = None) -> list[dict[str, Any]]:
        """Application commands the bot registered globally (or for ``guild_id``)."""
        return self._commands.in_scope(None if guild_id is None else as_id(guild_id))

    async def wait_until(self, check: Callable[[], T | None], what: str = "a condition") -> T:
        """Wait until ``check()`` returns something truthy (re-checked on every change).

        Every wait in the test API gives up after :attr:`timeout` seconds with ``TimeoutError``.
        """
        return await self.notifier.wait_for(check, what)

    async def wait_for_message(
        self,
        channel_id: Any,
        predicate: Callable[[Message], bool] | None = None,
        *,
        include_existing: bool = False,
    ) -> Message:
        """The first message posted in a channel after this call that satisfies ``predicate``."""
        channel = as_id(channel_id)
        seen = {m.id for m in self.messages(channel)} if not include_existing else set()

        def check() -> Message | None:
            for message in self.messages(channel):
                if message.id not in seen and (predicate is None or predicate(message)):
                    return message
            return None

        return await self.wait_until(check, f"a message in channel {channel}")

    async def wait_for_gateway(
        self, entry: str, *, count: int = 1, shard: int | None = None
    ) -> None:
        """Wait until the gateway logged ``entry`` (``"READY"``, ``"RESUMED"``…) ``count`` times
        (for shard ``shard``, when given)."""
        logged = self.gateway.shard_history

        def check() -> bool:
            return sum(1 for s, e in logged if e == entry and shard in (None, s)) >= count

        where = "" if shard is None else f" on shard {shard}"
        await self.wait_until(check, f"{count}x gateway {entry}{where}")

    # -- connection faults ---------------------------------------------------------------

    def drop_gateway(self, shard: int | None = None) -> None:
        """Cut gateway sockets abruptly (``shard``'s only, when given); discord.py reconnects,
        RESUMEs and gets the gap replayed."""
        self.gateway.drop(shard)

    def request_reconnect(self, shard: int | None = None) -> None:
        """Send RECONNECT (opcode 7), as Discord does before moving a session (to ``shard``'s
        sessions only, when given)."""
        self.gateway.request_reconnect(shard)

    def invalidate_sessions(self, shard: int | None = None) -> None:
        """Make sessions unresumable (``shard``'s only, when given): they receive nothing more,
        and the next RESUME gets INVALID_SESSION and a fresh IDENTIFY."""
        self.gateway.invalidate_sessions(shard)


def _fresh_state(token: str, bot_name: str) -> State:
    state = State(token=token, bot_user_id=0, application_id=0)
    bot = User(state.ids.now(), bot_name, bot=True)
    state.users[bot.id] = bot
    state.bot_user_id = state.application_id = bot.id
    return state
