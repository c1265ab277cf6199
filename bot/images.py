"""Validating images moderators upload for the prompt pool (Pillow).

Everything is decided from the bytes, never the file name: the real format must be PNG, JPEG,
WebP or GIF (first frame); the header's pixel count is checked before any pixel is decoded, so a
decompression bomb costs nothing; orientation is applied, then EXIF, GPS and every other piece of
metadata is dropped by re-encoding; the picture is shrunk to fit Discord's embeds. CPU work: call
:func:`prepare_prompt_image` through ``asyncio.to_thread``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # e.g. 8000 × 5000; Pillow itself warns at ~89 M and refuses at ~179 M
MAX_SIDE = 1600
ALLOWED_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
# What Pillow raises on EXIF it cannot parse (a PNG eXIf chunk or WebP EXIF block that is not TIFF).
_BROKEN_METADATA = (SyntaxError, ValueError, OSError, EOFError, struct.error, KeyError, IndexError)

log = logging.getLogger(__name__)


class ImageRejected(ValueError):
    """An upload that cannot become a prompt; ``str(exc)`` is a polite, user-facing reason."""


@dataclass(frozen=True)
class PreparedImage:
    data: bytes
    format: str  # "png" or "jpeg"
    width: int
    height: int
    content_hash: str  # of the decoded pixels: the same picture re-saved or re-tagged matches


def prepare_prompt_image(data: bytes) -> PreparedImage:
    """Validate an upload and return it cleaned, or raise :class:`ImageRejected`."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRejected(
            f"That file is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ALLOWED_FORMATS:
                raise ImageRejected(
                    f"That file is {image.format or 'an unknown format'}; "
                    "please upload a PNG, JPEG, WebP or GIF."
                )
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageRejected(
                    f"That image is {width}×{height} pixels, too large to process "
                    f"safely (limit {MAX_PIXELS // 1_000_000} megapixels)."
                )
            image.seek(0)  # first frame of an animation
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(
            "I couldn't read that as an image. Please upload a PNG, JPEG, WebP or GIF."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if isinstance(exc, ImageRejected):
            raise
        raise ImageRejected(
            "That image file is damaged or incomplete; please upload it again."
        ) from None
    return _clean(image)


def _upright(image: Image.Image) -> Image.Image:
    """The image turned by its EXIF orientation; as it is when the EXIF cannot be read.

    Unreadable EXIF carries no orientation worth trusting, and is dropped with the rest of the
    metadata when the picture is re-encoded.
    """
    try:
        return ImageOps.exif_transpose(image)
    except _BROKEN_METADATA as exc:
        log.info("ignoring unreadable EXIF in an upload: %s", exc)
        return image


def _clean(image: Image.Image) -> PreparedImage:
    image = _upright(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if has_alpha else "RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    pixels = image.tobytes()
    digest = hashlib.sha256(f"{image.mode}{image.size}".encode() + pixels).hexdigest()
    clean = Image.frombytes(image.mode, image.size, pixels)  # a fresh image: no info, no EXIF
    out = io.BytesIO()
    if has_alpha:
        clean.save(out, format="PNG", optimize=True)
    else:
        clean.save(out, format="JPEG", quality=88, optimize=True)
    return PreparedImage(out.getvalue(), "png" if has_alpha else "jpeg", *clean.size, digest)
