"""The wire protocol seen without discord.py: compression, opcodes, REST error bodies."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from discord_emulator import DiscordEmulator

from .conftest import World


def zlib_stream() -> Callable[[bytes], str]:
    context = zlib.decompressobj()
    return lambda frame: context.decompress(frame).decode()


def zstd_stream() -> Callable[[bytes], str]:
    zstandard = pytest.importorskip("zstandard")
    context = zstandard.ZstdDecompressor().decompressobj()
    return lambda frame: context.decompress(frame).decode()


async def receive(ws: aiohttp.ClientWebSocketResponse, decode: Callable[[bytes], str]) -> Any:
    message = await ws.receive(timeout=2)
    assert message.type is aiohttp.WSMsgType.BINARY
    return json.loads(decode(message.data))


@pytest.mark.parametrize(
    ("compress", "decoder"), [("zlib-stream", zlib_stream), ("zstd-stream", zstd_stream)]
)
async def test_gateway_handshake_over_a_compressed_stream(
    emu: DiscordEmulator, world: World, compress: str, decoder: Callable[[], Callable[[bytes], str]]
) -> None:
    decode = decoder()
    url = f"{emu.gateway_url}?v=10&encoding=json&compress={compress}"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        hello = await receive(ws, decode)
        assert hello == {"op": 10, "d": {"heartbeat_interval": 41_250}}

        await ws.send_json({"op": 1, "d": None})
        assert await receive(ws, decode) == {"op": 11, "d": None}

        await ws.send_json({"op": 2, "d": {"token": "test-token", "intents": 1, "properties": {}}})
        ready = await receive(ws, decode)
        assert (ready["op"], ready["t"], ready["s"]) == (0, "READY", 1)
        assert ready["d"]["resume_gateway_url"] == emu.gateway_url
        guild_create = await receive(ws, decode)
        assert guild_create["t"] == "GUILD_CREATE"
        assert [m["user"]["id"] for m in guild_create["d"]["members"]] == [str(emu.bot_user.id)]
        assert guild_create["d"]["member_count"] == 4


async def test_identify_with_a_wrong_token_closes_4004(emu: DiscordEmulator) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(emu.gateway_url) as ws:
        await ws.receive_json()
        await ws.send_json({"op": 2, "d": {"token": "nope", "intents": 0, "properties": {}}})
        message = await ws.receive(timeout=2)
        assert message.type is aiohttp.WSMsgType.CLOSE
        assert ws.close_code == 4004


async def test_resume_with_an_unknown_session_is_invalid(emu: DiscordEmulator) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(emu.gateway_url) as ws:
        await ws.receive_json()
        await ws.send_json({"op": 6, "d": {"token": "test-token", "session_id": "x", "seq": 3}})
        assert await ws.receive_json() == {"op": 9, "d": False}


async def test_rest_errors_have_discords_shape(emu: DiscordEmulator, world: World) -> None:
    headers = {"Authorization": "Bot test-token"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(f"{emu.api_url}/channels/1/messages/2") as response:
            assert response.status == 404
            assert response.headers["Content-Type"] == "application/json"
            assert await response.json() == {"message": "Unknown Channel", "code": 10003}
        async with session.get(f"{emu.api_url}/no/such/route") as response:
            assert response.status == 404
            assert (await response.json())["code"] == 0
        payload = {"content": "x" * 2001}
        async with session.post(
            f"{emu.api_url}/channels/{world.channel.id}/messages", json=payload
        ) as response:
            body = await response.json()
            assert (response.status, body["code"]) == (400, 50035)
            assert "content" in body["errors"]
    emu.exchanges.clear()  # the route above is deliberately one that neither Discord nor its spec has
