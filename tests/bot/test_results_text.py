"""The results post's ranking text and card line: unrated entries, former members, and taking an
erased member's captions out of a post already made."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.render import CardLine, card_stats
from bot.results import crowd_text, erase_from_crowd_text
from bot.rules.tally import EntryRatings, tally_contest
from bot.text import quote_caption
from storage.models import Entry, RatingCounts
from storage.privacy import ERASED_TEXT, FORMER_MEMBER

ALICE, BOB = 4242424242, 5353535353
WHEN = datetime(2026, 3, 1, tzinfo=UTC)


def entry(entry_id: int, author_id: int, text: str, number: int) -> Entry:
    return Entry(entry_id, 1, author_id, text, text, "active", None, number, None, WHEN, WHEN)


def test_an_entry_nobody_rated_shows_no_mean():
    """Defect 15: an entry with no ratings showed "mean 3.00", the contest's prior."""
    rated, unrated = entry(1, ALICE, "Rated", 1), entry(2, BOB, "Unrated", 2)
    lines = tally_contest(
        [EntryRatings(1, ALICE, RatingCounts(funny=2)), EntryRatings(2, BOB, RatingCounts())]
    )
    assert lines[1].mean == 3.0  # the tally's stand-in: the contest's prior

    text = crowd_text(lines, {1: rated, 2: unrated})

    rated_block, unrated_block = text.split("\n\n")
    assert rated_block.endswith("😂 2 · 🙂 0 · 😐 0 · mean 3.00")
    assert unrated_block.endswith("\nno ratings")
    assert "mean" not in unrated_block


def test_the_card_line_of_an_unrated_entry_shows_no_mean():
    """Defect 15: the results card printed the prior as the mean of an unrated entry."""
    assert card_stats(CardLine(2, "Unrated", "bob", 0, 3.0)) == "no ratings"
    assert card_stats(CardLine(1, "Rated", "alice", 1, 3.0)) == "1 vote · mean 3.00"


def test_a_former_member_is_named_as_such():
    """Defect 1/2: an erased author was shown as "<@0>"."""
    lines = tally_contest([EntryRatings(1, -3, RatingCounts(funny=1))])
    text = crowd_text(lines, {1: entry(1, -3, ERASED_TEXT, 1)})
    assert f"by {FORMER_MEMBER}\n" in text
    assert "<@" not in text


def test_erasing_from_a_posted_ranking_leaves_the_others_alone():
    """Defect 3: the results post kept the erased member's caption and mention."""
    caption = "Alice's *secret* <@123> caption"
    lines = tally_contest(
        [
            EntryRatings(1, ALICE, RatingCounts(funny=3)),
            EntryRatings(2, BOB, RatingCounts(somewhat_funny=1)),
        ]
    )
    posted = crowd_text(lines, {1: entry(1, ALICE, caption, 7), 2: entry(2, BOB, "Bob's", 3)})

    erased = erase_from_crowd_text(posted, ALICE, [(7, caption)])

    assert quote_caption(caption) not in erased
    assert f"<@{ALICE}>" not in erased
    assert f"🥇 **Entry #7** by {FORMER_MEMBER}\n> {quote_caption(ERASED_TEXT)}\n😂 3" in erased
    assert f"🥈 **Entry #3** by <@{BOB}>\n> Bob's\n" in erased


def test_a_clipped_row_is_cut_rather_than_left_half_readable():
    posted = f"🥇 **Entry #1** by <@{BOB}>\n> Bob's\n😂 1\n\n🥈 **Entry #2** by <@{ALICE}>\n> Alice's sec…"
    erased = erase_from_crowd_text(posted, ALICE, [(2, "Alice's secret, long")])
    assert erased == f"🥇 **Entry #1** by <@{BOB}>\n> Bob's\n😂 1\n\n…"
