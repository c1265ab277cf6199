"""Discord's permission arithmetic: guild base permissions, channel overwrites, implicit denials.

Follows https://discord.com/developers/docs/topics/permissions#permission-overwrites.
"""

from __future__ import annotations

import enum

from .errors import missing_access, missing_permissions
from .state import Channel, Guild


class Permission(enum.IntFlag):
    """The permission bits the emulator enforces or reports."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38
    MODERATE_MEMBERS = 1 << 40


ALL_PERMISSIONS = (1 << 53) - 1

DEFAULT_EVERYONE = (
    Permission.CREATE_INSTANT_INVITE
    | Permission.ADD_REACTIONS
    | Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.USE_EXTERNAL_EMOJIS
    | Permission.CHANGE_NICKNAME
    | Permission.USE_APPLICATION_COMMANDS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.CREATE_PRIVATE_THREADS
    | Permission.SEND_MESSAGES_IN_THREADS
)
"""What a fresh guild's @everyone role may do (close to Discord's default)."""

_NEEDS_SEND = (
    Permission.SEND_TTS_MESSAGES
    | Permission.MENTION_EVERYONE
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
)


def base_permissions(guild: Guild, user_id: int) -> int:
    """A member's guild-wide permissions: owner and Administrator get everything."""
    if user_id == guild.owner_id:
        return ALL_PERMISSIONS
    member = guild.members.get(user_id)
    if member is None:
        return 0
    perms = guild.everyone_role.permissions
    for role_id in member.roles:
        role = guild.roles.get(role_id)
        if role is not None:
            perms |= role.permissions
    if perms & Permission.ADMINISTRATOR:
        return ALL_PERMISSIONS
    return perms


def channel_permissions(
    guild: Guild, channel: Channel, parent: Channel | None, user_id: int
) -> int:
    """A member's permissions in ``channel`` (threads take their ``parent``'s overwrites)."""
    perms = base_permissions(guild, user_id)
    if perms == ALL_PERMISSIONS:
        return perms
    member = guild.members.get(user_id)
    overwrites = {(o.kind, o.target_id): o for o in (parent or channel).overwrites}

    everyone = overwrites.get((0, guild.id))
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow

    role_allow = role_deny = 0
    for role_id in member.roles if member else []:
        overwrite = overwrites.get((0, role_id))
        if overwrite is not None:
            role_allow |= overwrite.allow
            role_deny |= overwrite.deny
    perms = (perms & ~role_deny) | role_allow

    personal = overwrites.get((1, user_id))
    if personal is not None:
        perms = (perms & ~personal.deny) | personal.allow

    return _apply_implicit_denials(perms, channel)


def _apply_implicit_denials(perms: int, channel: Channel) -> int:
    if not perms & Permission.VIEW_CHANNEL:
        return 0
    send = Permission.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permission.SEND_MESSAGES
    if not perms & send:
        perms &= ~_NEEDS_SEND
    return perms


def require(perms: int, needed: int) -> None:
    """Raise Discord's 403 unless ``perms`` (channel permissions) hold every bit of ``needed``.

    Without View Channel the answer is "Missing Access" (50001), as Discord's is.
    """
    if not perms & Permission.VIEW_CHANNEL:
        raise missing_access()
    if perms & needed != needed:
        raise missing_permissions()
