"""Discord API v10 JSON objects built from the emulator's state.

Only what discord.py 2.7 reads (and a few fields real Discord always sends) is produced.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from .snowflake import snowflake_time
from .state import (
    Attachment,
    Channel,
    Guild,
    InteractionStamp,
    Member,
    Message,
    Role,
    State,
    User,
)


def iso(when: dt.datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def _epoch(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def emoji_key(raw: str) -> str:
    """Normalise an emoji as sent in a route or by a test: ``😂``, ``name:id``, ``<a:name:id>``."""
    text = raw.strip().removeprefix("<").removesuffix(">")
    parts = text.split(":")
    if len(parts) == 3:
        parts = parts[1:]
    if len(parts) == 2 and parts[1].isdigit():
        return f"{parts[0]}:{parts[1]}"
    return text


def emoji_payload(key: str) -> dict[str, Any]:
    """A partial emoji object for an emoji key."""
    name, sep, emoji_id = key.partition(":")
    if sep and emoji_id.isdigit():
        return {"id": emoji_id, "name": name, "animated": False}
    return {"id": None, "name": key}


def user_payload(user: User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "username": user.username,
        "discriminator": "0",
        "global_name": user.global_name,
        "avatar": None,
        "bot": user.bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "primary_guild": None,
    }


def role_payload(role: Role) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(role.id),
        "name": role.name,
        "color": role.color,
        "colors": {"primary_color": role.color, "secondary_color": None, "tertiary_color": None},
        "hoist": role.hoist,
        "icon": None,
        "unicode_emoji": None,
        "position": role.position,
        "permissions": str(role.permissions),
        "managed": role.managed,
        "mentionable": role.mentionable,
        "flags": 0,
    }
    if role.bot_id is not None:
        payload["tags"] = {"bot_id": str(role.bot_id)}
    return payload


def member_payload(
    state: State, member: Member, *, with_user: bool = True, permissions: int | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "nick": member.nick,
        "avatar": None,
        "banner": None,
        "roles": [str(r) for r in member.roles],
        "joined_at": iso(member.joined_at),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }
    if with_user:
        payload["user"] = user_payload(state.users[member.user_id])
    if permissions is not None:
        payload["permissions"] = str(permissions)
    return payload


def channel_payload(channel: Channel, *, permissions: int | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(channel.id),
        "type": int(channel.type),
        "guild_id": str(channel.guild_id),
        "name": channel.name,
        "last_message_id": None
        if channel.last_message_id is None
        else str(channel.last_message_id),
        "rate_limit_per_user": 0,
        "flags": 0,
        "nsfw": False,
    }
    if channel.is_thread:
        payload.update(
            parent_id=str(channel.parent_id),
            owner_id=str(channel.owner_id),
            message_count=channel.message_count,
            total_message_sent=channel.message_count,
            member_count=len(channel.thread_member_ids),
            applied_tags=[],
            thread_metadata={
                "archived": channel.archived,
                "locked": channel.locked,
                "auto_archive_duration": channel.auto_archive_duration,
                "archive_timestamp": iso(_epoch(channel.archive_timestamp)),
                "create_timestamp": iso(snowflake_time(channel.id)),
            },
        )
    else:
        payload.update(
            position=channel.position,
            topic=channel.topic,
            parent_id=None,
            default_auto_archive_duration=1440,
            permission_overwrites=[
                {
                    "id": str(o.target_id),
                    "type": o.kind,
                    "allow": str(o.allow),
                    "deny": str(o.deny),
                }
                for o in channel.overwrites
            ],
        )
    if permissions is not None:
        payload["permissions"] = str(permissions)
    return payload


def dm_channel_payload(state: State, channel: Channel) -> dict[str, Any]:
    """A DM channel (type 1) with its recipient."""
    last = channel.last_message_id
    return {
        "id": str(channel.id),
        "type": int(channel.type),
        "last_message_id": None if last is None else str(last),
        "flags": 0,
        "recipients": [user_payload(state.users[u]) for u in channel.recipient_ids],
    }


def guild_payload(guild: Guild) -> dict[str, Any]:
    """The guild object (``GET /guilds/{id}``)."""
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": "en-US",
        "features": [],
        "emojis": [],
        "stickers": [],
        "roles": [role_payload(r) for r in guild.roles.values()],
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "application_id": None,
        "vanity_url_code": None,
        "max_members": 500000,
    }


def guild_create_payload(state: State, guild: Guild, *, with_members: bool) -> dict[str, Any]:
    """GUILD_CREATE: the guild plus channels, threads and (with the members intent) members."""
    members = list(guild.members.values())
    if not with_members:
        members = [m for m in members if m.user_id == state.bot_user_id]
    bot_member = guild.members[state.bot_user_id]
    payload = guild_payload(guild)
    payload.update(
        joined_at=iso(bot_member.joined_at),
        large=len(guild.members) > 250,
        unavailable=False,
        member_count=len(guild.members),
        members=[member_payload(state, m) for m in members],
        channels=[channel_payload(c) for c in state.guild_channels(guild.id)],
        threads=[channel_payload(c) for c in state.guild_threads(guild.id) if not c.archived],
        presences=[],
        voice_states=[],
        stage_instances=[],
        guild_scheduled_events=[],
        soundboard_sounds=[],
    )
    return payload


def attachment_payload(attachment: Attachment, base_url: str) -> dict[str, Any]:
    url = f"{base_url}/attachments/{attachment.channel_id}/{attachment.id}/{quote(attachment.filename)}"
    payload: dict[str, Any] = {
        "id": str(attachment.id),
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": url,
        "proxy_url": url,
        "flags": 0,
    }
    if attachment.description is not None:
        payload["description"] = attachment.description
    return payload


def _reactions_payload(message: Message, bot_user_id: int) -> list[dict[str, Any]]:
    return [
        {
            "emoji": emoji_payload(key),
            "count": len(users),
            "count_details": {"burst": 0, "normal": len(users)},
            "me": bot_user_id in users,
            "me_burst": False,
            "burst_colors": [],
        }
        for key, users in message.reactions.items()
        if users
    ]


def message_payload(state: State, message: Message, base_url: str) -> dict[str, Any]:
    """The message object as REST answers and MESSAGE_CREATE/UPDATE carry it."""
    guild = state.guilds.get(message.guild_id) if message.guild_id is not None else None
    members = guild.members if guild is not None else {}
    payload: dict[str, Any] = {
        "id": str(message.id),
        "channel_id": str(message.channel_id),
        "author": user_payload(state.users[message.author_id]),
        "content": message.content,
        "timestamp": iso(message.created_at),
        "edited_timestamp": iso(message.edited_at),
        "tts": message.tts,
        "mention_everyone": message.pinged_everyone,
        "mentions": [
            {
                **user_payload(state.users[uid]),
                "member": member_payload(state, members[uid], with_user=False),
            }
            for uid in sorted(message.pinged_users)
            if uid in members
        ],
        "mention_roles": [str(r) for r in sorted(message.pinged_roles)],
        "attachments": [attachment_payload(a, base_url) for a in message.attachments],
        "embeds": list(message.embeds),
        "reactions": _reactions_payload(message, state.bot_user_id),
        "components": list(message.components),
        "pinned": False,
        "type": message.type,
        "flags": message.flags,
    }
    if message.guild_id is not None:
        payload["guild_id"] = str(message.guild_id)
    author_member = members.get(message.author_id)
    if author_member is not None and message.webhook_id is None:
        payload["member"] = member_payload(state, author_member, with_user=False)
    if message.webhook_id is not None:
        payload["webhook_id"] = str(message.webhook_id)
    if message.application_id is not None:
        payload["application_id"] = str(message.application_id)
    if message.nonce is not None:
        payload["nonce"] = message.nonce
    if message.reference is not None:
        payload["message_reference"] = message.reference
    if message.thread_id is not None and message.thread_id in state.channels:
        payload["thread"] = channel_payload(state.channels[message.thread_id])
    if message.interaction is not None:
        stamp = message.interaction
        payload["interaction_metadata"] = interaction_metadata(state, stamp, message.guild_id)
        if stamp.name is not None:
            payload["interaction"] = {
                "id": str(stamp.id),
                "type": stamp.type,
                "name": stamp.name,
                "user": user_payload(state.users[stamp.user_id]),
            }
    return payload


def interaction_metadata(
    state: State, stamp: InteractionStamp, guild_id: int | None
) -> dict[str, Any]:
    """``interaction_metadata``: a component's names its message, a modal submit's the
    interaction that opened the modal."""
    metadata: dict[str, Any] = {
        "id": str(stamp.id),
        "type": stamp.type,
        "user": user_payload(state.users[stamp.user_id]),
        "authorizing_integration_owners": {"0": str(guild_id)},
    }
    if stamp.name is not None:
        metadata["name"] = stamp.name
    if stamp.interacted_message_id is not None:
        metadata["interacted_message_id"] = str(stamp.interacted_message_id)
    if stamp.triggering is not None:
        metadata["triggering_interaction_metadata"] = interaction_metadata(
            state, stamp.triggering, guild_id
        )
    return metadata
