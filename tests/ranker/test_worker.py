"""The async ranker: the encoder and training on their own threads, the event loop stays
responsive. (The LLM runs in a process of its own: tests/ranker/test_process.py.)"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from ranker import AsyncRanker, RankerInputError, RefitPolicy
from ranker.training import TrainingConfig

DESCRIPTION = "A cartoon about everyday trouble."


@pytest.fixture
async def async_ranker(ranker):
    facade = AsyncRanker(ranker)
    yield facade
    await facade.aclose()


async def heartbeat(stop: asyncio.Event, gaps: list[float]) -> None:
    """Tick every 10 ms and record how late each tick was."""
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now


async def idle_jitter(seconds: float = 1.0) -> float:
    """The longest heartbeat gap with nothing else running: the machine's own scheduling noise."""
    stop = asyncio.Event()
    gaps: list[float] = []
    ticker = asyncio.create_task(heartbeat(stop, gaps))
    await asyncio.sleep(seconds)
    stop.set()
    await ticker
    return max(gaps) - 0.01


async def test_refit_does_not_block_the_event_loop(async_ranker, make_community):
    """Heartbeat gaps stay under 100 ms (plus the idle jitter of a busy CI machine)."""
    contests = make_community(contests=30, captions_per_contest=30, seed=3)
    slow = RefitPolicy(  # the gradient refit: seconds of work, where the residual takes less
        model="gradient", training=TrainingConfig(steps=800, anchor=0.05, weight_decay=0.0)
    )
    jitter = await idle_jitter()
    stop = asyncio.Event()
    gaps: list[float] = []
    ticker = asyncio.create_task(heartbeat(stop, gaps))
    started = time.perf_counter()
    result = await async_ranker.refit(contests, policy=slow)
    elapsed = time.perf_counter() - started
    stop.set()
    await ticker
    assert result.adapter is not None
    assert elapsed > 0.5, "the refit should take long enough for the check to mean something"
    assert len(gaps) > 20
    assert max(gaps) < 0.1 + jitter, (
        f"event loop stalled for {max(gaps) * 1000:.0f} ms (idle jitter {jitter * 1000:.0f} ms)"
    )


async def test_concurrent_scores_are_batched_and_match_sync_scores(async_ranker, ranker):
    requests = [
        (DESCRIPTION, [f"Nobody warned me about the soup, part {i}.", "The jury is still out."])
        for i in range(6)
    ]
    calls = []
    original = ranker.score_many

    def counting(*args, **kwargs):
        calls.append(len(args[0]))
        return original(*args, **kwargs)

    ranker.score_many = counting
    try:
        results = await asyncio.gather(*(async_ranker.score(d, c) for d, c in requests))
    finally:
        del ranker.score_many
    assert sum(calls) == len(requests)
    assert len(calls) < len(requests), "waiting requests should share an encoder call"
    for (description, captions), scores in zip(requests, results, strict=True):
        np.testing.assert_allclose(scores, ranker.score(description, captions), atol=1e-5)


async def test_rank_and_embed(async_ranker, ranker):
    captions = ["I told you the soup was haunted.", "Let's blame the jury and go home early."]
    ranking = await async_ranker.rank(DESCRIPTION, captions)
    assert sorted(ranking.order) == [0, 1]
    vectors = await async_ranker.embed(captions)
    np.testing.assert_allclose(vectors, ranker.embed(captions))


async def test_bad_request_fails_alone(async_ranker):
    good = asyncio.create_task(async_ranker.score(DESCRIPTION, ["A fine caption."]))
    with pytest.raises(RankerInputError):
        await async_ranker.score(DESCRIPTION, [])
    assert (await good).shape == (1,)


async def test_async_ranker_loads_off_the_loop():
    facade = await AsyncRanker.create(device="cpu")
    try:
        assert (await facade.score(None, ["One.", "Two."])).shape == (2,)
    finally:
        await facade.aclose()
