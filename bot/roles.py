"""Which roles a moderator may bind to the contest (moderator role, champion role).

Binding a role hands out power: members holding the moderator role run the contest, and the bot
gives the champion role away each season. So a moderator may only choose a role they could
assign themselves, as Discord's own rule has it: Manage Roles and a highest role above it (the
server owner and administrators may choose any). The champion role must also sit below the
bot's highest role, or Discord refuses the bot when a season ends.
"""

from __future__ import annotations

import discord


def role_refusal(
    role: discord.Role, chooser: discord.Member, me: discord.Member, *, given_by_bot: bool
) -> str | None:
    """Why ``chooser`` may not bind ``role`` (for the bot to give, with ``given_by_bot``), or None."""
    if role.is_default():
        return "@everyone can't be used here: choose a role of its own."
    if role.managed:
        return (
            f"{role.mention} belongs to an integration (a bot's or the booster role): "
            "nobody can be given it by hand. Choose another role."
        )
    guild = chooser.guild
    unrestricted = chooser.id == guild.owner_id or chooser.guild_permissions.administrator
    if not unrestricted and not (
        chooser.guild_permissions.manage_roles and chooser.top_role > role
    ):
        return (
            f"You can only choose a role you could give out yourself: you need Manage Roles, "
            f"and {role.mention} must be below your highest role ({chooser.top_role.mention})."
        )
    if given_by_bot and role >= me.top_role:
        return (
            f"I can only give {role.mention} if my highest role ({me.top_role.mention}) is above "
            "it: drag my role higher under Server Settings → Roles, then try again."
        )
    if given_by_bot and not me.guild_permissions.manage_roles:
        return f"I need the Manage Roles permission to give {role.mention} to each champion."
    return None
