"""Application commands: the registry the bot syncs into, and turning a test's call
(``"caption submit", text="hi"``) into the interaction data Discord would send.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import payloads
from .command_rules import check_command, check_command_list
from .errors import invalid_form_body, unknown
from .state import Attachment, State

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)


class CommandRegistry:
    """Commands per scope: ``None`` for global, else a guild id; keyed by ``"type:name"``.

    With ``enforce_rules`` (a callable, so the emulator's switch is read at each sync) the
    command tree is checked as Discord checks it (:mod:`.command_rules`).
    """

    def __init__(self, state: State, enforce_rules: Callable[[], bool] = lambda: True) -> None:
        self._state = state
        self._enforce_rules = enforce_rules

    def _scope(self, guild_id: int | None) -> dict[str, dict[str, Any]]:
        return self._state.commands.setdefault(guild_id, {})

    def in_scope(self, guild_id: int | None) -> list[dict[str, Any]]:
        """The commands registered globally (``None``) or for one guild."""
        return list(self._scope(guild_id).values())

    def overwrite(self, guild_id: int | None, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Bulk overwrite (``PUT``): commands keep their id when their name and type survive."""
        if self._enforce_rules():
            check_command_list(bodies)
        old = self._scope(guild_id)
        new = {}
        for body in bodies:
            key = _key(body)
            if key in new:
                raise invalid_form_body("name", "Application command names must be unique")
            previous = old.get(key)
            new[key] = self._normalise(body, guild_id, previous["id"] if previous else None)
        self._state.commands[guild_id] = new
        return list(new.values())

    def upsert(self, guild_id: int | None, body: dict[str, Any]) -> dict[str, Any]:
        scope = self._scope(guild_id)
        if self._enforce_rules():
            check_command(body, list(scope.values()))
        previous = scope.get(_key(body))
        command = self._normalise(body, guild_id, previous["id"] if previous else None)
        scope[_key(body)] = command
        return command

    def get(self, guild_id: int | None, command_id: int) -> dict[str, Any]:
        for command in self._scope(guild_id).values():
            if int(command["id"]) == command_id:
                return command
        raise unknown("application command")

    def edit(self, guild_id: int | None, command_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """``PATCH``: the command keeps its id, even when renamed."""
        current = self.get(guild_id, command_id)
        scope = self._scope(guild_id)
        merged = {**current, **body}
        if self._enforce_rules():
            others = [c for c in scope.values() if c is not current]
            check_command(merged, others)
        del scope[_key(current)]
        command = self._normalise(merged, guild_id, current["id"])
        scope[_key(command)] = command
        return command

    def delete(self, guild_id: int | None, command_id: int) -> None:
        scope = self._scope(guild_id)
        key = _key(self.get(guild_id, command_id))
        del scope[key]

    def find(self, guild_id: int | None, name: str, kind: int = 1) -> dict[str, Any]:
        """The command a user in ``guild_id`` sees under ``name`` (guild commands first)."""
        for scope in (guild_id, None):
            command = self._state.commands.get(scope, {}).get(f"{kind}:{name}")
            if command is not None:
                return command
        raise LookupError(f"no application command {name!r} is registered; sync the tree first")

    def _normalise(
        self, body: dict[str, Any], guild_id: int | None, command_id: str | None
    ) -> dict[str, Any]:
        kind = int(body.get("type", 1))
        command = {
            "name_localizations": None,
            "description_localizations": None,
            "options": [],
            "default_member_permissions": None,
            "nsfw": False,
            "contexts": None,
            "integration_types": [0],
            **body,
            "id": command_id or str(self._state.ids.now()),
            "application_id": str(self._state.application_id),
            "version": str(self._state.ids.now()),
            "type": kind,
            "description": body.get("description", ""),
        }
        if command["integration_types"] is None:  # Discord's default: installed in a guild
            command["integration_types"] = [0]
        if command["default_member_permissions"] is not None:
            command["default_member_permissions"] = str(int(command["default_member_permissions"]))
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command


def _key(body: dict[str, Any]) -> str:
    return f"{int(body.get('type', 1))}:{body.get('name')}"


@dataclass
class Resolved:
    """The ``resolved`` block of interaction data, filled while converting options."""

    state: State
    guild_id: int
    channel_permissions: Callable[[int, int], int]
    new_attachment: Callable[[str, bytes], Attachment]
    base_url: str
    data: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _put(self, kind: str, key: int, value: dict[str, Any]) -> None:
        self.data.setdefault(kind, {})[str(key)] = value

    def user(self, user_id: int) -> None:
        state = self.state
        self._put("users", user_id, payloads.user_payload(state.user(user_id)))
        member = state.guild(self.guild_id).members.get(user_id)
        if member is not None:
            self._put("members", user_id, payloads.member_payload(state, member, with_user=False))

    def role(self, role_id: int) -> None:
        role = self.state.guild(self.guild_id).roles.get(role_id)
        if role is None:
            raise unknown("Role")
        self._put("roles", role_id, payloads.role_payload(role))

    def channel(self, channel_id: int, user_id: int) -> None:
        channel = self.state.channel(channel_id)
        perms = self.channel_permissions(channel_id, user_id)
        self._put("channels", channel_id, payloads.channel_payload(channel, permissions=perms))

    def attachment(self, upload: tuple[str, bytes]) -> int:
        filename, data = upload
        attachment = self.new_attachment(filename, data)
        self._put(
            "attachments", attachment.id, payloads.attachment_payload(attachment, self.base_url)
        )
        return attachment.id


def command_data(
    command: dict[str, Any],
    path: list[str],
    values: dict[str, Any],
    resolved: Resolved,
    user_id: int,
    *,
    focused: str | None = None,
) -> dict[str, Any]:
    """Interaction ``data`` for invoking ``command`` down ``path`` (subcommand names).

    Values are converted by option type: users, roles and channels by id (or anything with
    ``.id``), attachments as ``(filename, bytes)``. With ``focused`` (autocomplete), values are
    sent as the partial text typed so far.
    """
    options_schema: list[dict[str, Any]] = command.get("options") or []
    root: list[dict[str, Any]] = []
    leaf = root
    for name in path:
        sub = _option(options_schema, name, (SUB_COMMAND, SUB_COMMAND_GROUP))
        entry: dict[str, Any] = {"type": sub["type"], "name": name, "options": []}
        leaf.append(entry)
        leaf, options_schema = entry["options"], sub.get("options") or []
    if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in options_schema):
        raise ValueError(f"{command['name']} {' '.join(path)} needs a subcommand")

    for schema in options_schema:
        name = schema["name"]
        if name not in values:
            if schema.get("required") and focused is None:
                raise ValueError(f"missing required option {name!r}")
            continue
        value = values[name]
        if focused is not None:
            option = {"type": schema["type"], "name": name, "value": str(value)}
            if name == focused:
                option["focused"] = True
        else:
            converted = _convert(schema, value, resolved, user_id)
            option = {"type": schema["type"], "name": name, "value": converted}
        leaf.append(option)
    unknown_names = set(values) - {s["name"] for s in options_schema}
    if unknown_names:
        raise ValueError(f"unknown options {sorted(unknown_names)}")

    data: dict[str, Any] = {
        "id": command["id"],
        "name": command["name"],
        "type": command["type"],
        "options": root,
    }
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    if resolved.data:
        data["resolved"] = resolved.data
    return data


def _option(schema: list[dict[str, Any]], name: str, kinds: tuple[int, ...]) -> dict[str, Any]:
    for option in schema:
        if option["name"] == name and option["type"] in kinds:
            return option
    raise ValueError(f"no subcommand {name!r}")


def _snowflake(value: Any) -> int:
    return int(getattr(value, "id", value))


def _convert(schema: dict[str, Any], value: Any, resolved: Resolved, user_id: int) -> Any:
    kind = schema["type"]
    if kind == STRING:
        converted: Any = str(value)
    elif kind == INTEGER:
        converted = int(value)
    elif kind == NUMBER:
        converted = float(value)
    elif kind == BOOLEAN:
        converted = bool(value)
    elif kind == USER:
        converted = str(_snowflake(value))
        resolved.user(int(converted))
    elif kind == ROLE:
        converted = str(_snowflake(value))
        resolved.role(int(converted))
    elif kind == CHANNEL:
        converted = str(_snowflake(value))
        resolved.channel(int(converted), user_id)
    elif kind == MENTIONABLE:
        target = _snowflake(value)
        converted = str(target)
        if target in resolved.state.users:
            resolved.user(target)
        else:
            resolved.role(target)
    elif kind == ATTACHMENT:
        converted = str(resolved.attachment(value))
    else:
        raise ValueError(f"unsupported option type {kind}")
    choices = schema.get("choices")
    if choices and converted not in [c["value"] for c in choices]:
        raise ValueError(f"{value!r} is not one of the choices for {schema['name']!r}")
    return converted
