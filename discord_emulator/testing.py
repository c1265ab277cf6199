"""Running a discord.py client against the emulator for the length of a ``with`` block."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import discord

    from .emulator import DiscordEmulator

ClientT = TypeVar("ClientT", bound="discord.Client")


@contextlib.asynccontextmanager
async def running_client(emulator: DiscordEmulator, client: ClientT) -> AsyncIterator[ClientT]:
    """Log ``client`` in, connect it, wait for ``on_ready``; close it on exit.

    discord.py waits ``guild_ready_timeout`` (2 s by default) after the last GUILD_CREATE
    before ``on_ready``; build test clients with ``guild_ready_timeout=0.05`` to skip that.
    Failures while connecting (a wrong token, a crash in ``setup_hook``) are raised here, and
    not being ready within twice ``emulator.timeout`` raises ``TimeoutError``.
    """
    emulator.configure_discord_py()
    connection: asyncio.Task[None] | None = None
    try:
        await client.login(emulator.token)
        connection = asyncio.create_task(client.connect(reconnect=True))
        await _until_ready(client, connection, 2 * emulator.timeout)
        yield client
    finally:
        await client.close()
        if connection is not None:
            connection.cancel()
            await asyncio.gather(connection, return_exceptions=True)


async def _until_ready(
    client: discord.Client, connection: asyncio.Task[None], limit: float
) -> None:
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait(
            {connection, ready}, timeout=limit, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        ready.cancel()
    if connection in done:
        connection.result()
        raise RuntimeError("the client disconnected before it was ready")
    if ready not in done:
        raise TimeoutError(f"the client was not ready within {limit}s")
