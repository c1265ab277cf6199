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


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans where the system has it (wide script coverage), else Pillow's own font."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
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


def results_card(title: str, lines: list[CardLine], prompt_image: bytes | None) -> bytes:
    """The PNG posted with the results: the prompt thumbnail and the top three captions."""
    top = lines[:3]
    thumb = _thumbnail(prompt_image, (360, 360))
    text_x = 30 + (thumb.width + 30 if thumb else 0)
    wrapped = [_wrap(f"“{line.caption}”", 26, CARD_WIDTH - text_x - 80) for line in top]
    row_heights = [40 + 34 * len(w) + 34 for w in wrapped]
    header = 110
    body = max(sum(row_heights) + 20, (thumb.height + 40) if thumb else 0)
    card = Image.new("RGB", (CARD_WIDTH, header + body + 50), PAPER)
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, CARD_WIDTH, 90), fill=INK)
    draw.text((30, 22), title, font=font(40), fill=PAPER)
    if thumb:
        card.paste(thumb, (30, header))
        draw.rectangle(
            (29, header - 1, 30 + thumb.width, header + thumb.height), outline=INK, width=2
        )
    y = header
    for line, wrap, height in zip(top, wrapped, row_heights, strict=True):
        draw.ellipse((text_x, y + 2, text_x + 36, y + 38), fill=MEDALS[line.rank - 1])
        draw.text((text_x + 18, y + 20), str(line.rank), font=font(22), fill=INK, anchor="mm")
        draw.text((text_x + 50, y + 6), line.author, font=font(26), fill=INK)
        for i, part in enumerate(wrap):
            draw.text((text_x + 50, y + 42 + 34 * i), part, font=font(26), fill=INK)
        draw.text(
            (text_x + 50, y + 42 + 34 * len(wrap)), card_stats(line), font=font(20), fill=MUTED
        )
        y += height
    if not top:
        draw.text((30, header), "No entries this time.", font=font(30), fill=MUTED)
    draw.text((30, card.height - 36), "Punchline · crowd ranking", font=font(18), fill=MUTED)
    return _png(card)


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
