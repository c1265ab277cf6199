"""Threads: starting them, archiving after inactivity, unarchiving, and what archiving forbids.

Follows ``threads.mdx``: a thread archives ``auto_archive_duration`` minutes after its last
activity ("sending a message, unarchiving a thread, or changing the auto-archive time"); an
archived thread refuses edits, reactions and joins with 50083, while sending a message
unarchives it unless it is locked ("Active & Archived Threads"); ``PATCH /channels/{id}`` with
``archived: false`` unarchives it (the current user must be in the thread, or its creator or
hold Manage Threads when it is locked).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import payloads
from .clock import EmulatorClock
from .errors import DiscordAPIError, invalid_form_body, missing_permissions, thread_archived
from .gateway import GatewayServer, Intent
from .permissions import Permission, require
from .rules import Rules
from .state import Channel, ChannelType, State
from .waiting import ChangeNotifier

AUTO_ARCHIVE_MINUTES = (60, 1440, 4320, 10080)


class Threads:
    """Thread life cycle on the emulator's clock."""

    def __init__(
        self,
        state: State,
        gateway: GatewayServer,
        notifier: ChangeNotifier,
        clock: EmulatorClock,
        rules: Callable[[], Rules],
        permissions: Callable[[int, int], int],
    ) -> None:
        self._state = state
        self._gateway = gateway
        self._notifier = notifier
        self._clock = clock
        self._rules = rules
        self._permissions = permissions

    @property
    def _archiving(self) -> bool:
        return self._rules().thread_archiving

    def create(
        self,
        channel_id: int,
        actor_id: int,
        name: str,
        *,
        message_id: int | None = None,
        private: bool = False,
        auto_archive_duration: int = 1440,
    ) -> Channel:
        """Start a thread (from a message, it takes the message's id, as on Discord)."""
        parent = self._state.channel(channel_id)
        needed = Permission.CREATE_PRIVATE_THREADS if private else Permission.CREATE_PUBLIC_THREADS
        require(self._permissions(channel_id, actor_id), Permission.VIEW_CHANNEL | needed)
        if not name or len(name) > 100:
            raise invalid_form_body(
                "name", "Must be between 1 and 100 in length.", "BASE_TYPE_BAD_LENGTH"
            )
        _check_duration(auto_archive_duration)
        thread_id = self._state.ids.now()
        starter = None
        if message_id is not None:
            starter = self._state.message(channel_id, message_id)
            if starter.thread_id is not None:
                raise DiscordAPIError(
                    400, 160004, "A thread has already been created for this message"
                )
            thread_id = starter.id
        now = self._clock.time()
        thread = Channel(
            id=thread_id,
            guild_id=parent.guild_id,
            name=name,
            type=ChannelType.PRIVATE_THREAD if private else ChannelType.PUBLIC_THREAD,
            parent_id=parent.id,
            owner_id=actor_id,
            auto_archive_duration=auto_archive_duration,
            thread_member_ids=[actor_id],
            last_activity=now,
            archive_timestamp=now,
        )
        self._state.channels[thread.id] = thread
        if starter is not None:
            starter.thread_id = thread.id
        payload = {**payloads.channel_payload(thread), "newly_created": True}
        self._gateway.dispatch("THREAD_CREATE", payload, intent=Intent.GUILDS)
        self._notifier.notify()
        return thread

    def expire_idle(self) -> None:
        """Archive every thread whose auto-archive time has passed (THREAD_UPDATE to the bot)."""
        if not self._archiving:
            return
        now = self._clock.time()
        for thread in self._state.channels.values():
            if not thread.is_thread or thread.archived:
                continue
            archives_at = thread.last_activity + thread.auto_archive_duration * 60
            if now >= archives_at:
                thread.archived = True
                thread.archive_timestamp = archives_at
                self._updated(thread)

    def check_active(self, channel: Channel) -> None:
        """50083 for an action an archived thread refuses (edits, reactions, joins)."""
        if self._archiving and channel.is_thread and channel.archived:
            raise thread_archived()

    def before_message(self, channel: Channel) -> None:
        """A new message unarchives the thread (a locked one refuses it) and counts as activity."""
        if not channel.is_thread:
            return
        self.expire_idle()
        if channel.archived and self._archiving:
            if channel.locked:
                raise thread_archived()
            self._set_archived(channel, False)
        channel.last_activity = self._clock.time()

    def modify(self, thread: Channel, actor_id: int, payload: dict[str, Any]) -> Channel:
        """``PATCH /channels/{thread}``: name, archived, locked, auto_archive_duration."""
        perms = self._permissions(thread.id, actor_id)
        manages = bool(perms & Permission.MANAGE_THREADS) or thread.owner_id == actor_id
        unarchiving = "archived" in payload and not payload["archived"]
        if unarchiving and thread.archived:
            allowed = (
                manages if thread.locked else (manages or actor_id in thread.thread_member_ids)
            )
            if not allowed:
                raise missing_permissions()
        elif thread.archived and self._archiving and not payload.get("archived"):
            raise thread_archived()
        if ("name" in payload or "auto_archive_duration" in payload) and not manages:
            raise missing_permissions()
        if "locked" in payload and not perms & Permission.MANAGE_THREADS:
            raise missing_permissions()
        if "name" in payload:
            name = str(payload["name"] or "")
            if not 1 <= len(name) <= 100:
                raise invalid_form_body(
                    "name", "Must be between 1 and 100 in length.", "BASE_TYPE_BAD_LENGTH"
                )
            thread.name = name
        if "locked" in payload:
            thread.locked = bool(payload["locked"])
        if payload.get("auto_archive_duration") is not None:
            thread.auto_archive_duration = _check_duration(int(payload["auto_archive_duration"]))
            thread.last_activity = thread.archive_timestamp = self._clock.time()
        if "archived" in payload and bool(payload["archived"]) != thread.archived:
            self._set_archived(thread, bool(payload["archived"]))
        else:
            self._updated(thread)
        return thread

    def _set_archived(self, thread: Channel, archived: bool) -> None:
        now = self._clock.time()
        thread.archived = archived
        thread.archive_timestamp = now
        if not archived:
            thread.last_activity = now
        self._updated(thread)

    def _updated(self, thread: Channel) -> None:
        payload = payloads.channel_payload(thread)
        self._gateway.dispatch("THREAD_UPDATE", payload, intent=Intent.GUILDS)
        self._notifier.notify()


def _check_duration(minutes: int) -> int:
    if minutes not in AUTO_ARCHIVE_MINUTES:
        raise invalid_form_body(
            "auto_archive_duration",
            f"Value must be one of {AUTO_ARCHIVE_MINUTES}.",
            "BASE_TYPE_CHOICES",
        )
    return minutes
