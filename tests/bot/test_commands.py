"""The command tree is one Discord accepts: names, descriptions, limits, option order, no clashes.

Checked twice: on what the running bot synced to the emulator, and on the tree of a bot that
loaded every extension without connecting.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

from bot import cogs as cog_package
from bot.app import EXTENSIONS, PunchlineBot
from bot.config import Settings
from bot.store import Store
from tests.bot.conftest import punchline

CHAT_INPUT, SUB_COMMAND, SUB_COMMAND_GROUP = 1, 1, 2
MAX_OPTIONS = MAX_CHOICES = 25
MAX_GLOBAL_CHAT_COMMANDS = 100


def is_valid_name(name: str) -> bool:
    """Discord's ``^[-_\\p{L}\\p{N}]{1,32}$``, lowercase where the letter has a lowercase."""
    allowed = all(ch in "-_" or unicodedata.category(ch)[0] in "LN" for ch in name)
    return 1 <= len(name) <= 32 and allowed and name == name.lower()


def option_problems(options: list[dict[str, Any]], where: str) -> list[str]:
    """What Discord would refuse in one level of options (and, recursively, the levels below)."""
    problems = []
    if len(options) > MAX_OPTIONS:
        problems.append(f"{where}: {len(options)} options (max {MAX_OPTIONS})")
    duplicated = [n for n, count in Counter(o["name"] for o in options).items() if count > 1]
    if duplicated:
        problems.append(f"{where}: duplicate option names {duplicated}")
    seen_optional = False
    for option in options:
        path = f"{where} {option['name']}"
        if not is_valid_name(option["name"]):
            problems.append(f"{path}: invalid name")
        if not 1 <= len(option.get("description") or "") <= 100:
            problems.append(f"{path}: description must be 1-100 characters")
        choices = option.get("choices") or []
        if len(choices) > MAX_CHOICES:
            problems.append(f"{path}: {len(choices)} choices (max {MAX_CHOICES})")
        problems += [
            f"{path}: choice name {c['name']!r} must be 1-100 characters"
            for c in choices
            if not 1 <= len(c["name"]) <= 100
        ]
        if option["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
            problems += option_problems(option.get("options") or [], path)
        elif option.get("required"):
            if seen_optional:
                problems.append(f"{path}: required option after an optional one")
        else:
            seen_optional = True
    return problems


def tree_problems(commands: list[dict[str, Any]]) -> list[str]:
    """Every reason Discord would refuse this set of application commands."""
    problems = []
    chat = [c for c in commands if c.get("type", CHAT_INPUT) == CHAT_INPUT]
    if len(chat) > MAX_GLOBAL_CHAT_COMMANDS:
        problems.append(f"{len(chat)} chat commands (max {MAX_GLOBAL_CHAT_COMMANDS})")
    names = Counter((c.get("type", CHAT_INPUT), c["name"]) for c in commands)
    problems += [f"duplicate command {name}" for (_, name), n in names.items() if n > 1]
    for command in chat:
        if not is_valid_name(command["name"]):
            problems.append(f"/{command['name']}: invalid name")
        if not 1 <= len(command.get("description") or "") <= 100:
            problems.append(f"/{command['name']}: description must be 1-100 characters")
        problems += option_problems(command.get("options") or [], f"/{command['name']}")
    return problems


def test_the_checker_catches_what_discord_refuses():
    """The validator itself: each broken rule is reported (so a clean tree means something)."""
    broken = [
        {"name": "Caption", "description": "", "options": []},
        {
            "name": "vote",
            "description": "x" * 101,
            "options": [
                {"type": 3, "name": "why", "description": "why", "required": False},
                {"type": 3, "name": "what", "description": "what", "required": True},
                {"type": 3, "name": "what", "description": "again", "required": True},
                {
                    "type": 3,
                    "name": "pick",
                    "description": "one",
                    "choices": [{"name": str(i), "value": str(i)} for i in range(26)],
                },
            ],
        },
        {"name": "vote", "description": "twice", "options": []},
        {"name": "has space", "description": "ok", "options": []},
    ]
    found = "\n".join(tree_problems(broken))
    for expected in (
        "/Caption: invalid name",
        "/Caption: description",
        "/vote: description",
        "required option after an optional one",
        "duplicate option names ['what']",
        "26 choices",
        "duplicate command vote",
        "/has space: invalid name",
    ):
        assert expected in found
    assert is_valid_name("légende")
    assert is_valid_name("top-10_all")


async def test_the_synced_commands_are_valid_for_discord(emu, server, db_path):
    """What the bot synced (as Discord stores it) breaks none of Discord's rules, and matches
    the bot's own tree command for command."""
    async with punchline(emu, db_path) as bot:
        synced = emu.commands()
        local = [c.to_dict(bot.tree) for c in bot.tree.get_commands()]
    assert synced
    assert tree_problems(synced) == []
    assert sorted((c["type"], c["name"]) for c in synced) == sorted(
        (c["type"], c["name"]) for c in local
    )
    assert {"contest", "caption"} <= {c["name"] for c in synced}


async def test_every_extension_loads_into_one_bot_without_clashes(tmp_path):
    """All of ``EXTENSIONS`` load together: no command, group or cog name is taken twice, and the
    resulting tree is valid for Discord."""
    async with PunchlineBot(Settings(token="unused"), store=Store(tmp_path / "unused.db")) as bot:
        for extension in EXTENSIONS:
            await bot.load_extension(extension)
        assert set(bot.extensions) == set(EXTENSIONS)
        qualified = Counter(c.qualified_name for c in bot.tree.walk_commands())
        assert [name for name, n in qualified.items() if n > 1] == []
        assert tree_problems([c.to_dict(bot.tree) for c in bot.tree.get_commands()]) == []


def test_every_module_in_the_cogs_folder_is_an_extension():
    """``EXTENSIONS`` is discovered, so the tests above cover a cog as soon as its file exists."""
    folder = Path(cog_package.__file__).parent
    in_folder = {f"bot.cogs.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__"}
    assert set(EXTENSIONS) == in_folder
    assert len(EXTENSIONS) >= 9
