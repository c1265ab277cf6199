"""Matching blocked terms the way a reader sees them, not the way the bytes spell them.

A plain whole-word match lets through what a hostile member (or a model) can write in a moment:
plurals and other inflections ("slurs"), fullwidth letters ("ｓｌｕｒ"), lookalike letters from
other scripts (Cyrillic "а" for Latin "a"), and invisible characters inside a word (a zero-width
space or a soft hyphen). :func:`fold` undoes those before matching:

1. NFKC, which turns fullwidth and other compatibility forms into plain letters;
2. removing every Unicode *default-ignorable* code point (they render as nothing);
3. case folding;
4. a confusables skeleton after Unicode TR39: every letter that the Unicode confusables data
   (``confusable-homoglyphs``, which ships ``confusables.txt``) lists as a lookalike of an ASCII
   letter or digit becomes that ASCII character;
5. NFKD with the combining marks dropped ("é" matches "e").

:func:`blocked_term_in` then compares word by word, accepting simple English inflections of the
text's words: plurals and possessives (-s, -es after a sibilant, -ies for -y, 's, s'). Verb
endings (-ed, -ing) are left alone on purpose: "spiced" and "chinking" are ordinary words.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources

# Default_Ignorable_Code_Point, from Unicode's DerivedCoreProperties.txt (stable since 6.x):
# soft hyphen, combining grapheme joiner, zero-width and bidi controls, variation selectors,
# Hangul fillers, musical-symbol format characters, tag characters, and their reserved ranges.
DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_IGNORABLE = re.compile(
    "[" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in DEFAULT_IGNORABLE) + "]"
)
_WORD = re.compile(r"[\w']+")
_SIBILANT_ENDINGS = ("s", "x", "z", "ch", "sh")


@cache
def _lookalikes() -> dict[int, str]:
    """Non-ASCII character → the ASCII letter (else digit) it is confusable with."""
    data = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    )
    table: dict[int, str] = {}
    for character, glyphs in data.items():
        if len(character) != 1 or character.isascii():
            continue
        ascii_glyphs = [g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii()]
        letters = [g for g in ascii_glyphs if g.isalpha()] or [
            g for g in ascii_glyphs if g.isdigit()
        ]
        if letters:
            table[ord(character)] = letters[0].lower()
    return table


def fold(text: str) -> str:
    """``text`` as plain lowercase ASCII-where-possible, for matching (never for display)."""
    text = _IGNORABLE.sub("", unicodedata.normalize("NFKC", text)).casefold()
    text = text.translate(_lookalikes())
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def word_forms(word: str) -> set[str]:
    """``word`` and the singulars it may be a plural or possessive of ("retards" → "retard")."""
    forms = {word}
    for possessive in ("'s", "s'"):
        if word.endswith(possessive):
            word = word[: -len(possessive)] + ("s" if possessive == "s'" else "")
            forms.add(word)
    if word.endswith("ies") and len(word) > 4:
        forms.add(word[:-3] + "y")
    elif word.endswith("es") and word[:-2].endswith(_SIBILANT_ENDINGS):
        forms.add(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        forms.add(word[:-1])
    return forms


def words(text: str) -> list[str]:
    """The folded words of ``text``."""
    folded = fold(text).replace("_", " ").replace("\u2019", "'")
    return [w.strip("'") for w in _WORD.findall(folded) if w.strip("'")]


def blocked_term_in(text: str, terms: Iterable[str]) -> str | None:
    """The first of ``terms`` that ``text`` contains as whole words (inflected, disguised), or None."""
    text_forms = [word_forms(w) for w in words(text)]
    for term in terms:
        wanted = words(term)
        if not wanted:
            continue
        for start in range(len(text_forms) - len(wanted) + 1):
            if all(w in text_forms[start + i] for i, w in enumerate(wanted)):
                return term
    return None
