"""Shared fixtures: the real bundled models, loaded once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

NYCCC_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "nyccc"


@pytest.fixture(scope="session")
def encoder():
    """The bundled all-MiniLM-L6-v2, on CPU."""
    from ranker.encoders import SentenceEncoder

    return SentenceEncoder(device="cpu")


@pytest.fixture(scope="session")
def ranker(encoder):
    """A ``Ranker`` with the bundled base adapter."""
    from ranker.core import Ranker

    return Ranker(encoder=encoder)


@pytest.fixture(scope="session")
def nyccc_dir() -> Path:
    """The NYCCC data directory, or a skip when this checkout does not have it."""
    if not (NYCCC_DIR / "captions.csv.gz").is_file():
        pytest.skip(f"NYCCC data not found at {NYCCC_DIR} (only CI and developers have it)")
    return NYCCC_DIR


TEMPLATES = (
    "I told you {x} would be a problem.",
    "Honestly, {x} is the least of our worries.",
    "This is what happens when you ignore {x}.",
    "Don't look now, but {x} is following us.",
    "Just once I'd like to talk about something other than {x}.",
    "Well, {x} isn't going to fix itself.",
    "Nobody warned me about {x}.",
    "We should never have trusted {x}.",
    "Let's blame {x} and go home early.",
    "At least {x} seems happy about it.",
)
TOPICS = {
    "food": (
        "the soup",
        "my sandwich",
        "the lasagna",
        "a glazed donut",
        "the tuna casserole",
        "this aged cheese",
        "the pepperoni pizza",
        "the dessert cart",
        "grandma's meatloaf",
        "the breakfast burrito",
    ),
    "work": (
        "the quarterly report",
        "my boss",
        "the budget meeting",
        "the spreadsheet",
        "payroll",
        "the new intern",
        "human resources",
        "the merger",
        "my inbox",
        "the deadline",
    ),
    "weather": (
        "the blizzard",
        "this heat wave",
        "the thunderstorm",
        "the fog",
        "the forecast",
        "the hurricane",
        "all this drizzle",
        "the tornado warning",
        "the hailstorm",
        "the frost",
    ),
    "law": (
        "my lawyer",
        "the judge",
        "the jury",
        "the subpoena",
        "the parole board",
        "the prosecutor",
        "the verdict",
        "the court stenographer",
        "the appeal",
        "the bailiff",
    ),
}
RATINGS_LOVED = (0.6, 0.3, 0.1)
RATINGS_OTHER = (0.1, 0.3, 0.6)


def simulated_community(
    contests: int = 25,
    captions_per_contest: int = 24,
    voters: int = 12,
    loves: str = "food",
    reversed_from: int | None = None,
    seed: int = 0,
):
    """Contests of template captions voted by a community that loves one topic.

    From contest ``reversed_from`` on, the community's taste flips (it now dislikes the topic).
    """
    import numpy as np

    from ranker.votes import CaptionVotes, ContestVotes

    rng = np.random.default_rng(seed)
    topics = list(TOPICS)
    result = []
    for number in range(contests):
        seen: set[str] = set()
        captions = []
        while len(captions) < captions_per_contest:
            topic = topics[rng.integers(len(topics))]
            text = TEMPLATES[rng.integers(len(TEMPLATES))].format(
                x=TOPICS[topic][rng.integers(len(TOPICS[topic]))]
            )
            if text in seen:
                continue
            seen.add(text)
            loved = topic == loves
            if reversed_from is not None and number >= reversed_from:
                loved = not loved
            counts = rng.multinomial(voters, RATINGS_LOVED if loved else RATINGS_OTHER)
            captions.append(CaptionVotes(text, *(int(c) for c in counts)))
        result.append(ContestVotes(number, tuple(captions), "A cartoon about everyday trouble."))
    return result


@pytest.fixture(scope="session")
def make_community():
    """``simulated_community`` as a fixture (test modules cannot import conftest)."""
    return simulated_community
