"""Ranker accuracy on NYCCC: what each feature block and head gives, and whether refits help.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/ranker_accuracy.py [--data ../shared/data/nyccc]
        [--sections ablation,heads,chronological]

Every number is pairwise accuracy by the README's pair rule on contests the model was not fitted
on, overall / pairs with a top-10 caption / close pairs (mean gap < 0.25):

- ablation, heads: 5-fold cross-validation over contests (every contest is tested once, by a
  model that never saw it);
- chronological: a "base" fitted on the oldest half of the contests; a community refit (the
  bot's procedure, initialised from that base) on the next quarter; both tested on the newest
  quarter (the refit never sees it). Does a refit on later contests beat the base adapter?

Encoding the ~39,000 captions takes a few minutes on 2 cores; everything else is fast.
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

from benchmarks.nyccc_cache import CachedEncoder  # noqa: E402
from ranker.core import featurize_contests, whole_field  # noqa: E402
from ranker.csvio import read_dataset  # noqa: E402
from ranker.encoders import SentenceEncoder  # noqa: E402
from ranker.evaluate import PairwiseAccuracy, bootstrap_difference, pairwise_accuracy  # noqa: E402
from ranker.features import DESCRIPTION_NAMES, FIELD_NAMES, FORM_NAMES, FeatureSpec  # noqa: E402
from ranker.fitting import random_part  # noqa: E402
from ranker.pairs import clear_pairs, sample_per_contest  # noqa: E402
from ranker.refit import RefitPolicy, refit_adapter  # noqa: E402
from ranker.training import TrainingConfig, train_adapter  # noqa: E402


def show(name: str, accuracy: PairwiseAccuracy, seconds: float) -> None:
    print(
        f"  {name:52s} overall {accuracy.overall:.4f}  top10 {accuracy.top10:.4f}"
        f"  close {accuracy.close:.4f}  ({accuracy.pairs} pairs, {accuracy.contests} contests,"
        f" {seconds:.0f}s)",
        flush=True,
    )


class Experiment:
    """Features of every NYCCC caption (both field references), computed once."""

    def __init__(self, data: Path) -> None:
        self.contests = read_dataset(data)
        texts = [t for c in self.contests for t in c.texts]
        texts += sorted({c.description for c in self.contests if c.description})
        self.encoder = CachedEncoder(SentenceEncoder(), texts)  # vectors cached on disk
        self.spec = FeatureSpec(self.encoder.dimension)
        started = time.perf_counter()
        self.features = {
            "random-part": featurize_contests(self.encoder, self.contests, random_part, True),
            "all": featurize_contests(self.encoder, self.contests, whole_field, True),
        }
        print(
            f"features of {len(self.features['all'])} captions in {time.perf_counter() - started:.0f}s"
        )
        self.pairs = clear_pairs(self.contests)
        sizes = [len(c.captions) for c in self.contests]
        self.owner = np.repeat(np.arange(len(self.contests)), sizes)
        d = self.encoder.dimension
        self.blocks = {
            "embedding": list(range(d)),
            "description": list(range(d, d + len(DESCRIPTION_NAMES))),
            "form": list(
                range(d + len(DESCRIPTION_NAMES), d + len(DESCRIPTION_NAMES) + len(FORM_NAMES))
            ),
            "field": list(range(self.spec.dim - len(FIELD_NAMES), self.spec.dim)),
        }

    def cross_validate(
        self,
        name: str,
        blocks: tuple[str, ...] = ("embedding", "description", "form", "field"),
        field: str = "random-part",
        pairs_per_contest: int = 3000,
        folds: int = 5,
        **training: object,
    ) -> np.ndarray:
        """Out-of-fold scores for every caption; prints the accuracy."""
        started = time.perf_counter()
        columns = [c for block in blocks for c in self.blocks[block]]
        features = self.features[field][:, columns]
        config = replace(TrainingConfig(), **training)  # type: ignore[arg-type]
        order = np.random.default_rng(0).permutation(len(self.contests))
        scores = np.zeros(len(features))
        for fold in range(folds):
            test = np.sort(order[fold::folds])
            train = np.setdiff1d(np.arange(len(self.contests)), test)
            pairs = sample_per_contest(
                self.pairs.in_contests(train), pairs_per_contest, np.random.default_rng(fold)
            )
            adapter = train_adapter(features, pairs, self.spec, config)
            mask = np.isin(self.owner, test)
            scores[mask] = adapter.score_features(features[mask])
        show(name, pairwise_accuracy(scores, self.pairs), time.perf_counter() - started)
        return scores


def ablation(experiment: Experiment) -> None:
    print("feature blocks (linear head, 5-fold CV over contests, field = random part):")
    experiment.cross_validate("form only", ("form",))
    experiment.cross_validate("field only", ("field",))
    experiment.cross_validate("embedding only (frozen-embedding baseline)", ("embedding",))
    experiment.cross_validate("embedding + description", ("embedding", "description"))
    experiment.cross_validate(
        "embedding + description + form", ("embedding", "description", "form")
    )
    experiment.cross_validate("all blocks (shipped)")
    print("field reference (all blocks):")
    experiment.cross_validate("field = every caption in the file (flattered)", field="all")


def heads(experiment: Experiment) -> None:
    print("heads and training (all blocks, 5-fold CV):")
    experiment.cross_validate("linear, 3000 pairs/contest (shipped)")
    experiment.cross_validate("linear, all pairs", pairs_per_contest=100_000)
    experiment.cross_validate("linear, weight decay 0", weight_decay=0.0)
    experiment.cross_validate("linear, weight decay 0.1", weight_decay=0.1)
    experiment.cross_validate("mlp 32", kind="mlp", hidden=32)
    experiment.cross_validate("mlp 64, weight decay 0.1", kind="mlp", hidden=64, weight_decay=0.1)


def chronological(experiment: Experiment) -> None:
    contests = experiment.contests
    count = len(contests)
    base_part = list(range(count // 2))
    refit_part = list(range(count // 2, 3 * count // 4))
    test_part = list(range(3 * count // 4, count))
    print(
        f"chronological: base on contests {contests[0].contest}-{contests[base_part[-1]].contest},"
        f" refit on {contests[refit_part[0]].contest}-{contests[refit_part[-1]].contest},"
        f" test on {contests[test_part[0]].contest}-{contests[-1].contest}"
    )
    features = experiment.features["random-part"]
    started = time.perf_counter()
    pairs = sample_per_contest(
        experiment.pairs.in_contests(base_part), 3000, np.random.default_rng(0)
    )
    base = train_adapter(features, pairs, experiment.spec)
    test_pairs = experiment.pairs.in_contests(test_part)
    show(
        "base adapter (oldest half)",
        pairwise_accuracy(base.score_features(features), test_pairs),
        time.perf_counter() - started,
    )
    offsets = np.concatenate([[0], np.cumsum([len(c.captions) for c in contests])])
    rows = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in refit_part])
    community = [contests[i] for i in refit_part]
    test_rows = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in test_part])
    position = np.full(len(features), -1)
    position[test_rows] = np.arange(len(test_rows))
    mapped = replace(
        test_pairs, preferred=position[test_pairs.preferred], other=position[test_pairs.other]
    )
    base_scores = base.score_features(features[test_rows])
    for label, policy in (
        ("bot refit policy (z=2, prior 3)", RefitPolicy()),
        ("refit with the NYCCC pair rule (z=3)", RefitPolicy(z=3.0, prior_votes=0.0)),
    ):
        started = time.perf_counter()
        result = refit_adapter(community, features[rows], base, policy)
        refit_scores = result.adapter.score_features(features[test_rows])
        show(
            f"refit, {label}",
            pairwise_accuracy(refit_scores, mapped),
            time.perf_counter() - started,
        )
        low, high = bootstrap_difference(refit_scores, base_scores, mapped)
        print(
            f"    {result.pairs_train} refit pairs; gain on the newest quarter's NYCCC pairs"
            f" [{low:+.4f}, {high:+.4f}]; refit's own verdict: {result.reason}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "nyccc")
    parser.add_argument("--sections", default="ablation,heads,chronological")
    args = parser.parse_args()
    if not (args.data / "captions.csv.gz").is_file():
        sys.exit(f"NYCCC data not found at {args.data}")
    experiment = Experiment(args.data)
    sections = {"ablation": ablation, "heads": heads, "chronological": chronological}
    for name in args.sections.split(","):
        sections[name](experiment)


if __name__ == "__main__":
    main()
