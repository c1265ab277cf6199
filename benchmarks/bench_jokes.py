"""/joke latency on the bundled CPU models: p50 / p95 per request, and generation throughput.

    python -m benchmarks.bench_jokes [--requests 12] [--concurrency 1,2,4,8]

Each request is what /joke does: leap-of-thought candidates from Gemma 3 270M (llama.cpp) under
the time budget, filtered, then ranked by the base adapter (MiniLM). The raw library line is
llama.cpp generating the same number of tokens with no filtering or ranking, for comparison.

Concurrent requests share the one LLM worker (as in the bot): each keeps its time budget and gets
fewer candidates. The candidates per request at each concurrency say when a community asks for
more jokes at once than one machine serves well, and should point ``PUNCHLINE_LLM_URL`` at a
model server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SCENES = (
    "A penguin at a job interview.",
    "Two cats arguing over a laptop.",
    "A wizard in a bank queue.",
    "A snowman in a sauna.",
    "A dog giving a TED talk.",
    "A robot at a farmers market.",
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=12)
    parser.add_argument("--concurrency", default="1,2,4,8", help="simultaneous requests")
    args = parser.parse_args()

    from benchmarks.machine import describe_machine
    from ranker import AsyncLLM, AsyncRanker, LlamaCppBackend, Ranker
    from ranker.jokes import JOKE_BUDGET_S, generate_jokes, leap_prompt, leap_words

    started = time.perf_counter()
    ranker = AsyncRanker(Ranker(device="cpu"))
    backend = LlamaCppBackend(n_ctx=1024, seed=0)
    llm = AsyncLLM(backend)
    load_s = time.perf_counter() - started
    await generate_jokes(llm.generate, ranker.score, scene="Warm-up.", leaps=1, per_leap=1)

    latencies, candidates, kept, timeouts = [], 0, 0, 0
    rng = random.Random(0)
    for i in range(args.requests):
        run = await generate_jokes(
            llm.generate, ranker.score, scene=SCENES[i % len(SCENES)], rng=rng
        )
        latencies.append(run.seconds)
        candidates += run.generated
        kept += len(run.jokes)
        timeouts += run.out_of_time

    raw_started = time.perf_counter()
    tokens = 0
    for i in range(6):
        prompt = leap_prompt(
            SCENES[i % len(SCENES)], leap_words()[i], [("A scene.", "word", "A caption.")]
        )
        out = backend.model.create_completion(prompt, max_tokens=24, temperature=1.0, stop=["\n"])
        tokens += out["usage"]["completion_tokens"]
    raw_tps = tokens / (time.perf_counter() - raw_started)

    print(describe_machine())
    print(f"models loaded in {load_s:.1f}s (MiniLM + base adapter + Gemma 3 270M Q4_K_M)")
    print(
        f"/joke, {args.requests} requests one after another, budget {JOKE_BUDGET_S:.0f}s: p50 {statistics.median(latencies):.2f}s · "
        f"p95 {percentile(latencies, 0.95):.2f}s · max {max(latencies):.2f}s"
    )
    print(
        f"candidates per request {candidates / args.requests:.1f}, shown after filtering "
        f"{kept / args.requests:.1f}, requests cut short by the budget {timeouts}/{args.requests}"
    )
    print(f"raw llama.cpp generation: {raw_tps:.1f} tokens/s")
    print("simultaneous requests (one LLM worker, as in the bot):")
    for k in (int(c) for c in args.concurrency.split(",")):
        runs = await asyncio.gather(
            *(
                generate_jokes(llm.generate, ranker.score, scene=SCENES[i % len(SCENES)], rng=rng)
                for i in range(k)
            )
        )
        seconds = [r.seconds for r in runs]
        print(
            f"  {k} at once: latency p50 {statistics.median(seconds):.2f}s · max {max(seconds):.2f}s;"
            f" candidates per request {statistics.mean(r.generated for r in runs):.1f}"
            f" (min {min(r.generated for r in runs)}); cut short {sum(r.out_of_time for r in runs)}/{k}"
        )
    await ranker.aclose()
    await llm.aclose()


if __name__ == "__main__":
    asyncio.run(main())
