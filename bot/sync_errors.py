"""Saying which command breaks which of Discord's rules when Discord refuses the command tree.

At sync Discord checks every command (``application-commands.mdx``: names, description lengths,
at most 25 options and choices, required options first, size, nesting) and refuses the whole
tree with 400 / 50035 Invalid Form Body, each problem under its path in the request, such as
``3.options.0.options.2.name``. discord.py flattens that into the exception's ``text``, one
``In <path>: <rule>`` line each; this module turns each path back into the command's name as a
member would type it, so the person starting the bot reads "/contest setup, option 'when'"
rather than a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import discord

from bot.config import ConfigError

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
_PROBLEM = re.compile(r"^In (?P<path>[\w.]+): (?P<rule>.+)$")


class CommandTreeRejected(ConfigError):
    """Discord refused the slash commands at start-up; the message names each command and rule.

    A :class:`~bot.config.ConfigError`, so ``bot.py`` reports it like the other problems that
    stop the bot from starting (and exits with status 2).
    """


def sync_refusal(
    refused: discord.HTTPException, sent: Sequence[dict[str, Any]]
) -> CommandTreeRejected:
    """The start-up error for a refused sync; ``sent`` is the command list the sync sent."""
    problems = [
        f"  {where(match['path'], sent)}: {match['rule']}"
        for line in (refused.text or "").splitlines()
        if (match := _PROBLEM.match(line.strip()))
    ]
    if not problems:
        problems = [f"  {refused.text or refused}"]
    return CommandTreeRejected(
        "Discord refused the bot's slash commands (error "
        f"{refused.code}), so the bot cannot start:\n"
        + "\n".join(problems)
        + "\nFix these commands (bot/cogs/) and start the bot again."
    )


def where(path: str, sent: Sequence[dict[str, Any]]) -> str:
    """``3.options.0.name`` → ``/contest setup, option 'when' (name)``, from the sent commands."""
    parts = path.split(".")
    if not parts[0].isdigit() or int(parts[0]) >= len(sent):
        return f"the command list ({path})"
    node: dict[str, Any] = sent[int(parts[0])]
    command, option, rest = [node.get("name", "?")], None, parts[1:]
    while len(rest) >= 2 and rest[0] == "options" and rest[1].isdigit():
        options = node.get("options") or []
        if int(rest[1]) >= len(options):
            break
        node, rest = options[int(rest[1])], rest[2:]
        if node.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP) and option is None:
            command.append(node.get("name", "?"))
        else:
            option = node.get("name", "?")
    named = "/" + " ".join(command) + (f", option {option!r}" if option else "")
    return named + (f" ({'.'.join(rest)})" if rest else "")
