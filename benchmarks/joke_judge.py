"""NYCCC for the joke benchmark: held-out cartoons, a mature community's examples, and a judge.

Read at run time from ``../shared/data/nyccc`` (CC BY 4.0, the NEXT New Yorker Caption Contest
data); nothing here is copied into the project, and the bot never reads it.

- **Held-out cartoons**: 20 contests with a description. The ones the shipped base adapter was
  not fitted on come first (13 of them); the rest are from its training contests, and the report
  gives the two groups apart. (One contest's "description" is the placeholder "insert description
  here"; it is left out.)
- **A mature community's examples**: the crowd's best caption of other described contests, as
  ``storage.jokes.best_captions`` would give a community that has run contests for months.
- **The judge**: an adapter fitted here, by the project's own training code, on contests that
  exclude the 20 held-out ones — a different adapter from the base adapter that selects the
  served caption. It places the served caption among a sample of the real crowd's captions for
  the same cartoon: its percentile.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ranker.adapter import Adapter, base_adapter_path, load_adapter, save_adapter
from ranker.core import Ranker, featurize_contests
from ranker.csvio import read_dataset
from ranker.encoders import SentenceEncoder
from ranker.evaluate import pairwise_accuracy
from ranker.features import FeatureSpec
from ranker.fitting import random_part
from ranker.pairs import clear_pairs, sample_per_contest
from ranker.training import train_adapter
from ranker.votes import ContestVotes

HELD_OUT = 20
CROWD_SAMPLE = 100  # crowd captions per held-out cartoon that the served one is placed among
CACHE = Path.home() / ".cache" / "punchline" / "bench_jokes"


@dataclass
class Nyccc:
    cartoons: list[ContestVotes]  # the held-out ones, crowd sampled
    unseen_by_base: set[str]  # contest ids the base adapter was not fitted on
    community_best: list[tuple[str, str]]  # (description, best caption) of other contests
    training: list[ContestVotes]  # the judge's contests


def _sample(contest: ContestVotes, size: int, rng: np.random.Generator) -> ContestVotes:
    if len(contest.captions) <= size:
        return contest
    keep = np.sort(rng.choice(len(contest.captions), size, replace=False))
    captions = tuple(contest.captions[i] for i in keep)
    return ContestVotes(contest.contest, captions, contest.description)


def load_nyccc(data: Path, held_out: int, judge_contests: int, judge_captions: int) -> Nyccc:
    """Split NYCCC for the benchmark (seeded: every run sees the same cartoons)."""
    contests = read_dataset(data)
    base_heldout = set(load_adapter(base_adapter_path()).metadata["metrics"]["heldout_contest_ids"])
    described = [c for c in contests if c.description and "insert description" not in c.description]
    unseen = [c for c in described if str(c.contest) in base_heldout]
    seen = [c for c in described if str(c.contest) not in base_heldout]
    rng = np.random.default_rng(15)
    chosen = (unseen + list(rng.permutation(np.array(seen, dtype=object))))[:held_out]
    chosen_ids = {c.contest for c in chosen}
    others = [c for c in described if c.contest not in chosen_ids]
    best = [(c.description, max(c.captions, key=lambda v: v.mean).caption) for c in others]
    pool = [c for c in contests if c.contest not in chosen_ids]
    order = rng.permutation(len(pool))[:judge_contests]
    return Nyccc(
        cartoons=[_sample(c, CROWD_SAMPLE, rng) for c in chosen],
        unseen_by_base={str(c.contest) for c in chosen if str(c.contest) in base_heldout},
        community_best=best,
        training=[_sample(pool[i], judge_captions, rng) for i in sorted(order)],
    )


def fit_judge(encoder: SentenceEncoder, nyccc: Nyccc) -> Adapter:
    """The judge adapter, fitted on ``nyccc.training`` (cached on disk between runs)."""
    key = hashlib.sha256(
        "|".join(f"{c.contest}:{len(c.captions)}" for c in nyccc.training).encode()
    ).hexdigest()[:16]
    path = CACHE / f"judge-{key}.npz"
    if path.is_file():
        return load_adapter(path)
    features = featurize_contests(encoder, nyccc.training, random_part)
    pairs = sample_per_contest(clear_pairs(nyccc.training), 3000, np.random.default_rng(0))
    judge = train_adapter(features, pairs, FeatureSpec(encoder.dimension))
    save_adapter(judge, path)
    return judge


def judge_accuracy(judge_ranker: Ranker, nyccc: Nyccc) -> float:
    """How often the judge orders the held-out crowd's clearly-separated caption pairs right."""
    scores = np.concatenate([judge_ranker.score(c.description, c.texts) for c in nyccc.cartoons])
    return pairwise_accuracy(scores, clear_pairs(nyccc.cartoons)).overall


def percentile(judge_ranker: Ranker, cartoon: ContestVotes, caption: str) -> float:
    """The share of the crowd's sampled captions the judge scores below ``caption`` (0–100)."""
    scores = judge_ranker.score(cartoon.description, [caption, *cartoon.texts])
    return float(100.0 * np.mean(scores[1:] < scores[0]))


def relevance_calibration(encoder: SentenceEncoder, data: Path) -> tuple[float, float, float]:
    """(median cosine of each described cartoon's winning caption to its description, share of
    winners at ≥ 0.10, share of other cartoons' winners at ≥ 0.10) — what the cartoon relevance
    threshold was read from."""
    described = [c for c in read_dataset(data) if c.description]
    winners = [max(c.captions, key=lambda v: v.mean).caption for c in described]
    d = encoder.encode([c.description for c in described])
    w = encoder.encode(winners)
    similarity = w @ d.T
    own = np.diag(similarity)
    other = similarity[~np.eye(len(described), dtype=bool)]
    return float(np.median(own)), float(np.mean(own >= 0.10)), float(np.mean(other >= 0.10))
