"""Request and response bodies: JSON or multipart (``payload_json`` + ``files[n]``) in,
JSON out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from .errors import DiscordAPIError
from .state import Attachment


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with ``Content-Type: application/json`` exactly, without a charset parameter:
    discord.py compares the header verbatim and treats anything else as text."""
    body = json.dumps(data, ensure_ascii=False).encode()
    response = web.Response(body=body, status=status, headers=headers)
    response.headers["Content-Type"] = "application/json"
    return response


@dataclass
class Upload:
    """A file part of a multipart request, ``index`` taken from its ``files[n]`` name."""

    index: int
    filename: str
    data: bytes


@dataclass
class RequestBody:
    """A request's JSON payload and the files uploaded with it."""

    payload: dict[str, Any]
    uploads: list[Upload] = field(default_factory=list)


REQUEST_PAYLOAD = web.RequestKey("discord_emulator.payload", object)
"""Where :func:`read_body` leaves the parsed JSON payload on the request, for the exchange log."""


async def read_body(request: web.Request) -> RequestBody:
    """Parse JSON or ``multipart/form-data`` as discord.py sends them."""
    if request.content_type == "multipart/form-data":
        body = await _read_multipart(request)
    elif not request.can_read_body:
        return RequestBody({})
    else:
        try:
            payload = await request.json()
        except json.JSONDecodeError:
            raise DiscordAPIError(400, 50109, "The request body contains invalid JSON.") from None
        body = RequestBody(payload if payload is not None else {})
    request[REQUEST_PAYLOAD] = body.payload
    return body


async def _read_multipart(request: web.Request) -> RequestBody:
    reader = await request.multipart()
    body = RequestBody({})
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        name = part.name or ""
        if name == "payload_json":
            body.payload = json.loads(await part.text())
        elif name.startswith("files[") and name.endswith("]"):
            data = bytes(await part.read(decode=True))
            body.uploads.append(Upload(int(name[6:-1]), part.filename or "file", data))
    return body


def build_attachments(
    payload: dict[str, Any],
    uploads: list[Upload],
    *,
    channel_id: int,
    new_id: Any,
    existing: list[Attachment] | None = None,
) -> list[Attachment]:
    """The attachment list a create or edit results in.

    ``payload["attachments"]`` names what to keep: existing attachments by their snowflake,
    uploads by their ``files[n]`` index (with optional filename/description). Without that key,
    an edit keeps what it had and appends new uploads.
    """
    by_index = {u.index: u for u in uploads}
    kept = {a.id: a for a in existing or []}
    listed = payload.get("attachments")
    if listed is None:
        return [*kept.values(), *(_new(u, {}, channel_id, new_id) for u in uploads)]
    result = []
    for entry in listed:
        ref = int(entry["id"])
        if ref in by_index:
            result.append(_new(by_index.pop(ref), entry, channel_id, new_id))
        elif ref in kept:
            result.append(kept[ref])
    result.extend(_new(u, {}, channel_id, new_id) for u in by_index.values())
    return result


def _new(upload: Upload, entry: dict[str, Any], channel_id: int, new_id: Any) -> Attachment:
    return Attachment(
        id=new_id(),
        channel_id=channel_id,
        filename=entry.get("filename") or upload.filename,
        data=upload.data,
        description=entry.get("description"),
    )


def content_text(content: Any) -> str:
    """A body's ``content`` as stored: None becomes empty (limits are checked in :mod:`.limits`)."""
    return "" if content is None else str(content)


async def read_json(request: web.Request) -> Any:
    """A JSON body of any shape (a command list, say), kept for the exchange log too."""
    try:
        payload = await request.json()
    except json.JSONDecodeError:
        raise DiscordAPIError(400, 50109, "The request body contains invalid JSON.") from None
    request[REQUEST_PAYLOAD] = payload
    return payload
