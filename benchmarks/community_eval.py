"""The ranker as a community meets it: unseen contests, small fields, its own taste.

    HF_HUB_OFFLINE=1 nice -n 15 .venv/bin/python benchmarks/community_eval.py [--quick]
        [--sections nyccc,communities,speed] [--suite suite|development] [--adapter PATH]
        [--raw-encoder]

**nyccc** — the adapter on the NYCCC contests it was not fitted on (its metadata says which), by
the pair rule of the data's README (z = 3 on the reported precisions): at full size (the field
being every caption, as a live contest has it, and the CLI's ``random-part`` field), and cut into
contests of 10, 20 and 40 captions drawn at random (several cuts each, fixed seeds), the field
being the cut itself.

**communities** — simulated communities (``benchmarks/community_tastes.py``): per taste and
replicate, a community runs 20-caption contests, each on a cartoon of its own (a server's daily
prompt), and the nightly refit (``Ranker.refit``, warm-started from the base adapter, the bot's
policy) is run after 40, 80, 160, 320 and 640 captions. What the community is then served (the
refit if promoted, else the base) is measured on 30 test contests on the NYCCC cartoons the base
adapter never saw: agreement with the community's clear preferences (the bot's pair rule) on
pairs where the taste decides (one caption has the trait, the other not) and on all pairs.
Beside them, *told*: a model told which captions have the trait that learns only its weight (and
the base's) from the same history, the figure a perfect representation of the trait would allow
(``told_scores``); the gap between it and the candidate is the representation's, not the
votes'. There are 19 unseen cartoons and 32 history contests, so the history's cartoons are the
base adapter's training cartoons: on them the base knows the crowd's part of the votes, which can
only make the refit's promotion check harder to pass. ``--suite development`` runs other tastes,
history and test both on training cartoons (the set levers were chosen on).

**speed** — scoring 1,000 captions against sentence-transformers' own ``encode`` of them (the
ratio is the target), and one nightly refit on 640 captions, cold and with cached embeddings.

Embeddings are cached on disk (``benchmarks/nyccc_cache.py``), so a second run starts at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.community_tastes import (  # noqa: E402
    DEVELOPMENT,
    SUITE,
    CommunityContest,
    Taste,
    simulate_community,
    simulate_contests,
    voter_panel,
)
from benchmarks.machine import cpu_name, load_average  # noqa: E402
from benchmarks.nyccc_cache import CachedEncoder  # noqa: E402
from ranker.adapter import Adapter, base_adapter_path, load_adapter  # noqa: E402
from ranker.community import caption_ratings, centred  # noqa: E402
from ranker.core import Ranker, featurize_contests, whole_field  # noqa: E402
from ranker.csvio import read_dataset  # noqa: E402
from ranker.encoders import SentenceEncoder  # noqa: E402
from ranker.evaluate import bootstrap_difference, pair_correctness  # noqa: E402
from ranker.fitting import random_part  # noqa: E402
from ranker.pairs import PairSet, clear_pairs  # noqa: E402
from ranker.refit import RefitPolicy  # noqa: E402
from ranker.votes import ContestVotes  # noqa: E402

CUT_SIZES = (10, 20, 40)
COMMUNITY_SIZES = (40, 80, 160, 320, 640)
CONTEST_SIZE = 20
TEST_CONTESTS = 30
TARGET_CAPTIONS = 160


def percent(value: float | None) -> str:
    return "   —  " if value is None else f"{100 * value:5.1f}%"


def share(correct: np.ndarray) -> float | None:
    return float(correct.mean()) if len(correct) else None


def contest_interval(
    correct: np.ndarray, contest: np.ndarray, seed: int = 0
) -> tuple[float, float]:
    """95% interval of an accuracy, resampling contests (the unit pairs are not independent of)."""
    ids, position = np.unique(contest, return_inverse=True)
    right = np.bincount(position, weights=correct, minlength=len(ids))
    total = np.bincount(position, minlength=len(ids)).astype(np.float64)
    draws = np.random.default_rng(seed).integers(0, len(ids), size=(2000, len(ids)))
    low, high = np.quantile(right[draws].sum(axis=1) / total[draws].sum(axis=1), [0.025, 0.975])
    return float(low), float(high)


class Setting:
    """The data, the cached encoder, the ranker and the adapter under test."""

    def __init__(self, data: Path, adapter_path: Path | None, lora: bool = True) -> None:
        self.contests = read_dataset(data)
        texts = [t for c in self.contests for t in c.texts]
        texts += sorted({c.description for c in self.contests if c.description})
        self.model = SentenceEncoder(device="cpu", lora=lora)
        self.encoder = CachedEncoder(self.model, texts)
        self.adapter: Adapter = load_adapter(adapter_path or base_adapter_path())
        self.ranker = Ranker(self.adapter, encoder=self.encoder)  # type: ignore[arg-type]
        trained = set(self.adapter.training_contests)
        self.unseen = [c for c in self.contests if str(c.contest) not in trained]
        self.seen = [c for c in self.contests if str(c.contest) in trained]


def cut(contest: ContestVotes, size: int, rng: np.random.Generator) -> ContestVotes:
    """``size`` captions of ``contest`` drawn uniformly, as a contest of their own."""
    chosen = np.sort(rng.choice(len(contest.captions), size=size, replace=False))
    return replace(contest, captions=tuple(contest.captions[i] for i in chosen))


def nyccc_row(
    setting: Setting, label: str, contests: list[ContestVotes], field=whole_field
) -> None:
    features = featurize_contests(setting.encoder, contests, field)  # type: ignore[arg-type]
    pairs = clear_pairs(contests)
    correct = pair_correctness(setting.adapter.score_features(features), pairs)
    low, high = contest_interval(correct, pairs.contest)
    print(
        f"  {label:34s} {percent(share(correct))} [{100 * low:4.1f}, {100 * high:4.1f}]"
        f"  top10 {percent(share(correct[pairs.involves_top]))}"
        f"  close {percent(share(correct[pairs.close]))}  {len(pairs):7d} pairs"
        f" in {len(np.unique(pairs.contest))} contests",
        flush=True,
    )


def nyccc(setting: Setting, cuts: int) -> None:
    unseen = setting.unseen
    print(
        f"\nNYCCC contests the adapter never saw ({len(unseen)}: "
        f"{', '.join(str(c.contest) for c in unseen)}), README pair rule (z = 3);"
        " interval: 95% bootstrap over contests"
    )
    nyccc_row(setting, "full size, field = every caption", unseen)
    nyccc_row(setting, "full size, field = random part (CLI)", unseen, random_part)
    for size in CUT_SIZES:
        rng = np.random.default_rng(size)
        pieces = [cut(c, size, rng) for _ in range(cuts) for c in unseen]
        nyccc_row(setting, f"cut to {size} captions ({cuts} cuts each)", pieces)


def measure(scores: np.ndarray, pairs: PairSet, decided: np.ndarray) -> tuple[float | None, ...]:
    correct = pair_correctness(scores, pairs)
    return share(correct[decided]), share(correct)


def told_scores(
    setting: Setting,
    history: list[CommunityContest],
    test_features: np.ndarray,
    test_trait: np.ndarray,
) -> np.ndarray:
    """Test scores of a model *told* which captions have the trait, fitting on ``history`` only
    the weights of the base adapter's score and of the trait (least squares on the captions'
    mean ratings, centred per contest): what learning the taste's weight from these votes could
    reach with a perfect representation of the trait. A diagnostic, never served.
    """
    ratings, owner = caption_ratings([c.votes for c in history])
    parent = setting.adapter.score_features(setting.ranker.features([c.votes for c in history]))
    trait = np.concatenate([c.trait for c in history])
    design = np.column_stack([centred(parent.astype(np.float64), owner), centred(trait, owner)])
    weights = np.linalg.lstsq(design, centred(ratings, owner), rcond=None)[0]
    return weights[0] * setting.adapter.score_features(test_features) + weights[1] * test_trait


def community_run(
    setting: Setting,
    taste: Taste,
    cartoons: tuple[list[ContestVotes], list[ContestVotes]],
    replicate: int,
) -> list[dict[str, object]]:
    """One community's learning curve: a row per training size."""
    history, test = simulate_community(
        taste, *cartoons, replicate, max(COMMUNITY_SIZES) // CONTEST_SIZE, TEST_CONTESTS
    )
    test_votes = [c.votes for c in test]
    policy = RefitPolicy()
    pairs = clear_pairs(test_votes, z=policy.z, prior_votes=policy.prior_votes)
    trait = np.concatenate([c.trait for c in test])
    decided = trait[pairs.preferred] != trait[pairs.other]
    appeal = np.concatenate([c.appeal for c in test])
    features = featurize_contests(setting.encoder, test_votes)  # type: ignore[arg-type]
    base_scores = setting.adapter.score_features(features)
    rows = []
    for captions in COMMUNITY_SIZES:
        contests = [c.votes for c in history[: captions // CONTEST_SIZE]]
        result = setting.ranker.refit(contests, policy=policy)
        served = result.adapter if result.promoted else setting.adapter
        candidate = result.adapter.score_features(features) if result.adapter else None
        rows.append(
            {
                "captions": captions,
                "promoted": result.promoted,
                "seconds": result.seconds,
                "base": measure(base_scores, pairs, decided),
                "served": measure(served.score_features(features), pairs, decided),
                "candidate": measure(candidate, pairs, decided) if candidate is not None else None,
                "told": measure(
                    told_scores(setting, history[: captions // CONTEST_SIZE], features, trait),
                    pairs,
                    decided,
                ),
                "ceiling": measure(appeal, pairs, decided),
                "trait_share": float(trait.mean()),
                "pairs": (int(decided.sum()), len(pairs)),
                "gain_interval": bootstrap_difference(
                    served.score_features(features), base_scores, pairs
                ),
            }
        )
    return rows


def mean_of(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def communities(
    setting: Setting,
    suite: tuple[Taste, ...],
    cartoons: tuple[list[ContestVotes], list[ContestVotes]],
    replicates: int,
) -> None:
    print(
        f"\nsimulated communities: history on {len(cartoons[0])} cartoons, test on"
        f" {len(cartoons[1])} others ({', '.join(str(c.contest) for c in cartoons[1])});"
        f" {replicates} replicate(s) each; test: {TEST_CONTESTS} contests of {CONTEST_SIZE};"
        " figures are means over replicates"
    )
    summary = []
    for taste in suite:
        started = time.perf_counter()
        runs = [community_run(setting, taste, cartoons, r) for r in range(replicates)]
        first = runs[0][0]
        print(
            f"\n{taste.name}: \u201c{taste.sentence}\u201d trait in"
            f" {100 * np.mean([r[0]['trait_share'] for r in runs]):.0f}% of test captions;"
            f" the taste itself orders {percent(mean_of([r[0]['ceiling'][0] for r in runs]))}"
            f" of taste-decided pairs ({first['pairs'][0]} of {first['pairs'][1]} pairs,"
            " replicate 0)"
        )
        print(
            "  captions promoted | taste-decided: base  served candidate  told"
            " | all pairs: base  served candidate  told | served-base gain interval | refit s"
        )
        for index, captions in enumerate(COMMUNITY_SIZES):
            rows = [run[index] for run in runs]

            def column(key: str, part: int, rows=rows) -> str:
                return percent(mean_of([r[key][part] if r[key] else None for r in rows]))

            intervals = " ".join(
                f"[{100 * r['gain_interval'][0]:+.1f},{100 * r['gain_interval'][1]:+.1f}]"
                for r in rows
            )
            print(
                f"  {captions:8d} {sum(r['promoted'] for r in rows):4d}/{len(rows)}"
                f" |        {column('base', 0)} {column('served', 0)} {column('candidate', 0)}"
                f" {column('told', 0)}"
                f" |       {column('base', 1)} {column('served', 1)} {column('candidate', 1)}"
                f" {column('told', 1)}"
                f" | {intervals} | {np.mean([r['seconds'] for r in rows]):.1f}",
                flush=True,
            )
            if captions == TARGET_CAPTIONS:
                summary.append((taste, rows))
        print(f"  ({time.perf_counter() - started:.0f}s)")
    print(
        f"\nafter {TARGET_CAPTIONS} captions (target: >= 85% on taste-decided pairs; crowd: no"
        " interval of served - base entirely below zero)"
    )
    for taste, rows in summary:
        if taste.trait is None:
            worse = [r for r in rows if r["gain_interval"][1] < 0]
            verdict = "met" if not worse else f"NOT met ({len(worse)} replicate(s) worse)"
            print(
                f"  {taste.name:16s} all pairs {percent(mean_of([r['served'][1] for r in rows]))}"
                f" vs base {percent(mean_of([r['base'][1] for r in rows]))}: {verdict}"
            )
        else:
            served = mean_of([r["served"][0] for r in rows])
            verdict = "met" if served is not None and served >= 0.85 else "NOT met"
            print(f"  {taste.name:16s} taste-decided {percent(served)}: {verdict}")


def speed(setting: Setting) -> None:
    print("\nspeed (best of 3)")
    texts = [t for c in setting.unseen for t in c.texts][:1000]
    raw, ours = [], []
    ranker = Ranker(setting.adapter, encoder=setting.model)
    for _ in range(3):
        started = time.perf_counter()
        setting.model.model.encode(texts, batch_size=64, normalize_embeddings=True)
        raw.append(time.perf_counter() - started)
        setting.model._cache.clear()
        started = time.perf_counter()
        ranker.score("", texts)
        ours.append(time.perf_counter() - started)
    print(
        f"  scoring 1,000 captions: {min(ours):.2f}s;"
        f" sentence-transformers encode: {min(raw):.2f}s;"
        f" ratio {min(ours) / min(raw):.2f} (target <= 1.15)"
    )
    rng = np.random.default_rng(0)
    history = simulate_contests(SUITE[0], voter_panel(rng), setting.unseen[:10], 32, 20, rng)
    contests = [c.votes for c in history]
    for label in ("cold (embeddings computed)", "embeddings cached"):
        started = time.perf_counter()
        result = ranker.refit(contests)
        print(
            f"  nightly refit on 640 captions, {label}: {time.perf_counter() - started:.1f}s"
            f" (fit and check {result.seconds:.1f}s; target < 60s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "nyccc")
    parser.add_argument("--adapter", type=Path, help="adapter to test (default: the bundled one)")
    parser.add_argument("--sections", default="nyccc,communities,speed")
    parser.add_argument("--suite", choices=("suite", "development"), default="suite")
    parser.add_argument("--quick", action="store_true", help="1 replicate, 2 cuts: a few minutes")
    parser.add_argument(
        "--raw-encoder",
        action="store_true",
        help="MiniLM without the shipped LoRA delta (pass the adapter fitted on its embeddings)",
    )
    args = parser.parse_args()
    if not (args.data / "captions.csv.gz").is_file():
        sys.exit(f"NYCCC data not found at {args.data}")
    import torch

    print(
        f"machine: {cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__} on CPU"
        f" ({torch.get_num_threads()} threads), {load_average()}"
    )
    setting = Setting(args.data, args.adapter, lora=not args.raw_encoder)
    print(
        f"encoder {setting.model.name}; adapter {setting.adapter.version}"
        f" ({setting.adapter.kind}, fitted on {setting.adapter.encoder_name})"
    )
    sections = args.sections.split(",")
    if "nyccc" in sections:
        nyccc(setting, cuts=2 if args.quick else 5)
    if "communities" in sections:
        usable = [c for c in setting.seen if len(c.captions) >= 300]
        if args.suite == "suite":
            tastes, history = SUITE, usable
            test = [c for c in setting.unseen if len(c.captions) >= 300]
        else:  # lever choice: other tastes, on cartoons the base adapter was trained on
            tastes, history, test = DEVELOPMENT, usable[::2], usable[1::2]
        communities(setting, tastes, (history, test), replicates=1 if args.quick else 3)
    if "speed" in sections:
        speed(setting)


if __name__ == "__main__":
    main()
