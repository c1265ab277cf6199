"""Levers for the ranker, cross-validated over contests the shipped adapter's test never uses.

    HF_HUB_OFFLINE=1 nice -n 15 .venv/bin/python benchmarks/ranker_levers.py
        [--sections nyccc,community,representations]

**nyccc** — 5-fold cross-validation over the base adapter's own training contests (its held-out
contests stay untouched for ``community_eval.py``): each variant is fitted as the shipped base
is (``fit_dataset``'s pairs and training) and tested at full size (field = random part) and on
random cuts of 10, 20 and 40 captions (field = the cut). Variants: the shipped one; without the
field block; without the description block; the field block zeroed on small contests; trained
on cuts as well; word-concept features (k-means clusters of the encoder's own word vectors);
an MLP head; an ensemble of the linear and MLP heads.

**community** — the candidate a refit would produce (no promotion check) on the development
tastes of ``community_tastes.py`` (history and test on training cartoons): today's residual,
the Bradley–Terry gradient refit it replaced, the residual followed by gradient steps, and the
average of the two.

**representations** — what the community residual learns a topic in: its PLS directions over the
sentence embedding (shipped), over max-pooled token vectors, over word concepts, over nearness to
the 3,000 most frequent NYCCC words (word vectors), and over the trait itself (a ceiling: a
model told which captions have it). Development tastes, 3 replicates, no promotion check.

Measured elsewhere, not kept: fine-tuning the encoder end to end (a LoRA delta on MiniLM's upper
blocks, ``ranker/finetune.py``, chosen on a validation split of the training contests): on the
held-out contests +0.8 points [+0.0, +1.6] at full size (random part), +0.2 [-0.5, +1.0] with every
caption, +2.4 / +0.6 / +0.5 on cuts of 10 / 20 / 40 captions (only the 10-cut interval clear of
zero). Figures and commands in ``benchmarks/encoder_finetune.py``.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.community_eval import CONTEST_SIZE, Setting, cut, measure  # noqa: E402
from benchmarks.community_tastes import (  # noqa: E402
    DEVELOPMENT,
    STOP_WORDS,
    CommunityContest,
    Taste,
    simulate_community,
)
from benchmarks.machine import cpu_name, load_average  # noqa: E402
from benchmarks.nyccc_cache import cached_embeddings  # noqa: E402
from ranker.community import (  # noqa: E402
    caption_ratings,
    centred,
    fit_closed_form,
    fit_residual,
)
from ranker.core import featurize_contests, whole_field  # noqa: E402
from ranker.encoders import default_encoder_path  # noqa: E402
from ranker.evaluate import pair_correctness  # noqa: E402
from ranker.features import DESCRIPTION_NAMES, FIELD_NAMES, FeatureSpec  # noqa: E402
from ranker.fitting import random_part  # noqa: E402
from ranker.pairs import PairSet, clear_pairs, sample_per_contest  # noqa: E402
from ranker.refit import GRADIENT_TRAINING, RefitPolicy  # noqa: E402
from ranker.training import TrainingConfig, train_adapter  # noqa: E402
from ranker.votes import ContestVotes  # noqa: E402

FOLDS = 5
CUTS = (10, 20, 40)
SMALL_FIELD = 40
CONCEPTS = 256
_WORD = re.compile(r"[a-z]+")


def word_concepts(setting: Setting, clusters: int = CONCEPTS, seed: int = 0) -> dict[str, int]:
    """Each whole word of the encoder's vocabulary -> its k-means cluster of word vectors."""
    words = [
        w
        for w in (default_encoder_path() / "vocab.txt").read_text().split("\n")
        if re.fullmatch(r"[a-z]{3,}", w)
    ]
    vectors = cached_embeddings(setting.model, words)
    rng = np.random.default_rng(seed)
    centres = vectors[rng.choice(len(vectors), clusters, replace=False)]
    for _ in range(30):
        label = np.argmax(vectors @ centres.T, axis=1)
        for k in range(clusters):
            members = vectors[label == k]
            if len(members):
                centres[k] = members.mean(axis=0) / max(np.linalg.norm(members.mean(axis=0)), 1e-9)
    return dict(zip(words, np.argmax(vectors @ centres.T, axis=1).tolist(), strict=True))


