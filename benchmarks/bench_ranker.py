"""Ranker speed and memory, against the raw library doing the same work in the same run.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_ranker.py [--data ../shared/data/nyccc]

Prints a report:
- scoring 1,000 captions with the encoder and adapter (cache cleared: every caption is encoded),
  as a ratio to sentence-transformers' own ``encode`` of the same texts (best of several runs);
- a community refit on 10,000 clear pairs, with embeddings cached (the nightly case) and cold;
- peak RSS of a fresh process that loads both default models and uses them.
Captions come from NYCCC when the data is there, else from a synthetic template set.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.machine import cpu_name, load_average  # noqa: E402
from ranker import CaptionVotes, ContestVotes, Ranker, RefitPolicy  # noqa: E402
from ranker.pairs import clear_pairs  # noqa: E402


def machine() -> str:
    """One line about where this ran (the machine may be shared: the load average says so)."""
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu_name()}; {cores} cores; {memory:.0f} GiB RAM; torch {torch.__version__} "
        f"({torch.get_num_threads()} threads); python {platform.python_version()}; "
        f"{load_average()}"
    )


def nyccc_captions(data: Path | None) -> list[tuple[int, str, int, int, int]]:
    """(contest, caption, funny, somewhat, unfunny) rows, or [] without data."""
    if data is None or not (data / "captions.csv.gz").is_file():
        return []
    with gzip.open(data / "captions.csv.gz", "rt", encoding="utf-8") as stream:
        return [
            (
                int(r["contest"]),
                r["caption"],
                int(r["funny"]),
                int(r["somewhat_funny"]),
                int(r["unfunny"]),
            )
            for r in csv.DictReader(stream)
        ]


def synthetic_captions(count: int, seed: int = 0) -> list[str]:
    """Distinct template captions when NYCCC is absent."""
    rng = np.random.default_rng(seed)
    subjects = ["my lawyer", "the soup", "our therapist", "the intern", "this penguin", "the jury"]
    verbs = ["warned me about", "is still mad about", "keeps talking about", "never mentioned"]
    objects = ["the merger", "the weather", "my haircut", "the parking", "the moon", "taxes"]
    texts: set[str] = set()
    while len(texts) < count:
        texts.add(
            f"{rng.choice(subjects).capitalize()} {rng.choice(verbs)} {rng.choice(objects)}"
            f" #{rng.integers(10_000)}."
        )
    return sorted(texts)


def best_of(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def bench_scoring(ranker: Ranker, texts: list[str], repeats: int) -> None:
    model = ranker.encoder.model
    batch = ranker.encoder.batch_size
    contests = [("A cartoon scene.", texts[i : i + 100]) for i in range(0, len(texts), 100)]

    def raw() -> None:
        model.encode(texts, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True)

    def ranked() -> None:
        ranker.encoder._cache.clear()  # every caption is encoded, as for a new contest
        ranker.score_many(contests)

    raw()
    ranked()  # warm both paths
    raw_seconds = best_of(raw, repeats)
    ranker_seconds = best_of(ranked, repeats)
    print(f"scoring {len(texts)} captions ({len(contests)} contests of 100), best of {repeats}:")
    print(f"  sentence-transformers encode alone: {raw_seconds:6.2f} s")
    print(f"  Ranker.score_many (encode+features+adapter): {ranker_seconds:6.2f} s")
    print(
        f"  ratio {ranker_seconds / raw_seconds:.3f} (overhead {ranker_seconds / raw_seconds - 1:+.1%})"
    )


def training_pairs(contests: list[ContestVotes], policy: RefitPolicy) -> int:
    """How many clear pairs a refit of ``contests`` learns from (it fits on every contest)."""
    return len(clear_pairs(contests, policy.z, policy.prior_votes))


def community_for_refit(rows: list[tuple[int, str, int, int, int]], target_pairs: int):
    """Contests with at least ``target_pairs`` clear pairs (NYCCC votes, or a synthetic taste)."""
    policy = RefitPolicy()
    contests: list[ContestVotes] = []
    if rows:
        by_contest: dict[int, list[CaptionVotes]] = {}
        for contest, text, funny, somewhat, unfunny in rows:
            by_contest.setdefault(contest, []).append(CaptionVotes(text, funny, somewhat, unfunny))
        for number in sorted(by_contest):
            contests.append(ContestVotes(number, tuple(by_contest[number][:120]), ""))
            if training_pairs(contests, policy) >= target_pairs:
                break
        return contests
    rng = np.random.default_rng(1)
    texts = synthetic_captions(12_000)
    for number in range(40):
        chosen = texts[number * 120 : (number + 1) * 120]
        captions = []
        for text in chosen:
            loved = "soup" in text
            counts = rng.multinomial(20, (0.6, 0.3, 0.1) if loved else (0.1, 0.3, 0.6))
            captions.append(CaptionVotes(text, *(int(c) for c in counts)))
        contests.append(ContestVotes(number, tuple(captions), "A cartoon scene."))
    return contests


def bench_refit(ranker: Ranker, rows) -> None:
    contests = community_for_refit(rows, 10_000)
    ranker.encoder._cache.clear()
    started = time.perf_counter()
    cold = ranker.refit(contests)
    cold_seconds = time.perf_counter() - started
    started = time.perf_counter()
    warm = ranker.refit(contests)
    warm_seconds = time.perf_counter() - started
    captions = sum(len(c.captions) for c in contests)
    print(
        f"refit on {warm.pairs_train} training pairs ({len(contests)} contests, {captions} captions,"
        f" {warm.pairs_heldout} held-out pairs):"
    )
    print(f"  embeddings cached (nightly case): {warm_seconds:6.2f} s  [{warm.reason}]")
    print(f"  cold (encoding every caption):    {cold_seconds:6.2f} s  [{cold.reason}]")


MEMORY_PROBE = """
import os, resource, sys
sys.path.insert(0, {repo!r})
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from ranker import Ranker, load_llm
ranker = Ranker()
llm = load_llm()
ranker.score("A cartoon scene.", ["Caption one.", "Caption two.", "Caption three."])
llm.generate("Caption: \\"", max_tokens=8)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def bench_memory() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE.format(repo=str(REPO))],
        capture_output=True,
        text=True,
        check=True,
    )
    peak_kib = int(probe.stdout.strip().splitlines()[-1])
    print(
        f"peak RSS, fresh process with the encoder + base adapter + Gemma 3 270M loaded and used:"
        f" {peak_kib / 1024:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "nyccc")
    parser.add_argument("--captions", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("machine:", machine())
    rows = nyccc_captions(args.data)
    print("captions from:", "NYCCC" if rows else "synthetic templates")
    texts = list(dict.fromkeys(r[1] for r in rows))[: args.captions] if rows else []
    texts = texts or synthetic_captions(args.captions)
    ranker = Ranker()
    bench_scoring(ranker, texts, args.repeats)
    bench_refit(ranker, rows)
    bench_memory()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this benchmark process itself peaked at {own:.0f} MiB)")


if __name__ == "__main__":
    main()
