"""Discord's size limits on what a message, a modal or an autocomplete answer may hold.

Figures from ``message.mdx`` ("Embed Limits", "Create Message"), ``reference.mdx`` (buttons,
selects, text inputs, labels, "Legacy Message Component Behavior") and
``receiving-and-responding.mdx`` (the modal and autocomplete callbacks). Everything invalid in a
body is reported at once as 400 / 50035 with Discord's nested ``errors``; an upload too big is
413 / 40005.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .components import walk_components
from .errors import FormErrors, FormPath, entity_too_large

MAX_CONTENT = 2000
MAX_NONCE = 25
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
EMBED_TEXT_LIMITS = {"title": 256, "description": 4096}
MAX_EMBED_FIELDS = 25
MAX_FIELD_NAME, MAX_FIELD_VALUE = 256, 1024
MAX_FOOTER_TEXT, MAX_AUTHOR_NAME = 2048, 256
MAX_ACTION_ROWS, MAX_ROW_BUTTONS = 5, 5
MAX_V2_COMPONENTS = 40
MAX_CUSTOM_ID, MAX_BUTTON_LABEL, MAX_BUTTON_URL = 100, 80, 512
MAX_SELECT_OPTIONS, MAX_SELECT_PLACEHOLDER, MAX_OPTION_TEXT = 25, 150, 100
MAX_MODAL_TITLE, MAX_MODAL_COMPONENTS, MAX_LABEL = 45, 5, 45
MAX_TEXT_INPUT = 4000
MAX_CHOICES, MAX_CHOICE_TEXT = 25, 100
MAX_FILES = 10
MAX_FILE_BYTES = 10 * 1024 * 1024
"""The upload limit of an unboosted guild (``attachment_size_limit`` in each interaction)."""
MAX_REQUEST_BYTES = 25 * 1024 * 1024
"""``message.mdx``, Create Message: "The maximum request size when sending a message is 25 MiB"."""

IS_COMPONENTS_V2 = 1 << 15
ACTION_ROW, BUTTON, STRING_SELECT, TEXT_INPUT, LABEL = 1, 2, 3, 4, 18
_SELECTS = (3, 5, 6, 7, 8)
_LINK, _PREMIUM = 5, 6


def check_message(payload: dict[str, Any], upload_sizes: Sequence[int], at: FormPath = ()) -> None:
    """Raise Discord's error if a message body (create, edit, follow-up, interaction reply)
    breaks a limit; ``at`` is where the message sits in the request (``("data",)`` in a
    callback)."""
    check_uploads(upload_sizes)
    errors = FormErrors()
    content = payload.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT:
        errors.max_length((*at, "content"), MAX_CONTENT)
    nonce = payload.get("nonce")
    if isinstance(nonce, str) and len(nonce) > MAX_NONCE:
        errors.max_length((*at, "nonce"), MAX_NONCE)
    _check_embeds(errors, payload.get("embeds") or [], (*at, "embeds"))
    v2 = bool(int(payload.get("flags") or 0) & IS_COMPONENTS_V2)
    _check_components(errors, payload.get("components") or [], (*at, "components"), v2=v2)
    errors.raise_if_any()


def check_uploads(sizes: Sequence[int]) -> None:
    """At most 10 files, each within the guild's upload limit, the request within 25 MiB."""
    if len(sizes) > MAX_FILES:
        errors = FormErrors()
        errors.max_length(("files",), MAX_FILES)
        errors.raise_if_any()
    if any(size > MAX_FILE_BYTES for size in sizes) or sum(sizes) > MAX_REQUEST_BYTES:
        raise entity_too_large()


def check_modal(data: dict[str, Any]) -> None:
    """A modal callback's ``data``: custom_id, title, 1 to 5 components, their inputs."""
    errors = FormErrors()
    at: FormPath = ("data",)
    _check_custom_id(errors, data.get("custom_id"), (*at, "custom_id"))
    _check_required_text(errors, data.get("title"), (*at, "title"), MAX_MODAL_TITLE)
    components = data.get("components") or []
    if not 1 <= len(components) <= MAX_MODAL_COMPONENTS:
        errors.bad_length((*at, "components"), 1, MAX_MODAL_COMPONENTS)
    for index, component in enumerate(components):
        path = (*at, "components", index)
        if component.get("type") == LABEL:
            _check_text(errors, component.get("label"), (*path, "label"), MAX_LABEL)
            _check_text(errors, component.get("description"), (*path, "description"), 100)
            _check_modal_input(errors, component.get("component") or {}, (*path, "component"))
        else:
            for inner, child in enumerate(component.get("components") or []):
                _check_modal_input(errors, child, (*path, "components", inner))
    errors.raise_if_any()


