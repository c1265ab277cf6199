"""The gateway: a WebSocket speaking Discord's opcodes, with sessions that can be resumed.

Each session numbers its dispatches and keeps a backlog, so a client that lost its socket can
RESUME and receive exactly the dispatches it missed. Sessions outlive their sockets until the
client closes with 1000/1001 or is told its session is invalid. Sessions may be shards
(:mod:`.gateway_shards`): each receives its own guilds' events and is dropped, invalidated or
resumed on its own.
"""

from __future__ import annotations

import enum
import json
import logging
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from . import payloads
from .clock import EmulatorClock
from .gateway_shards import (
    GUILD_LIMIT,
    INVALID_SHARD,
    SHARDING_REQUIRED,
    IdentifyLimiter,
    ShardSpec,
    recommended_shards,
)
from .gateway_socket import Connection, FrameEncoder
from .rules import Rules
from .state import Guild, State
from .waiting import ChangeNotifier

_log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE = 0, 1, 2, 3, 4
RESUME, RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11


class Intent(enum.IntFlag):
    """The gateway intents that decide which dispatches a session receives."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    MESSAGE_CONTENT = 1 << 15


_BACKLOG = 1000
_CONTENT_FIELDS = {"content": "", "embeds": [], "attachments": [], "components": []}


@dataclass(frozen=True)
class _Sent:
    seq: int
    event: str
    data: dict[str, Any]
    replayable: bool


@dataclass
class GatewaySession:
    """A logged-in gateway session; ``backlog`` holds its recent dispatches for RESUME."""

    id: str
    intents: int
    shard: ShardSpec = field(default_factory=ShardSpec)
    seq: int = 0
    backlog: deque[_Sent] = field(default_factory=lambda: deque(maxlen=_BACKLOG))
    connection: Connection | None = None
    resumable: bool = True

    def push(self, event: str, data: dict[str, Any], *, replayable: bool = True) -> None:
        """Number and send a dispatch (or keep it for RESUME while no socket is attached)."""
        self.seq += 1
        self.backlog.append(_Sent(self.seq, event, data, replayable))
        if self.connection is not None:
            self.connection.send({"op": DISPATCH, "t": event, "s": self.seq, "d": data})

    def missed_since(self, seq: int) -> list[_Sent] | None:
        """Replayable dispatches after ``seq``; None when the backlog no longer reaches back."""
        if seq > self.seq or (
            seq < self.seq and (not self.backlog or self.backlog[0].seq > seq + 1)
        ):
            return None
        return [sent for sent in self.backlog if sent.seq > seq and sent.replayable]


class GatewayServer:
    """Serves ``/gateway`` and fans dispatches out to the live sessions, each to its shard's.

    ``history`` logs the lifecycle for tests: ``CONNECT compress=…``, ``IDENTIFY``, ``READY``,
    ``RESUME``, ``RESUMED``, ``INVALID_SESSION``, ``CLOSED <code>``; ``shard_history`` the same
    entries with the shard they concern (None before a session is known).
    """

    def __init__(
        self,
        state: State,
        notifier: ChangeNotifier,
        *,
        url: Callable[[], str],
        clock: EmulatorClock,
        rules: Callable[[], Rules],
        heartbeat_interval_ms: int = 41_250,
        guild_limit: int = GUILD_LIMIT,
        max_concurrency: int = 1,
    ) -> None:
        self._state = state
        self._notifier = notifier
        self._url = url
        self._rules = rules
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.guild_limit = guild_limit
        """Guilds one session may hold before it is closed with 4011 (Discord: 2,500)."""
        self.recommended_shards: int | None = None
        """What ``GET /gateway/bot`` recommends; None: one shard per 1,000 guilds, as Discord."""
        self.identifies = IdentifyLimiter(clock, max_concurrency)
        self.sessions: dict[str, GatewaySession] = {}
        self.history: list[str] = []
        self.shard_history: list[tuple[int | None, str]] = []
        self._connections: set[Connection] = set()

    # -- the test-facing side ------------------------------------------------------------

    @property
    def has_session(self) -> bool:
        """Whether some session would receive dispatches (now, or on RESUME)."""
        return any(s.resumable for s in self.sessions.values())

    def bot_gateway(self) -> dict[str, Any]:
        """The body of ``GET /gateway/bot``: the URL, the recommended shard count and the
        session start limit with ``max_concurrency``."""
        shards = self.recommended_shards or recommended_shards(len(self._state.bot_guilds()))
        return {
            "url": self._url(),
            "shards": shards,
            "session_start_limit": self.identifies.session_start_limit(),
        }

    def dispatch(
        self,
        event: str,
        data: dict[str, Any],
        *,
        intent: int = 0,
        has_content: bool = False,
        guild_id: int | None = None,
    ) -> None:
        """Send ``event`` to every session subscribed to ``intent`` (0: always sent) whose shard
        routes its guild (``guild_id``, else the payload's ``guild_id``; none: shard 0).

        ``has_content`` marks message payloads whose content is privileged: sessions without the
        message-content intent receive them with content, embeds, attachments and components empty.
        """
        if guild_id is None and data.get("guild_id") is not None:
            guild_id = int(data["guild_id"])
        for session in self.sessions.values():
            if not session.resumable or (intent and not session.intents & intent):
                continue
            if not session.shard.routes(guild_id):
                continue
            visible = data
            if has_content and not session.intents & Intent.MESSAGE_CONTENT:
                visible = {**data, **_CONTENT_FIELDS}
            session.push(event, visible)

    def announce_guild(self, guild: Guild) -> None:
        """GUILD_CREATE for a guild the bot just joined, on its shard (members only with that
        intent)."""
        for session in self.sessions.values():
            if (
                session.resumable
                and session.intents & Intent.GUILDS
                and session.shard.routes(guild.id)
            ):
                with_members = bool(session.intents & Intent.GUILD_MEMBERS)
                payload = payloads.guild_create_payload(
                    self._state, guild, with_members=with_members
                )
                session.push("GUILD_CREATE", payload)

    def drop(self, shard: int | None = None) -> None:
        """Abort the sockets (of ``shard``'s sessions only, when given); sessions stay
        resumable and keep collecting dispatches."""
        for connection in self._shard_connections(shard):
            connection.abort()

    def request_reconnect(self, shard: int | None = None) -> None:
        """Send opcode 7 RECONNECT (to ``shard``'s sessions only, when given): the client
        closes and resumes."""
        for connection in self._shard_connections(shard):
            connection.send({"op": RECONNECT, "d": None})

    def invalidate_sessions(self, shard: int | None = None) -> None:
        """Forget every session (of ``shard`` only, when given): it receives nothing more, and
        its next RESUME is answered with INVALID_SESSION."""
        for session in self.sessions.values():
            if shard is None or session.shard.id == shard:
                session.resumable = False

    def _shard_connections(self, shard: int | None) -> list[Connection]:
        if shard is None:
            return list(self._connections)
        return [
            s.connection
            for s in self.sessions.values()
            if s.connection is not None and s.shard.id == shard
        ]

    async def close(self) -> None:
        for connection in list(self._connections):
            await connection.ws.close(code=WSCloseCode.GOING_AWAY)

    # -- the socket side -----------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The aiohttp handler for ``GET /gateway`` (the WebSocket upgrade)."""
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        if request.query.get("encoding", "json") != "json":
            await ws.close(code=4002, message=b"Decode error")
            return ws
        compress = request.query.get("compress")
        self._log(f"CONNECT compress={compress}")
        connection = Connection(ws, request, FrameEncoder(compress))
        connection.start()
        self._connections.add(connection)
        connection.send({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        session: GatewaySession | None = None
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                try:
                    payload = json.loads(message.data)
                except json.JSONDecodeError:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                session = await self._receive(connection, session, payload)
        finally:
            self._connections.discard(connection)
            if connection.writer is not None:
                connection.writer.cancel()
            self._detach(session, connection, ws.close_code)
        return ws

    def _detach(
        self, session: GatewaySession | None, connection: Connection, code: int | None
    ) -> None:
        if session is not None and session.connection is connection:
            session.connection = None
            if code in (1000, 1001):
                session.resumable = False
        self._log(f"CLOSED {code}", session and session.shard)

    async def _receive(
        self, connection: Connection, session: GatewaySession | None, message: dict[str, Any]
    ) -> GatewaySession | None:
        op, data = message.get("op"), message.get("d")
        if op == HEARTBEAT:
            connection.send({"op": HEARTBEAT_ACK, "d": None})
        elif op == IDENTIFY:
            if data.get("token") != self._state.token:
                await connection.ws.close(code=4004, message=b"Authentication failed.")
                return session
            session = await self._identify(connection, data)
        elif op == RESUME:
            session = self._resume(connection, data)
        elif op == REQUEST_MEMBERS and session is not None:
            self._send_member_chunk(session, data)
        elif op in (PRESENCE, VOICE_STATE):
            pass
        else:
            _log.debug("ignoring gateway opcode %s", op)
        return session

    async def _identify(
        self, connection: Connection, data: dict[str, Any]
    ) -> GatewaySession | None:
        shard = ShardSpec.from_identify(data.get("shard"))
        self._log("IDENTIFY", shard)
        if shard is None:
            await connection.ws.close(code=INVALID_SHARD, message=b"Invalid shard.")
            return None
        guilds = [g for g in self._state.bot_guilds() if shard.routes(g.id)]
        if len(guilds) > self.guild_limit:
            await connection.ws.close(code=SHARDING_REQUIRED, message=b"Sharding required.")
            return None
        if self._rules().identify_concurrency and not self.identifies.admit(shard):
            connection.send({"op": INVALID_SESSION, "d": False})  # max_concurrency exceeded
            self._log("INVALID_SESSION", shard)
            return None
        self.sessions = {k: s for k, s in self.sessions.items() if s.resumable}
        session = GatewaySession(
            id=secrets.token_hex(16), intents=int(data.get("intents", 0)), shard=shard
        )
        session.connection = connection
        self.sessions[session.id] = session
        session.push("READY", self._ready_payload(session, guilds, sharded="shard" in data))
        with_members = bool(session.intents & Intent.GUILD_MEMBERS)
        for guild in guilds:
            payload = payloads.guild_create_payload(self._state, guild, with_members=with_members)
            session.push("GUILD_CREATE", payload)
        self._log("READY", shard)
        return session

    def _ready_payload(
        self, session: GatewaySession, guilds: list[Guild], *, sharded: bool
    ) -> dict[str, Any]:
        state = self._state
        ready: dict[str, Any] = {
            "v": 10,
            "user": {
                **payloads.user_payload(state.bot_user),
                "verified": True,
                "mfa_enabled": False,
            },
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self._url(),
            "application": {"id": str(state.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
        }
        if sharded:
            ready["shard"] = session.shard.as_list()
        return ready

    def _resume(self, connection: Connection, data: dict[str, Any]) -> GatewaySession | None:
        session = self.sessions.get(str(data.get("session_id")))
        shard = session.shard if session is not None else None
        self._log("RESUME", shard)
        missed = None
        if session is not None and session.resumable and data.get("token") == self._state.token:
            missed = session.missed_since(int(data.get("seq") or 0))
        if session is None or missed is None:
            if session is not None:
                session.resumable = False
            connection.send({"op": INVALID_SESSION, "d": False})
            self._log("INVALID_SESSION", shard)
            return None
        if session.connection is not None:
            session.connection.abort()
        session.connection = connection
        for sent in missed:
            connection.send({"op": DISPATCH, "t": sent.event, "s": sent.seq, "d": sent.data})
        session.push("RESUMED", {}, replayable=False)
        self._log("RESUMED", shard)
        return session

    def _send_member_chunk(self, session: GatewaySession, data: dict[str, Any]) -> None:
        guild = self._state.guilds.get(int(data["guild_id"]))
        if guild is None:
            return
        query = str(data.get("query") or "").lower()
        wanted = {int(u) for u in data.get("user_ids") or []}
        limit = int(data.get("limit") or 0) or len(guild.members)
        members = [
            m
            for m in guild.members.values()
            if (not wanted or m.user_id in wanted)
            and self._state.users[m.user_id].username.lower().startswith(query)
        ][:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [payloads.member_payload(self._state, m) for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(u) for u in wanted - {m.user_id for m in members}],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        session.push("GUILD_MEMBERS_CHUNK", chunk, replayable=False)

    def _log(self, entry: str, shard: ShardSpec | None = None) -> None:
        self.history.append(entry)
        self.shard_history.append((shard.id if shard is not None else None, entry))
        self._notifier.notify()
