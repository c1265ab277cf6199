"""What a caption may be, how two captions are recognised as the same, who may submit when."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from bot.rules.schedule import Phase

MAX_CAPTION_LENGTH = 300
# Longer raw text is refused before any cleaning: normalising megabytes would stall the bot.
MAX_RAW_LENGTH = 4_000

# Invisible characters people (and spammers) use to make one caption look like two: zero-width
# spaces and joiners, word joiner, BOM, soft hyphen, bidi controls, Mongolian vowel separator,
# combining grapheme joiner, variation selectors.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)
_WHITESPACE = re.compile(r"\s+")

# Letters from other scripts that render like Latin ones (a small, common subset of Unicode's
# confusables), so “hеllo” with a Cyrillic е counts as a duplicate of “hello”.
_LOOKALIKES = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ɡ": "g",
        "ο": "o",
        "α": "a",
        "ε": "e",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ϲ": "c",
        "ӏ": "l",
    }
)


class CaptionRejected(ValueError):
    """A caption or submission that is refused; ``str(exc)`` is a polite, user-facing reason."""


def clean_caption(text: str) -> str:
    """The caption as it will be shown: invisible characters gone, whitespace collapsed, trimmed.

    Control characters (newlines, tabs) become spaces: a caption is one line.
    """
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return _WHITESPACE.sub(" ", text).strip()


def normalize_caption(text: str) -> str:
    """The key two captions share when they are the same caption.

    NFKC (fullwidth and ligature forms fold to plain ones), invisible characters removed,
    case-folded, common homoglyphs mapped to Latin, whitespace collapsed.
    """
    folded = unicodedata.normalize("NFKC", clean_caption(text)).casefold()
    folded = _INVISIBLE.sub("", folded).translate(_LOOKALIKES)
    return _WHITESPACE.sub(" ", folded).strip()


def validate_caption(text: str) -> tuple[str, str]:
    """(shown text, normalised key) for an acceptable caption, else :class:`CaptionRejected`."""
    if len(text) > MAX_RAW_LENGTH:
        raise _too_long(len(text))
    shown = clean_caption(text)
    if not shown:
        raise CaptionRejected("Your caption is empty. Write a line that makes the picture funnier!")
    if len(shown) > MAX_CAPTION_LENGTH:
        raise _too_long(len(shown))
    return shown, normalize_caption(shown)


def _too_long(length: int) -> CaptionRejected:
    return CaptionRejected(
        f"Your caption is {length:,} characters; the limit is {MAX_CAPTION_LENGTH}. "
        "The best captions are short!"
    )


class SubmissionAction(StrEnum):
    ADD = "add"
    REPLACE_OLDEST = "replace_oldest"


@dataclass(frozen=True)
class SubmissionContext:
    phase: Phase | None  # None: no contest is running
    banned: bool
    live_entries: int
    max_entries: int


def decide_submission(ctx: SubmissionContext) -> SubmissionAction:
    """Whether a new caption is added or replaces the member's oldest, or why it is refused.

    Members may keep ``max_entries`` live entries; submitting another replaces their oldest,
    so with the default of one, re-submitting replaces.
    """
    if ctx.banned:
        raise CaptionRejected(
            "You can't enter contests in this server right now. "
            "Ask a moderator if you think this is a mistake."
        )
    require_submissions_open(ctx.phase)
    if ctx.live_entries >= ctx.max_entries:
        return SubmissionAction.REPLACE_OLDEST
    return SubmissionAction.ADD


def require_submissions_open(phase: Phase | None) -> None:
    """Entries can be added, edited or withdrawn only while submissions are open."""
    if phase is None:
        raise CaptionRejected(
            "There's no contest running right now. The next prompt is on its way!"
        )
    if phase is Phase.VOTING:
        raise CaptionRejected(
            "Submissions are closed: voting has started. "
            "Go rate the entries, and try again tomorrow!"
        )
    if phase is Phase.CLOSED:
        raise CaptionRejected("This contest has closed. The next prompt is on its way!")
