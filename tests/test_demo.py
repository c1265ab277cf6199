"""The README's first command, ``python bot.py --demo``: one whole contest against the emulator,
with the real models, and what it leaves behind."""

import pytest
from PIL import Image

from demo import run_demo
from demo.run import MEMBERS
from storage import open_database
from storage.contests import guild_contests
from storage.entries import contest_entries
from storage.guilds import configured_guilds
from storage.models import Rating
from storage.votes import contest_ratings

pytestmark = pytest.mark.slow


async def test_the_demo_runs_a_whole_contest_and_leaves_its_results(tmp_path, capsys):
    card = await run_demo(tmp_path)

    transcript = capsys.readouterr().out
    assert "That caption is already in today's contest" in transcript
    assert "loaded the local AI" in transcript
    assert "posted the results:" in transcript
    assert "🤖 The AI's ranking" in transcript
    assert "messages that pinged anyone: 0" in transcript
    with Image.open(card) as image:
        assert image.format == "PNG"
        assert image.width >= 600
    db = open_database(tmp_path / "punchline-demo.db")
    try:
        (guild,) = configured_guilds(db)
        (contest,) = guild_contests(db, guild.guild_id)
        assert contest.phase == "closed"
        entries = contest_entries(db, contest.id)
        author = {e.id: e.author_id for e in entries}
        ratings = contest_ratings(db, contest.id)
    finally:
        db.close()
    assert len(entries) == 6  # the copy in capitals was refused
    # six members rate the five entries not their own: the own-entry vote and the other bot's
    # are not counted; ben's change of mind (😂 on the first entry not his) replaced his rating
    assert len(ratings) == 6 * 5
    assert all(author[r.entry_id] != r.voter_id for r in ratings)
    assert {r.voter_id for r in ratings} == set(author.values())
    ben = next(e.author_id for e in entries if e.text == MEMBERS["ben"])
    flipped = min((e for e in entries if e.author_id != ben), key=lambda e: e.number)
    (rating,) = [r.rating for r in ratings if (r.entry_id, r.voter_id) == (flipped.id, ben)]
    assert rating == Rating.FUNNY
