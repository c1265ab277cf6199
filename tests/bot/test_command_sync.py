"""The real command tree syncs under Discord's rules; a tree Discord refuses stops the start
with a message naming each command and rule (``application-commands.mdx``), not a traceback."""

from __future__ import annotations

import logging

import discord
import pytest
from discord import app_commands

from bot.app import PunchlineBot
from bot.config import ConfigError, Settings
from bot.store import Store
from bot.sync_errors import CommandTreeRejected
from discord_emulator import DiscordEmulator, Rules, running_client
from tests.bot.conftest import punchline

quiz = app_commands.Group(name="quiz", description="A command group that breaks two rules")


@quiz.command(name="pick", description="Pick an answer")
@app_commands.choices(answer=[app_commands.Choice(name=f"answer {n}", value=n) for n in range(30)])
async def pick(interaction: discord.Interaction, answer: int) -> None:
    """30 choices: Discord allows at most 25 per option."""


@quiz.command(name="hint", description="x" * 101)  # descriptions hold at most 100 characters
async def hint(interaction: discord.Interaction) -> None:
    """A description one character too long."""


class BotWithABrokenCommand(PunchlineBot):
    async def setup_hook(self) -> None:
        self.tree.add_command(quiz)
        await super().setup_hook()


async def test_the_real_command_tree_passes_discords_rules_at_sync(emu, server, db_path):
    emu.rules = Rules()
    assert emu.rules.command_rules
    async with punchline(emu, db_path) as bot:
        local = {c.name for c in bot.tree.get_commands()}
    assert local
    assert {c["name"] for c in emu.commands()} == local


async def test_a_tree_discord_refuses_stops_the_start_naming_commands_and_rules(tmp_path, caplog):
    """(Not the spec-checked emulator: the refused request itself breaks the spec, on purpose.)"""
    store = Store(tmp_path / "p.db")
    await store.open()
    try:
        async with DiscordEmulator(token="sync-token", rules=Rules()) as emu:
            settings = Settings(token=emu.token, database=tmp_path / "p.db")
            bot = BotWithABrokenCommand(settings, store=store, guild_ready_timeout=0.05)
            with (
                caplog.at_level(logging.ERROR, logger="bot.app"),
                pytest.raises(CommandTreeRejected) as refused,
            ):
                async with running_client(emu, bot):
                    pass
            assert emu.commands() == []  # Discord kept nothing of the refused tree
    finally:
        await store.close()
    message = str(refused.value)
    assert isinstance(refused.value, ConfigError)  # bot.py prints it and exits with status 2
    assert "Discord refused the bot's slash commands (error 50035)" in message
    assert "/quiz pick, option 'answer' (choices): Must be 25 or fewer in length." in message
    assert "/quiz hint (description): Must be between 1 and 100 in length." in message
    assert "Traceback" not in caplog.text
    assert message in caplog.text  # the log says it too
