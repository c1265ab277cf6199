"""/joke and /caption suggest, measured: on topic, what each gate drops, how funny, how fast.

    python -m benchmarks.bench_jokes [--quick] [--data ../shared/data/nyccc]

The models run as in the bot: Gemma 3 270M (llama.cpp) in its own process, MiniLM and the base
adapter on a worker thread. Sections:

1. everyday topics (/joke, a new community's built-in examples): on-topic rate — the served joke's
   cosine similarity to the topic at the threshold the gate uses, a request serving nothing
   counting as off topic — share dropped by each gate, distinct jokes per request, p50/p95;
2. held-out NYCCC cartoons (/caption suggest, a mature community's examples): the same, plus the
   served caption's percentile among the real crowd's captions for that cartoon by a judge
   adapter fitted on other contests (``benchmarks/joke_judge.py``), beside an ungated, unranked
   candidate's;
3. (full run) generation settings compared on a subset of topics, and simultaneous requests.

Targets (issue 15): ≥ 90% on topic; served caption above the crowd's median for ≥ 50% of
cartoons; p50 ≤ 3 s on 2 cores. The machine's load is printed: it is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.machine import describe_machine, load_average  # noqa: E402
from ranker import (  # noqa: E402
    CARTOON_SETTINGS,
    TOPIC_SETTINGS,
    AsyncJokeModels,
    AsyncLLM,
    AsyncRanker,
    JokeRun,
    JokeSettings,
    ModelCrashed,
    ModelTimeout,
    Ranker,
    generate_jokes,
    pick_examples,
)

TOPICS = (
    "penguins at a job interview",
    "a dentist who is afraid of teeth",
    "two cats running a bank",
    "a dog who became mayor",
    "a giraffe buying a scarf",
    "working from home",
    "the office printer",
    "pineapple on pizza",
    "a vampire at the dentist",
    "airport security",
    "a toddler negotiating bedtime",
    "a sloth running a marathon",
    "a goldfish with a smartphone",
    "grocery shopping on a Saturday",
    "a cowboy learning to code",
    "the last slice of pizza",
    "a pigeon stealing french fries",
    "online dating",
    "a chef who can't cook",
    "a parrot that only speaks legalese",
    "a ninja in a library",
    "alarm clocks",
    "a robot learning to dance",
    "group projects",
    "a snail delivering the mail",
    "my neighbour's leaf blower",
    "a haunted furniture store",
    "a wizard stuck in traffic",
    "gym memberships in January",
    "a cat that hates Mondays",
    "a lighthouse with stage fright",
    "a shark at a swimming lesson",
    "self-checkout machines",
)


@dataclass
class Served:
    scene: str
    run: JokeRun
    on_topic: bool

    @property
    def text(self) -> str | None:
        return self.run.jokes[0].text if self.run.jokes else None


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def serve_all(models, scenes, examples, settings: JokeSettings, seed: int) -> list[Served]:
    """One request per scene; one the model fails (past its time limit on a busy machine)
    counts as serving nothing, with its time."""
    rng = random.Random(seed)
    out = []
    for scene in scenes:
        started = time.monotonic()
        try:
            run = await generate_jokes(
                models, scene=scene, examples=examples, settings=settings, rng=rng
            )
        except (ModelTimeout, ModelCrashed) as failure:
            print(f"  ({scene}: {type(failure).__name__})")
            run = JokeRun(seconds=time.monotonic() - started, dropped={"model failed": 1})
        on_topic = bool(run.jokes) and run.jokes[0].relevance >= settings.min_relevance
        out.append(Served(scene, run, on_topic))
    return out


def summary(name: str, served: list[Served], settings: JokeSettings) -> None:
    runs = [s.run for s in served]
    generated = sum(r.generated for r in runs)
    seconds = [r.seconds for r in runs]
    print(f"\n{name}: {len(served)} requests, {settings.candidates} candidates each at most")
    print(
        f"  on topic (served joke's cosine to the scene ≥ {settings.min_relevance:.2f}; nothing"
        f" served counts as off): {sum(s.on_topic for s in served)}/{len(served)}"
        f" = {100 * sum(s.on_topic for s in served) / len(served):.0f}%"
    )
    gates = {}
    for r in runs:
        for reason, count in r.dropped.items():
            gates[reason] = gates.get(reason, 0) + count
    shares = ", ".join(f"{k} {100 * v / generated:.0f}%" for k, v in sorted(gates.items()))
    print(f"  dropped, share of {generated} candidates: {shares or 'none'}")
    print(
        f"  distinct jokes per request: mean {statistics.mean(len(r.jokes) for r in runs):.1f},"
        f" min {min(len(r.jokes) for r in runs)}; nothing to serve: "
        f"{sum(not r.jokes for r in runs)}/{len(runs)}"
    )
    print(
        f"  latency p50 {statistics.median(seconds):.2f}s · p95 {pct(seconds, 0.95):.2f}s ·"
        f" max {max(seconds):.2f}s; cut short by the budget {sum(r.out_of_time for r in runs)}"
    )


def threshold_examples(served: list[Served], settings: JokeSettings) -> None:
    """Candidates either side of the relevance and fluency thresholds, to read."""
    seen = [(s.scene, c) for s in served for c in s.run.candidates]
    near = [x for x in seen if x[1].relevance is not None]
    near.sort(key=lambda x: abs(x[1].relevance - settings.min_relevance))
    print(
        f"  relevance near its threshold {settings.min_relevance:.2f} (cosine · topic · candidate):"
    )
    for scene, c in sorted(near[:8], key=lambda x: -x[1].relevance):
        print(f"    {c.relevance:+.2f} · {scene} · {c.text}")
    flu = [x for x in seen if x[1].fluency is not None]
    flu.sort(key=lambda x: abs(x[1].fluency - settings.min_fluency))
    print(f"  fluency near its threshold {settings.min_fluency:.1f} (mean log-prob · candidate):")
    for _, c in sorted(flu[:6], key=lambda x: -x[1].fluency):
        print(f"    {c.fluency:+.2f} · {c.text}")


async def compare_settings(models, examples, judge_ranker, topics: list[str]) -> None:
    """Generation settings side by side on the same topics (judge score = the judge adapter's
    score of the served joke, higher is funnier by NYCCC's crowd)."""
    arms = {
        "chosen settings": TOPIC_SETTINGS,
        "temperature 0.7": replace(TOPIC_SETTINGS, temperature=0.7),
        "temperature 1.1": replace(TOPIC_SETTINGS, temperature=1.1),
        "leap words (CLoT)": replace(TOPIC_SETTINGS, leap=True),
        "refine best 2 (LLMRefine)": replace(TOPIC_SETTINGS, refine=2),
    }
    print(f"\ngeneration settings on {len(topics)} topics:")
    for name, settings in arms.items():
        served = await serve_all(models, topics, examples, settings, seed=7)
        shown = [s for s in served if s.text]
        judged = [float(judge_ranker.score(s.scene, [s.text])[0]) for s in shown]
        print(
            f"  {name:28s} on topic {100 * sum(s.on_topic for s in served) / len(served):3.0f}%"
            f" · judge score {statistics.mean(judged) if judged else float('nan'):+.3f}"
            f" · p50 {statistics.median(s.run.seconds for s in served):.2f}s"
            f" · jokes/request {statistics.mean(len(s.run.jokes) for s in served):.1f}"
        )
    served = await serve_all(models, topics, examples[:3], TOPIC_SETTINGS, seed=7)
    print(
        f"  {'3 examples instead of 12':28s} on topic"
        f" {100 * sum(s.on_topic for s in served) / len(served):3.0f}%"
        f" · p50 {statistics.median(s.run.seconds for s in served):.2f}s"
    )


async def simultaneous(models, examples, levels: tuple[int, ...]) -> None:
    print("\nsimultaneous requests (one LLM process, as in the bot):")
    for k in levels:
        runs = await asyncio.gather(
            *(
                generate_jokes(models, scene=TOPICS[i], examples=examples, settings=TOPIC_SETTINGS)
                for i in range(k)
            )
        )
        seconds = [r.seconds for r in runs]
        print(
            f"  {k} at once: p50 {statistics.median(seconds):.2f}s · max {max(seconds):.2f}s ·"
            f" candidates per request {statistics.mean(r.generated for r in runs):.1f}"
            f" · jokes {statistics.mean(len(r.jokes) for r in runs):.1f}"
        )


def raw_tokens_per_second() -> float:
    """llama.cpp's own ``create_completion`` on a caption prompt: the machine's speed right now
    (the ratio to it says what the pipeline adds)."""
    from ranker import LlamaCppBackend

    model = LlamaCppBackend(seed=0).model  # freed on return
    prompt = 'Cartoon captions:\n1. "I told you the soup was haunted."\n2. "'
    model.create_completion(prompt, max_tokens=1)
    started, tokens = time.perf_counter(), 0
    for _ in range(4):
        out = model.create_completion(prompt, max_tokens=24, temperature=1.0)
        tokens += out["usage"]["completion_tokens"]
    return tokens / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 topics, 8 cartoons, no extras")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "nyccc")
    args = parser.parse_args()
    from benchmarks import joke_judge

    began = time.perf_counter()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows when sent to a file
    print(describe_machine())
    started = time.perf_counter()
    ranker = AsyncRanker(Ranker(device="cpu"))
    llm = await AsyncLLM.start(None, device="cpu")
    models = AsyncJokeModels(llm, ranker)
    print(f"models loaded in {time.perf_counter() - started:.1f}s (LLM process warmed)")
    print(f"raw llama.cpp in this process, same model: {raw_tokens_per_second():.0f} tokens/s")

    topics = list(TOPICS[:10] if args.quick else TOPICS)
    built_in = pick_examples([])
    served = await serve_all(models, topics, built_in, TOPIC_SETTINGS, seed=1)
    summary("everyday topics (/joke), built-in examples", served, TOPIC_SETTINGS)
    threshold_examples(served, TOPIC_SETTINGS)
    print("  served, verbatim (topic → joke · cosine):")
    for s in served:
        print(
            f"    {s.scene} → {s.text} · {s.run.jokes[0].relevance:.2f}"
            if s.text
            else f"    {s.scene} → (nothing)"
        )

    if not (args.data / "captions.csv.gz").is_file():
        print(f"\nNYCCC not found at {args.data}: cartoon section skipped")
        await llm.aclose()
        return
    nyccc = joke_judge.load_nyccc(
        args.data, 8 if args.quick else 20, 40 if args.quick else 80, 80 if args.quick else 120
    )
    encoder = ranker.ranker.encoder
    fitted = time.perf_counter()
    judge_ranker = Ranker(joke_judge.fit_judge(encoder, nyccc), encoder=encoder)
    median, own, other = joke_judge.relevance_calibration(encoder, args.data)
    print(
        f"\njudge adapter: fitted on {len(nyccc.training)} other contests in"
        f" {time.perf_counter() - fitted:.0f}s; orders the held-out crowd's clear pairs right"
        f" {100 * joke_judge.judge_accuracy(judge_ranker, nyccc):.0f}% of the time"
    )
    print(
        f"cartoon relevance threshold {CARTOON_SETTINGS.min_relevance:.2f}: the crowd's winning"
        f" NYCCC captions have median cosine {median:.2f} to their description; {100 * own:.0f}%"
        f" reach {CARTOON_SETTINGS.min_relevance:.2f}, against {100 * other:.0f}% of other cartoons' winners"
    )
    mature = pick_examples(nyccc.community_best)
    scenes = [c.description for c in nyccc.cartoons]
    cartoons = await serve_all(models, scenes, mature, CARTOON_SETTINGS, seed=2)
    summary(
        "held-out NYCCC cartoons (/caption suggest), a mature community's examples",
        cartoons,
        CARTOON_SETTINGS,
    )
    print("  served caption's percentile among the crowd's (judge) · first candidate's · caption:")
    above, first_above, unseen_above = 0, 0, []
    for cartoon, s in zip(nyccc.cartoons, cartoons, strict=True):
        first = s.run.candidates[0].text if s.run.candidates else None
        p = joke_judge.percentile(judge_ranker, cartoon, s.text) if s.text else 0.0
        q = joke_judge.percentile(judge_ranker, cartoon, first) if first else 0.0
        above += p > 50
        first_above += q > 50
        if str(cartoon.contest) in nyccc.unseen_by_base:
            unseen_above.append(p > 50)
        print(f"    #{cartoon.contest}: {p:3.0f} · {q:3.0f} · {cartoon.description} → {s.text}")
    print(
        f"  served above the crowd's median: {above}/{len(cartoons)} cartoons"
        f" ({sum(unseen_above)}/{len(unseen_above)} of those the selecting base adapter never saw);"
        f" the first raw candidate: {first_above}/{len(cartoons)}"
    )
    if not args.quick:
        new_community = await serve_all(models, scenes[:10], built_in, CARTOON_SETTINGS, seed=3)
        summary(
            "10 of the cartoons, a new community's built-in examples",
            new_community,
            CARTOON_SETTINGS,
        )
        count = sum(
            joke_judge.percentile(judge_ranker, c, s.text) > 50
            for c, s in zip(nyccc.cartoons[:10], new_community, strict=True)
            if s.text
        )
        print(f"  served above the crowd's median: {count}/{len(new_community)} cartoons")
        await compare_settings(models, built_in, judge_ranker, topics[:5])
        await simultaneous(models, built_in, (2, 4))
    print(f"\n{load_average()} at the end; whole run {time.perf_counter() - began:.0f}s")
    await llm.aclose()
    await ranker.aclose()


if __name__ == "__main__":
    asyncio.run(main())
