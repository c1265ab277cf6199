"""A test world in the Discord emulator: a guild, its contest channel, a moderator and members."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from discord_emulator import Channel, DiscordEmulator, Guild, User
from discord_emulator.permissions import DEFAULT_EVERYONE, Permission

OLD_ACCOUNT = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
"""Account creation time for test users: old enough for every account-age rule."""

BOT_PERMISSIONS = (
    DEFAULT_EVERYONE
    | Permission.MANAGE_MESSAGES
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.ATTACH_FILES
    | Permission.EMBED_LINKS
    | Permission.ADD_REACTIONS
    | Permission.READ_MESSAGE_HISTORY
)
"""The permissions of the role Punchline gets when it joins a test server."""


@dataclass
class Server:
    guild: Guild
    channel: Channel
    mod: User
    members: dict[str, User]
    bots: dict[str, User] = field(default_factory=dict)
    """Other bots in the guild (their reactions are not votes)."""


def build_server(
    emu: DiscordEmulator,
    name: str,
    members: Iterable[str | User] = (),
    *,
    moderator: str = "moderator",
    bots: Iterable[str] = (),
    shard: tuple[int, int] | None = None,
) -> Server:
    """A guild with a #caption-contest channel, a moderator (a role with Manage Server), the
    ``members`` (a name makes a new user with an old account; a user joins as is), the other
    ``bots``, and Punchline invited last with :data:`BOT_PERMISSIONS`. ``shard=(id, count)``
    gives the guild an id Discord routes to that shard."""
    guild = emu.create_guild(name, shard=shard)
    channel = emu.create_text_channel(guild.id, "caption-contest")
    mods = emu.create_role(guild.id, "mods", permissions=Permission.MANAGE_GUILD)
    mod = emu.create_user(moderator, created_at=OLD_ACCOUNT)
    emu.add_member(guild.id, mod.id, roles=[mods])
    joined = {}
    for member in members:
        user = (
            emu.create_user(member, created_at=OLD_ACCOUNT) if isinstance(member, str) else member
        )
        emu.add_member(guild.id, user.id)
        joined[user.username] = user
    others = {}
    for bot_name in bots:
        others[bot_name] = emu.create_user(bot_name, bot=True, created_at=OLD_ACCOUNT)
        emu.add_member(guild.id, others[bot_name].id)
    emu.add_bot_to_guild(guild.id, permissions=BOT_PERMISSIONS)
    return Server(guild, channel, mod, joined, others)
