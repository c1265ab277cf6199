"""Matching blocked terms the way a reader sees them, not the way the bytes spell them.

A plain whole-word match lets through what a hostile member (or a model) can write in a moment:
plurals and other inflections ("slurs"), fullwidth letters ("ｓｌｕｒ"), lookalike letters from
other scripts (Cyrillic "а" for Latin "a"), and invisible characters inside a word (a zero-width
space or a soft hyphen). :func:`fold` undoes those before matching:

1. NFKC, which turns fullwidth and other compatibility forms into plain letters;
2. removing every Unicode *default-ignorable* code point (they render as nothing);
3. case folding;
4. Unicode's TR39 confusables skeleton (ICU's ``SpoofChecker``): letters that look alike map to
   one prototype, Cyrillic "а" and Latin "a" alike;
5. NFKD with the combining marks dropped ("é" matches "e"), repeated until nothing changes.

:func:`blocked_term_in` then compares word by word, accepting simple English inflections of the
text's words: plurals and possessives (-s, -es after a sibilant, -ies for -y, 's, s'). Verb
endings (-ed, -ing) are left alone on purpose: "spiced" and "chinking" are ordinary words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import icu

# What renders as nothing: Unicode's default-ignorable code points (soft hyphen, zero-width and
# bidi controls, variation selectors, tag characters, Hangul fillers, …) and the format controls,
# from ICU, which carries Unicode's data (the same set the caption duplicate check removes).
_INVISIBLE_SET = icu.UnicodeSet(
    "[[:Default_Ignorable_Code_Point:][:Cf:]-[:Prepended_Concatenation_Mark:]]"
)
_INVISIBLE = re.compile(
    "[" + "".join(f"{re.escape(a)}-{re.escape(b)}" for a, b in _INVISIBLE_SET.ranges()) + "]"
)
_SPOOF_CHECKER = icu.SpoofChecker()  # TR39 skeletons; read-only calls are thread-safe
_MAX_FOLDS = 4  # skeleton and case folding settle within two rounds; this bounds the loop
_WORD = re.compile(r"[\w']+")
_SIBILANT_ENDINGS = ("s", "x", "z", "ch", "sh")


def fold(text: str) -> str:
    """``text`` reduced to what it looks like, for matching (never for display)."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold()
    for _ in range(_MAX_FOLDS):
        folded = _SPOOF_CHECKER.getSkeleton(0, text)
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
        folded = _INVISIBLE.sub("", unicodedata.normalize("NFKC", folded)).casefold()
        if folded == text:
            break
        text = folded
    return text


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
