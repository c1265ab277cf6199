"""The rules Discord checks when a bot syncs its command tree (``application-commands.mdx``).

- names of ``CHAT_INPUT`` commands and of options match
  ``^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$`` and use the lowercase variant of every
  letter ("Application Command Naming"); ``USER``/``MESSAGE`` names are 1-32 of anything;
- descriptions 1-100 characters (empty for ``USER``/``MESSAGE`` commands);
- at most 25 options per level and 25 choices per option; choice names 1-100, string values up
  to 100; option names unique within their array; required options before optional ones
  ("Application Command Option Structure");
- nesting: subcommand groups hold only subcommands, subcommands hold only plain options, and
  subcommands do not sit beside plain options ("Subcommands and Subcommand Groups");
- at most 8000 characters of names, descriptions and choice names/values per command
  ("Slash Commands": the docs say 8000, not the 4000 of older pages);
- per scope at most 100 ``CHAT_INPUT``, 15 ``USER`` and 15 ``MESSAGE`` commands, names unique
  per type ("Registering a Command").

A bulk overwrite reports each invalid command under its index, e.g.
``{"0": {"options": {"2": {"_errors": [{"code": "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
…}]}}}}`` inside a 400 / 50035 Invalid Form Body.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Any

from .errors import DiscordAPIError, FormErrors, FormPath

CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
MAX_NAME, MAX_DESCRIPTION, MAX_OPTIONS, MAX_CHOICES, MAX_CHOICE_TEXT = 32, 100, 25, 25, 100
MAX_COMMAND_SIZE = 8000
MAX_COMMANDS = {CHAT_INPUT: 100, USER_COMMAND: 15, MESSAGE_COMMAND: 15}
_NAME_PUNCTUATION = frozenset("-_'")
_DEVANAGARI, _THAI = range(0x0900, 0x0980), range(0x0E00, 0x0E80)


def is_valid_chat_input_name(name: str) -> bool:
    """Discord's name pattern, with the rule that cased letters must be lowercase."""
    if not 1 <= len(name) <= MAX_NAME:
        return False
    for char in name:
        allowed = (
            char in _NAME_PUNCTUATION
            or unicodedata.category(char)[0] in "LN"
            or ord(char) in _DEVANAGARI
            or ord(char) in _THAI
        )
        if not allowed or char != char.lower():
            return False
    return True


