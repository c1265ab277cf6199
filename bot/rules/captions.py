"""What a caption may be, how two captions are recognised as the same, who may submit when."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

import icu

from bot.rules.schedule import Phase

MAX_CAPTION_LENGTH = 300
# Longer raw text is refused before any cleaning: normalising megabytes would stall the bot.
MAX_RAW_LENGTH = 4_000

# Characters that render as nothing, which people (and spammers) slip in to make one caption
# look like two: Unicode's default-ignorable code points (zero-width spaces and joiners, variation
# selectors, tag characters, Hangul fillers, …) and the format controls (bidi, interlinear
# annotation, musical-symbol beams, …). Prepended concatenation marks (U+0600…) are format
# controls that do show, so they stay. The set comes from ICU, which carries Unicode's data.
_INVISIBLE_SET = icu.UnicodeSet(
    "[[:Default_Ignorable_Code_Point:][:Cf:]-[:Prepended_Concatenation_Mark:]]"
)
_INVISIBLE = re.compile(
    "[" + "".join(f"{re.escape(a)}-{re.escape(b)}" for a, b in _INVISIBLE_SET.ranges()) + "]"
)
_WHITESPACE = re.compile(r"\s+")
# Unicode's confusables (TR39): the skeleton maps letters that look alike (Cyrillic о, Armenian
# օ, Latin ɑ, "rn" and "m", …) to one prototype. ICU documents its read-only calls as safe to
# share between threads.
_SPOOF_CHECKER = icu.SpoofChecker()
_MAX_FOLDS = 4  # skeleton and case folding settle within two rounds; this bounds the loop


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
    """The key two captions share when they look like the same caption.

    Invisible characters removed, case-folded, lookalike letters mapped to Unicode's prototypes
    (the TR39 skeleton: Cyrillic о and Latin o, "rn" and "m"), NFKC (fullwidth, ligature and
    styled letters fold to plain ones), whitespace collapsed. Case is folded before the skeleton,
    whose prototypes are case-sensitive ("I" and "l" share one, "i" does not). Repeated until it
    no longer changes, so a key is its own key.
    """
    key = clean_caption(text)
    for _ in range(_MAX_FOLDS):
        folded = _SPOOF_CHECKER.getSkeleton(0, _INVISIBLE.sub("", key).casefold())
        folded = unicodedata.normalize("NFKC", folded).casefold()
        folded = _WHITESPACE.sub(" ", _INVISIBLE.sub("", folded)).strip()
        if folded == key:
            break
        key = folded
    return key


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
