"""Async facades: the bot ``await``s its models, which never run on the event loop.

Neither llama.cpp nor a Python-level training loop may run on the event loop (Discord's gateway
heartbeat would starve). The encoder and the adapter's training each get a ``ModelWorker`` — a
single-thread executor that owns them — and concurrent ``score`` calls are gathered into one
encoder batch. The language model, whose generations are long and cannot be interrupted, runs
in a process of its own that a wedged call kills and restarts (``AsyncLLM``).
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
from ranker.joke_prompts import caption_prompt, pick_examples
from ranker.llm import Completion, LLMBackend, load_llm
from ranker.process import ModelProcess
from ranker.refit import RefitPolicy, RefitResult, refit_adapter
from ranker.taste import TasteFindings, measure_taste, taste_inputs
from ranker.votes import ContestVotes

T = TypeVar("T")
LLM_CALL_LIMIT_S = 20.0  # one call (a request's candidates, stopped at its budget); then killed
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
            refit_adapter,
            contests,
            features,
            current,
            policy,
            self.ranker.encoder_record,
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


def _load_warm_llm(source: str | None, **options: Any) -> LLMBackend:
    """``load_llm``, then one token after the built-in joke examples: the first real call does
    not pay for paging the weights in, and llama.cpp keeps those examples' evaluation cached
    (seconds on a busy 2-core machine), which every request of a new community starts with."""
    backend = load_llm(source, **options)
    if not str(source or "").startswith(("http://", "https://")):
        backend.complete(caption_prompt("A cartoon.", pick_examples([])), 1, 0.0)
    return backend


class AsyncLLM:
    """The language model in a process of its own (:class:`ranker.process.ModelProcess`).

    llama.cpp is not thread-safe and a generation cannot be interrupted from outside, so each
    call has a time limit: one past it kills the process (the next call gets a fresh one) and
    raises ``ModelTimeout``; a crash raises ``ModelCrashed``. Build it with ``await
    AsyncLLM.start(source, device=...)`` (``source`` as for :func:`ranker.llm.load_llm`).
    """

    def __init__(self, process: ModelProcess) -> None:
        self.process = process

    @classmethod
    async def start(
        cls,
        source: str | None = None,
        *,
        device: str | None = None,
        time_limit_s: float = LLM_CALL_LIMIT_S,
        **options: Any,
    ) -> AsyncLLM:
        """Start the process and load the model in it, off the event loop."""
        process = ModelProcess(
            _load_warm_llm,
            source,
            name="punchline-llm",
            call_timeout_s=time_limit_s,
            device=device,
            **options,
        )
        await process.start()
        return cls(process)

    @property
    def name(self) -> str:
        return self.process.model_name or "llm"

    async def complete(
        self,
        prompt: str,
        max_tokens: int = 64,
        temperature: float = 0.8,
        n: int = 1,
        stop: Sequence[str] | None = None,
        seconds: float | None = None,
    ) -> list[Completion]:
        """See ``LLMBackend.complete``."""
        return await self.process.call(
            "complete", prompt, max_tokens, temperature, n, list(stop or []), seconds
        )

    async def generate(
        self,
        prompt: str,
        max_tokens: int = 64,
        temperature: float = 0.8,
        n: int = 1,
        stop: Sequence[str] | None = None,
    ) -> list[str]:
        """See ``LLMBackend.generate``."""
        return [c.text for c in await self.complete(prompt, max_tokens, temperature, n, stop)]

    async def aclose(self) -> None:
        """Stop the model's process."""
        await self.process.aclose()


class AsyncJokeModels:
    """What a joke request calls (``ranker.jokes.JokeModels``): the LLM's process, and the
    encoder and a community's adapter on the ranker's worker."""

    def __init__(self, llm: AsyncLLM, ranker: AsyncRanker, adapter: Adapter | None = None) -> None:
        self.llm, self.ranker, self.adapter = llm, ranker, adapter

    async def complete(
        self,
        prompt: str,
        max_tokens: int,
        temperature: float,
        n: int,
        stop: Sequence[str],
        seconds: float | None,
    ) -> list[Completion]:
        return await self.llm.complete(prompt, max_tokens, temperature, n, stop, seconds)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return await self.ranker.embed(texts)

    async def score(self, description: str, captions: Sequence[str]) -> list[float]:
        return list(await self.ranker.score(description, captions, self.adapter))
