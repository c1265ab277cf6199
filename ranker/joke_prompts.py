"""What the language model is shown, and which topics it is never shown.

The bundled Gemma 3 270M is a base model: it continues text, it does not follow instructions.
So a request is a page of good captions, each under its cartoon, ending with the member's scene
and an open quote. Many examples whose captions visibly play on their own scene teach the model
to stay on topic; the examples are the community's best captions once it has enough, else the
built-in ones below (written for Punchline; no caption here is copied from anywhere).

Topics come from members and are checked before any model sees them: mentions, links, blocked
terms, instructions aimed at a model, and scripts the English-only models cannot read are refused
with a reason the bot turns into a polite message.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections.abc import Sequence
from functools import cache
from importlib import resources

MAX_TOPIC_LENGTH = 120
BUILT_IN_EXAMPLES = (
    ("A polar bear sitting in a sauna.", "I asked for the cool-down room, not the cooldown."),
    ("A knight in full armour waiting at a bus stop.", "My horse is in the shop again."),
    ("A parrot on the witness stand.", "I only repeat what I heard, Your Honour."),
    (
        "Two astronauts having a picnic on the moon.",
        "You forgot the sandwiches, and the nearest deli is 240,000 miles away.",
    ),
    ("A pirate at a supermarket self-checkout.", "Unexpected item in the plunder area."),
    (
        "A robot lying on a therapist's couch.",
        "Lately I feel like everyone only wants me for my processing power.",
    ),
    ("A giraffe squeezed into a tiny car.", "I'll take the sunroof, thanks."),
    (
        "A grandmother doing tricks on a skateboard.",
        "At my age every fall is a learning experience.",
    ),
    ("A cat sitting at a grand piano.", "I only play when nobody is expecting dinner."),
    (
        "A chef chasing a chicken out of the kitchen.",
        "It's not the first dish that refused to be served.",
    ),
    ("A ghost at a job fair.", "My last employer said I never really showed up."),
    (
        "A bear reading a map at a campsite.",
        "According to this, the picnic baskets are two miles north.",
    ),
    ("A dinosaur at a computer help desk.", "Have you tried turning the asteroid off and on?"),
    (
        "A lighthouse keeper holding a birthday party.",
        "Everyone keeps saying the candles are a bit much.",
    ),
)
_INSTRUCTIONS = (
    "Funny one-line captions from a cartoon caption contest. "
    "Each caption is a joke about its own cartoon."
)


def sanitize_topic(text: str | None) -> str:
    """A member's topic made safe to put in a prompt: one short line, no control characters.

    Cut at a word boundary to ``MAX_TOPIC_LENGTH`` characters; the model is a text continuer, so
    what matters is that a topic cannot break out of its line and start a fake example.
    """
    if not text:
        return ""
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    text = " ".join(text.replace('"', "'").split())
    if len(text) > MAX_TOPIC_LENGTH:
        text = text[:MAX_TOPIC_LENGTH].rsplit(" ", 1)[0] or text[:MAX_TOPIC_LENGTH]
    return text


def scene_line(scene: str) -> str:
    """A topic or description as a cartoon line: capitalised, ending in a full stop."""
    scene = scene.strip()
    if not scene:
        return "A cartoon."
    scene = scene[0].upper() + scene[1:]
    return scene if scene[-1] in ".!?" else scene + "."


def pick_examples(best_captions: Sequence[tuple[str, str]], k: int = 12) -> list[tuple[str, str]]:
    """``k`` few-shot (scene, caption) examples: the community's newest best captions, topped up
    with the built-in ones.

    The choice is stable from one request to the next (it changes when a contest closes), so
    llama.cpp keeps the examples' evaluation cached and a request only evaluates its own scene.
    """
    ours = [
        (scene_line(sanitize_topic(scene)), sanitize_topic(caption))
        for scene, caption in best_captions
        if scene and caption
    ][:k]
    return ours + list(BUILT_IN_EXAMPLES[: k - len(ours)])


def caption_prompt(scene: str, examples: Sequence[tuple[str, str]], leap: str | None = None) -> str:
    """A page of captions under their cartoons, ending in an open quote for ``scene``.

    The examples come first and the scene last, so llama.cpp reuses the examples' evaluation
    from one request to the next. With a ``leap`` word (Leap-of-Thought, CLoT), every example
    shows a twist word too (a fixed one per caption, so the page's beginning stays the same).
    """
    words = leap_words()

    def shot(scene: str, caption: str, twist: str | None) -> str:
        twist_line = f"Twist word: {twist}\n" if twist else ""
        return f"Cartoon: {scene}\n{twist_line}Caption: "

    shots = "\n\n".join(
        shot(s, c, words[zlib.crc32(c.encode()) % len(words)] if leap else None) + f'"{c}"'
        for s, c in examples
    )
    return f'{_INSTRUCTIONS}\n\n{shots}\n\n{shot(scene_line(scene), "", leap)}"'


@cache
def leap_words() -> tuple[str, ...]:
    """Remote-association words (concrete things unrelated to any one topic)."""
    text = resources.files("ranker").joinpath("data", "leap_words.txt").read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and line[0] != "#")


REFINE_EXAMPLES = (
    (
        "A knight in full armour waiting at a bus stop.",
        "I am waiting for the bus.",
        "No twist: it only says what the cartoon shows.",
        "My horse is in the shop again.",
    ),
    (
        "A parrot on the witness stand.",
        "Courtrooms are important places where many people go to settle their disagreements.",
        "Too long, and not about the parrot.",
        "I only repeat what I heard, Your Honour.",
    ),
    (
        "A pirate at a supermarket self-checkout.",
        "I don't know what to say to you.",
        "Not about the pirate or the self-checkout.",
        "Unexpected item in the plunder area.",
    ),
)


def refine_prompt(scene: str, draft: str, critique: str) -> str:
    """An editor's page (after LLMRefine): drafts, what is wrong with each, and the rewrite."""
    shots = "\n\n".join(
        f'Cartoon: {s}\nDraft: "{d}"\nEditor: {e}\nRewrite: "{r}"' for s, d, e, r in REFINE_EXAMPLES
    )
    return (
        "Cartoon captions, what an editor said about each draft, and the funnier rewrite.\n\n"
        f'{shots}\n\nCartoon: {scene_line(scene)}\nDraft: "{draft}"\nEditor: {critique}\nRewrite: "'
    )
