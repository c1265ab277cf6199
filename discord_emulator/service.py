"""What happens when someone (the bot or a test's user) acts: permission checks, state changes,
and the gateway dispatches that follow. REST handlers and the test API both go through here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from . import payloads
from .bodies import RequestBody, build_attachments, content_text
from .clock import EmulatorClock
from .components import stored_components
from .errors import DiscordAPIError, FormPath, cannot_message_user, invalid_form_body
from .gateway import GatewayServer, Intent
from .limits import check_message, stored_embeds
from .mentions import resolve_pings
from .permissions import Permission, channel_permissions, require
from .rules import Rules
from .state import EPHEMERAL_FLAG, LOADING_FLAG, Channel, InteractionStamp, Message, State
from .threads import Threads
from .waiting import ChangeNotifier

MAX_REACTIONS = 20
_REPLY = 19
DM_PERMISSIONS = (
    Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.ADD_REACTIONS
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
)
"""What either side of a DM may do there."""


class DiscordService:
    """Applies Discord's rules to actions and tells the gateway about their effects."""

    def __init__(
        self,
        state: State,
        gateway: GatewayServer,
        notifier: ChangeNotifier,
        base_url: Callable[[], str],
        clock: EmulatorClock,
        rules: Callable[[], Rules],
    ) -> None:
        self.state = state
        self.gateway = gateway
        self.notifier = notifier
        self.clock = clock
        self._rules = rules
        self._base_url = base_url
        self.threads = Threads(state, gateway, notifier, clock, rules, self.permissions)

    @property
    def rules(self) -> Rules:
        """The rules in force now (a test may change them on the emulator)."""
        return self._rules()

    def permissions(self, channel_id: int, user_id: int) -> int:
        """``user_id``'s effective permissions in a channel, thread or DM."""
        channel = self.state.channel(channel_id)
        if channel.guild_id is None:
            members = [*channel.recipient_ids, self.state.bot_user_id]
            return int(DM_PERMISSIONS) if user_id in members else 0
        guild = self.state.guild(channel.guild_id)
        parent = self.state.channels.get(channel.parent_id) if channel.parent_id else None
        return channel_permissions(guild, channel, parent, user_id)

    def render(self, message: Message) -> dict[str, Any]:
        """The message as Discord's JSON."""
        return payloads.message_payload(self.state, message, self._base_url())

    # -- messages ------------------------------------------------------------------------

    def post_message(
        self,
        channel_id: int,
        author_id: int,
        body: RequestBody,
        *,
        check_permissions: bool = True,
        interaction: InteractionStamp | None = None,
        extra_flags: int = 0,
        at: FormPath = (),
    ) -> Message:
        """Create a message; interaction responses skip channel checks, as on Discord.

        ``at`` is where the message sits in the request body, for error paths (``("data",)``
        in an interaction callback).
        """
        channel = self.state.channel(channel_id)
        perms = self.permissions(channel_id, author_id)
        if channel.is_dm:
            self._check_dm_open(channel)
        if check_permissions:
            send = (
                Permission.SEND_MESSAGES_IN_THREADS
                if channel.is_thread
                else Permission.SEND_MESSAGES
            )
            require(perms, Permission.VIEW_CHANNEL | send)
            if body.uploads:
                require(perms, Permission.ATTACH_FILES)
        payload = body.payload
        if self.rules.message_limits:
            check_message(payload, [len(u.data) for u in body.uploads], at)
        flags = int(payload.get("flags") or 0) | extra_flags
        if interaction is None:
            flags &= ~EPHEMERAL_FLAG
        message = Message(
            id=self.state.ids.now(),
            channel_id=channel_id,
            guild_id=channel.guild_id,
            author_id=author_id,
            content=content_text(payload.get("content")),
            embeds=stored_embeds(payload.get("embeds") or []),
            components=stored_components(payload.get("components") or []),
            flags=flags,
            tts=bool(payload.get("tts", False)),
            nonce=payload.get("nonce"),
            interaction=interaction,
        )
        message.attachments = build_attachments(
            payload, body.uploads, channel_id=channel_id, new_id=self.state.ids.now
        )
        if interaction is not None:
            message.webhook_id = message.application_id = self.state.application_id
            message.type = 20 if interaction.type == 2 else 0
        if not (flags & LOADING_FLAG or _has_visible_content(message, payload)):
            raise DiscordAPIError(400, 50006, "Cannot send an empty message")
        replied_user = self._attach_reference(message, payload.get("message_reference"))
        if not flags & LOADING_FLAG:
            self._record_pings(message, payload.get("allowed_mentions"), perms, replied_user)
        if not message.ephemeral:
            self.threads.before_message(channel)

        self.state.store_message(message)
        if not message.ephemeral:
            channel.last_message_id = message.id
            if channel.is_thread:
                channel.message_count += 1
            self._dispatch_message("MESSAGE_CREATE", message)
        self.notifier.notify()
        return message

    def edit_message(
        self,
        message: Message,
        body: RequestBody,
        actor_id: int,
        *,
        check_author: bool = True,
        at: FormPath = (),
    ) -> Message:
        """Apply a PATCH; a deferred (loading) response gets its pings when first filled in."""
        if check_author and message.author_id != actor_id:
            raise DiscordAPIError(403, 50005, "Cannot edit a message authored by another user")
        payload = body.payload
        if self.rules.message_limits:
            as_sent = payload if "flags" in payload else {**payload, "flags": message.flags}
            check_message(as_sent, [len(u.data) for u in body.uploads], at)
        if not message.ephemeral:
            self.threads.expire_idle()
            self.threads.check_active(self.state.channel(message.channel_id))
        if "content" in payload:
            message.content = content_text(payload["content"])
        if "embeds" in payload:
            message.embeds = stored_embeds(payload["embeds"] or [])
        if "components" in payload:
            message.components = stored_components(payload["components"] or [])
        if payload.get("flags") is not None:
            message.flags = int(payload["flags"]) | (message.flags & LOADING_FLAG)
        if body.uploads or "attachments" in payload:
            message.attachments = build_attachments(
                payload,
                body.uploads,
                channel_id=message.channel_id,
                new_id=self.state.ids.now,
                existing=message.attachments,
            )
            for attachment in message.attachments:
                self.state.attachments[attachment.id] = attachment
        if message.flags & LOADING_FLAG:
            message.flags &= ~LOADING_FLAG
            perms = self.permissions(message.channel_id, message.author_id)
            self._record_pings(message, payload.get("allowed_mentions"), perms, None)
        else:
            message.edited_at = dt.datetime.now(dt.UTC)
        if not message.ephemeral:
            self._dispatch_message("MESSAGE_UPDATE", message)
        self.notifier.notify()
        return message

    def delete_message(self, message: Message, actor_id: int, *, check: bool = True) -> None:
        """Delete; someone else's message needs Manage Messages."""
        if check and message.author_id != actor_id:
            require(self.permissions(message.channel_id, actor_id), Permission.MANAGE_MESSAGES)
        message.deleted = True
        if not message.ephemeral:
            self.gateway.dispatch(
                "MESSAGE_DELETE",
                {
                    "id": str(message.id),
                    "channel_id": str(message.channel_id),
                    "guild_id": str(message.guild_id),
                },
                intent=Intent.GUILD_MESSAGES,
            )
        self.notifier.notify()

    def history(
        self,
        channel_id: int,
        *,
        limit: int = 50,
        before: int | None = None,
        after: int | None = None,
        around: int | None = None,
    ) -> list[Message]:
        """Messages newest first, paged the way ``GET /channels/{id}/messages`` pages them."""
        messages = self.state.visible_messages(channel_id)
        limit = max(1, min(limit, 100))
        if around is not None:
            older = [m for m in messages if m.id < around][-(limit // 2) :] if limit > 1 else []
            newer = [m for m in messages if m.id >= around][: limit - len(older)]
            chosen = older + newer
        elif after is not None:
            chosen = [m for m in messages if m.id > after][:limit]
        else:
            if before is not None:
                messages = [m for m in messages if m.id < before]
            chosen = messages[-limit:]
        return list(reversed(chosen))

    def _attach_reference(self, message: Message, reference: dict[str, Any] | None) -> int | None:
        if not reference or reference.get("type", 0) != 0 or "message_id" not in reference:
            return None
        target = self.state.messages.get(int(reference["message_id"]))
        if target is None or target.deleted:
            if reference.get("fail_if_not_exists", True):
                raise invalid_form_body("message_reference", "Unknown message")
            return None
        message.type = _REPLY
        message.reference = {
            "type": 0,
            "message_id": str(target.id),
            "channel_id": str(target.channel_id),
            "guild_id": str(target.guild_id),
        }
        return target.author_id

    def _record_pings(
        self,
        message: Message,
        allowed_mentions: dict[str, Any] | None,
        perms: int,
        replied_user_id: int | None,
    ) -> None:
        if message.guild_id is None:
            return
        pings = resolve_pings(
            message.content,
            allowed_mentions,
            guild=self.state.guild(message.guild_id),
            can_mention_everyone=bool(perms & Permission.MENTION_EVERYONE),
            replied_user_id=replied_user_id,
        )
        message.pinged_users = set(pings.users)
        message.pinged_roles = set(pings.roles)
        message.pinged_everyone = pings.everyone

    def _dispatch_message(self, event: str, message: Message) -> None:
        if message.guild_id is None:  # DMs need no message-content intent
            self.gateway.dispatch(event, self.render(message), intent=Intent.DIRECT_MESSAGES)
            return
        bot_id = self.state.bot_user_id
        privileged = message.author_id != bot_id and bot_id not in message.pinged_users
        self.gateway.dispatch(
            event, self.render(message), intent=Intent.GUILD_MESSAGES, has_content=privileged
        )

    def _check_dm_open(self, channel: Channel) -> None:
        """50007 unless the recipient shares a guild with the bot and accepts DMs from it."""
        recipient = self.state.user(channel.recipient_ids[0])
        shares_guild = any(recipient.id in g.members for g in self.state.bot_guilds())
        if recipient.bot or not recipient.dms_open or not shares_guild:
            raise cannot_message_user()

    # -- reactions -----------------------------------------------------------------------

    def add_reaction(self, message: Message, user_id: int, emoji: str) -> None:
        """React; a new emoji needs Add Reactions, and a message holds at most 20 emoji."""
        key = payloads.emoji_key(emoji)
        perms = self.permissions(message.channel_id, user_id)
        require(perms, Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY)
        self._check_thread_active(message)
        users = message.reactions.get(key)
        if users is not None and user_id in users:
            return
        if not users:
            require(perms, Permission.ADD_REACTIONS)
            if sum(1 for u in message.reactions.values() if u) >= MAX_REACTIONS:
                raise DiscordAPIError(400, 30010, "Maximum number of reactions reached (20)")
        message.reactions.setdefault(key, []).append(user_id)
        guild = self.state.guilds.get(message.guild_id) if message.guild_id is not None else None
        event = self._reaction_event(message, user_id, key)
        event["message_author_id"] = str(message.author_id)
        event["burst_colors"] = []
        if guild is not None and user_id in guild.members:
            event["member"] = payloads.member_payload(self.state, guild.members[user_id])
        self.gateway.dispatch("MESSAGE_REACTION_ADD", event, intent=_reactions_intent(message))
        self.notifier.notify()

    def remove_reaction(self, message: Message, user_id: int, emoji: str, actor_id: int) -> None:
        """Remove ``user_id``'s reaction; removing someone else's needs Manage Messages."""
        key = payloads.emoji_key(emoji)
        if actor_id != user_id:
            require(self.permissions(message.channel_id, actor_id), Permission.MANAGE_MESSAGES)
        self._check_thread_active(message)
        users = message.reactions.get(key, [])
        if user_id not in users:
            return
        users.remove(user_id)
        if not users:
            del message.reactions[key]
        self.gateway.dispatch(
            "MESSAGE_REACTION_REMOVE",
            self._reaction_event(message, user_id, key),
            intent=_reactions_intent(message),
        )
        self.notifier.notify()

    def clear_reactions(self, message: Message, actor_id: int, emoji: str | None = None) -> None:
        """Remove all reactions, or all of one emoji (Manage Messages)."""
        require(self.permissions(message.channel_id, actor_id), Permission.MANAGE_MESSAGES)
        self._check_thread_active(message)
        where = {
            "channel_id": str(message.channel_id),
            "message_id": str(message.id),
            "guild_id": str(message.guild_id),
        }
        if emoji is None:
            message.reactions.clear()
            event, data = "MESSAGE_REACTION_REMOVE_ALL", where
        else:
            key = payloads.emoji_key(emoji)
            message.reactions.pop(key, None)
            event, data = (
                "MESSAGE_REACTION_REMOVE_EMOJI",
                {**where, "emoji": payloads.emoji_payload(key)},
            )
        self.gateway.dispatch(event, data, intent=Intent.GUILD_MESSAGE_REACTIONS)
        self.notifier.notify()

    def reaction_users(
        self, message: Message, emoji: str, *, after: int | None = None, limit: int = 25
    ) -> list[int]:
        """Reactors ordered by user id, paged with ``after`` like Discord's endpoint."""
        reactors = sorted(message.reactions.get(payloads.emoji_key(emoji), []))
        if after is not None:
            reactors = [u for u in reactors if u > after]
        return reactors[: max(1, min(limit, 100))]

    def _reaction_event(self, message: Message, user_id: int, key: str) -> dict[str, Any]:
        event = {
            "user_id": str(user_id),
            "channel_id": str(message.channel_id),
            "message_id": str(message.id),
            "emoji": payloads.emoji_payload(key),
            "burst": False,
            "type": 0,
        }
        if message.guild_id is not None:
            event["guild_id"] = str(message.guild_id)
        return event

    def _check_thread_active(self, message: Message) -> None:
        self.threads.expire_idle()
        self.threads.check_active(self.state.channel(message.channel_id))


def _reactions_intent(message: Message) -> int:
    if message.guild_id is None:
        return Intent.DIRECT_MESSAGE_REACTIONS
    return Intent.GUILD_MESSAGE_REACTIONS


def _has_visible_content(message: Message, payload: dict[str, Any]) -> bool:
    return bool(
        message.content
        or message.embeds
        or message.attachments
        or message.components
        or payload.get("sticker_ids")
        or payload.get("poll")
    )
