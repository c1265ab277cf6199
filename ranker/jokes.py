"""Jokes and caption suggestions that are creative on purpose (after Leap-of-Thought, CLoT, CVPR 2024).

Asking a model for "a funny caption" step by step gives safe, dull answers. Instead each request
draws several remote-association *leap* words (concrete things unrelated to the topic), asks the
local LLM for candidates under each leap with a few examples of the community's best captions,
throws away what must never be shown (duplicates, odd lengths, mentions, links, blocked terms,
echoed prompt text), and ranks the survivors with the community's preference adapter.

It is built to answer within a time budget: candidates are generated leap by leap until the
deadline, and a request that runs out of time returns fewer candidates instead of failing.
"""

from __future__ import annotations

import random
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from ranker.textmatch import blocked_term_in

MAX_TOPIC_LENGTH = 120
MIN_JOKE_LENGTH, MAX_JOKE_LENGTH = 8, 200
JOKE_BUDGET_S = 8.0  # a request answers within this, with fewer candidates if need be
DEFAULT_EXAMPLES = (
    (
        "A man on a tiny desert island with a mailbox.",
        "subscription",
        "I only signed up for the free trial of solitude.",
    ),
    ("A snowman standing on a sunny beach.", "résumé", "I'm here for the internship, not the tan."),
    (
        "Two dogs in business suits at a water cooler.",
        "lighthouse",
        "He keeps saying he'll guide us through the storm, then he fetches.",
    ),
)
_MENTION = re.compile(r"@|<[@#&!]")
_LINK = re.compile(r"https?://|www\.|\b[\w-]+\.(com|net|org|io|gg|ly|xyz)\b", re.IGNORECASE)
_PROMPT_ECHO = re.compile(r"\b(scene|twist word|caption|topic)\s*:", re.IGNORECASE)
_NOT_WORD = re.compile(r"[^\w\s]")

Scorer = Callable[[str, Sequence[str]], Awaitable[Sequence[float]]]
Generator = Callable[..., Awaitable[list[str]]]


@dataclass(frozen=True)
class Joke:
    text: str
    leap: str
    score: float


@dataclass
class JokeRun:
    """What one request produced: the ranked jokes, and why the rest were dropped."""

    jokes: list[Joke] = field(default_factory=list)
    generated: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    leaps_tried: int = 0
    seconds: float = 0.0
    out_of_time: bool = False


@cache
def _lines(name: str) -> tuple[str, ...]:
    text = resources.files("ranker").joinpath("data", name).read_text(encoding="utf-8")
    return tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def leap_words() -> tuple[str, ...]:
    return _lines("leap_words.txt")


def default_blocked_terms() -> tuple[str, ...]:
    return _lines("blocked_terms.txt")


def sanitize_topic(text: str | None) -> str:
    """A user's topic made safe to put in a prompt: one short line, no control characters.

    The model is a text continuer, not an instruction follower; what matters is that a topic
    cannot break out of its line and start a fake example of its own.
    """
    if not text:
        return ""
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    text = text.replace('"', "'")
    return " ".join(text.split())[:MAX_TOPIC_LENGTH]


def leap_prompt(scene: str, leap: str, examples: Sequence[tuple[str, str, str]]) -> str:
    """A few-shot prompt ending in an open quote for the model to complete."""
    shots = "\n\n".join(f'Scene: {s}\nTwist word: {w}\nCaption: "{c}"' for s, w, c in examples)
    return (
        "Funny one-line captions for cartoons, from a caption contest. Each caption takes a "
        f'surprising leap through its twist word.\n\n{shots}\n\nScene: {scene}\nTwist word: {leap}\nCaption: "'
    )


def _key(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def rejection(text: str, blocked: Sequence[str]) -> str | None:
    """Why a candidate must not be shown, or None when it may be (the default blocked terms
    always apply; ``blocked`` adds a community's own)."""
    if not MIN_JOKE_LENGTH <= len(text) <= MAX_JOKE_LENGTH:
        return "length"
    if _MENTION.search(text):
        return "mention"
    if _LINK.search(text):
        return "link"
    if _PROMPT_ECHO.search(text):
        return "echo"
    words = _key(text).split()
    trigrams = list(zip(words, words[1:], words[2:], strict=False))
    if len(trigrams) != len(set(trigrams)):
        return "repetitive"
    if blocked_term_in(text, (*default_blocked_terms(), *blocked)):
        return "blocked"
    return None


def filter_candidates(
    raw: Sequence[str], blocked: Sequence[str], *, taken: set[str] | None = None
) -> tuple[list[str], dict[str, int]]:
    """Clean model output into showable candidates; returns (kept, dropped counts by reason)."""
    taken = set() if taken is None else taken
    kept, dropped = [], {}
    for candidate in raw:
        text = " ".join(candidate.strip().strip('"“”').split())
        reason = rejection(text, blocked)
        if reason is None and _key(text) in taken:
            reason = "duplicate"
        if reason is not None:
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        taken.add(_key(text))
        kept.append(text)
    return kept, dropped


def pick_examples(
    best_captions: Sequence[tuple[str, str]], rng: random.Random, k: int = 3
) -> list[tuple[str, str, str]]:
    """Few-shot examples: the community's best (scene, caption) pairs when it has some.

    Community captions have no twist word of their own; a random leap word is attached so
    the examples show the format.
    """
    if len(best_captions) < k:
        return list(DEFAULT_EXAMPLES)
    chosen = rng.sample(list(best_captions), k)
    return [
        (sanitize_topic(scene) or "A cartoon.", rng.choice(leap_words()), sanitize_topic(caption))
        for scene, caption in chosen
    ]


async def generate_jokes(
    generate: Generator,
    score: Scorer,
    *,
    scene: str,
    blocked: Sequence[str] = (),
    examples: Sequence[tuple[str, str, str]] = DEFAULT_EXAMPLES,
    leaps: int = 4,
    per_leap: int = 4,
    budget_s: float = JOKE_BUDGET_S,
    rng: random.Random | None = None,
) -> JokeRun:
    """Candidates under ``leaps`` leap words, filtered and ranked best first, within ``budget_s``.

    ``generate(prompt, max_tokens=, temperature=, n=, stop=)`` is an ``AsyncLLM.generate``;
    ``score(description, captions)`` returns one preference score per caption.
    """
    rng = rng or random.Random()
    started = time.monotonic()
    run = JokeRun()
    kept: list[tuple[str, str]] = []
    taken: set[str] = set()
    deadline = started + budget_s * 0.8  # the rest of the budget is for ranking
    for leap in rng.sample(leap_words(), leaps):
        prompt = leap_prompt(scene, leap, examples)
        run.leaps_tried += 1
        for _ in range(per_leap):  # one at a time, so the deadline is checked between candidates
            if run.generated and time.monotonic() > deadline:
                run.out_of_time = True
                break
            raw = await generate(prompt, max_tokens=40, temperature=1.05, n=1, stop=['"', "\n"])
            run.generated += len(raw)
            texts, dropped = filter_candidates(raw, blocked, taken=taken)
            for reason, count in dropped.items():
                run.dropped[reason] = run.dropped.get(reason, 0) + count
            kept.extend((text, leap) for text in texts)
        if run.out_of_time:
            break
    if kept:
        scores = await score(scene, [text for text, _ in kept])
        run.jokes = sorted(
            (Joke(text, leap, float(s)) for (text, leap), s in zip(kept, scores, strict=True)),
            key=lambda j: -j.score,
        )
    run.seconds = time.monotonic() - started
    return run
