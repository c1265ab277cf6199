from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.rules.captions import (
    MAX_CAPTION_LENGTH,
    CaptionRejected,
    SubmissionAction,
    SubmissionContext,
    decide_submission,
    normalize_caption,
    require_submissions_open,
    validate_caption,
)
from bot.rules.schedule import Phase


@pytest.mark.parametrize(
    "variant",
    [
        "I told you so",
        "  i   TOLD you\tso ",
        "I\u200b told\u200d you\ufeff so",  # zero-width space, joiner, BOM
        "Ｉ ｔｏｌｄ ｙｏｕ ｓｏ",  # fullwidth
        "I tоld yоu sо",  # Cyrillic о
        "I\u00adtold you so".replace("I\u00ad", "I "),  # soft hyphen
        "\u202eI told you so",  # bidi override
    ],
)
def test_disguised_duplicates_normalise_alike(variant):
    assert normalize_caption(variant) == "i told you so"


def test_different_captions_stay_different():
    assert normalize_caption("I told you so!") != normalize_caption("I told you so")
    assert normalize_caption("Résumé") != normalize_caption("Resume")


@given(st.text())
def test_normalisation_is_idempotent(text):
    once = normalize_caption(text)
    assert normalize_caption(once) == once


@given(st.text())
def test_shown_text_is_trimmed_single_line_and_never_longer(text):
    try:
        shown, key = validate_caption(text)
    except CaptionRejected:
        return
    assert 1 <= len(shown) <= MAX_CAPTION_LENGTH
    assert shown == shown.strip()
    assert "\n" not in shown
    assert "  " not in shown
    assert key == normalize_caption(shown)


def test_length_limits_are_after_trimming():
    assert validate_caption("  a  ")[0] == "a"
    assert validate_caption("x" * MAX_CAPTION_LENGTH)[0] == "x" * MAX_CAPTION_LENGTH
    with pytest.raises(CaptionRejected, match="301 characters"):
        validate_caption("x" * (MAX_CAPTION_LENGTH + 1))
    with pytest.raises(CaptionRejected, match="empty"):
        validate_caption(" \u200b\n\t ")


def test_markdown_and_mentions_are_kept_verbatim_for_safe_display_later():
    shown, _ = validate_caption("**bold** @everyone <@&123>")
    assert shown == "**bold** @everyone <@&123>"


def ctx(**kw):
    base = {"phase": Phase.SUBMISSIONS, "banned": False, "live_entries": 0, "max_entries": 1}
    return SubmissionContext(**{**base, **kw})


def test_submissions_add_until_the_limit_then_replace():
    assert decide_submission(ctx()) is SubmissionAction.ADD
    assert decide_submission(ctx(live_entries=1)) is SubmissionAction.REPLACE_OLDEST
    assert decide_submission(ctx(live_entries=2, max_entries=3)) is SubmissionAction.ADD


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"banned": True}, "can't enter"),
        ({"phase": Phase.VOTING}, "voting has started"),
        ({"phase": Phase.CLOSED}, "has closed"),
        ({"phase": None}, "no contest running"),
    ],
)
def test_refusals_say_why(kw, message):
    with pytest.raises(CaptionRejected, match=message):
        decide_submission(ctx(**kw))


def test_edit_and_withdraw_only_while_submissions_are_open():
    require_submissions_open(Phase.SUBMISSIONS)
    with pytest.raises(CaptionRejected):
        require_submissions_open(Phase.VOTING)
