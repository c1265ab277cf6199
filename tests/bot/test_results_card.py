"""The results card against committed golden images, pixel by pixel within a tolerance, so a
layout change shows up as a failing test rather than in a server.

The card is drawn with DejaVu Sans where the system has it, else with Pillow's own font, so there
is a golden image for each: ``golden/results_card.pillow.png`` is checked everywhere (the test
forces Pillow's font), ``golden/results_card.dejavu.png`` wherever DejaVu Sans is installed.

After an intended change to the card, regenerate both, look at them, and commit them::

    PUNCHLINE_REGENERATE_GOLDEN=1 python -m pytest tests/bot/test_results_card.py
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFont

from bot import render
from ranker import AIRanking
from storage import contests, prompts
from tests.bot.conftest import is_prompt, is_results, punchline, setup_contest, submit

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("PUNCHLINE_REGENERATE_GOLDEN") == "1"
MEAN_TOLERANCE = 1.0  # mean absolute difference per channel, out of 255
PIXEL_TOLERANCE = 0.001  # share of pixels that may differ by more than 64 (a 1 px shift: 4%)

PODIUM = [
    render.CardLine(
        1, "I asked for a room with a view, not a view with a room.", "Alice", 14, 2.57
    ),
    render.CardLine(
        2,
        "Technically it's beachfront property, and the commute is unbeatable if you don't mind "
        "sharks and a very long wait for the mail.",
        "bob",
        12,
        2.25,
    ),
    render.CardLine(3, "Return to sender.", "Carol, whose display name is far too long", 1, 1.0),
]
PICK = render.AIPick(PODIUM[1].caption, "bob", 2, 0.72, calibrated=True)


def sample_card(**ai) -> Image.Image:
    prompt = render.starter_image(render.STARTER_PROMPTS[0])
    data = render.results_card("Results · 2026-03-02", PODIUM, prompt, **ai)
    return Image.open(io.BytesIO(data)).convert("RGB")


def differences(card: Image.Image, golden: Image.Image) -> tuple[float, float]:
    """(mean absolute difference per channel, share of pixels that differ by more than 64)."""
    if card.size != golden.size:
        return 255.0, 1.0
    delta = np.abs(np.asarray(card, np.int16) - np.asarray(golden, np.int16))
    return float(delta.mean()), float((delta.max(axis=2) > 64).mean())


def matches(card: Image.Image, golden: Image.Image) -> bool:
    mean, changed = differences(card, golden)
    return mean <= MEAN_TOLERANCE and changed <= PIXEL_TOLERANCE


def compare_with_golden(card: Image.Image, name: str) -> None:
    path = GOLDEN / name
    if REGENERATE:
        card.save(path, optimize=True)
    golden = Image.open(path).convert("RGB")
    mean, changed = differences(card, golden)
    assert matches(card, golden), (
        f"the results card no longer matches {path.name} (mean difference {mean:.2f}, "
        f"{changed:.2%} of pixels changed); if the change is intended, regenerate it (see the "
        "module docstring) and look at it before committing"
    )


@pytest.fixture
def pillow_font(monkeypatch):
    """Draw with Pillow's own font, whatever the system has."""

    def pillow_only(size: int, bold: bool = False):
        return ImageFont.load_default(size=size)

    monkeypatch.setattr(render, "font", pillow_only)


def test_the_card_matches_its_golden_image_in_pillows_font(pillow_font):
    compare_with_golden(sample_card(ai=PICK), "results_card.pillow.png")


def test_the_card_matches_its_golden_image_in_dejavu_sans():
    if "DejaVu" not in " ".join(render.font(20).getname()):
        pytest.skip("DejaVu Sans is not installed here; the Pillow-font golden still runs")
    compare_with_golden(sample_card(ai=PICK), "results_card.dejavu.png")


def test_the_comparison_catches_a_layout_change(pillow_font):
    golden = Image.open(GOLDEN / "results_card.pillow.png").convert("RGB")
    assert not matches(sample_card(), golden)  # no AI panel: a different layout
    uncalibrated = render.AIPick(PICK.caption, "bob", 2, 0.72, calibrated=False)
    assert not matches(sample_card(ai=uncalibrated), golden)  # one line of text differs: 0.25%
    shifted = Image.new("RGB", golden.size, render.PAPER)
    shifted.paste(golden.crop((0, 0, golden.width - 6, golden.height)), (6, 0))
    assert not matches(shifted, golden)


def test_long_text_never_grows_the_card_so_the_chat_preview_stays_whole():
    """Discord previews an embed image at most about 400 px wide and 300 tall: a 5:3 card shows
    at full width there, whatever the captions and names."""
    long_line = render.CardLine(1, "word " * 80, "name " * 30, 3, 2.0)
    for card in (
        sample_card(ai=PICK),
        sample_card(ai_note="The AI's ranking was unavailable this time; the crowd's stands."),
        Image.open(io.BytesIO(render.results_card("Results", [long_line] * 3, None, PICK))),
        Image.open(io.BytesIO(render.results_card("Results", [], None))),
    ):
        assert card.size == render.RESULTS_SIZE
    width, height = render.RESULTS_SIZE
    assert height / width <= 300 / 400


class ScriptedAI:
    """An AI whose pick is known in advance: the crowd's last caption, not yet calibrated.

    The real models run in ``test_ai.py``; here the card must show a pick chosen beforehand."""

    async def rank(self, guild_id: int, description: str, captions) -> AIRanking:
        order = tuple(reversed(range(len(captions))))
        scores = tuple(float(order.index(i)) for i in range(len(captions)))
        return AIRanking(tuple(captions), scores, order, 0.64, 0.6, calibrated=False)


async def test_the_posted_card_shows_the_podium_beside_the_ais_pick(emu, server, db_path, db):
    m = server.members
    async with punchline(emu, db_path, ai=ScriptedAI()) as bot:
        await setup_contest(emu, server, bot, submission_minutes=600, voting_minutes=600)
        await emu.wait_for_message(server.channel.id, is_prompt, include_existing=True)
        for name in ("alice", "bob", "carol"):
            await submit(emu, server, m[name], f"{name.title()} was here first.")
        for _ in range(2):  # submissions → voting → results
            await emu.slash(server.guild.id, server.channel.id, server.mod.id, "contest close")
        posted = await emu.wait_for_message(server.channel.id, is_results, include_existing=True)
    contest = contests.latest_contest(db, server.guild.id)
    placed = db.execute(
        "SELECT e.text, e.author_id, p.rank, p.votes, p.mean FROM placements p"
        " JOIN entries e ON e.id = p.entry_id WHERE p.contest_id = ? ORDER BY p.rank, e.number",
        [contest.id],
    ).fetchall()
    names = {member.id: member.username for member in m.values()}
    podium = [
        render.CardLine(rank, text, names[who], n, mean) for text, who, rank, n, mean in placed
    ]
    last_text, last_author, last_rank, _, _ = placed[-1]
    expected = render.results_card(
        f"Results · {contest.day}",
        podium[:3],
        prompts.prompt_image(db, contest.prompt_id),
        render.AIPick(last_text, names[last_author], last_rank, 0.64, calibrated=False),
    )
    card = Image.open(io.BytesIO(posted.attachments[0].data)).convert("RGB")
    assert matches(card, Image.open(io.BytesIO(expected)).convert("RGB"))
    without_ai = render.results_card(f"Results · {contest.day}", podium[:3], None)
    assert not matches(card, Image.open(io.BytesIO(without_ai)).convert("RGB"))
