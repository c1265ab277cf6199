"""REST routes for the bot's identity, the gateway address, guilds, members and roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from . import payloads
from .bodies import json_response, read_body
from .state import Channel, ChannelType, State


def _id(request: web.Request, name: str) -> int:
    return int(request.match_info[name])


class GuildRoutes:
    """Identity (``/users/@me``, ``/oauth2/applications/@me``), ``/gateway`` and guild reads."""

    def __init__(self, state: State, bot_gateway: Callable[[], dict[str, Any]]) -> None:
        self._state = state
        self._bot_gateway = bot_gateway

    def table(self) -> list[web.RouteDef]:
        return [
            web.get("/users/@me", self.me),
            web.post("/users/@me/channels", self.open_dm),
            web.get("/users/{user_id}", self.user),
            web.get("/oauth2/applications/@me", self.application),
            web.get("/applications/@me", self.application),
            web.get("/gateway", self.gateway),
            web.get("/gateway/bot", self.gateway_bot),
            web.get("/users/@me/guilds", self.my_guilds),
            web.get("/guilds/{guild_id}", self.guild),
            web.get("/guilds/{guild_id}/channels", self.channels),
            web.get("/guilds/{guild_id}/threads/active", self.active_threads),
            web.get("/guilds/{guild_id}/roles", self.roles),
            web.get("/guilds/{guild_id}/members", self.members),
            web.get("/guilds/{guild_id}/members/{user_id}", self.member),
        ]

    async def me(self, request: web.Request) -> web.Response:
        bot = payloads.user_payload(self._state.bot_user)
        return json_response({**bot, "verified": True, "mfa_enabled": False, "locale": "en-US"})

    async def open_dm(self, request: web.Request) -> web.Response:
        """``POST /users/@me/channels``: the bot's DM channel with ``recipient_id`` (opened once;
        whether the user accepts the messages is decided when one is sent: 50007)."""
        payload = (await read_body(request)).payload
        recipient = self._state.user(int(payload["recipient_id"]))
        channel = self._state.dm_channel(recipient.id)
        if channel is None:
            channel = Channel(
                self._state.ids.now(), None, "", type=ChannelType.DM, recipient_ids=[recipient.id]
            )
            self._state.channels[channel.id] = channel
        return json_response(payloads.dm_channel_payload(self._state, channel))

    async def user(self, request: web.Request) -> web.Response:
        return json_response(payloads.user_payload(self._state.user(_id(request, "user_id"))))

    async def application(self, request: web.Request) -> web.Response:
        state = self._state
        bot = payloads.user_payload(state.bot_user)
        owner_id = next((g.owner_id for g in state.guilds.values()), state.bot_user_id)
        body: dict[str, Any] = {
            "id": str(state.application_id),
            "name": state.bot_user.username,
            "icon": None,
            "description": "Emulated application",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "flags_new": "0",
            "team": None,
            "bot": bot,
            "owner": payloads.user_payload(state.users.get(owner_id, state.bot_user)),
            "rpc_origins": [],
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "approximate_guild_count": len(state.bot_guilds()),
            "approximate_user_install_count": 0,
            "approximate_user_authorization_count": 0,
            "explicit_content_filter": 0,
            "eligible_oauth2_scopes": ["applications.commands", "bot"],
            "install_params": {"scopes": ["bot", "applications.commands"], "permissions": "0"},
            "integration_types_config": {"0": {}},
        }
        return json_response(body)

    async def gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self._bot_gateway()["url"]})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        """The URL, the recommended shard count and the session start limit (``gateway.mdx``,
        "Get Gateway Bot")."""
        return json_response(self._bot_gateway())

    async def my_guilds(self, request: web.Request) -> web.Response:
        guilds = [
            {"id": str(g.id), "name": g.name, "icon": None, "owner": False, "features": []}
            for g in self._state.bot_guilds()
        ]
        return json_response(guilds)

    async def guild(self, request: web.Request) -> web.Response:
        guild = self._state.guild(_id(request, "guild_id"))
        body = payloads.guild_payload(guild)
        if request.query.get("with_counts") == "true":
            body.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return json_response(body)

    async def channels(self, request: web.Request) -> web.Response:
        guild_id = _id(request, "guild_id")
        self._state.guild(guild_id)
        found = self._state.guild_channels(guild_id)
        return json_response([payloads.channel_payload(c) for c in found])

    async def active_threads(self, request: web.Request) -> web.Response:
        guild_id = _id(request, "guild_id")
        self._state.guild(guild_id)
        threads = [t for t in self._state.guild_threads(guild_id) if not t.archived]
        return json_response(
            {"threads": [payloads.channel_payload(t) for t in threads], "members": []}
        )

    async def roles(self, request: web.Request) -> web.Response:
        guild = self._state.guild(_id(request, "guild_id"))
        return json_response([payloads.role_payload(r) for r in guild.roles.values()])

    async def members(self, request: web.Request) -> web.Response:
        guild = self._state.guild(_id(request, "guild_id"))
        after = int(request.query.get("after", 0))
        limit = max(1, min(int(request.query.get("limit", 1)), 1000))
        chosen = sorted(
            (m for m in guild.members.values() if m.user_id > after), key=lambda m: m.user_id
        )
        return json_response([payloads.member_payload(self._state, m) for m in chosen[:limit]])

    async def member(self, request: web.Request) -> web.Response:
        member = self._state.member(_id(request, "guild_id"), _id(request, "user_id"))
        return json_response(payloads.member_payload(self._state, member))
