"""Async facades: each model lives on one dedicated thread, and the bot ``await``s it.

Neither llama.cpp nor a Python-level training loop may run on the event loop (Discord's gateway
heartbeat would starve), and a ``Llama`` object is not thread-safe. So every model gets a
``ModelWorker`` — a single-thread executor that owns it — and calls queue to that thread.
Concurrent ``score`` calls are gathered into one encoder batch.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from ranker.adapter import Adapter
from ranker.core import AIRanking, Ranker, ScoreRequest, checked_captions, ranking_from_scores
from ranker.llm import LLMBackend
from ranker.refit import RefitPolicy, RefitResult, refit_adapter
from ranker.taste import TasteFindings, measure_taste, taste_inputs
from ranker.votes import ContestVotes

T = TypeVar("T")
_PendingScore = tuple[ScoreRequest, Adapter | None, "asyncio.Future[np.ndarray]"]


class ModelWorker:
    """A single thread that owns one model; ``run`` queues a call to it and awaits the result."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``function(*args, **kwargs)`` on the worker thread without blocking the loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(function, *args, **kwargs)
        )

    def close(self) -> None:
        """Finish queued calls and stop the thread."""
        self._executor.shutdown(wait=True)


class AsyncRanker:
    """``Ranker`` for asyncio code: encoder calls on one worker, training on another.

    Build it with ``await AsyncRanker.create(...)`` (the models load on the worker) or wrap an
    existing ``Ranker``. Scoring requests that arrive while the encoder is busy are batched into
    one call of at most ``max_batch_captions`` captions.
    """

    def __init__(self, ranker: Ranker, max_batch_captions: int = 4096) -> None:
        self.ranker = ranker
        self.max_batch_captions = max_batch_captions
        self._encoder_worker = ModelWorker("ranker-encoder")
        self._training_worker = ModelWorker("ranker-training")
        self._pending: list[_PendingScore] = []
        self._drain_task: asyncio.Task[None] | None = None

    @classmethod
    async def create(cls, max_batch_captions: int = 4096, **ranker_options: Any) -> AsyncRanker:
        """Load a ``Ranker(**ranker_options)`` off the event loop and wrap it."""
        loader = ModelWorker("ranker-loader")
        try:
            ranker = await loader.run(Ranker, **ranker_options)
        finally:
            loader.close()
        return cls(ranker, max_batch_captions)

    @property
    def adapter(self) -> Adapter:
        """The adapter scores currently come from."""
        return self.ranker.adapter

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """See ``Ranker.embed``."""
        return await self._encoder_worker.run(self.ranker.embed, list(texts))

    async def score(
        self, description: str | None, captions: Sequence[str], adapter: Adapter | None = None
    ) -> np.ndarray:
        """One score per caption; see ``Ranker.score``."""
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        self._pending.append(((description, checked_captions(captions)), adapter, future))
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = asyncio.create_task(self._drain())
        return await future

    def _next_batch(self) -> list[_PendingScore]:
        batch: list[_PendingScore] = []
        size = 0
        while self._pending:
            request_size = len(self._pending[0][0][1])
            if batch and size + request_size > self.max_batch_captions:
                break
            batch.append(self._pending.pop(0))
            size += request_size
        return batch

    async def _drain(self) -> None:
        while self._pending:
            batch = self._next_batch()
            try:
                results = await self._encoder_worker.run(
                    self.ranker.score_many,
                    [request for request, _, _ in batch],
                    [adapter for _, adapter, _ in batch],
                )
            except Exception as error:  # noqa: BLE001 - every waiter of the batch gets it
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, _, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def rank(
        self, description: str | None, captions: Sequence[str], adapter: Adapter | None = None
    ) -> AIRanking:
        """See ``Ranker.rank``."""
        scores = await self.score(description, captions, adapter)
        return ranking_from_scores(captions, scores, adapter or self.ranker.adapter)

    async def refit(
        self,
        contests: Sequence[ContestVotes],
        current: Adapter | None = None,
        policy: RefitPolicy | None = None,
    ) -> RefitResult:
        """See ``Ranker.refit``. Features are computed on the encoder worker, the fit itself on
        the training worker, so scoring keeps being served while a refit trains."""
        current = current or self.ranker.adapter
        contests = [c for c in contests if c.captions]
        features = await self._encoder_worker.run(self.ranker.features, contests)
        return await self._training_worker.run(
            refit_adapter, contests, features, current, self.ranker.spec, policy
        )

    async def taste(
        self,
        contests: Sequence[ContestVotes],
        crowd_best: Sequence[int],
        adapter: Adapter | None = None,
        policy: RefitPolicy | None = None,
    ) -> TasteFindings | None:
        """What the contests' votes reward and how far to trust ``adapter`` (see ``ranker.taste``);
        None while there are too few clear preferences. ``crowd_best`` gives, per contest, the
        position of the caption the crowd ranked first."""
        adapter, policy = adapter or self.ranker.adapter, policy or RefitPolicy()
        inputs = taste_inputs(contests, crowd_best, policy.z, policy.prior_votes)
        if inputs is None:
            return None
        texts = [c.caption for contest in inputs.contests for c in contest.captions]
        embeddings = await self.embed(texts)
        described = await self.embed([c.description or "." for c in inputs.contests])
        scores = np.concatenate(
            [await self.score(c.description, c.texts, adapter) for c in inputs.contests]
        )
        return await self._training_worker.run(
            measure_taste, inputs, embeddings, described, scores, adapter
        )

    async def aclose(self) -> None:
        """Wait for queued work and stop both workers."""
        if self._drain_task is not None:
            await self._drain_task
        await asyncio.to_thread(self._encoder_worker.close)
        await asyncio.to_thread(self._training_worker.close)


class AsyncLLM:
    """An ``LLMBackend`` behind its own worker thread (llama.cpp is not thread-safe)."""

    def __init__(self, backend: LLMBackend) -> None:
        self.backend = backend
        self._worker = ModelWorker("ranker-llm")

    async def generate(
        self,
        prompt: str,
        max_tokens: int = 64,
        temperature: float = 0.8,
        n: int = 1,
        stop: Sequence[str] | None = None,
    ) -> list[str]:
        """See ``LLMBackend.generate``."""
        return await self._worker.run(
            self.backend.generate, prompt, max_tokens, temperature, n, stop
        )

    async def aclose(self) -> None:
        """Wait for queued generations and stop the worker."""
        await asyncio.to_thread(self._worker.close)
