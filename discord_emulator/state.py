"""The emulated Discord's data: users, guilds, roles, channels, messages, commands.

Plain dataclasses with no I/O. Everything here survives a bot restart (a new discord.py client
against the same emulator) and can be pickled as a snapshot.
"""

from __future__ import annotations

import datetime as dt
import enum
import mimetypes
import pickle
from dataclasses import dataclass, field
from typing import Any

from .errors import unknown
from .snowflake import SnowflakeFactory, snowflake_time

EPHEMERAL_FLAG = 1 << 6
LOADING_FLAG = 1 << 7


class ChannelType(enum.IntEnum):
    """The channel kinds the emulator serves."""

    GUILD_TEXT = 0
    DM = 1
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    dms_open: bool = True
    """Whether this user lets server members (the bot among them) message them directly."""

    @property
    def created_at(self) -> dt.datetime:
        return snowflake_time(self.id)


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    @property
    def is_everyone(self) -> bool:
        return self.id == self.guild_id


@dataclass
class Member:
    user_id: int
    guild_id: int
    joined_at: dt.datetime
    roles: list[int] = field(default_factory=list)
    nick: str | None = None


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (``kind`` 0) or a member (``kind`` 1)."""

    target_id: int
    kind: int
    allow: int = 0
    deny: int = 0


@dataclass
class Channel:
    """A guild text channel, a thread, or a DM (``guild_id`` None, ``recipient_ids`` set).

    Threads record ``last_activity`` and ``archive_timestamp`` in epoch seconds on the
    emulator's clock: a thread archives ``auto_archive_duration`` minutes after its last activity.
    """

    id: int
    guild_id: int | None
    name: str
    type: ChannelType = ChannelType.GUILD_TEXT
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    owner_id: int | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    last_message_id: int | None = None
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    message_count: int = 0
    thread_member_ids: list[int] = field(default_factory=list)
    last_activity: float = 0.0
    archive_timestamp: float = 0.0
    recipient_ids: list[int] = field(default_factory=list)

    @property
    def is_thread(self) -> bool:
        return self.type in (ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD)

    @property
    def is_dm(self) -> bool:
        return self.type == ChannelType.DM


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)

    @property
    def everyone_role(self) -> Role:
        return self.roles[self.id]


@dataclass
class Attachment:
    """A file stored with a message; ``data`` holds the uploaded bytes."""

    id: int
    channel_id: int
    filename: str
    data: bytes
    description: str | None = None
    content_type: str = ""

    def __post_init__(self) -> None:
        if not self.content_type:
            guessed, _ = mimetypes.guess_type(self.filename)
            self.content_type = guessed or "application/octet-stream"

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class InteractionStamp:
    """Which interaction a message answers (Discord's ``interaction_metadata``): a component
    interaction names the message it came from, a modal submit the interaction that opened it."""

    id: int
    type: int
    user_id: int
    name: str | None = None
    interacted_message_id: int | None = None
    triggering: InteractionStamp | None = None


@dataclass
class Message:
    """A stored message, as tests see it.

    ``reactions`` maps an emoji key (``"😂"`` or ``"name:id"``) to the ids of the users who
    reacted, in order. ``pinged_*`` record who the message actually notified after
    ``allowed_mentions`` and permissions were applied.
    """

    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    reactions: dict[str, list[int]] = field(default_factory=dict)
    flags: int = 0
    type: int = 0
    tts: bool = False
    edited_at: dt.datetime | None = None
    pinged_users: set[int] = field(default_factory=set)
    pinged_roles: set[int] = field(default_factory=set)
    pinged_everyone: bool = False
    webhook_id: int | None = None
    application_id: int | None = None
    interaction: InteractionStamp | None = None
    reference: dict[str, Any] | None = None
    thread_id: int | None = None
    nonce: str | int | None = None
    deleted: bool = False

    @property
    def created_at(self) -> dt.datetime:
        return snowflake_time(self.id)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL_FLAG)

    def reactors(self, emoji: str) -> list[int]:
        """Ids of the users who reacted with ``emoji`` (empty when nobody did)."""
        return list(self.reactions.get(emoji, []))


@dataclass
class State:
    """The whole emulated world for one bot application."""

    token: str
    bot_user_id: int
    application_id: int
    ids: SnowflakeFactory = field(default_factory=SnowflakeFactory)
    users: dict[int, User] = field(default_factory=dict)
    guilds: dict[int, Guild] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    channel_messages: dict[int, list[int]] = field(default_factory=dict)
    commands: dict[int | None, dict[str, dict[str, Any]]] = field(default_factory=dict)
    attachments: dict[int, Attachment] = field(default_factory=dict)

    @property
    def bot_user(self) -> User:
        return self.users[self.bot_user_id]

    def user(self, user_id: int) -> User:
        try:
            return self.users[user_id]
        except KeyError:
            raise unknown("User") from None

    def guild(self, guild_id: int) -> Guild:
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise unknown("Guild") from None

    def member(self, guild_id: int, user_id: int) -> Member:
        try:
            return self.guild(guild_id).members[user_id]
        except KeyError:
            raise unknown("Member") from None

    def channel(self, channel_id: int) -> Channel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise unknown("Channel") from None

    def message(self, channel_id: int, message_id: int) -> Message:
        message = self.messages.get(message_id)
        if message is None or message.deleted or message.channel_id != channel_id:
            raise unknown("Message")
        return message

    def dm_channel(self, user_id: int) -> Channel | None:
        """The bot's DM channel with ``user_id``, once opened."""
        for channel in self.channels.values():
            if channel.is_dm and channel.recipient_ids == [user_id]:
                return channel
        return None

    def guild_channels(self, guild_id: int) -> list[Channel]:
        return [c for c in self.channels.values() if c.guild_id == guild_id and not c.is_thread]

    def guild_threads(self, guild_id: int) -> list[Channel]:
        return [c for c in self.channels.values() if c.guild_id == guild_id and c.is_thread]

    def bot_guilds(self) -> list[Guild]:
        """Guilds the bot is a member of, in creation order."""
        return [g for g in self.guilds.values() if self.bot_user_id in g.members]

    def visible_messages(self, channel_id: int) -> list[Message]:
        """A channel's live, non-ephemeral messages, oldest first."""
        found = (self.messages[i] for i in self.channel_messages.get(channel_id, []))
        return [m for m in found if not m.deleted and not m.ephemeral]

    def store_message(self, message: Message) -> None:
        self.messages[message.id] = message
        if not message.ephemeral:
            self.channel_messages.setdefault(message.channel_id, []).append(message.id)
        for attachment in message.attachments:
            self.attachments[attachment.id] = attachment

    def to_snapshot(self) -> bytes:
        """Serialise everything (pickle; only ever load snapshots you made yourself)."""
        return pickle.dumps(self)

    @staticmethod
    def from_snapshot(data: bytes) -> State:
        state = pickle.loads(data)
        if not isinstance(state, State):
            raise TypeError("not an emulator snapshot")
        state.ids.observe(max([*state.messages, *state.channels, 0]))
        return state
