"""Uploads whose metadata is broken: the pixels are kept, the metadata never raises past validation."""

from __future__ import annotations

import contextlib
import io
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.images import ImageRejected, prepare_prompt_image
from storage import open_database, prompts
from tests.bot.conftest import punchline


def png_with_exif_chunk(payload: bytes) -> bytes:
    """A small PNG carrying ``payload`` as its eXIf chunk (placed before the image data)."""
    plain = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(plain, format="PNG")
    data = plain.getvalue()
    crc = zlib.crc32(b"eXIf" + payload) & 0xFFFFFFFF
    chunk = struct.pack(">I", len(payload)) + b"eXIf" + payload + struct.pack(">I", crc)
    before_idat = data.index(b"IDAT") - 4
    return data[:before_idat] + chunk + data[before_idat:]


def webp_with_exif_block(payload: bytes) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (40, 200, 40)).save(out, format="WEBP", exif=payload)
    return out.getvalue()


BROKEN_EXIF = [b"\xff\xd8\xff\xe1", b"\xff" * 64, b"\xffExif\x00\x00MM\x00*", b"II*\x00\xff\xff"]


@pytest.mark.parametrize("payload", BROKEN_EXIF)
@pytest.mark.parametrize("wrap", [png_with_exif_chunk, webp_with_exif_block])
def test_unreadable_exif_keeps_the_picture_and_drops_the_metadata(wrap, payload):
    """Defect 9: a PNG eXIf chunk or WebP EXIF block starting ``\\xff`` made the orientation step
    raise outside validation's error handling. The picture is accepted, unrotated, without it."""
    prepared = prepare_prompt_image(wrap(payload))
    assert (prepared.width, prepared.height) == (40, 30)
    assert not Image.open(io.BytesIO(prepared.data)).getexif()


@settings(max_examples=200, deadline=None)
@given(
    payload=st.binary(min_size=0, max_size=200),
    wrap=st.sampled_from([png_with_exif_chunk, webp_with_exif_block]),
)
def test_any_exif_bytes_give_a_picture_or_a_polite_refusal(payload, wrap):
    """Defect 9, as a property: whatever the eXIf chunk holds, validation answers with a
    prepared image or :class:`ImageRejected`, never another exception."""
    with contextlib.suppress(ImageRejected):
        prepare_prompt_image(wrap(payload))


async def test_a_moderator_adding_a_picture_with_broken_exif_gets_it_added(emu, server, tmp_path):
    """Defect 9 end to end: /prompt add with a PNG whose eXIf chunk starts with ``\\xff`` gets a
    normal answer (the picture added, metadata stripped), not "something went wrong"."""
    async with punchline(emu, tmp_path / "p.db"):
        answer = await emu.slash(
            server.guild.id,
            server.channel.id,
            server.mod.id,
            "prompt add",
            image=("odd.png", png_with_exif_chunk(b"\xff\xd8\xff\xe1" + b"\x00" * 16)),
            description="A lighthouse in fog",
        )
    assert "Added prompt #1 (40×30" in answer.content
    db = open_database(tmp_path / "p.db")
    assert not Image.open(io.BytesIO(prompts.prompt_image(db, 1))).getexif()
