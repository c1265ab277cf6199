"""The HTTP side: one aiohttp application serving ``/api/v10``, attachments and ``/gateway``.

A single middleware applies what every Discord route shares: injected faults, the bot-token
check, Discord-shaped error bodies and the request log.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from aiohttp import web

from .bodies import json_response
from .errors import DiscordAPIError, invalid_form_body, unauthorized
from .faults import FaultInjector
from .gateway import GatewayServer
from .state import State

_log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
_TOKENLESS = ("/interactions/", "/webhooks/")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RequestRecord(NamedTuple):
    """One REST request as the emulator answered it; ``path`` is relative to ``/api/v10``."""

    method: str
    path: str
    status: int


class HttpServer:
    """Binds the application to a loopback port and records every request."""

    def __init__(
        self,
        state: State,
        gateway: GatewayServer,
        faults: FaultInjector,
        routes: list[web.RouteDef],
    ) -> None:
        self._state = state
        self._gateway = gateway
        self._faults = faults
        self.request_log: list[RequestRecord] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

        self.app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024**2)
        api = web.Application()
        api.add_routes(routes)
        self.app.add_subapp(API_PREFIX, api)
        self.app.add_routes(
            [
                web.get("/gateway", gateway.handle),
                web.get("/attachments/{channel_id}/{attachment_id}/{filename}", self._attachment),
            ]
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> None:
        """Listen on ``127.0.0.1:port`` (0 picks a free port)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self.port = sock.getsockname()[1]
        self._runner = web.AppRunner(self.app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        await self._gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)
        path = request.path.removeprefix(API_PREFIX)
        try:
            response = self._faults.take(request.method, path)
            if response is None:
                if request.path.startswith(API_PREFIX) and not path.startswith(_TOKENLESS):
                    self._authorize(request)
                response = await handler(request)
        except DiscordAPIError as error:
            response = json_response(error.body(), status=error.status)
        except (ValueError, KeyError, TypeError) as error:
            _log.warning("malformed request %s %s", request.method, path, exc_info=error)
            response = json_response(invalid_form_body("_", str(error)).body(), status=400)
        except web.HTTPException as error:
            if request.match_info.http_exception is not None:
                _log.warning("the Discord emulator has no route for %s %s", request.method, path)
            body = {"message": f"{error.status}: {error.reason}", "code": 0}
            response = json_response(body, status=error.status)
        self.request_log.append(RequestRecord(request.method, path, response.status))
        return response

    def _authorize(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {self._state.token}":
            raise unauthorized()

    async def _attachment(self, request: web.Request) -> web.Response:
        attachment = self._state.attachments.get(int(request.match_info["attachment_id"]))
        if attachment is None or attachment.filename != request.match_info["filename"]:
            raise web.HTTPNotFound()
        return web.Response(body=attachment.data, content_type=attachment.content_type)
