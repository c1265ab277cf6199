"""The HTTP side: one aiohttp application serving ``/api/v10``, attachments and ``/gateway``.

A single middleware applies what every Discord route shares: injected faults, the bot-token
check, rate limits, Discord-shaped error bodies, the request log and (when asked) the exchange
log that :mod:`.conformance` checks against Discord's spec.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from aiohttp import web

from .bodies import REQUEST_PAYLOAD, json_response, read_body
from .errors import DiscordAPIError, invalid_form_body, unauthorized
from .faults import FaultInjector
from .gateway import GatewayServer
from .ratelimits import Admission, RateLimiter
from .rules import Rules
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


@dataclass(frozen=True)
class Exchange:
    """One REST request and its answer, as :mod:`.conformance` checks them.

    ``request_body`` is the JSON payload (``payload_json`` of a multipart body), None when the
    request had none; ``response_body`` the raw bytes answered.
    """

    method: str
    path: str
    request_type: str
    request_body: Any
    status: int
    response_body: bytes


class HttpServer:
    """Binds the application to a loopback port and records every request."""

    def __init__(
        self,
        state: State,
        gateway: GatewayServer,
        faults: FaultInjector,
        routes: list[web.RouteDef],
        *,
        rules: Callable[[], Rules],
        limiter: RateLimiter,
        before_request: Callable[[], None],
    ) -> None:
        self._state = state
        self._gateway = gateway
        self._faults = faults
        self._rules = rules
        self._limiter = limiter
        self._before_request = before_request
        self.request_log: list[RequestRecord] = []
        self.exchanges: list[Exchange] | None = None
        """Every API exchange, once :meth:`record_exchanges` was called."""
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

    def record_exchanges(self) -> None:
        """Start keeping every API request and answer in :attr:`exchanges`."""
        if self.exchanges is None:
            self.exchanges = []

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)
        is_api = request.path.startswith(API_PREFIX)
        path = request.path.removeprefix(API_PREFIX)
        admission = Admission({})
        try:
            response = self._faults.take(request.method, path)
            if response is None and is_api:
                if not path.startswith(_TOKENLESS):
                    self._authorize(request)
                self._before_request()
                if self._rules().rate_limits:
                    admission = self._limiter.admit(request, path)
                    response = admission.refusal
            if response is None:
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
        if is_api:
            response.headers.update(admission.headers)
            response.headers["Via"] = "1.1 google"  # discord.py reads a 429 without Via as a ban
        self.request_log.append(RequestRecord(request.method, path, response.status))
        if is_api and self.exchanges is not None and isinstance(response, web.Response):
            self.exchanges.append(await _exchange(request, path, response))
        return response

    def _authorize(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {self._state.token}":
            raise unauthorized()

    async def _attachment(self, request: web.Request) -> web.Response:
        attachment = self._state.attachments.get(int(request.match_info["attachment_id"]))
        if attachment is None or attachment.filename != request.match_info["filename"]:
            raise web.HTTPNotFound()
        return web.Response(body=attachment.data, content_type=attachment.content_type)


async def _exchange(request: web.Request, path: str, response: web.Response) -> Exchange:
    """The exchange as logged; a body no handler read (an injected fault answered first) is
    parsed now."""
    if REQUEST_PAYLOAD not in request and request.body_exists:
        with contextlib.suppress(DiscordAPIError, ValueError):
            await read_body(request)
    body = response.body if isinstance(response.body, bytes) else b""
    return Exchange(
        request.method,
        path,
        request.content_type,
        request.get(REQUEST_PAYLOAD),
        response.status,
        body,
    )
