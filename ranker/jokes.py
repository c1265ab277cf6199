"""Jokes and caption suggestions that make sense: generate, gate, rank.

Each request shows the local LLM a page of good captions under their cartoons and samples
candidates for the member's scene, side by side in one call that stops at the time budget (a
candidate cut off then, or at its token limit, is dropped as unfinished); when none of them
passes the gates, another batch while the budget lasts. Before the community's preference
adapter ranks anything, every candidate passes gates, each counted in :class:`JokeRun` so the
benchmark can say what it drops:

- **safety** (never shown): unfinished, length, mentions, links, echoed prompt text,
  repetition, blocked terms;
- **fluency**: the model's own mean token log-probability of the candidate (it reads as text);
- **relevance**: the encoder's cosine similarity between the scene and the candidate (it is about
  the topic); thresholds chosen by reading examples, see ``benchmarks/bench_jokes.py``;
- **copy**: not a near-copy of a few-shot example or a known caption (cosine similarity).

Optionally the best few are refined after LLMRefine: a critic built from the same measures says
what is wrong (off-topic, too long, no twist) and the model rewrites; rewrites pass the same gates.
"""

from __future__ import annotations

import random
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Protocol

import numpy as np

from ranker.guard import strip_injection
from ranker.joke_prompts import caption_prompt, leap_words, refine_prompt, scene_line
from ranker.llm import Completion
from ranker.textmatch import blocked_term_in

MIN_JOKE_LENGTH, MAX_JOKE_LENGTH = 8, 200
JOKE_BUDGET_S = 8.0  # a request answers within this, with fewer candidates if need be
MIN_SAMPLE_S = 0.5  # a call to the model gets at least this long
STOP = ('"', "\n")
_MENTION = re.compile(r"@|<[@#&!]")
_LINK = re.compile(r"https?://|www\.|\b[\w-]+\.(com|net|org|io|gg|ly|xyz)\b", re.IGNORECASE)
_PROMPT_ECHO = re.compile(
    r"\b(cartoon|scene|twist word|caption|topic|draft|editor|rewrite)\s*:", re.IGNORECASE
)
_NOT_WORD = re.compile(r"[^\w\s]")


class JokeModels(Protocol):
    """The three model calls a request makes (``CommunityAI`` and the benchmark provide them)."""

    async def complete(
        self,
        prompt: str,
        max_tokens: int,
        temperature: float,
        n: int,
        stop: Sequence[str],
        seconds: float | None,
    ) -> list[Completion]: ...

    async def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    async def score(self, description: str, captions: Sequence[str]) -> Sequence[float]: ...


@dataclass(frozen=True)
class JokeSettings:
    """How a request generates and gates; defaults are what the benchmark chose."""

    candidates: int = 10
    temperature: float = 0.9
    max_tokens: int = 32
    min_fluency: float = -2.8  # mean natural-log probability per token
    min_relevance: float = 0.30  # cosine similarity of a member's topic and the candidate
    max_copy_similarity: float = 0.85
    leap: bool = False
    refine: int = 0  # how many of the best are critiqued and rewritten
    max_rounds: int = 3  # batches of candidates a request may sample while none passes the gates
    budget_s: float = JOKE_BUDGET_S


TOPIC_SETTINGS = JokeSettings()
# A cartoon's caption leans on the picture, so it rarely repeats its description's words: the
# crowd's winning NYCCC captions have a median cosine of 0.10 to their cartoon's description
# (55% reach 0.10, against 23% of other cartoons' winners). See benchmarks/bench_jokes.py.
CARTOON_SETTINGS = JokeSettings(min_relevance=0.10)


@dataclass(frozen=True)
class Joke:
    text: str
    score: float
    relevance: float
    fluency: float | None


@dataclass
class Candidate:
    """A candidate that passed the safety filter, with its measures and the gates' verdict."""

    text: str
    fluency: float | None
    relevance: float | None = None
    verdict: str = "kept"  # or the gate that dropped it: fluency, relevance, copy


