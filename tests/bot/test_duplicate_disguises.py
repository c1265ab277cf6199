"""A caption disguised with invisible characters or lookalike letters is still a duplicate."""

from __future__ import annotations

from storage import entries
from tests.bot.conftest import open_contest_now, punchline, submit

ORIGINAL = "Honestly, the mouse started it"
DISGUISES = [
    "Hon\U000e0065estly, the mouse started it",  # a tag character
    "Honestly,\U000e0100 the mouse started it",  # a variation selector from the supplement
    "Honestly, the mo\U0001d173use started it",  # a musical-symbol beam
    "\ufff9Honestly, the mouse\ufffa started it\ufffb",  # interlinear annotation
    "Honestly, tһe mօuse stɑrted ıt",  # Cyrillic shha, Armenian oh, Latin alpha, dotless i
]


async def test_disguised_copies_are_refused_as_duplicates(emu, server, db_path, db):
    """Defect 8 end to end: each disguise of a caption already in the contest, sent by another
    member through /caption submit, is refused as a duplicate and adds nothing."""
    m = server.members
    async with punchline(emu, db_path) as bot:
        contest = await open_contest_now(emu, server, bot, db)
        first = await submit(emu, server, m["alice"], ORIGINAL)
        assert "already in today's contest" not in first.content
        for copycat, disguise in zip(
            ("bob", "carol", "dave", "erin", "bob"), DISGUISES, strict=True
        ):
            answer = await submit(emu, server, m[copycat], disguise)
            assert "already in today's contest" in answer.content, disguise
    assert [e.text for e in entries.contest_entries(db, contest.id)] == [ORIGINAL]
