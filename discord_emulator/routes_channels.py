"""REST routes under ``/channels``: messages, reactions, threads."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import payloads
from .bodies import json_response, read_body
from .errors import DiscordAPIError, invalid_form_body
from .permissions import Permission, require
from .service import DiscordService
from .state import Message

_MESSAGE = "/channels/{channel_id}/messages/{message_id}"
_REACTIONS = _MESSAGE + "/reactions"


def _id(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit():
        raise invalid_form_body(name, "Value is not snowflake.")
    return int(raw)


def _query_int(request: web.Request, name: str, default: int | None = None) -> int | None:
    raw = request.query.get(name)
    return default if raw is None else int(raw)


def _no_content() -> web.Response:
    return web.Response(status=204)


class ChannelRoutes:
    """Handlers for channel, message, reaction and thread endpoints, acting as the bot."""

    def __init__(self, service: DiscordService) -> None:
        self._service = service
        self._state = service.state

    def table(self) -> list[web.RouteDef]:
        return [
            web.get("/channels/{channel_id}", self.get_channel),
            web.patch("/channels/{channel_id}", self.modify_channel),
            web.get("/channels/{channel_id}/messages", self.history),
            web.post("/channels/{channel_id}/messages", self.create_message),
            web.post("/channels/{channel_id}/messages/bulk-delete", self.bulk_delete),
            web.post("/channels/{channel_id}/typing", self.typing),
            web.get(_MESSAGE, self.get_message),
            web.patch(_MESSAGE, self.edit_message),
            web.delete(_MESSAGE, self.delete_message),
            web.delete(_REACTIONS, self.clear_reactions),
            web.get(_REACTIONS + "/{emoji}", self.reaction_users),
            web.delete(_REACTIONS + "/{emoji}", self.clear_emoji),
            web.put(_REACTIONS + "/{emoji}/{user}", self.add_reaction),
            web.delete(_REACTIONS + "/{emoji}/{user}", self.remove_reaction),
            web.post(_MESSAGE + "/threads", self.thread_from_message),
            web.post("/channels/{channel_id}/threads", self.thread_without_message),
            web.put("/channels/{channel_id}/thread-members/@me", self.join_thread),
            web.delete("/channels/{channel_id}/thread-members/@me", self.leave_thread),
        ]

    @property
    def _bot_id(self) -> int:
        return self._state.bot_user_id

    def _readable(self, channel_id: int) -> None:
        perms = self._service.permissions(channel_id, self._bot_id)
        require(perms, Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY)

    def _message(self, request: web.Request) -> Message:
        return self._state.message(_id(request, "channel_id"), _id(request, "message_id"))

    def _render(self, message: Message) -> web.Response:
        return json_response(self._service.render(message))

    async def get_channel(self, request: web.Request) -> web.Response:
        channel = self._state.channel(_id(request, "channel_id"))
        require(self._service.permissions(channel.id, self._bot_id), Permission.VIEW_CHANNEL)
        if channel.is_dm:
            return json_response(payloads.dm_channel_payload(self._state, channel))
        return json_response(payloads.channel_payload(channel))

    async def modify_channel(self, request: web.Request) -> web.Response:
        """``PATCH /channels/{id}``: a thread's name, archived, locked, auto-archive time; a
        text channel's name and topic (Manage Channels)."""
        channel = self._state.channel(_id(request, "channel_id"))
        perms = self._service.permissions(channel.id, self._bot_id)
        require(perms, Permission.VIEW_CHANNEL)
        payload = (await read_body(request)).payload
        if channel.is_thread:
            thread = self._service.threads.modify(channel, self._bot_id, payload)
            return json_response(payloads.channel_payload(thread))
        require(perms, Permission.MANAGE_CHANNELS)
        if "name" in payload:
            channel.name = str(payload["name"])
        if "topic" in payload:
            channel.topic = payload["topic"]
        self._service.gateway.dispatch("CHANNEL_UPDATE", payloads.channel_payload(channel))
        return json_response(payloads.channel_payload(channel))

    async def history(self, request: web.Request) -> web.Response:
        channel_id = _id(request, "channel_id")
        self._readable(channel_id)
        messages = self._service.history(
            channel_id,
            limit=_query_int(request, "limit", 50) or 50,
            before=_query_int(request, "before"),
            after=_query_int(request, "after"),
            around=_query_int(request, "around"),
        )
        return json_response([self._service.render(m) for m in messages])

    async def create_message(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        message = self._service.post_message(_id(request, "channel_id"), self._bot_id, body)
        return self._render(message)

    async def get_message(self, request: web.Request) -> web.Response:
        self._readable(_id(request, "channel_id"))
        return self._render(self._message(request))

    async def edit_message(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        return self._render(self._service.edit_message(self._message(request), body, self._bot_id))

    async def delete_message(self, request: web.Request) -> web.Response:
        self._service.delete_message(self._message(request), self._bot_id)
        return _no_content()

    async def bulk_delete(self, request: web.Request) -> web.Response:
        channel_id = _id(request, "channel_id")
        require(self._service.permissions(channel_id, self._bot_id), Permission.MANAGE_MESSAGES)
        ids = (await read_body(request)).payload.get("messages", [])
        if not 2 <= len(ids) <= 100:
            raise invalid_form_body("messages", "Must be between 2 and 100 in length.")
        for message_id in ids:
            self._service.delete_message(
                self._state.message(channel_id, int(message_id)), 0, check=False
            )
        return _no_content()

    async def typing(self, request: web.Request) -> web.Response:
        self._state.channel(_id(request, "channel_id"))
        return _no_content()

    # -- reactions -----------------------------------------------------------------------

    def _reaction_target(self, request: web.Request) -> int:
        raw = request.match_info["user"]
        return self._bot_id if raw == "@me" else int(raw)

    async def add_reaction(self, request: web.Request) -> web.Response:
        if request.match_info["user"] != "@me":
            raise DiscordAPIError(405, 0, "405: Method Not Allowed")
        self._service.add_reaction(
            self._message(request), self._bot_id, request.match_info["emoji"]
        )
        return _no_content()

    async def remove_reaction(self, request: web.Request) -> web.Response:
        self._service.remove_reaction(
            self._message(request),
            self._reaction_target(request),
            request.match_info["emoji"],
            actor_id=self._bot_id,
        )
        return _no_content()

    async def reaction_users(self, request: web.Request) -> web.Response:
        message = self._message(request)
        self._readable(message.channel_id)
        if request.query.get("type", "0") != "0":
            return json_response([])
        user_ids = self._service.reaction_users(
            message,
            request.match_info["emoji"],
            after=_query_int(request, "after"),
            limit=_query_int(request, "limit", 25) or 25,
        )
        users = [payloads.user_payload(self._state.users[u]) for u in user_ids]
        return json_response(users)

    async def clear_reactions(self, request: web.Request) -> web.Response:
        self._service.clear_reactions(self._message(request), self._bot_id)
        return _no_content()

    async def clear_emoji(self, request: web.Request) -> web.Response:
        self._service.clear_reactions(
            self._message(request), self._bot_id, request.match_info["emoji"]
        )
        return _no_content()

    # -- threads -------------------------------------------------------------------------

    async def thread_from_message(self, request: web.Request) -> web.Response:
        payload = (await read_body(request)).payload
        thread = self._service.threads.create(
            _id(request, "channel_id"),
            self._bot_id,
            str(payload.get("name", "")),
            message_id=_id(request, "message_id"),
            auto_archive_duration=int(payload.get("auto_archive_duration") or 1440),
        )
        return json_response(payloads.channel_payload(thread), status=201)

    async def thread_without_message(self, request: web.Request) -> web.Response:
        payload: dict[str, Any] = (await read_body(request)).payload
        thread = self._service.threads.create(
            _id(request, "channel_id"),
            self._bot_id,
            str(payload.get("name", "")),
            private=int(payload.get("type") or 11) == 12,
            auto_archive_duration=int(payload.get("auto_archive_duration") or 1440),
        )
        return json_response(payloads.channel_payload(thread), status=201)

    async def join_thread(self, request: web.Request) -> web.Response:
        thread = self._state.channel(_id(request, "channel_id"))
        self._service.threads.check_active(thread)
        if self._bot_id not in thread.thread_member_ids:
            thread.thread_member_ids.append(self._bot_id)
        return _no_content()

    async def leave_thread(self, request: web.Request) -> web.Response:
        thread = self._state.channel(_id(request, "channel_id"))
        if self._bot_id in thread.thread_member_ids:
            thread.thread_member_ids.remove(self._bot_id)
        return _no_content()
