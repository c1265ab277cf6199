"""Pictures the bot posts: the results card and the built-in starter prompts (Pillow).

Every function here is CPU work: call it through ``asyncio.to_thread``, never on the event loop.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont

CARD_WIDTH = 1000
INK = (34, 34, 38)
PAPER = (250, 247, 240)
ACCENT = (235, 171, 52)
MUTED = (120, 116, 110)
MEDALS = ((212, 175, 55), (170, 170, 178), (176, 120, 70))


@dataclass(frozen=True)
class CardLine:
    rank: int
    caption: str
    author: str
    votes: int
    mean: float


@dataclass(frozen=True)
class AIPick:
    """The AI's favourite caption, for the card's right-hand panel."""

    caption: str
    author: str
    crowd_rank: int  # where the crowd placed it
    confidence: float  # that the crowd prefers it to the AI's runner-up
    calibrated: bool


@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans where the system has it (wide script coverage), else Pillow's own font."""
    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _wrap(text: str, size: int, width: int) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` pixels at this font size."""
    lines: list[str] = []
    for word in text.split():
        if lines and font(size).getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.extend(
                textwrap.wrap(word, width=max(1, width // (size // 2)))
                if font(size).getlength(word) > width
                else [word]
            )
    return lines or [""]


def _fit(text: str, size: int, width: int, bold: bool = False) -> str:
    """``text`` cut with an ellipsis to fit in ``width`` pixels on one line."""
    face = font(size, bold)
    if face.getlength(text) <= width:
        return text
    while text and face.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _lines(text: str, size: int, width: int, most: int) -> list[str]:
    """``text`` wrapped to ``width``, at most ``most`` lines (the last one ellipsised if cut)."""
    wrapped = _wrap(text, size, width)
    if len(wrapped) <= most:
        return wrapped
    return [*wrapped[: most - 1], _fit(" ".join(wrapped[most - 1 :]), size, width - 1)]


def _thumbnail(data: bytes | None, box: tuple[int, int]) -> Image.Image | None:
    if not data:
        return None
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        img.thumbnail(box)
        return img.copy()


def card_stats(line: CardLine) -> str:
    """The line under a caption on the card: its votes and mean, or that nobody rated it (the
    tally's mean of an unrated entry is the contest's prior, not a rating anyone gave)."""
    if not line.votes:
        return "no ratings"
    return f"{line.votes} vote{'s' if line.votes != 1 else ''} · mean {line.mean:.2f}"


# The results card is 1000 × 600 whatever the captions, so Discord's chat preview (an embed image
# shows at most about 400 px wide and 300 tall) always shows it whole at 40%: captions and names
# (30 px) read at 12 px there, the smallest text (24 px) at about 10 px.
RESULTS_SIZE = (1000, 600)
AI_BLUE = (52, 101, 190)
_PANEL = (580, 100, 980, 580)  # the right-hand column: the prompt, then the AI's pick


def results_card(
    title: str,
    podium: list[CardLine],
    prompt_image: bytes | None,
    ai: AIPick | None = None,
    ai_note: str | None = None,
) -> bytes:
    """The PNG posted with the results: the crowd's top three beside the AI's pick.

    ``ai_note`` takes the AI panel's place when there is no pick to show (the AI failed, or
    too few captions); with neither, the prompt picture fills the right-hand column.
    """
    card = Image.new("RGB", RESULTS_SIZE, PAPER)
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, RESULTS_SIZE[0], 80), fill=INK)
    draw.text(
        (30, 40), _fit(title, 40, 940, bold=True), font=font(40, True), fill=PAPER, anchor="lm"
    )
    _draw_podium(draw, podium[:3])
    left, top, right, bottom = _PANEL
    has_panel = ai is not None or ai_note is not None
    thumb = _thumbnail(prompt_image, (right - left, 170 if has_panel else bottom - top))
    if thumb:
        x = left + (right - left - thumb.width) // 2
        card.paste(thumb, (x, top))
        draw.rectangle((x - 1, top - 1, x + thumb.width, top + thumb.height), outline=INK, width=2)
    if has_panel:
        _draw_ai_panel(
            draw, (left, top + (thumb.height if thumb else 0) + 20, right, bottom), ai, ai_note
        )
    return _png(card)


def _draw_podium(draw: ImageDraw.ImageDraw, podium: list[CardLine]) -> None:
    draw.text((30, 100), "THE CROWD'S PODIUM", font=font(24, True), fill=MUTED)
    if not podium:
        draw.text((30, 150), "No entries this time.", font=font(30), fill=MUTED)
    for row, line in enumerate(podium):
        y = 140 + 148 * row
        draw.ellipse((30, y, 72, y + 42), fill=MEDALS[line.rank - 1])
        draw.text((51, y + 21), str(line.rank), font=font(24, True), fill=INK, anchor="mm")
        draw.text((88, y + 3), _fit(line.author, 30, 465, bold=True), font=font(30, True), fill=INK)
        caption = _lines(f"“{line.caption}”", 30, 465, 2)
        for i, part in enumerate(caption):
            draw.text((88, y + 42 + 34 * i), part, font=font(30), fill=INK)
        stats = card_stats(line)
        draw.text((88, y + 46 + 34 * len(caption)), stats, font=font(24), fill=MUTED)


def _draw_ai_panel(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    ai: AIPick | None,
    note: str | None,
) -> None:
    left, top, right, bottom = box
    width = right - left - 36
    draw.rounded_rectangle(box, radius=14, fill=(236, 241, 250), outline=AI_BLUE, width=3)
    draw.text((left + 18, top + 16), "THE AI'S PICK", font=font(24, True), fill=AI_BLUE)
    y = top + 54
    if ai is None:
        for part in _lines(note or "", 26, width, 4):
            draw.text((left + 18, y), part, font=font(26), fill=MUTED)
            y += 32
        return
    caption = _lines(f"“{ai.caption}”", 30, width, max(1, (bottom - top - 170) // 34))
    for part in caption:
        draw.text((left + 18, y), part, font=font(30), fill=INK)
        y += 34
    draw.text((left + 18, y + 4), _fit(f"by {ai.author}", 26, width), font=font(26, True), fill=INK)
    agrees = (
        "The crowd's winner too" if ai.crowd_rank == 1 else f"The crowd placed it #{ai.crowd_rank}"
    )
    how_sure = (
        f"Confidence {ai.confidence:.0%} (calibrated)"
        if ai.calibrated
        else "Confidence not yet calibrated"
    )
    draw.text((left + 18, bottom - 76), _fit(agrees, 24, width), font=font(24), fill=INK)
    draw.text((left + 18, bottom - 42), _fit(how_sure, 24, width), font=font(24), fill=AI_BLUE)


@dataclass(frozen=True)
class StarterPrompt:
    description: str
    draw: str  # the name of the scene painter below


STARTER_PROMPTS = [
    StarterPrompt(
        "A lone man on a tiny desert island, with a single palm tree and a mailbox.", "island"
    ),
    StarterPrompt(
        "A snowman standing in the middle of a sunny beach, surrounded by sunbathers.", "snowman"
    ),
    StarterPrompt("A goldfish in a bowl on an office desk, facing a computer screen.", "fishbowl"),
    StarterPrompt("A rocket on a launch pad with a 'Closed for lunch' sign.", "rocket"),
]


def starter_image(prompt: StarterPrompt) -> bytes:
    """A simple line drawing for a built-in prompt (no outside artwork is bundled)."""
    img = Image.new("RGB", (800, 600), PAPER)
    d = ImageDraw.Draw(img)
    {"island": _island, "snowman": _snowman, "fishbowl": _fishbowl, "rocket": _rocket}[prompt.draw](
        d
    )
    return _png(img)


def _island(d: ImageDraw.ImageDraw) -> None:
    d.rectangle((0, 380, 800, 600), fill=(120, 180, 220))
    d.ellipse((220, 330, 580, 440), fill=(230, 205, 140), outline=INK, width=3)
    d.line((400, 370, 420, 190), fill=(110, 80, 40), width=12)
    for dx in (-90, -40, 40, 90):
        d.arc((420 + dx - 60, 170, 420 + dx + 60, 230), 180, 360, fill=(40, 130, 60), width=8)
    d.ellipse((320, 300, 340, 320), outline=INK, width=3)  # head
    d.line((330, 320, 330, 360), fill=INK, width=3)
    d.rectangle((470, 320, 510, 345), outline=INK, width=3)  # mailbox
    d.line((490, 345, 490, 375), fill=INK, width=3)


def _snowman(d: ImageDraw.ImageDraw) -> None:
    d.ellipse((620, 30, 740, 150), fill=(250, 210, 80))
    d.rectangle((0, 420, 800, 600), fill=(235, 210, 150))
    for r, y in ((80, 330), (60, 230), (42, 150)):
        d.ellipse((400 - r, y - r, 400 + r, y + r), fill="white", outline=INK, width=3)
    for x in (120, 620):
        d.line((x, 470, x + 90, 470), fill=INK, width=3)
        d.ellipse((x + 90, 455, x + 110, 475), outline=INK, width=3)


def _fishbowl(d: ImageDraw.ImageDraw) -> None:
    d.rectangle((0, 420, 800, 460), fill=(150, 110, 70))
    d.rectangle((470, 220, 720, 380), outline=INK, width=4)
    d.rectangle((480, 230, 710, 370), fill=(200, 225, 245))
    d.line((595, 380, 595, 420), fill=INK, width=6)
    d.ellipse((120, 230, 360, 420), fill=(210, 235, 250), outline=INK, width=3)
    d.ellipse((200, 300, 270, 340), fill=(245, 140, 40))
    d.polygon(((270, 320), (300, 300), (300, 340)), fill=(245, 140, 40))


def _rocket(d: ImageDraw.ImageDraw) -> None:
    d.rectangle((0, 520, 800, 600), fill=(160, 160, 160))
    d.rectangle((360, 200, 440, 500), fill="white", outline=INK, width=3)
    d.polygon(((360, 200), (400, 110), (440, 200)), fill=(220, 60, 50), outline=INK)
    d.polygon(((360, 440), (320, 510), (360, 500)), fill=(220, 60, 50))
    d.polygon(((440, 440), (480, 510), (440, 500)), fill=(220, 60, 50))
    d.rectangle((520, 380, 700, 450), fill="white", outline=INK, width=3)
    d.text((535, 398), "Closed for lunch", font=font(22), fill=INK)
    d.line((610, 450, 610, 520), fill=INK, width=4)


def leaderboard_card(title: str, rows: list[tuple[str, str, str]]) -> bytes:
    """A table image: (name, main figure, detail) per row, best first."""
    height = 110 + 48 * max(len(rows), 1) + 50
    card = Image.new("RGB", (CARD_WIDTH, height), PAPER)
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, CARD_WIDTH, 90), fill=INK)
    draw.text((30, 22), title, font=font(40), fill=PAPER)
    y = 110
    for place, (name, figure, detail) in enumerate(rows, start=1):
        if place <= 3:
            draw.ellipse((30, y + 2, 66, y + 38), fill=MEDALS[place - 1])
        draw.text((48, y + 20), str(place), font=font(22), fill=INK, anchor="mm")
        draw.text((90, y + 6), name[:40], font=font(26), fill=INK)
        draw.text((640, y + 6), figure, font=font(26), fill=INK)
        draw.text((780, y + 10), detail, font=font(20), fill=MUTED)
        y += 48
    if not rows:
        draw.text((30, y), "No results yet.", font=font(30), fill=MUTED)
    return _png(card)


def taste_chart(title: str, effects: list, reliability: list) -> bytes:
    """Left: each factor's effect on winning (crowd bar with its interval; the AI's weight as a
    dot). Right: the AI's stated confidence against how often it was right."""
    rows = max(len(effects), 1)
    width, height = 1200, 150 + 44 * rows + 60
    card = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, width, 90), fill=INK)
    draw.text((30, 22), title, font=font(36), fill=PAPER)
    left, right, top = 250, 760, 140
    span = max(
        [1.0] + [max(abs(e.crowd_low), abs(e.crowd_high), abs(e.model or 0)) for e in effects]
    )

    def x(value: float) -> float:
        return left + (value / span + 1) / 2 * (right - left)

    draw.line((x(0), top - 20, x(0), top + 44 * rows), fill=MUTED, width=2)
    draw.text((left, top - 40), "← punished", font=font(18), fill=MUTED)
    draw.text((right - 110, top - 40), "rewarded →", font=font(18), fill=MUTED)
    for i, effect in enumerate(effects):
        y = top + 44 * i
        draw.text((20, y + 4), effect.name[:24], font=font(20), fill=INK)
        colour = ACCENT if effect.clear else (200, 196, 188)
        draw.rectangle(
            (min(x(0), x(effect.crowd)), y + 8, max(x(0), x(effect.crowd)), y + 28), fill=colour
        )
        draw.line((x(effect.crowd_low), y + 18, x(effect.crowd_high), y + 18), fill=INK, width=2)
        if effect.model is not None:
            draw.ellipse(
                (x(effect.model) - 7, y + 11, x(effect.model) + 7, y + 25), fill=(60, 110, 200)
            )
    legend_y = top + 44 * rows + 10
    draw.text(
        (left, legend_y),
        "bar: crowd (line: 90% interval) · blue dot: the AI's weight",
        font=font(16),
        fill=MUTED,
    )
    # reliability: confidence (x) vs accuracy (y), 50–100%
    x0, y0, size = 850, 160, 300
    draw.rectangle((x0, y0, x0 + size, y0 + size), outline=MUTED, width=2)
    draw.line((x0, y0 + size, x0 + size, y0), fill=(200, 196, 188), width=2)
    draw.text((x0, y0 - 36), "AI confidence vs. how often right", font=font(18), fill=INK)
    for b in reliability:
        px = x0 + (b.confidence - 0.5) / 0.5 * size
        py = y0 + size - max(0.0, b.accuracy - 0.5) / 0.5 * size
        r = 5 + min(b.count, 400) ** 0.5 / 2
        draw.ellipse((px - r, py - r, px + r, py + r), fill=(60, 110, 200))
    draw.text((x0, y0 + size + 8), "50%", font=font(16), fill=MUTED)
    draw.text((x0 + size - 40, y0 + size + 8), "100%", font=font(16), fill=MUTED)
    return _png(card)
