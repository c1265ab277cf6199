"""Every slash command is answered within Discord's 3 seconds, whatever it waits for after.

Discord drops an interaction whose first answer comes later than 3 s ("The application did not
respond", ``receiving-and-responding.mdx``). A command may wait for a guild lock, the database
(whose busy timeout is longer than 3 s), Discord's rate limits or a model, and its checks
(``moderator_only``) read the database too; so the command tree defers every command, with
"thinking…", before its checks and its body run. The answer then fills that in (``bot.app.reply``
edits it) and anything later is a follow-up.

A command's ``extras`` say how: :data:`PUBLIC` for an answer the whole channel sees (the
default is one only the member sees). Commands that make their own first answer before any wait,
choosing for themselves whether it is public, are listed in :data:`ANSWER_THEMSELVES`.
"""

from __future__ import annotations

import logging

import discord

log = logging.getLogger(__name__)

PUBLIC = "public"
"""``extras={PUBLIC: True}``: the command's answer is shown to the channel."""

ANSWER_THEMSELVES = frozenset({"joke", "caption suggest"})
"""Qualified names of the commands that answer first themselves (``bot/cogs/jokes.py`` defers
before generating; ``/caption suggest`` goes through the same code)."""


async def acknowledge_first(interaction: discord.Interaction) -> bool:
    """The command tree's ``interaction_check``: defer each slash command before anything else.

    Returns False (the command does not run) when Discord no longer takes the answer: the
    member has already been told the application did not respond, and acting on a command they
    saw fail would surprise them.
    """
    if interaction.type is not discord.InteractionType.application_command:
        return True  # autocomplete answers with its choices, at once
    command = interaction.command
    if command is None or command.qualified_name in ANSWER_THEMSELVES:
        return True
    public = bool(command.extras.get(PUBLIC))
    try:
        await interaction.response.defer(ephemeral=not public, thinking=True)
    except discord.HTTPException as too_late:
        log.warning("/%s was not acknowledged in time: %s", command.qualified_name, too_late)
        return False
    return True
