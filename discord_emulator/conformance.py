"""Holding REST exchanges against Discord's official OpenAPI description of its HTTP API.

``../shared/discord/spec/openapi.json`` (OpenAPI 3.1, whose schemas are JSON Schema 2020-12)
describes every route's request body and answers. :class:`SpecConformance` checks what the bot
sent and what the emulator answered, as recorded in :attr:`DiscordEmulator.exchanges`. Needs the
``jsonschema`` package (the project's ``test`` extra).

One deliberate difference: the spec types the ``code`` of each field error inside ``errors``
(``InnerErrors._errors[].code``) as an integer, while Discord answers strings such as
``"BASE_TYPE_MAX_LENGTH"`` (as every client library's error dumps show); the emulator answers
as Discord does, and the check accepts both. And in request bodies a snowflake may be an
integer as well as a string: discord.py sends ``attachments[].id`` as the integer index of the
upload, and Discord accepts it.

Answers with a 5xx status (injected server failures) are outside the spec and not checked.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .server import Exchange

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

SPEC_URI = "https://discord.com/developers/openapi.json"
DEFAULT_SPEC = Path(__file__).resolve().parents[2] / "shared" / "discord" / "spec" / "openapi.json"
"""Where a checkout beside ``../shared`` finds the spec (a fresh clone has none)."""

_METHODS = ("get", "put", "post", "patch", "delete")
_PARAMETER = re.compile(r"\\\{[^/]+?\\\}")


@dataclass(frozen=True)
class Violation:
    """One way an exchange differs from the spec."""

    method: str
    path: str
    status: int
    side: str  # "request" or "response"
    problem: str

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status}: {self.side}: {self.problem}"


@dataclass
class ConformanceReport:
    """How many request bodies and answers were checked, and what failed."""

    requests_checked: int = 0
    responses_checked: int = 0
    violations: list[Violation] = field(default_factory=list)

    def summary(self, limit: int = 20) -> str:
        lines = [
            f"{len(self.violations)} violation(s) of Discord's OpenAPI spec in "
            f"{self.requests_checked} request bodies and {self.responses_checked} answers:"
        ]
        lines += [f"  {v}" for v in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append(f"  … and {len(self.violations) - limit} more")
        return "\n".join(lines)


class SpecConformance:
    """Validates exchanges against the spec; validators are built once per schema and reused."""

    def __init__(self, spec: dict[str, Any]) -> None:
        from jsonschema import Draft202012Validator
        from referencing import Registry
        from referencing.jsonschema import DRAFT202012

        self._spec = _accept_string_field_error_codes(spec)
        requests_spec = _accept_integer_snowflakes(self._spec)
        self._registries = {
            side: Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(document))
            for side, document in (("request", requests_spec), ("response", self._spec))
        }
        self._validator_class = Draft202012Validator
        self._validators: dict[tuple[str, str], Any] = {}

    @classmethod
    def load(cls, path: Path = DEFAULT_SPEC) -> SpecConformance:
        return cls(json.loads(Path(path).read_text()))

    @cached_property
    def _routes(self) -> list[tuple[re.Pattern[str], str]]:
        """Spec paths as patterns, those with more literal segments first (``/users/@me``
        before ``/users/{user_id}``)."""
        routes = []
        for template in self._spec["paths"]:
            pattern = re.compile("^" + _PARAMETER.sub("[^/]+", re.escape(template)) + "$")
            literal = sum(1 for part in template.split("/") if part and "{" not in part)
            routes.append((literal, pattern, template))
        routes.sort(key=lambda r: -r[0])
        return [(pattern, template) for _, pattern, template in routes]

    def route(self, path: str) -> str | None:
        """The spec's path template for a concrete ``/api/v10``-relative path."""
        return next((t for pattern, t in self._routes if pattern.match(path)), None)

    def check(self, exchanges: list[Exchange]) -> ConformanceReport:
        report = ConformanceReport()
        for exchange in exchanges:
            self._check_one(exchange, report)
        return report

    def _check_one(self, exchange: Exchange, report: ConformanceReport) -> None:
        def violation(side: str, problem: str) -> None:
            report.violations.append(
                Violation(exchange.method, exchange.path, exchange.status, side, problem)
            )

        template = self.route(exchange.path)
        method = exchange.method.lower()
        if template is None or method not in self._spec["paths"][template]:
            violation("request", "the spec has no such route")
            return
        operation_pointer = f"/paths/{_escape(template)}/{method}"
        operation = self._spec["paths"][template][method]
        if exchange.request_body is not None and "requestBody" in operation:
            content = operation["requestBody"]["content"]
            media = exchange.request_type if exchange.request_type in content else None
            media = media or next(iter(content))
            pointer = f"{operation_pointer}/requestBody/content/{_escape(media)}/schema"
            report.requests_checked += 1
            for problem in self._errors("request", pointer, exchange.request_body):
                violation("request", problem)
        elif exchange.request_body is None and operation.get("requestBody", {}).get("required"):
            violation("request", "the spec requires a request body")
        self._check_response(exchange, operation, operation_pointer, report, violation)

    def _check_response(
        self,
        exchange: Exchange,
        operation: dict[str, Any],
        operation_pointer: str,
        report: ConformanceReport,
        violation: Callable[[str, str], None],
    ) -> None:
        if exchange.status >= 500:
            return
        responses = operation.get("responses", {})
        status = str(exchange.status)
        key = next((k for k in (status, f"{status[0]}XX", "default") if k in responses), None)
        if key is None:
            violation("response", f"the spec lists no {status} answer for this route")
            return
        pointer = f"{operation_pointer}/responses/{key}"
        answer = responses[key]
        while "$ref" in answer:
            pointer = answer["$ref"].removeprefix("#")
            answer = self._resolve(pointer)
        content = answer.get("content", {})
        report.responses_checked += 1
        if "application/json" not in content:
            if exchange.response_body:
                violation(
                    "response", f"the spec expects no body, got {exchange.response_body[:80]!r}"
                )
            return
        try:
            body = json.loads(exchange.response_body)
        except ValueError:
            violation("response", "the answer is not JSON")
            return
        schema_pointer = f"{pointer}/content/application~1json/schema"
        for problem in self._errors("response", schema_pointer, body):
            violation("response", problem)

    def _resolve(self, pointer: str) -> Any:
        node: Any = self._spec
        for part in pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _errors(self, side: str, pointer: str, instance: Any) -> list[str]:
        from jsonschema.exceptions import relevance

        validator = self._validators.get((side, pointer))
        if validator is None:
            schema = {"$ref": f"{SPEC_URI}#{pointer}"}
            validator = self._validator_class(schema, registry=self._registries[side])
            self._validators[side, pointer] = validator
        errors = list(validator.iter_errors(instance))
        if not errors:
            return []
        error = _innermost(max(errors, key=relevance))
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        return [f"at {where}: {_shorten(error.message)}"]


