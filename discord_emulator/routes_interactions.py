"""REST routes for application commands, interaction callbacks and interaction webhooks."""

from __future__ import annotations

from aiohttp import web

from .bodies import json_response, read_body, read_json
from .commands import CommandRegistry
from .errors import missing_access, unknown
from .interactions import InteractionHub
from .state import State

_GLOBAL = "/applications/{application_id}/commands"
_GUILD = "/applications/{application_id}/guilds/{guild_id}/commands"
_WEBHOOK = "/webhooks/{application_id}/{token}"


class InteractionRoutes:
    """Command sync (``/applications/…/commands``) and answering interactions."""

    def __init__(self, state: State, commands: CommandRegistry, hub: InteractionHub) -> None:
        self._state = state
        self._commands = commands
        self._hub = hub

    def table(self) -> list[web.RouteDef]:
        routes = []
        for base in (_GLOBAL, _GUILD):
            routes += [
                web.get(base, self.list_commands),
                web.put(base, self.overwrite_commands),
                web.post(base, self.create_command),
                web.get(base + "/{command_id}", self.get_command),
                web.patch(base + "/{command_id}", self.edit_command),
                web.delete(base + "/{command_id}", self.delete_command),
            ]
        return [
            *routes,
            web.post("/interactions/{interaction_id}/{token}/callback", self.callback),
            web.post(_WEBHOOK, self.followup),
            web.get(_WEBHOOK + "/messages/{message_id}", self.get_message),
            web.patch(_WEBHOOK + "/messages/{message_id}", self.edit_message),
            web.delete(_WEBHOOK + "/messages/{message_id}", self.delete_message),
        ]

    def _scope(self, request: web.Request) -> int | None:
        if int(request.match_info["application_id"]) != self._state.application_id:
            raise missing_access()
        guild_id = request.match_info.get("guild_id")
        if guild_id is None:
            return None
        return self._state.guild(int(guild_id)).id

    def _token(self, request: web.Request) -> str:
        if int(request.match_info["application_id"]) != self._state.application_id:
            raise unknown("Webhook")
        return request.match_info["token"]

    async def list_commands(self, request: web.Request) -> web.Response:
        return json_response(self._commands.in_scope(self._scope(request)))

    async def overwrite_commands(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        bodies = await read_json(request)
        return json_response(self._commands.overwrite(scope, bodies))

    async def create_command(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        return json_response(self._commands.upsert(scope, await read_json(request)), status=201)

    async def get_command(self, request: web.Request) -> web.Response:
        command_id = int(request.match_info["command_id"])
        return json_response(self._commands.get(self._scope(request), command_id))

    async def edit_command(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        command_id = int(request.match_info["command_id"])
        return json_response(self._commands.edit(scope, command_id, await read_json(request)))

    async def delete_command(self, request: web.Request) -> web.Response:
        self._commands.delete(self._scope(request), int(request.match_info["command_id"]))
        return web.Response(status=204)

    async def callback(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        answer = self._hub.respond(
            int(request.match_info["interaction_id"]), request.match_info["token"], body
        )
        if request.query.get("with_response") in ("1", "true"):
            return json_response(answer)
        return web.Response(status=204)

    async def followup(self, request: web.Request) -> web.Response:
        token = self._token(request)
        message = self._hub.followup(token, await read_body(request))
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(self._hub.render(message))
        return web.Response(status=204)

    async def get_message(self, request: web.Request) -> web.Response:
        message = self._hub.message(self._token(request), request.match_info["message_id"])
        return json_response(self._hub.render(message))

    async def edit_message(self, request: web.Request) -> web.Response:
        token = self._token(request)
        body = await read_body(request)
        message = self._hub.edit(token, request.match_info["message_id"], body)
        return json_response(self._hub.render(message))

    async def delete_message(self, request: web.Request) -> web.Response:
        self._hub.delete(self._token(request), request.match_info["message_id"])
        return web.Response(status=204)