def check_choices(data: dict[str, Any]) -> None:
    """An autocomplete answer: at most 25 choices, names 1-100, string values up to 100."""
    errors = FormErrors()
    choices = data.get("choices") or []
    if len(choices) > MAX_CHOICES:
        errors.max_length(("data", "choices"), MAX_CHOICES)
    for index, choice in enumerate(choices):
        path = ("data", "choices", index)
        name = choice.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_CHOICE_TEXT:
            errors.bad_length((*path, "name"), 1, MAX_CHOICE_TEXT)
        value = choice.get("value")
        if isinstance(value, str) and len(value) > MAX_CHOICE_TEXT:
            errors.max_length((*path, "value"), MAX_CHOICE_TEXT)
    errors.raise_if_any()


def stored_embeds(embeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Embeds as Discord keeps them (``message.mdx``): ``type`` is "rich" "regardless of if you
    try to set it", and the limited texts are trimmed of surrounding whitespace."""
    stored = []
    for embed in embeds:
        kept = {**embed, "type": "rich"}
        for key in EMBED_TEXT_LIMITS:
            if isinstance(kept.get(key), str):
                kept[key] = kept[key].strip()
        if kept.get("fields"):
            kept["fields"] = [
                {**f, **{k: f[k].strip() for k in ("name", "value") if isinstance(f.get(k), str)}}
                for f in kept["fields"]
            ]
        for key, inner in (("footer", "text"), ("author", "name")):
            if isinstance(kept.get(key), dict) and isinstance(kept[key].get(inner), str):
                kept[key] = {**kept[key], inner: kept[key][inner].strip()}
        stored.append(kept)
    return stored


def _length(value: Any) -> int:
    """A text's length as Discord counts it for embeds: leading/trailing whitespace trimmed."""
    return len(value.strip()) if isinstance(value, str) else 0


def _check_text(errors: FormErrors, value: Any, path: FormPath, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        errors.max_length(path, limit)


def _check_required_text(errors: FormErrors, value: Any, path: FormPath, limit: int) -> None:
    if not isinstance(value, str) or not value:
        errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")
    else:
        _check_text(errors, value, path, limit)


def _check_custom_id(errors: FormErrors, value: Any, path: FormPath) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_CUSTOM_ID:
        errors.bad_length(path, 1, MAX_CUSTOM_ID)


def _check_embeds(errors: FormErrors, embeds: list[dict[str, Any]], at: FormPath) -> None:
    if len(embeds) > MAX_EMBEDS:
        errors.max_length(at, MAX_EMBEDS)
    total = 0
    for index, embed in enumerate(embeds):
        path = (*at, index)
        for key, limit in EMBED_TEXT_LIMITS.items():
            total += _length(embed.get(key))
            if _length(embed.get(key)) > limit:
                errors.max_length((*path, key), limit)
        fields = embed.get("fields") or []
        if len(fields) > MAX_EMBED_FIELDS:
            errors.max_length((*path, "fields"), MAX_EMBED_FIELDS)
        for number, field in enumerate(fields):
            for key, limit in (("name", MAX_FIELD_NAME), ("value", MAX_FIELD_VALUE)):
                text = field.get(key)
                if not isinstance(text, str) or not text.strip():
                    errors.add(
                        (*path, "fields", number, key),
                        "BASE_TYPE_REQUIRED",
                        "This field is required",
                    )
                elif _length(text) > limit:
                    errors.max_length((*path, "fields", number, key), limit)
                total += _length(text)
        for key, inner, limit in (
            ("footer", "text", MAX_FOOTER_TEXT),
            ("author", "name", MAX_AUTHOR_NAME),
        ):
            text = (embed.get(key) or {}).get(inner)
            total += _length(text)
            if _length(text) > limit:
                errors.max_length((*path, key, inner), limit)
    if total > MAX_EMBED_TOTAL:
        errors.add(
            at, "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}"
        )


def _check_components(
    errors: FormErrors, components: list[dict[str, Any]], at: FormPath, *, v2: bool
) -> None:
    custom_ids: set[str] = set()
    if v2:
        if sum(1 for _ in walk_components(components)) > MAX_V2_COMPONENTS:
            errors.max_length(at, MAX_V2_COMPONENTS)
    elif len(components) > MAX_ACTION_ROWS:
        errors.max_length(at, MAX_ACTION_ROWS)
    for index, row in enumerate(components):
        path = (*at, index)
        if not v2 and row.get("type") != ACTION_ROW:
            errors.add(
                (*path, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1,).'
            )
            continue
        children = row.get("components") or []
        if row.get("type") == ACTION_ROW:
            _check_row(errors, children, (*path, "components"))
        for number, child in enumerate(children):
            _check_interactive(errors, child, (*path, "components", number), custom_ids)


def _check_row(errors: FormErrors, children: list[dict[str, Any]], at: FormPath) -> None:
    kinds = [child.get("type") for child in children]
    selects = sum(1 for kind in kinds if kind in _SELECTS)
    if not children or (selects and len(children) > 1):
        errors.add(
            at,
            "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
            "The specified component exceeds the maximum width",
        )
    elif len(children) > MAX_ROW_BUTTONS:
        errors.max_length(at, MAX_ROW_BUTTONS)


def _check_interactive(
    errors: FormErrors, component: dict[str, Any], at: FormPath, custom_ids: set[str]
) -> None:
    kind = component.get("type")
    custom_id = component.get("custom_id")
    if kind == BUTTON:
        style = component.get("style")
        _check_text(errors, component.get("label"), (*at, "label"), MAX_BUTTON_LABEL)
        if style == _LINK:
            url = component.get("url")
            if not isinstance(url, str) or not url:
                errors.add((*at, "url"), "BASE_TYPE_REQUIRED", "This field is required")
            else:
                _check_text(errors, url, (*at, "url"), MAX_BUTTON_URL)
            if custom_id is not None:
                errors.add(
                    (*at, "custom_id"),
                    "COMPONENT_INVALID_FIELD",
                    "A link button cannot have a custom_id",
                )
            return
        if style == _PREMIUM:
            return
    elif kind not in _SELECTS:
        return
    _check_custom_id(errors, custom_id, (*at, "custom_id"))
    if isinstance(custom_id, str):
        if custom_id in custom_ids:
            errors.add(
                (*at, "custom_id"),
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        custom_ids.add(custom_id)
    if kind in _SELECTS:
        _check_select(errors, component, at)


def _check_select(errors: FormErrors, select: dict[str, Any], at: FormPath) -> None:
    _check_text(errors, select.get("placeholder"), (*at, "placeholder"), MAX_SELECT_PLACEHOLDER)
    for key in ("min_values", "max_values"):
        value = select.get(key)
        low = 0 if key == "min_values" else 1
        if value is not None and not low <= int(value) <= MAX_SELECT_OPTIONS:
            errors.add(
                (*at, key),
                "NUMBER_TYPE_MAX",
                f"Int value should be between {low} and {MAX_SELECT_OPTIONS}.",
            )
    if select.get("type") != STRING_SELECT:
        return
    options = select.get("options") or []
    if not 1 <= len(options) <= MAX_SELECT_OPTIONS:
        errors.bad_length((*at, "options"), 1, MAX_SELECT_OPTIONS)
    for index, option in enumerate(options):
        for key in ("label", "value"):
            _check_required_text(
                errors, option.get(key), (*at, "options", index, key), MAX_OPTION_TEXT
            )
        _check_text(
            errors,
            option.get("description"),
            (*at, "options", index, "description"),
            MAX_OPTION_TEXT,
        )


def _check_modal_input(errors: FormErrors, component: dict[str, Any], at: FormPath) -> None:
    if component.get("type") != TEXT_INPUT:
        if component.get("type") in _SELECTS:
            _check_custom_id(errors, component.get("custom_id"), (*at, "custom_id"))
            _check_select(errors, component, at)
        return
    _check_custom_id(errors, component.get("custom_id"), (*at, "custom_id"))
    _check_text(errors, component.get("label"), (*at, "label"), MAX_LABEL)
    _check_text(errors, component.get("placeholder"), (*at, "placeholder"), 100)
    _check_text(errors, component.get("value"), (*at, "value"), MAX_TEXT_INPUT)
    for key, low in (("min_length", 0), ("max_length", 1)):
        value = component.get(key)
        if value is not None and not low <= int(value) <= MAX_TEXT_INPUT:
            errors.add(
                (*at, key),
                "NUMBER_TYPE_MAX",
                f"Int value should be between {low} and {MAX_TEXT_INPUT}.",
            )
