"""Discord's JSON error answers, raised anywhere in the emulator and rendered by the server."""

from __future__ import annotations

from typing import Any


class DiscordAPIError(Exception):
    """An error answer: HTTP ``status`` with body ``{"code": code, "message": message}``."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON body Discord sends with this error."""
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def unauthorized() -> DiscordAPIError:
    return DiscordAPIError(401, 0, "401: Unauthorized")


def missing_permissions() -> DiscordAPIError:
    return DiscordAPIError(403, 50013, "Missing Permissions")


def missing_access() -> DiscordAPIError:
    return DiscordAPIError(403, 50001, "Missing Access")


def unknown(kind: str) -> DiscordAPIError:
    """404 for an unknown resource, with Discord's code for ``kind``."""
    codes = {
        "Channel": 10003,
        "Guild": 10004,
        "Member": 10007,
        "Message": 10008,
        "Role": 10011,
        "User": 10013,
        "Emoji": 10014,
        "Webhook": 10015,
        "interaction": 10062,
        "application command": 10063,
    }
    return DiscordAPIError(404, codes[kind], f"Unknown {kind}")


FormPath = tuple[str | int, ...]
"""Where in a request body a field is: ``("embeds", 0, "title")``."""


class FormErrors:
    """Collects field errors into Discord's nested ``errors`` object for a 50035 answer.

    Discord reports every invalid field at once, keyed by the field's path through the body
    (array indices as strings), each ending in ``{"_errors": [{"code", "message"}]}``::

        {"code": 50035, "message": "Invalid Form Body",
         "errors": {"embeds": {"0": {"title": {"_errors": [
             {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}]}}}}}
    """

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def __bool__(self) -> bool:
        return bool(self.tree)

    def add(self, path: FormPath, code: str, message: str) -> None:
        node = self.tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: FormPath, limit: int) -> None:
        self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def bad_length(self, path: FormPath, low: int, high: int) -> None:
        self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def raise_if_any(self) -> None:
        """Raise the 400 Invalid Form Body carrying every error collected."""
        if self.tree:
            raise DiscordAPIError(400, 50035, "Invalid Form Body", self.tree)


def invalid_form_body(field: str, message: str, code: str = "BASE_TYPE_INVALID") -> DiscordAPIError:
    """400 Invalid Form Body pointing at ``field`` (a dotted path such as ``content``)."""
    errors = FormErrors()
    errors.add(tuple(field.split(".")), code, message)
    return DiscordAPIError(400, 50035, "Invalid Form Body", errors.tree)


def invalid_webhook_token() -> DiscordAPIError:
    """An interaction token past its 15 minutes, or invalidated by a missed 3-second deadline."""
    return DiscordAPIError(401, 50027, "Invalid Webhook Token")


def thread_archived() -> DiscordAPIError:
    return DiscordAPIError(400, 50083, "Thread is archived")


def cannot_message_user() -> DiscordAPIError:
    return DiscordAPIError(403, 50007, "Cannot send messages to this user")


def entity_too_large() -> DiscordAPIError:
    return DiscordAPIError(413, 40005, "Request entity too large")
