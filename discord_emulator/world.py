"""Building the emulated world: users, guilds, roles, channels, members, the bot's place in it.

Changes made while the bot is connected reach it as gateway events (GUILD_CREATE,
CHANNEL_CREATE, GUILD_MEMBER_ADD/UPDATE), as they would on Discord.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from . import payloads
from .gateway import Intent
from .permissions import DEFAULT_EVERYONE
from .service import DiscordService
from .state import Channel, Guild, Member, Overwrite, Role, User


def as_id(thing: Any) -> int:
    """An id from an int or from anything with ``.id`` (our models, discord.py objects)."""
    return int(getattr(thing, "id", thing))


def as_permissions(value: Any) -> int:
    """Permission bits from an int or from anything with ``.value`` (``discord.Permissions``)."""
    return int(getattr(value, "value", value))


class WorldBuilder:
    """The setup half of the test API (mixed into :class:`DiscordEmulator`)."""

    _service: DiscordService

    def create_user(
        self,
        username: str,
        *,
        bot: bool = False,
        created_at: dt.datetime | None = None,
        global_name: str | None = None,
    ) -> User:
        """A user; ``created_at`` (timezone-aware) is encoded in the id, as on Discord."""
        state = self._service.state
        user_id = state.ids.at(created_at) if created_at else state.ids.now()
        user = User(user_id, username, bot=bot, global_name=global_name)
        state.users[user.id] = user
        return user

    def set_dms_open(self, user_id: Any, open_: bool) -> User:
        """Whether ``user_id`` accepts DMs from server members; closed, the bot's DMs get 50007."""
        user = self._service.state.user(as_id(user_id))
        user.dms_open = open_
        return user

    def create_guild(
        self, name: str, *, owner: Any = None, shard: tuple[int, int] | None = None
    ) -> Guild:
        """A guild with its @everyone role; without ``owner`` a user "<name> owner" is made.

        ``shard=(shard_id, shard_count)`` picks an id that Discord routes to that shard."""
        state = self._service.state
        owner_id = as_id(owner) if owner is not None else self.create_user(f"{name} owner").id
        guild_id = state.ids.now_on_shard(*shard) if shard else state.ids.now()
        guild = Guild(id=guild_id, name=name, owner_id=owner_id)
        guild.roles[guild.id] = Role(guild.id, guild.id, "@everyone", int(DEFAULT_EVERYONE))
        state.guilds[guild.id] = guild
        self.add_member(guild.id, owner_id)
        return guild

    def create_role(
        self,
        guild_id: int,
        name: str,
        permissions: Any = 0,
        *,
        mentionable: bool = False,
        color: int = 0,
    ) -> Role:
        """A role above the existing ones; ``permissions`` is bits or ``discord.Permissions``."""
        guild = self._service.state.guild(as_id(guild_id))
        role = Role(
            id=self._service.state.ids.now(),
            guild_id=guild.id,
            name=name,
            permissions=as_permissions(permissions),
            position=len(guild.roles),
            mentionable=mentionable,
            color=color,
        )
        guild.roles[role.id] = role
        data = {"guild_id": str(guild.id), "role": payloads.role_payload(role)}
        self._dispatch_if_joined(guild, "GUILD_ROLE_CREATE", data)
        return role

    def set_role_permissions(self, guild_id: int, role: Any, permissions: Any) -> Role:
        """Change a role's permissions (the bot gets GUILD_ROLE_UPDATE)."""
        guild = self._service.state.guild(as_id(guild_id))
        found = guild.roles[as_id(role)]
        found.permissions = as_permissions(permissions)
        data = {"guild_id": str(guild.id), "role": payloads.role_payload(found)}
        self._dispatch_if_joined(guild, "GUILD_ROLE_UPDATE", data)
        return found

    def create_text_channel(self, guild_id: int, name: str, *, topic: str | None = None) -> Channel:
        """A text channel at the bottom of the guild's list."""
        state = self._service.state
        guild = state.guild(as_id(guild_id))
        position = len(state.guild_channels(guild.id))
        channel = Channel(state.ids.now(), guild.id, name, position=position, topic=topic)
        state.channels[channel.id] = channel
        self._dispatch_if_joined(guild, "CHANNEL_CREATE", payloads.channel_payload(channel))
        return channel

    def set_overwrite(self, channel_id: int, target: Any, *, allow: Any = 0, deny: Any = 0) -> None:
        """Set a channel overwrite for a role or member (``target``: id or object)."""
        state = self._service.state
        channel = state.channel(as_id(channel_id))
        target_id = as_id(target)
        kind = 0 if target_id in state.guild(channel.guild_id).roles else 1
        channel.overwrites = [o for o in channel.overwrites if o.target_id != target_id]
        channel.overwrites.append(
            Overwrite(target_id, kind, as_permissions(allow), as_permissions(deny))
        )
        guild = state.guild(channel.guild_id)
        self._dispatch_if_joined(guild, "CHANNEL_UPDATE", payloads.channel_payload(channel))

    def add_member(
        self,
        guild_id: int,
        user_id: Any,
        *,
        roles: Iterable[Any] = (),
        joined_at: dt.datetime | None = None,
        nick: str | None = None,
    ) -> Member:
        """Make a user a member of a guild (``roles``: ids or Role objects)."""
        state = self._service.state
        guild = state.guild(as_id(guild_id))
        user = state.user(as_id(user_id))
        member = Member(
            user_id=user.id,
            guild_id=guild.id,
            joined_at=joined_at or dt.datetime.now(dt.UTC),
            roles=[as_id(r) for r in roles],
            nick=nick,
        )
        guild.members[user.id] = member
        if user.id != state.bot_user_id:
            data = {"guild_id": str(guild.id), **payloads.member_payload(state, member)}
            self._dispatch_if_joined(guild, "GUILD_MEMBER_ADD", data, Intent.GUILD_MEMBERS)
        self._service.notifier.notify()
        return member

    def set_member_roles(self, guild_id: int, user_id: Any, roles: Iterable[Any]) -> Member:
        """Replace a member's roles (GUILD_MEMBER_UPDATE reaches the bot)."""
        state = self._service.state
        member = state.member(as_id(guild_id), as_id(user_id))
        member.roles = [as_id(r) for r in roles]
        data = {"guild_id": str(member.guild_id), **payloads.member_payload(state, member)}
        guild = state.guild(member.guild_id)
        self._dispatch_if_joined(guild, "GUILD_MEMBER_UPDATE", data, Intent.GUILD_MEMBERS)
        return member

    def add_bot_to_guild(self, guild_id: int, permissions: Any = DEFAULT_EVERYONE) -> Member:
        """Invite the bot: it gets a managed role with ``permissions`` and a GUILD_CREATE."""
        state = self._service.state
        guild = state.guild(as_id(guild_id))
        role = Role(
            id=state.ids.now(),
            guild_id=guild.id,
            name=state.bot_user.username,
            permissions=as_permissions(permissions),
            position=len(guild.roles),
            managed=True,
            bot_id=state.bot_user_id,
        )
        guild.roles[role.id] = role
        member = self.add_member(guild.id, state.bot_user_id, roles=[role.id])
        self._service.gateway.announce_guild(guild)
        return member

    def bot_role(self, guild_id: int) -> Role:
        """The managed role the bot received when it joined ``guild_id``."""
        guild = self._service.state.guild(as_id(guild_id))
        bot_id = self._service.state.bot_user_id
        return next(r for r in guild.roles.values() if r.bot_id == bot_id)

    def _dispatch_if_joined(
        self, guild: Guild, event: str, data: dict[str, Any], intent: int = Intent.GUILDS
    ) -> None:
        if self._service.state.bot_user_id in guild.members:
            self._service.gateway.dispatch(event, data, intent=intent, guild_id=guild.id)
