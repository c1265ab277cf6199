"""Injected REST failures: 429 rate limits and 5xx errors, the way Discord sends them."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from aiohttp import web

from .bodies import json_response


@dataclass
class _Fault:
    route: str
    remaining: int
    status: int
    retry_after: float = 0.0
    is_global: bool = False

    def matches(self, method: str, path: str) -> bool:
        return self.remaining > 0 and self.route in f"{method} {path}"


class FaultInjector:
    """Arms failures for the next requests whose ``"METHOD /path"`` contains a substring.

    Paths are relative to ``/api/v10``, e.g. ``"POST /channels/1/messages"``; a route of
    ``"/reactions/"`` matches every reaction call.
    """

    def __init__(self) -> None:
        self._faults: list[_Fault] = []

    def rate_limit(
        self, route: str, count: int = 1, retry_after: float = 0.05, *, is_global: bool = False
    ) -> None:
        """Answer the next ``count`` matching requests with 429 and ``retry_after`` seconds."""
        self._faults.append(_Fault(route, count, 429, retry_after, is_global))

    def server_error(self, route: str, count: int = 1, status: int = 503) -> None:
        """Answer the next ``count`` matching requests with a 5xx ``status``."""
        if not 500 <= status < 600:
            raise ValueError("server errors are 5xx")
        self._faults.append(_Fault(route, count, status))

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> int:
        """How many armed failures have not fired yet."""
        return sum(f.remaining for f in self._faults)

    def take(self, method: str, path: str) -> web.Response | None:
        """The failure answer for this request, if one is armed for it."""
        for fault in self._faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                return _rate_limited(fault) if fault.status == 429 else _server_error(fault.status)
        return None


def _rate_limited(fault: _Fault) -> web.Response:
    body = {
        "message": "You are being rate limited.",
        "retry_after": fault.retry_after,
        "global": fault.is_global,
        "code": 0,
    }
    headers = {
        "Retry-After": str(math.ceil(fault.retry_after)),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + fault.retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
        "X-RateLimit-Bucket": "emulated-" + str(abs(hash(fault.route)) % 10**8),
        "X-RateLimit-Scope": "global" if fault.is_global else "user",
        # discord.py treats a 429 without Via as a Cloudflare ban.
        "Via": "1.1 google",
    }
    if fault.is_global:
        headers["X-RateLimit-Global"] = "true"
    return json_response(body, status=429, headers=headers)


def _server_error(status: int) -> web.Response:
    return json_response({"message": f"{status}: Server Error", "code": 0}, status=status)