@dataclass
class JokeRun:
    """What one request produced: the ranked jokes, what each gate dropped, and every candidate
    that reached the gates (for the benchmark's examples)."""

    jokes: list[Joke] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    generated: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    refined: int = 0
    seconds: float = 0.0
    out_of_time: bool = False

    def drop(self, candidate: Candidate, gate: str) -> None:
        candidate.verdict = gate
        self.dropped[gate] = self.dropped.get(gate, 0) + 1


@cache
def default_blocked_terms() -> tuple[str, ...]:
    text = resources.files("ranker").joinpath("data", "blocked_terms.txt").read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and line[0] != "#")


def mentions_or_links(text: str) -> str | None:
    """``mention`` or ``link`` when ``text`` has one, else None."""
    if _MENTION.search(text):
        return "mention"
    if _LINK.search(text):
        return "link"
    return None


def _key(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def rejection(text: str, blocked: Sequence[str]) -> str | None:
    """Why a candidate must never be shown, or None when it may be (the default blocked terms
    always apply; ``blocked`` adds a community's own)."""
    if not MIN_JOKE_LENGTH <= len(text) <= MAX_JOKE_LENGTH:
        return "length"
    problem = mentions_or_links(text)
    if problem:
        return problem
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


async def _sample(
    models: JokeModels,
    prompt: str,
    n: int,
    seconds: float,
    settings: JokeSettings,
    blocked: Sequence[str],
    taken: set[str],
    run: JokeRun,
) -> list[Candidate]:
    """``n`` completions (decoded side by side, stopped after ``seconds``) through the safety
    filter and the fluency gate; one cut off before its end is dropped as ``unfinished``."""
    completions = await models.complete(
        prompt, settings.max_tokens, settings.temperature, n, STOP, seconds
    )
    run.generated += len(completions)
    fluent = []
    for completion in completions:
        if not completion.finished:
            run.dropped["unfinished"] = run.dropped.get("unfinished", 0) + 1
            continue
        texts, dropped = filter_candidates([completion.text], blocked, taken=taken)
        for reason, count in dropped.items():
            run.dropped[reason] = run.dropped.get(reason, 0) + count
        for text in texts:
            candidate = Candidate(text, completion.mean_logprob)
            run.candidates.append(candidate)
            fluency = completion.mean_logprob
            if fluency is not None and fluency < settings.min_fluency:
                run.drop(candidate, "fluency")
            else:
                fluent.append(candidate)
    return fluent


async def _gate_meaning(
    models: JokeModels,
    scene: str,
    candidates: list[Candidate],
    known: Sequence[str],
    settings: JokeSettings,
    run: JokeRun,
) -> list[Candidate]:
    """The relevance and copy gates: one encoder call for the scene, candidates and known."""
    if not candidates:
        return []
    texts = [c.text for c in candidates]
    vectors = await models.embed([scene_line(scene), *texts, *known])
    scene_vector, ours, theirs = vectors[0], vectors[1 : 1 + len(texts)], vectors[1 + len(texts) :]
    relevance = ours @ scene_vector
    copying = (ours @ theirs.T).max(axis=1) if len(known) else np.zeros(len(texts))
    kept = []
    for candidate, similarity, copy in zip(candidates, relevance, copying, strict=True):
        candidate.relevance = float(similarity)
        if similarity < settings.min_relevance:
            run.drop(candidate, "relevance")
        elif copy >= settings.max_copy_similarity:
            run.drop(candidate, "copy")
        else:
            kept.append(candidate)
    return kept


def critique(candidate: Candidate, scene: str, settings: JokeSettings) -> str:
    """What an editor would say, from the gates' own measures."""
    if (candidate.relevance or 0.0) < settings.min_relevance + 0.1:
        return f"Not clearly about {scene_line(scene)[:-1].lower()}."
    if len(candidate.text) > 80:
        return "Too long."
    return "No twist: it only says what the cartoon shows."


async def generate_jokes(
    models: JokeModels,
    *,
    scene: str,
    examples: Sequence[tuple[str, str]],
    blocked: Sequence[str] = (),
    known: Sequence[str] = (),
    settings: JokeSettings | None = None,
    rng: random.Random | None = None,
) -> JokeRun:
    """Up to ``settings.candidates`` candidates for ``scene``, gated and ranked best first,
    within ``settings.budget_s`` (a request out of time returns what passed so far)."""
    settings = settings or JokeSettings()
    rng = rng or random.Random()
    started = time.monotonic()
    deadline = started + settings.budget_s * 0.8  # the rest is for gating and ranking
    run = JokeRun()
    known = [*known, *(caption for _, caption in examples)]
    taken: set[str] = set()
    kept: list[Candidate] = []
    while _another_round(settings, run, kept, deadline):
        leap = rng.choice(leap_words()) if settings.leap else None  # one word a prompt
        prompt = caption_prompt(scene, examples, leap)
        n = 1 if leap else settings.candidates
        left = max(deadline - time.monotonic(), MIN_SAMPLE_S)
        before = run.generated
        fluent = await _sample(models, prompt, n, left, settings, blocked, taken, run)
        kept += await _gate_meaning(models, scene, fluent, known, settings, run)
        if run.generated == before:
            break  # the model returned nothing
    if kept and settings.refine and time.monotonic() < deadline:
        ranked = await _ranked(models, scene, kept)
        rewrites: list[Candidate] = []
        for joke in ranked[: settings.refine]:
            draft = next(c for c in kept if c.text == joke.text)
            prompt = refine_prompt(scene, draft.text, critique(draft, scene, settings))
            left = max(deadline - time.monotonic(), MIN_SAMPLE_S)
            rewrites += await _sample(models, prompt, 1, left, settings, blocked, taken, run)
            run.refined += 1
        kept += await _gate_meaning(models, scene, rewrites, known, settings, run)
    run.jokes = await _ranked(models, scene, kept)
    run.seconds = time.monotonic() - started
    return run


def _another_round(
    settings: JokeSettings, run: JokeRun, kept: list[Candidate], deadline: float
) -> bool:
    """Whether to sample again: fewer than ``settings.candidates`` have come, or none passed
    the gates yet (up to ``max_rounds`` rounds' worth) — while the budget lasts."""
    run.out_of_time = run.generated > 0 and time.monotonic() > deadline
    if run.out_of_time:
        return False
    if run.generated < settings.candidates:
        return True
    return not kept and run.generated < settings.candidates * settings.max_rounds


async def _ranked(models: JokeModels, scene: str, kept: list[Candidate]) -> list[Joke]:
    if not kept:
        return []
    scores = await models.score(scene_line(scene), [c.text for c in kept])
    jokes = [
        Joke(c.text, float(s), c.relevance or 0.0, c.fluency)
        for c, s in zip(kept, scores, strict=True)
    ]
    return sorted(jokes, key=lambda j: -j.score)


def topic_refusal(topic: str, blocked: Sequence[str] = ()) -> str | None:
    """Why a member's topic is not turned into a joke, or None when it may be.

    One of ``mention``, ``link``, ``blocked``, ``instructions``, ``script``.
    """
    problem = mentions_or_links(topic)
    if problem:
        return problem
    if blocked_term_in(topic, (*default_blocked_terms(), *blocked)):
        return "blocked"
    if strip_injection(topic)[1]:
        return "instructions"
    letters = [ch for ch in unicodedata.normalize("NFKC", topic) if ch.isalpha()]
    latin = sum(unicodedata.name(ch, "").startswith("LATIN") for ch in letters)
    if letters and latin < len(letters) / 2:
        return "script"
    return None
