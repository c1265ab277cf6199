"""One gateway WebSocket: frames encoded as the client asked, written in dispatch order."""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


class FrameEncoder:
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
            self._compress = zstd_stream()

    def encode(self, payload: dict[str, Any]) -> str | bytes:
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        if self._compress is None:
            return text
        return self._compress(text.encode())


def zstd_stream() -> Callable[[bytes], bytes] | None:
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
class Connection:
    """One WebSocket, with a writer task so frames leave in dispatch order."""

    ws: web.WebSocketResponse
    request: web.Request
    encoder: FrameEncoder
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
