"""The duplicate check sees through invisible characters and lookalike letters (defect 8)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules.captions import clean_caption, normalize_caption

ORIGINAL = "the cat is on the mat"

# Code points that render as nothing, by class; each is slipped into the original caption.
INVISIBLE = {
    "tag characters": ["\U000e0041", "\U000e0001", "\U000e007f"],
    "variation selectors": ["\ufe0f", "\U000e0100", "\U000e01ef"],
    "musical-symbol format characters": ["\U0001d173", "\U0001d17a"],
    "interlinear annotation": ["\ufff9", "\ufffa", "\ufffb"],
    "other default-ignorables": ["\u2064", "\u180e", "\u3164", "\u115f", "\u034f", "\u2061"],
}


@pytest.mark.parametrize(
    "mark", [m for marks in INVISIBLE.values() for m in marks], ids=lambda m: f"U+{ord(m):04X}"
)
def test_invisible_characters_do_not_make_a_new_caption(mark):
    """Defect 8: tag characters, variation selectors (incl. U+E0100…), musical-symbol format
    characters and interlinear annotation inside a caption left its key different."""
    disguised = ORIGINAL.replace("cat", f"c{mark}a{mark}t").replace(" on", f"{mark} on")
    assert normalize_caption(disguised) == normalize_caption(ORIGINAL)
    assert clean_caption(disguised) == ORIGINAL  # nor are they shown


@pytest.mark.parametrize(
    ("disguised", "plain"),
    [
        ("һello there", "hello there"),  # Cyrillic shha
        ("օh no", "oh no"),  # Armenian oh
        ("ɑpple pie", "apple pie"),  # Latin alpha
        ("ıt works", "it works"),  # dotless i
        ("the cat is on the rnat", ORIGINAL),  # r + n reads as m
        ("𝐭𝐡𝐞 𝐜𝐚𝐭 𝐢𝐬 𝐨𝐧 𝐭𝐡𝐞 𝐦𝐚𝐭", ORIGINAL),  # mathematical bold
        ("Ⓣhe cat is on the mat", ORIGINAL),  # circled letter
        ("the ϲat іs оn the mat", ORIGINAL),  # Greek lunate sigma, Cyrillic і and о
    ],
)
def test_lookalike_letters_fold_to_one_skeleton(disguised, plain):
    """Defect 8: letters outside the old hand-made map (һ, օ, ɑ, ı) passed as new captions."""
    assert normalize_caption(disguised) == normalize_caption(plain)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("I told you so!", "I told you so"),
        ("Résumé", "Resume"),
        ("the cat is on the mat", "the bat is on the mat"),
        ("👨‍👩‍👧 night", "👨 night"),
        ("über", "uber"),
    ],
)
def test_captions_that_look_different_stay_different(one, other):
    assert normalize_caption(one) != normalize_caption(other)


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.sampled_from(["cat", "mat", "on", "the", "pie", "hello"]), min_size=1),
    marks=st.lists(st.sampled_from([m for ms in INVISIBLE.values() for m in ms]), min_size=1),
    data=st.data(),
)
def test_sprinkled_invisibles_never_change_the_key(words, marks, data):
    """Defect 8, as a property: any invisible characters at any places leave the key alone."""
    text = " ".join(words)
    for mark in marks:
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + mark + text[at:]
    assert normalize_caption(text) == normalize_caption(" ".join(words))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_the_key_is_stable_and_free_of_invisibles(text):
    key = normalize_caption(text)
    assert normalize_caption(key) == key
    assert not any(unicodedata.category(ch) == "Cf" for ch in key)
