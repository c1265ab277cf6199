"""The gateway: a WebSocket speaking Discord's opcodes, with sessions that can be resumed.

Each session numbers its dispatches and keeps a backlog, so a client that lost its socket can
RESUME and receive exactly the dispatches it missed. Sessions outlive their sockets until the
client closes with 1000/1001 or is told its session is invalid.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import secrets
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from . import payloads
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


class _Encoder:
    """Encodes outgoing frames as the client asked with ``compress=``.

    ``zlib-stream``: one zlib context per connection, each message ending in a sync flush.
    ``zstd-stream`` (discord.py asks for it when ``zstandard`` or Python 3.14's
    ``compression.zstd`` is importable): one zstd stream, each message a flushed block.
    Anything else is answered with plain text frames.
    """

    def __init__(self, compress: str | None) -> None:
        self._compress: Callable[[bytes], bytes] | None = None
        if compress == "zlib-stream":
            context = zlib.compressobj()
            self._compress = lambda data: context.compress(data) + context.flush(zlib.Z_SYNC_FLUSH)
        elif compress == "zstd-stream":
            self._compress = _zstd_stream()

    def encode(self, payload: dict[str, Any]) -> str | bytes:
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        if self._compress is None:
            return text
        return self._compress(text.encode())


def _zstd_stream() -> Callable[[bytes], bytes] | None:
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+
    except ImportError:
        pass
    else:
        compressor = zstd.ZstdCompressor()
        return lambda data: compressor.compress(data, zstd.ZstdCompressor.FLUSH_BLOCK)
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        return None
    stream = zstandard.ZstdCompressor().compressobj()
    return lambda data: stream.compress(data) + stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)


@dataclass(eq=False)
class _Connection:
    """One WebSocket, with a writer task so frames leave in dispatch order."""

    ws: web.WebSocketResponse
    request: web.Request
    encoder: _Encoder
    outbox: asyncio.Queue[str | bytes] = field(default_factory=asyncio.Queue)
    writer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.writer = asyncio.create_task(self._write_forever())

    def send(self, payload: dict[str, Any]) -> None:
        """Queue a frame; it is encoded now, so the stream's compression follows send order."""
        self.outbox.put_nowait(self.encoder.encode(payload))

    async def _write_forever(self) -> None:
        while True:
            frame = await self.outbox.get()
            try:
                if isinstance(frame, bytes):
                    await self.ws.send_bytes(frame)
                else:
                    await self.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                return

    def abort(self) -> None:
        """Cut the TCP connection without a close frame, like a network failure."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


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
    seq: int = 0
    backlog: deque[_Sent] = field(default_factory=lambda: deque(maxlen=_BACKLOG))
    connection: _Connection | None = None
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
    """Serves ``/gateway`` and fans dispatches out to the live sessions.

    ``history`` logs the lifecycle for tests: ``CONNECT compress=…``, ``IDENTIFY``, ``READY``,
    ``RESUME``, ``RESUMED``, ``INVALID_SESSION``, ``CLOSED <code>``.
    """

    def __init__(
        self,
        state: State,
        notifier: ChangeNotifier,
        *,
        url: Callable[[], str],
        heartbeat_interval_ms: int = 41_250,
    ) -> None:
        self._state = state
        self._notifier = notifier
        self._url = url
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: dict[str, GatewaySession] = {}
        self.history: list[str] = []
        self._connections: set[_Connection] = set()

    # -- the test-facing side ------------------------------------------------------------

    @property
    def has_session(self) -> bool:
        """Whether some session would receive dispatches (now, or on RESUME)."""
        return any(s.resumable for s in self.sessions.values())

    def dispatch(
        self, event: str, data: dict[str, Any], *, intent: int = 0, has_content: bool = False
    ) -> None:
        """Send ``event`` to every session subscribed to ``intent`` (0: always sent).

        ``has_content`` marks message payloads whose content is privileged: sessions without the
        message-content intent receive them with content, embeds, attachments and components empty.
        """
        for session in self.sessions.values():
            if not session.resumable or (intent and not session.intents & intent):
                continue
            visible = data
            if has_content and not session.intents & Intent.MESSAGE_CONTENT:
                visible = {**data, **_CONTENT_FIELDS}
            session.push(event, visible)

    def announce_guild(self, guild: Guild) -> None:
        """GUILD_CREATE for a guild the bot just joined (members only with that intent)."""
        for session in self.sessions.values():
            if session.resumable and session.intents & Intent.GUILDS:
                with_members = bool(session.intents & Intent.GUILD_MEMBERS)
                payload = payloads.guild_create_payload(
                    self._state, guild, with_members=with_members
                )
                session.push("GUILD_CREATE", payload)

    def drop(self) -> None:
        """Abort every socket; sessions stay resumable and keep collecting dispatches."""
        for connection in list(self._connections):
            connection.abort()

    def request_reconnect(self) -> None:
        """Send opcode 7 RECONNECT: the client closes and resumes."""
        for connection in list(self._connections):
            connection.send({"op": RECONNECT, "d": None})

    def invalidate_sessions(self) -> None:
        """Forget every session, so the next RESUME is answered with INVALID_SESSION."""
        for session in self.sessions.values():
            session.resumable = False

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
        connection = _Connection(ws, request, _Encoder(compress))
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
        self, session: GatewaySession | None, connection: _Connection, code: int | None
    ) -> None:
        if session is not None and session.connection is connection:
            session.connection = None
            if code in (1000, 1001):
                session.resumable = False
        self._log(f"CLOSED {code}")

    async def _receive(
        self, connection: _Connection, session: GatewaySession | None, message: dict[str, Any]
    ) -> GatewaySession | None:
        op, data = message.get("op"), message.get("d")
        if op == HEARTBEAT:
            connection.send({"op": HEARTBEAT_ACK, "d": None})
        elif op == IDENTIFY:
            if data.get("token") != self._state.token:
                await connection.ws.close(code=4004, message=b"Authentication failed.")
                return session
            session = self._identify(connection, data)
        elif op == RESUME:
            session = self._resume(connection, data)
        elif op == REQUEST_MEMBERS and session is not None:
            self._send_member_chunk(session, data)
        elif op in (PRESENCE, VOICE_STATE):
            pass
        else:
            _log.debug("ignoring gateway opcode %s", op)
        return session

    def _identify(self, connection: _Connection, data: dict[str, Any]) -> GatewaySession:
        self._log("IDENTIFY")
        self.sessions = {k: s for k, s in self.sessions.items() if s.resumable}
        session = GatewaySession(id=secrets.token_hex(16), intents=int(data.get("intents", 0)))
        session.connection = connection
        self.sessions[session.id] = session
        state = self._state
        ready: dict[str, Any] = {
            "v": 10,
            "user": {
                **payloads.user_payload(state.bot_user),
                "verified": True,
                "mfa_enabled": False,
            },
            "guilds": [{"id": str(g.id), "unavailable": True} for g in state.bot_guilds()],
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
        if "shard" in data:
            ready["shard"] = data["shard"]
        session.push("READY", ready, replayable=False)
        with_members = bool(session.intents & Intent.GUILD_MEMBERS)
        for guild in state.bot_guilds():
            payload = payloads.guild_create_payload(state, guild, with_members=with_members)
            session.push("GUILD_CREATE", payload)
        self._log("READY")
        return session

    def _resume(self, connection: _Connection, data: dict[str, Any]) -> GatewaySession | None:
        self._log("RESUME")
        session = self.sessions.get(str(data.get("session_id")))
        missed = None
        if session is not None and session.resumable and data.get("token") == self._state.token:
            missed = session.missed_since(int(data.get("seq") or 0))
        if session is None or missed is None:
            if session is not None:
                session.resumable = False
            connection.send({"op": INVALID_SESSION, "d": False})
            self._log("INVALID_SESSION")
            return None
        if session.connection is not None:
            session.connection.abort()
        session.connection = connection
        for sent in missed:
            connection.send({"op": DISPATCH, "t": sent.event, "s": sent.seq, "d": sent.data})
        session.push("RESUMED", {}, replayable=False)
        self._log("RESUMED")
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

    def _log(self, entry: str) -> None:
        self.history.append(entry)
        self._notifier.notify()
