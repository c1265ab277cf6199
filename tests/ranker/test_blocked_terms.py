"""The jokes' blocked-term filter sees through plurals, fullwidth letters, lookalike letters
from other scripts and invisible characters inside a word."""

from __future__ import annotations

import pytest

from ranker.jokes import default_blocked_terms, rejection
from ranker.textmatch import blocked_term_in, fold, word_forms

DISGUISED = {
    "plural of a default slur": "Those retards again",
    "plural of another default slur": "Two fags walk into a bar",
    "possessive": "The retard's hat",
    "fullwidth letters": "What a ｒｅｔａｒｄ",
    "Cyrillic lookalikes": "What a rеtаrd",  # е and а are Cyrillic
    "zero-width space inside": "What a re\u200btard",
    "soft hyphen inside": "What a re\u00adtard",
    "word joiner and a tag character": "What a ret\u2060ar\U000e0041d",
    "accents": "What a rétard",
    "moderator's term, plural": "The quarterly synergies are back",
}


@pytest.mark.parametrize("text", DISGUISED.values(), ids=DISGUISED.keys())
def test_disguised_blocked_terms_are_rejected(text):
    """issue 16, defect 14: the filter matched exact whole words only, so plurals (of the default
    slurs too), fullwidth letters, Cyrillic lookalikes, zero-width or soft hyphens passed."""
    assert rejection(text, ("quarterly synergy",)) == "blocked"


@pytest.mark.parametrize(
    "text",
    [
        "The scrap metal dealer smiled",  # "crap" inside a longer word
        "The spices were spiced with care",  # "spic" + es / ed are other words
        "Glasses chinking at the bar",
        "A class act with a bass player",
    ],
)
def test_ordinary_words_that_contain_or_inflect_near_a_term_pass(text):
    assert rejection(text, ("crap",)) is None


def test_fold_is_for_matching_only():
    assert fold("ＣＡＦÉ\u200b au lait") == "cafe au lait"
    assert fold("раураl") == "paypal"  # Cyrillic р а у
    assert word_forms("parties") >= {"parties", "party"}
    assert word_forms("boxes") >= {"box"}
    assert "glasse" not in word_forms("glasses") or "glass" in word_forms("glasses")


def test_every_default_term_is_caught_in_plural_and_disguise():
    for term in default_blocked_terms():
        assert blocked_term_in(f"some {term}s here", default_blocked_terms()) is not None, term
        spaced = term[0] + "\u200b" + term[1:]
        assert blocked_term_in(f"one {spaced}", default_blocked_terms()) == term
