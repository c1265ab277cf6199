"""Discord's rate limits (``rate-limits.mdx``): per-route buckets and the global limit.

Every answer on a bucketed route carries ``X-RateLimit-Limit``, ``-Remaining``, ``-Reset``,
``-Reset-After`` and ``-Bucket`` ("Header Format"). A request over a bucket's limit is refused
with 429, a ``Retry-After`` header, ``X-RateLimit-Scope: user`` and a body with ``retry_after`` and
``global`` ("Exceeding A Rate Limit"); over the global limit of 50 requests a second, with
``X-RateLimit-Global: true`` and scope ``global`` ("Global Rate Limit"). Interaction callbacks
and webhooks are "not bound to the bot's Global Rate Limit". Buckets count per top-level
resource: a channel, a guild, a webhook (its id and token) — ``/channels/1`` and ``/channels/2``
have separate counts under one bucket hash.

The docs give no per-route figures ("should not be hard coded"), so the buckets use what clients
observe from Discord and document in their issue trackers:

==========================================  =====================  =============================
route                                        limit                  source
==========================================  =====================  =============================
POST /channels/{id}/messages                 5 per 5 s per channel  eris #1267, discord.py logs
PATCH/DELETE a channel message               5 per 5 s per channel  same family as posting
add/remove a reaction (one shared bucket)    1 per 0.25 s per chan. DSharpPlus #129 (docs #182)
GET /users/{id}                              30 per 30 s            discord-api-docs (2025 fix)
/webhooks/{app}/{token}… (follow-ups)        5 per 2 s per token    observed webhook limit
any other route                              5 per 1 s per resource  (no published figure)
==========================================  =====================  =============================

The reaction pacing is the slow one: posting N entries with three reactions each takes at
least 0.75·N seconds per channel, as on Discord.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import NamedTuple

from aiohttp import web

from .bodies import json_response
from .clock import EmulatorClock

GLOBAL_LIMIT_PER_S = 50
_TOP_LEVEL = ("channel_id", "guild_id")
_EXEMPT_FROM_GLOBAL = ("/interactions/", "/webhooks/")
_REACTIONS = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}"
_MESSAGE = "/channels/{channel_id}/messages/{message_id}"
_WEBHOOK = "/webhooks/{application_id}/{token}"


@dataclass(frozen=True)
class Bucket:
    """A per-route limit: ``limit`` requests per ``per_s`` seconds for each top-level resource."""

    name: str
    limit: int
    per_s: float

    @property
    def hash(self) -> str:
        """The ``X-RateLimit-Bucket`` value: the same for every resource under this bucket."""
        return hashlib.sha256(self.name.encode()).hexdigest()[:32]


CREATE_MESSAGE = Bucket("create message", 5, 5.0)
CHANGE_MESSAGE = Bucket("change message", 5, 5.0)
REACTIONS = Bucket("reactions", 1, 0.25)
GET_USER = Bucket("get user", 30, 30.0)
WEBHOOK = Bucket("webhook", 5, 2.0)
DEFAULT_PER_SECOND = 5

ROUTE_BUCKETS: dict[tuple[str, str], Bucket] = {
    ("POST", "/channels/{channel_id}/messages"): CREATE_MESSAGE,
    ("PATCH", _MESSAGE): CHANGE_MESSAGE,
    ("DELETE", _MESSAGE): CHANGE_MESSAGE,
    ("PUT", _REACTIONS + "/{user}"): REACTIONS,
    ("DELETE", _REACTIONS + "/{user}"): REACTIONS,
    ("DELETE", _REACTIONS): REACTIONS,
    ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions"): REACTIONS,
    ("GET", "/users/{user_id}"): GET_USER,
}


class Admission(NamedTuple):
    """What the limiter decided: headers for the answer, or the 429 answer itself."""

    headers: dict[str, str]
    refusal: web.Response | None = None


@dataclass
class _Window:
    limit: int
    per_s: float
    started: float = -math.inf
    used: int = 0

    def roll(self, now: float) -> None:
        if now >= self.started + self.per_s:
            self.started, self.used = now, 0

    @property
    def resets_at(self) -> float:
        return self.started + self.per_s


class RateLimiter:
    """Counts the bot's requests on the emulator's clock and refuses what Discord would."""

    def __init__(self, clock: EmulatorClock) -> None:
        self._clock = clock
        self._windows: dict[tuple[str, tuple[str, ...]], _Window] = {}
        self._global = _Window(GLOBAL_LIMIT_PER_S, 1.0)
        self.refused: list[tuple[str, str, str]] = []
        """Each 429 as ``(method, path, scope)``, for tests to count."""

    def admit(self, request: web.Request, path: str) -> Admission:
        """Count ``request`` (``path`` relative to ``/api/v10``) against its buckets."""
        now = self._clock.time()
        if not path.startswith(_EXEMPT_FROM_GLOBAL):
            self._global.roll(now)
            if self._global.used >= self._global.limit:
                self.refused.append((request.method, path, "global"))
                return Admission({}, _global_refusal(self._global.resets_at - now))
            self._global.used += 1
        template = _template(request)
        if template is None:
            return Admission({})
        bucket = bucket_for(request.method, template)
        key = (bucket.hash, _resource(request))
        window = self._windows.setdefault(key, _Window(bucket.limit, bucket.per_s))
        window.roll(now)
        reset_after = window.resets_at - now
        if window.used >= window.limit:
            self.refused.append((request.method, path, "user"))
            headers = _headers(bucket, 0, window.resets_at, reset_after)
            return Admission({}, _route_refusal(headers, reset_after))
        window.used += 1
        return Admission(
            _headers(bucket, window.limit - window.used, window.resets_at, reset_after)
        )


def bucket_for(method: str, template: str) -> Bucket:
    """The bucket of a route (a ``/api/v10``-relative template such as ``/channels/{channel_id}``)."""
    found = ROUTE_BUCKETS.get((method, template))
    if found is not None:
        return found
    if template.startswith(_WEBHOOK):
        return WEBHOOK
    return Bucket(f"{method} {template}", DEFAULT_PER_SECOND, 1.0)


def _template(request: web.Request) -> str | None:
    resource = request.match_info.route.resource
    if resource is None:
        return None
    return resource.canonical.removeprefix("/api/v10")


def _resource(request: web.Request) -> tuple[str, ...]:
    """The top-level resource a bucket counts separately: a channel, a guild, a webhook."""
    info = request.match_info
    for name in _TOP_LEVEL:
        if name in info:
            return (name, info[name])
    if "token" in info:
        return (
            "webhook",
            info.get("application_id", info.get("interaction_id", "")),
            info["token"],
        )
    return ()


def _seconds(value: float) -> str:
    """Seconds rounded up to the millisecond, so a client never retries a moment too soon."""
    return f"{math.ceil(max(value, 0.0) * 1000) / 1000:.3f}"


def _headers(
    bucket: Bucket, remaining: int, resets_at: float, reset_after: float
) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(bucket.limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": _seconds(resets_at),
        "X-RateLimit-Reset-After": _seconds(reset_after),
        "X-RateLimit-Bucket": bucket.hash,
    }


def _body(retry_after: float, *, is_global: bool) -> dict[str, object]:
    return {
        "message": "You are being rate limited.",
        "retry_after": float(_seconds(retry_after)),
        "global": is_global,
        "code": 0,
    }


def _route_refusal(headers: dict[str, str], retry_after: float) -> web.Response:
    headers = {
        **headers,
        "Retry-After": str(math.ceil(retry_after)),
        "X-RateLimit-Scope": "user",
    }
    return json_response(_body(retry_after, is_global=False), status=429, headers=headers)


def _global_refusal(retry_after: float) -> web.Response:
    headers = {
        "Retry-After": str(math.ceil(retry_after)),
        "X-RateLimit-Global": "true",
        "X-RateLimit-Scope": "global",
    }
    return json_response(_body(retry_after, is_global=True), status=429, headers=headers)