def check_command_list(bodies: list[dict[str, Any]]) -> None:
    """A bulk overwrite (``PUT …/commands``): every command, their count, unique names."""
    errors = FormErrors()
    if not isinstance(bodies, list):
        errors.add((), "BASE_TYPE_ARRAY", "Must be an array.")
        errors.raise_if_any()
    for kind, count in Counter(_kind(b) for b in bodies).items():
        limit = MAX_COMMANDS.get(kind)
        if limit is not None and count > limit:
            errors.max_length((), limit)
    seen: set[tuple[int, str]] = set()
    for index, body in enumerate(bodies):
        _check_command(errors, body, (index,))
        key = (_kind(body), str(body.get("name")))
        if key in seen:
            errors.add(
                (index,),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add(key)
    errors.raise_if_any()


def check_command(body: dict[str, Any], existing: list[dict[str, Any]]) -> None:
    """One command created or edited; ``existing`` is the scope's other commands."""
    errors = FormErrors()
    _check_command(errors, body, ())
    errors.raise_if_any()
    kind = _kind(body)
    others = [c for c in existing if _kind(c) == kind and c.get("name") != body.get("name")]
    if len(others) >= MAX_COMMANDS.get(kind, len(others) + 1):
        raise DiscordAPIError(
            400, 30032, f"Maximum number of application commands reached ({MAX_COMMANDS[kind]})"
        )


def command_size(body: dict[str, Any]) -> int:
    """Characters that count toward the 8000: names, descriptions, choice names and values
    (the longest localization of each counts instead, when there are localizations)."""
    size = _longest(body, "name") + _longest(body, "description")
    for option in body.get("options") or []:
        size += command_size(option)
    for choice in body.get("choices") or []:
        size += _longest(choice, "name") + len(str(choice.get("value", "")))
    return size


def _kind(body: dict[str, Any]) -> int:
    return int(body.get("type") or CHAT_INPUT)


def _longest(body: dict[str, Any], key: str) -> int:
    texts = [str(body.get(key) or "")]
    texts += [str(t) for t in (body.get(f"{key}_localizations") or {}).values()]
    return max(len(t) for t in texts)


def _check_command(errors: FormErrors, body: dict[str, Any], at: FormPath) -> None:
    kind = _kind(body)
    name = str(body.get("name") or "")
    description = str(body.get("description") or "")
    if kind == CHAT_INPUT:
        if not is_valid_chat_input_name(name):
            errors.add((*at, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        _check_description(errors, description, (*at, "description"))
        _check_options(errors, body.get("options") or [], (*at, "options"), depth=0)
        if command_size(body) > MAX_COMMAND_SIZE:
            errors.add(
                at,
                "APPLICATION_COMMAND_TOO_LARGE",
                f"Command exceeds maximum size ({MAX_COMMAND_SIZE})",
            )
        return
    if not 1 <= len(name) <= MAX_NAME:
        errors.bad_length((*at, "name"), 1, MAX_NAME)
    if description:
        errors.add(
            (*at, "description"),
            "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
            "Context menu commands cannot have description",
        )
    if body.get("options"):
        errors.add(
            (*at, "options"),
            "APPLICATION_COMMAND_CONTEXT_MENU_OPTIONS",
            "Context menu commands cannot have options",
        )


def _check_description(errors: FormErrors, description: str, at: FormPath) -> None:
    if not 1 <= len(description) <= MAX_DESCRIPTION:
        errors.bad_length(at, 1, MAX_DESCRIPTION)


def _check_options(
    errors: FormErrors, options: list[dict[str, Any]], at: FormPath, *, depth: int
) -> None:
    """``depth`` 0: a command's options; 1: a group's or subcommand's; 2: a grouped subcommand's."""
    if len(options) > MAX_OPTIONS:
        errors.max_length(at, MAX_OPTIONS)
    kinds = [int(o.get("type") or 0) for o in options]
    nested = [k in (SUB_COMMAND, SUB_COMMAND_GROUP) for k in kinds]
    if any(nested) and not all(nested):
        errors.add(
            at,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to all other types",
        )
    names: set[str] = set()
    optional_seen = False
    for index, option in enumerate(options):
        path = (*at, index)
        kind = kinds[index]
        name = str(option.get("name") or "")
        if not is_valid_chat_input_name(name):
            errors.add(
                (*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
            )
        if name in names:
            errors.add(
                (*path, "name"),
                "APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME",
                "Command option names must be unique",
            )
        names.add(name)
        _check_description(errors, str(option.get("description") or ""), (*path, "description"))
        if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
            _check_nesting(errors, option, kind, path, depth)
            continue
        if option.get("required"):
            if optional_seen:
                errors.add(
                    path,
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        _check_choices(errors, option, path)


def _check_nesting(
    errors: FormErrors, option: dict[str, Any], kind: int, at: FormPath, depth: int
) -> None:
    """Groups only at the top, holding subcommands; subcommands hold plain options only."""
    children = option.get("options") or []
    if kind == SUB_COMMAND_GROUP and depth > 0:
        errors.add(
            (*at, "type"),
            "APPLICATION_COMMAND_SUBCOMMAND_GROUP_DEPTH_EXCEEDED",
            "Sub-command groups can only be nested one level deep",
        )
        return
    if kind == SUB_COMMAND and depth > 1:
        errors.add(
            (*at, "type"),
            "APPLICATION_COMMAND_SUBCOMMAND_DEPTH_EXCEEDED",
            "Sub-commands can only be nested in a sub-command group",
        )
        return
    child_kinds = {int(c.get("type") or 0) for c in children}
    if kind == SUB_COMMAND_GROUP and child_kinds - {SUB_COMMAND}:
        errors.add(
            (*at, "options"),
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "A sub-command group can only contain sub-commands",
        )
        return
    if kind == SUB_COMMAND and child_kinds & {SUB_COMMAND, SUB_COMMAND_GROUP}:
        errors.add(
            (*at, "options"),
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "A sub-command cannot contain sub-commands",
        )
        return
    _check_options(errors, children, (*at, "options"), depth=depth + 1)


def _check_choices(errors: FormErrors, option: dict[str, Any], at: FormPath) -> None:
    choices = option.get("choices") or []
    if len(choices) > MAX_CHOICES:
        errors.max_length((*at, "choices"), MAX_CHOICES)
    if choices and option.get("autocomplete"):
        errors.add(
            (*at, "autocomplete"),
            "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
            "Autocomplete cannot be set when choices are present",
        )
    for index, choice in enumerate(choices):
        path = (*at, "choices", index)
        if not 1 <= len(str(choice.get("name") or "")) <= MAX_CHOICE_TEXT:
            errors.bad_length((*path, "name"), 1, MAX_CHOICE_TEXT)
        value = choice.get("value")
        if isinstance(value, str) and len(value) > MAX_CHOICE_TEXT:
            errors.max_length((*path, "value"), MAX_CHOICE_TEXT)
    for key, high in (("min_length", 6000), ("max_length", 6000)):
        value = option.get(key)
        low = 0 if key == "min_length" else 1
        if value is not None and not low <= int(value) <= high:
            errors.add(
                (*at, key), "NUMBER_TYPE_MAX", f"Int value should be between {low} and {high}."
            )
