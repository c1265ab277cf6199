"""Who may run moderator commands, checked at run time on every call.

``default_permissions`` only hides commands in Discord's UI and server admins can override it,
so each moderator command also carries :func:`moderator_only`.
"""

from __future__ import annotations

import discord
from discord import app_commands


class NotModerator(app_commands.CheckFailure):
    """Raised for a member without Manage Server or the configured moderator role."""


def is_moderator(member: discord.Member | discord.User, moderator_role_id: int | None) -> bool:
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild:
        return True
    return moderator_role_id is not None and any(r.id == moderator_role_id for r in member.roles)


def moderator_only():
    """Refuse the command unless the member is a moderator of this server."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage("This command only works in a server.")
        settings = await interaction.client.context.guild_settings(interaction.guild.id)  # type: ignore[attr-defined]
        if not is_moderator(interaction.user, settings.moderator_role_id if settings else None):
            raise NotModerator(
                "Only moderators (Manage Server, or the moderator role) can do that."
            )
        return True

    return app_commands.check(predicate)
