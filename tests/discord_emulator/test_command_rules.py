"""The command tree is checked at sync as ``application-commands.mdx`` says: "Application
Command Naming", the "Application Command Option Structure" (lengths, at most 25 options and
choices, required options first, unique names), "Subcommands and Subcommand Groups" (nesting),
"Slash Commands" (8000 characters per command) and "Registering a Command" (at most 100, unique
names). Refusals are 400 / 50035 Invalid Form Body with the offending field's path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from discord_emulator import DiscordEmulator, Rules, running_client
from discord_emulator.command_rules import command_size, is_valid_chat_input_name

from .conftest import make_bot

STRING, SUB_COMMAND, SUB_COMMAND_GROUP = 3, 1, 2


@pytest.fixture
async def rest(emu: DiscordEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {emu.token}"}
    async with aiohttp.ClientSession(base_url=emu.base_url, headers=headers) as session:
        yield session


def command(name: str = "caption", **fields: Any) -> dict[str, Any]:
    return {"name": name, "type": 1, "description": "Caption contest", **fields}


def option(name: str, kind: int = STRING, **fields: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "description": f"The {name}", **fields}


async def put_commands(
    emu: DiscordEmulator, rest: aiohttp.ClientSession, bodies: list[dict[str, Any]]
) -> tuple[int, dict[str, Any]]:
    url = f"/api/v10/applications/{emu.application_id}/commands"
    async with rest.put(url, json=bodies) as answer:
        return answer.status, await answer.json()


def field_error(code: str, message: str) -> dict[str, Any]:
    return {"_errors": [{"code": code, "message": message}]}


INVALID_NAME = field_error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
REQUIRED_FIRST = field_error(
    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
    "Required options must be placed before non-required options",
)
DESCRIPTION_LENGTH = field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")


def twenty_five_plus_one(make: Any) -> list[Any]:
    return [make(i) for i in range(26)]


REFUSED = {
    "uppercase name": ([command("Caption")], {"0": {"name": INVALID_NAME}}),
    "space in name": ([command("caption submit")], {"0": {"name": INVALID_NAME}}),
    "33-character name": ([command("c" * 33)], {"0": {"name": INVALID_NAME}}),
    "empty description": ([command(description="")], {"0": {"description": DESCRIPTION_LENGTH}}),
    "101-character option description": (
        [command(options=[option("text", description="d" * 101)])],
        {"0": {"options": {"0": {"description": DESCRIPTION_LENGTH}}}},
    ),
    "26 options": (
        [command(options=twenty_five_plus_one(lambda i: option(f"o{i}")))],
        {"0": {"options": field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")}},
    ),
    "26 choices": (
        [
            command(
                options=[
                    option(
                        "pick",
                        choices=twenty_five_plus_one(lambda i: {"name": f"c{i}", "value": f"{i}"}),
                    )
                ]
            )
        ],
        {
            "0": {
                "options": {
                    "0": {
                        "choices": field_error(
                            "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                        )
                    }
                }
            }
        },
    ),
    "required after optional": (
        [command(options=[option("theme"), option("text", required=True)])],
        {"0": {"options": {"1": REQUIRED_FIRST}}},
    ),
    "group inside a group": (
        [
            command(
                options=[
                    option(
                        "admin",
                        SUB_COMMAND_GROUP,
                        options=[option("inner", SUB_COMMAND_GROUP, options=[])],
                    )
                ]
            )
        ],
        {
            "0": {
                "options": {
                    "0": {
                        "options": field_error(
                            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                            "A sub-command group can only contain sub-commands",
                        )
                    }
                }
            }
        },
    ),
    "subcommand beside a plain option": (
        [command(options=[option("submit", SUB_COMMAND), option("text")])],
        {
            "0": {
                "options": field_error(
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-command and sub-command group option types are mutually exclusive to "
                    "all other types",
                )
            }
        },
    ),
    "duplicate option names": (
        [command(options=[option("text"), option("text")])],
        {
            "0": {
                "options": {
                    "1": {
                        "name": field_error(
                            "APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME",
                            "Command option names must be unique",
                        )
                    }
                }
            }
        },
    ),
    "duplicate command names": (
        [command("vote"), command("vote")],
        {
            "1": field_error(
                "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
            )
        },
    ),
    "101 commands": (
        [command(f"c{i}") for i in range(101)],
        field_error("BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."),
    ),
}


@pytest.mark.parametrize("case", REFUSED)
async def test_a_tree_that_breaks_a_rule_is_refused_with_the_field_path(
    emu: DiscordEmulator, rest: aiohttp.ClientSession, case: str
) -> None:
    bodies, errors = REFUSED[case]

    status, body = await put_commands(emu, rest, bodies)

    assert (status, body["code"], body["message"]) == (400, 50035, "Invalid Form Body")
    assert body["errors"] == errors
    assert emu.commands() == [], "a refused overwrite changes nothing"
    emu.exchanges.clear()  # deliberately invalid: the spec refuses some of these bodies too


async def test_a_command_over_8000_characters_is_too_large(
    emu: DiscordEmulator, rest: aiohttp.ClientSession
) -> None:
    choices = [{"name": f"{i:02d}" + "n" * 98, "value": f"{i:02d}" + "v" * 98} for i in range(20)]
    options = [option(f"o{i}", description="d" * 100, choices=choices) for i in range(2)]
    big = command(options=options)
    assert command_size(big) > 8000

    status, body = await put_commands(emu, rest, [big])

    assert status == 400
    assert body["errors"] == {
        "0": field_error("APPLICATION_COMMAND_TOO_LARGE", "Command exceeds maximum size (8000)")
    }
    emu.exchanges.clear()  # deliberately invalid


async def test_a_valid_tree_of_every_shape_is_accepted(
    emu: DiscordEmulator, rest: aiohttp.ClientSession
) -> None:
    tree = [
        command(
            options=[
                option("submit", SUB_COMMAND, options=[option("text", required=True), option("x")]),
                option(
                    "admin",
                    SUB_COMMAND_GROUP,
                    options=[option("prompt", SUB_COMMAND, options=[option("theme")])],
                ),
            ]
        ),
        command("сабмит"),  # Cyrillic lowercase: letters of any script
        command("नमस्ते"),  # Devanagari, combining marks included
        {"name": "Rate This Caption", "type": 3, "description": ""},  # message commands
        *[command(f"c{i}") for i in range(97)],
    ]

    status, body = await put_commands(emu, rest, tree)

    assert status == 200, body
    assert len(emu.commands()) == 101


@pytest.mark.parametrize(
    ("name", "valid"),
    [("caption", True), ("vote-2", True), ("it's", True), ("Caption", False), ("Σύνθημα", False)],
)
def test_names_use_lowercase_letters_of_any_script(name: str, valid: bool) -> None:
    assert is_valid_chat_input_name(name) is valid


async def test_creating_a_101st_command_is_refused_30032(
    emu: DiscordEmulator, rest: aiohttp.ClientSession
) -> None:
    await put_commands(emu, rest, [command(f"c{i}") for i in range(100)])
    url = f"/api/v10/applications/{emu.application_id}/commands"

    async with rest.post(url, json=command("one-more")) as answer:
        body = await answer.json()

    assert (answer.status, body["code"]) == (400, 30032)
    assert body["message"] == "Maximum number of application commands reached (100)"


async def test_discord_py_sync_of_a_bad_tree_raises(emu: DiscordEmulator) -> None:
    bot = make_bot()

    @app_commands.command(name="caption", description="Caption contest")
    async def caption(interaction: discord.Interaction, theme: str = "", text: str = "") -> None:
        await interaction.response.send_message("ok")

    caption._params["text"].required = True  # required after optional, past discord.py's check
    bot.tree.add_command(caption)
    async with running_client(emu, bot):
        with pytest.raises(discord.HTTPException) as raised:
            await bot.tree.sync()

    assert raised.value.code == 50035
    assert "Required options must be placed before non-required options" in str(raised.value)


async def test_without_the_rule_any_tree_is_stored(
    emu: DiscordEmulator, rest: aiohttp.ClientSession
) -> None:
    emu.rules = Rules().without("command_rules")
    status, _ = await put_commands(emu, rest, [command("Caption", description="")])
    assert status == 200
    emu.exchanges.clear()  # deliberately invalid