def _accept_string_field_error_codes(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of the spec whose field errors may carry Discord's string codes."""
    patched = copy.deepcopy(spec)
    schemas = patched["components"]["schemas"]
    schemas["InnerErrors"]["properties"]["_errors"]["items"] = {
        "type": "object",
        "properties": {"code": {"type": ["integer", "string"]}, "message": {"type": "string"}},
        "required": ["code", "message"],
    }
    return patched


def _accept_integer_snowflakes(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of the spec in which a snowflake may also be a non-negative integer."""
    patched = copy.deepcopy(spec)
    string = patched["components"]["schemas"]["SnowflakeType"]
    patched["components"]["schemas"]["SnowflakeType"] = {
        "oneOf": [string, {"type": "integer", "minimum": 0}]
    }
    return patched


def _innermost(error: ValidationError) -> ValidationError:
    """For a failed ``oneOf``/``anyOf``, the error inside the branch meant for the instance: the
    branch whose ``type`` discriminator matched, else the one that got deepest."""
    while error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0], []).append(sub)

        def misfit(errors: list[ValidationError]) -> tuple[bool, int]:
            wrong_kind = any(
                e.validator in ("enum", "const", "type") and len(e.relative_path) <= 1
                for e in errors
            )
            return (wrong_kind, -max(len(e.absolute_path) for e in errors))

        chosen = min(branches.values(), key=misfit)
        error = max(chosen, key=lambda e: len(e.absolute_path))
    return error


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _shorten(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