def concept_columns(texts: list[str], concepts: dict[str, int]) -> np.ndarray:
    """1 where a caption uses a word of concept k (a plural falls back to its singular)."""
    columns = np.zeros((len(texts), CONCEPTS), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in _WORD.findall(text.lower()):
            concept = concepts.get(word, concepts.get(word[:-1]) if word.endswith("s") else None)
            if concept is not None:
                columns[row, concept] = 1.0
    return columns


class Folds:
    """Features of the training contests, at full size and as cuts, computed once."""

    def __init__(self, setting: Setting) -> None:
        self.setting = setting
        self.contests = [c for c in setting.seen if len(c.captions) >= max(CUTS)]
        encoder = setting.encoder
        self.full = featurize_contests(encoder, self.contests, random_part)  # type: ignore[arg-type]
        self.full_texts = [t for c in self.contests for t in c.texts]
        self.full_pairs = clear_pairs(self.contests)
        rng = np.random.default_rng(7)
        self.cuts = {
            size: [cut(c, size, rng) for c in self.contests for _ in range(5)] for size in CUTS
        }
        self.cut_features = {
            size: featurize_contests(encoder, pieces, whole_field)  # type: ignore[arg-type]
            for size, pieces in self.cuts.items()
        }
        self.cut_pairs = {size: clear_pairs(pieces) for size, pieces in self.cuts.items()}
        training_rng = np.random.default_rng(11)
        self.training_cuts = [
            cut(c, size, training_rng) for c in self.contests for size in (*CUTS, *CUTS)
        ]
        self.training_cut_features = featurize_contests(encoder, self.training_cuts, whole_field)  # type: ignore[arg-type]
        self.training_cut_pairs = clear_pairs(self.training_cuts)
        self.order = np.random.default_rng(0).permutation(len(self.contests))
        self.concepts: dict[str, int] | None = None


def variant_columns(
    folds: Folds, features: np.ndarray, texts: list[str], variant: dict, size: int | None
) -> np.ndarray:
    """The feature matrix a variant sees (``size``: the contest size, None at full size)."""
    d = folds.setting.encoder.dimension
    result = features.copy()
    field = slice(result.shape[1] - len(FIELD_NAMES), result.shape[1])
    if variant.get("no_field") or (variant.get("small_field_off") and size and size < SMALL_FIELD):
        result[:, field] = 0.0
    if variant.get("no_description"):
        result[:, d : d + len(DESCRIPTION_NAMES)] = 0.0
    if variant.get("concepts"):
        if folds.concepts is None:
            folds.concepts = word_concepts(folds.setting)
        result = np.hstack([result, concept_columns(texts, folds.concepts)])
    return result


def nyccc_variant(folds: Folds, name: str, variant: dict, heads: tuple[TrainingConfig, ...]):
    started = time.perf_counter()
    contests = folds.contests
    sizes = np.array([len(c.captions) for c in contests])
    owner = np.repeat(np.arange(len(contests)), sizes)
    full = variant_columns(folds, folds.full, folds.full_texts, variant, None)
    cut_texts = {s: [t for c in folds.cuts[s] for t in c.texts] for s in CUTS}
    cuts = {
        s: variant_columns(folds, folds.cut_features[s], cut_texts[s], variant, s) for s in CUTS
    }
    training_texts = [t for c in folds.training_cuts for t in c.texts]
    training_cuts = variant_columns(
        folds, folds.training_cut_features, training_texts, variant, None
    )
    spec = FeatureSpec(folds.setting.encoder.dimension)
    full_scores = np.zeros(len(full))
    cut_scores = {s: np.zeros(len(cuts[s])) for s in CUTS}
    for fold in range(FOLDS):
        test = np.sort(folds.order[fold::FOLDS])
        train = np.setdiff1d(np.arange(len(contests)), test)
        pairs = sample_per_contest(
            folds.full_pairs.in_contests(train), 3000, np.random.default_rng(fold)
        )
        rows, chosen = full, pairs
        if variant.get("train_cuts"):
            owners = np.repeat(np.arange(len(contests)), 2 * len(CUTS))
            extra = folds.training_cut_pairs.in_contests(np.nonzero(np.isin(owners, train))[0])
            shift = len(full)
            chosen = PairSet(
                *(
                    np.concatenate([a, b])
                    for a, b in zip(
                        (
                            pairs.preferred,
                            pairs.other,
                            pairs.contest,
                            pairs.involves_top,
                            pairs.close,
                        ),
                        (
                            extra.preferred + shift,
                            extra.other + shift,
                            extra.contest + 100_000,
                            extra.involves_top,
                            extra.close,
                        ),
                        strict=True,
                    )
                )
            )
            rows = np.vstack([full, training_cuts])
        for config in heads:
            adapter = train_adapter(rows, chosen, spec, config)
            held = np.isin(owner, test)
            full_scores[held] += standardised(adapter.score_features(full[held]))
            for s in CUTS:
                cut_owner = np.repeat(np.repeat(np.arange(len(contests)), 5), s)
                held = np.isin(cut_owner, test)
                cut_scores[s][held] += standardised(adapter.score_features(cuts[s][held]))
    correct = pair_correctness(full_scores, folds.full_pairs)
    cells = "  ".join(
        f"{100 * pair_correctness(cut_scores[s], folds.cut_pairs[s]).mean():5.1f}" for s in CUTS
    )
    print(
        f"  {name:40s} full {100 * correct.mean():5.1f}  top10"
        f" {100 * correct[folds.full_pairs.involves_top].mean():5.1f}"
        f"  close {100 * correct[folds.full_pairs.close].mean():5.1f} | cuts {cells}"
        f"  ({time.perf_counter() - started:.0f}s)",
        flush=True,
    )


def standardised(scores: np.ndarray) -> np.ndarray:
    """Scores on a common scale, so heads with different logit scales average fairly."""
    return (scores - scores.mean()) / max(float(scores.std()), 1e-9)


def nyccc(setting: Setting) -> None:
    folds = Folds(setting)
    linear = TrainingConfig()
    mlp = replace(linear, kind="mlp", hidden=32)
    print(
        f"\nNYCCC levers: {FOLDS}-fold CV over {len(folds.contests)} training contests;"
        f" pairwise accuracy at full size (field = random part) | on cuts of {CUTS} captions"
    )
    for name, variant, heads in (
        ("shipped (linear, all blocks)", {}, (linear,)),
        ("no field block", {"no_field": True}, (linear,)),
        (f"field block off under {SMALL_FIELD} captions", {"small_field_off": True}, (linear,)),
        ("no description block", {"no_description": True}, (linear,)),
        ("trained on cuts of 10-40 as well", {"train_cuts": True}, (linear,)),
        (f"+ {CONCEPTS} word concepts", {"concepts": True}, (linear,)),
        ("mlp head (32)", {}, (mlp,)),
        ("ensemble: linear + mlp", {}, (linear, mlp)),
    ):
        nyccc_variant(folds, name, variant, heads)


def development_community(
    taste: Taste, usable: list[ContestVotes], replicate: int
) -> tuple[list[CommunityContest], list[ContestVotes], PairSet, np.ndarray]:
    """A community of ``taste`` on the training cartoons (history on every other one, 30 test
    contests on the rest): its history, the test contests' votes, their clear pairs by the
    bot's rule, and which test captions have the trait."""
    history, test = simulate_community(taste, usable[::2], usable[1::2], replicate, 32, 30)
    votes = [c.votes for c in test]
    policy = RefitPolicy()
    pairs = clear_pairs(votes, z=policy.z, prior_votes=policy.prior_votes)
    return history, votes, pairs, np.concatenate([c.trait for c in test])


def community(setting: Setting) -> None:
    policy = RefitPolicy()
    base = setting.adapter
    usable = [c for c in setting.seen if len(c.captions) >= 300]
    sizes = (80, 160, 320, 640)

    def residual(contests, features, pairs):
        ratings, owner = caption_ratings(contests)
        return fit_residual(ratings, owner, features, pairs, base).score_features

    def gradient(contests, features, pairs, init=None):
        return train_adapter(
            features, pairs, setting.ranker.spec, GRADIENT_TRAINING, init=init or base
        ).score_features

    def residual_then_gradient(contests, features, pairs):
        ratings, owner = caption_ratings(contests)
        start = fit_residual(ratings, owner, features, pairs, base)
        return gradient(contests, features, pairs, init=start)

    def average(contests, features, pairs):
        first, second = residual(contests, features, pairs), gradient(contests, features, pairs)
        return lambda f: standardised(first(f)) + standardised(second(f))

    models = {
        "residual (shipped)": residual,
        "gradient (the refit before)": gradient,
        "residual, then gradient": residual_then_gradient,
        "average of both": average,
    }
    print(
        "\ncommunity candidates (no promotion check), development tastes, 2 replicates;"
        f" taste-decided / all pairs after {sizes} captions"
    )
    for taste in DEVELOPMENT:
        rows: dict[str, list] = {name: [] for name in ("base", *models)}
        for replicate in range(2):
            history, votes, pairs, trait = development_community(taste, usable, replicate)
            decided = trait[pairs.preferred] != trait[pairs.other]
            features = featurize_contests(setting.encoder, votes)  # type: ignore[arg-type]
            rows["base"].append([measure(base.score_features(features), pairs, decided)] * 4)
            for name, fit in models.items():
                curve = []
                for captions in sizes:
                    seen = [c.votes for c in history[: captions // 20]]
                    seen_features = featurize_contests(setting.encoder, seen)  # type: ignore[arg-type]
                    seen_pairs = clear_pairs(seen, z=policy.z, prior_votes=policy.prior_votes)
                    score = fit(seen, seen_features, seen_pairs)
                    curve.append(measure(score(features), pairs, decided))
                rows[name].append(curve)
        print(f"  {taste.name}")
        _print_curves(rows)


ANCHOR_WORDS = 3000
ANCHOR_RADIUS = 0.5
REPRESENTATION_SIZES = (160, 640)


class CaptionViews:
    """Representations of a caption a community residual could learn a topic in (cached)."""

    def __init__(self, setting: Setting) -> None:
        self.setting = setting
        self.concepts = word_concepts(setting)
        texts = [t for c in setting.contests for t in c.texts]
        counts = Counter(w for t in texts for w in set(content_words(t)))
        vocabulary = sorted(counts)
        self.word_vector = dict(
            zip(vocabulary, cached_embeddings(setting.model, vocabulary), strict=True)
        )
        frequent = [w for w, _ in counts.most_common(ANCHOR_WORDS)]
        self.anchors = np.stack([self.word_vector[w] for w in frequent])
        self._max_pooled: dict[str, np.ndarray] = {}

    def max_pooled(self, texts: list[str]) -> np.ndarray:
        """The encoder's token vectors, max-pooled (a salient word is not averaged away)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._max_pooled]
        if missing:
            tokens = self.setting.model.model.encode(missing, output_value="token_embeddings")
            for text, vectors in zip(missing, tokens, strict=True):
                pooled = vectors[1:-1].max(dim=0).values.numpy()  # without [CLS] and [SEP]
                self._max_pooled[text] = pooled / max(float(np.linalg.norm(pooled)), 1e-9)
        return np.stack([self._max_pooled[t] for t in texts])

    def near_words(self, texts: list[str]) -> np.ndarray:
        """Per frequent NYCCC word, how far above ``ANCHOR_RADIUS`` the caption's nearest word
        is to it (cosine of word vectors): a caption about spaghetti is near "pasta"."""
        columns = np.zeros((len(texts), len(self.anchors)))
        for row, text in enumerate(texts):
            words = content_words(text)
            if words:
                nearest = (np.stack([self.word_vector[w] for w in words]) @ self.anchors.T).max(0)
                columns[row] = np.clip(nearest - ANCHOR_RADIUS, 0.0, None)
        return columns


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in STOP_WORDS]


def representations(setting: Setting) -> None:
    """The community residual's embedding block swapped for other views of a caption."""
    policy = RefitPolicy()
    base = setting.adapter
    usable = [c for c in setting.seen if len(c.captions) >= 300]
    views = CaptionViews(setting)
    dim = base.spec.embedding_dim
    shapes: dict[str, Callable] = {
        "sentence embedding (shipped)": lambda texts, features, trait: features[:, :dim],
        "max-pooled token vectors": lambda texts, features, trait: views.max_pooled(texts),
        f"{CONCEPTS} word concepts": lambda texts, features, trait: concept_columns(
            texts, views.concepts
        ),
        f"near {ANCHOR_WORDS:,} frequent words": lambda texts, features, trait: views.near_words(
            texts
        ),
        "told the trait (same fit)": lambda texts, features, trait: trait[:, None],
    }
    print(
        "\nrepresentations for the community residual (development tastes, 3 replicates, no"
        " promotion check, PLS directions chosen by cross-validation over contests);"
        f" taste-decided / all pairs after {' and '.join(map(str, REPRESENTATION_SIZES))} captions"
    )
    for taste in DEVELOPMENT:
        rows: dict[str, list] = {name: [] for name in ("base", *shapes)}
        for replicate in range(3):
            history, votes, pairs, trait = development_community(taste, usable, replicate)
            decided = trait[pairs.preferred] != trait[pairs.other]
            features = featurize_contests(setting.encoder, votes)  # type: ignore[arg-type]
            owner = np.repeat(np.arange(len(votes)), [len(c.captions) for c in votes])
            texts = [t for c in votes for t in c.texts]
            base_measure = measure(base.score_features(features), pairs, decided)
            rows["base"].append([base_measure] * len(REPRESENTATION_SIZES))
            seen = [history[: captions // CONTEST_SIZE] for captions in REPRESENTATION_SIZES]
            learned = [
                (
                    [c.votes for c in part],
                    featurize_contests(setting.encoder, [c.votes for c in part]),  # type: ignore[arg-type]
                    np.concatenate([c.trait for c in part]),
                )
                for part in seen
            ]
            for name, view in shapes.items():
                shown = view(texts, features, trait)
                rows[name].append(
                    [
                        measure(
                            _residual_on(setting, *part, view, policy)(owner, shown, features),
                            pairs,
                            decided,
                        )
                        for part in learned
                    ]
                )
        print(f"  {taste.name}")
        _print_curves(rows)


Scorer = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _residual_on(
    setting: Setting,
    contests: list[ContestVotes],
    features: np.ndarray,
    trait: np.ndarray,
    view: Callable,
    policy: RefitPolicy,
) -> Scorer:
    """The residual over ``view`` of the captions fitted on ``contests`` (``features`` their
    feature rows, ``trait`` which have the taste's trait), its number of PLS directions and
    shrinkage chosen by 5-fold cross-validation over the contests (the best agreement with their
    clear pairs); returns a scorer of (contest owner, view, features)."""
    ratings, owner = caption_ratings(contests)
    texts = [t for c in contests for t in c.texts]
    targets = centred(ratings, owner)
    parent = centred(setting.adapter.score_features(features).astype(np.float64), owner)
    shown = centred(view(texts, features, trait).astype(np.float64), owner)
    none = np.zeros((len(targets), 0))
    pairs = clear_pairs(contests, z=policy.z, prior_votes=policy.prior_votes)
    grid = [(0, 1.0), (1, 0.5), (1, 1.0), (2, 0.5), (2, 1.0), (3, 0.5), (3, 1.0)]
    folds = np.arange(len(contests))
    quality = []
    for directions, shrink in grid:
        predicted = np.zeros(len(targets))
        for fold in range(5):
            held = np.isin(owner, folds[fold::5])
            fitted = fit_closed_form(
                targets[~held],
                parent[~held],
                none[~held],
                shown[~held],
                math.inf,
                directions,
                shrink,
            )
            predicted[held] = fitted.predict(parent[held], none[held], shown[held])
        quality.append(pair_correctness(predicted, pairs).mean())
    directions, shrink = grid[int(np.argmax(quality))]
    model = fit_closed_form(targets, parent, none, shown, math.inf, directions, shrink)

    def score(test_owner: np.ndarray, test_view: np.ndarray, test_features: np.ndarray):
        test_parent = centred(
            setting.adapter.score_features(test_features).astype(np.float64), test_owner
        )
        test_shown = centred(test_view.astype(np.float64), test_owner)
        return model.predict(test_parent, np.zeros((len(test_parent), 0)), test_shown)

    return score


def _print_curves(rows: dict[str, list]) -> None:
    for name, curves in rows.items():
        values = np.array(
            [[[np.nan if v is None else v for v in cell] for cell in c] for c in curves]
        )
        cells = "  ".join(
            "  —  /" + f"{100 * b:5.1f}" if np.isnan(a) else f"{100 * a:5.1f}/{100 * b:5.1f}"
            for a, b in np.nanmean(values, axis=0)
        )
        print(f"    {name:36s} {cells}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "nyccc")
    parser.add_argument("--sections", default="nyccc,community,representations")
    args = parser.parse_args()
    if not (args.data / "captions.csv.gz").is_file():
        sys.exit(f"NYCCC data not found at {args.data}")
    warnings.filterwarnings("ignore", "Mean of empty slice")
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, CPU only, {load_average()}")
    setting = Setting(args.data, None)
    sections = args.sections.split(",")
    if "nyccc" in sections:
        nyccc(setting)
    if "community" in sections:
        community(setting)
    if "representations" in sections:
        representations(setting)


if __name__ == "__main__":
    main()
