"""PUNCHLINE_DISCORD_API: pointing the real bot at a Discord-compatible API (local emulators, tests)."""

from __future__ import annotations

import socket

import discord
import pytest
import yarl

from bot.app import use_discord_api
from bot.config import ConfigError, load_settings


@pytest.fixture
def discord_globals(monkeypatch):
    """use_discord_api sets two discord.py class attributes: put them back after the test."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket,
        "DEFAULT_GATEWAY",
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
    )


def test_the_setting_must_be_an_http_url():
    assert load_settings({"PUNCHLINE_DISCORD_API": "http://127.0.0.1:8080"}).discord_api
    with pytest.raises(ConfigError, match="http:// or https://"):
        load_settings({"PUNCHLINE_DISCORD_API": "127.0.0.1:8080"})


async def test_rest_and_gateway_go_to_the_api_named(emu, discord_globals):
    await use_discord_api(emu.base_url + "/", emu.token)
    assert emu.api_url == discord.http.Route.BASE
    assert yarl.URL(emu.gateway_url) == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


async def test_nothing_answering_is_a_config_error(discord_globals):
    before = discord.http.Route.BASE
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(ConfigError, match="no Discord-compatible API answered"):
        await use_discord_api(f"http://127.0.0.1:{port}", "token")
    assert before == discord.http.Route.BASE
