"""Many completions of one prompt at once, with llama.cpp's low-level batch API.

Sampling ``n`` candidates one after another pays for ``n`` passes over the weights per token.
Here the prompt is evaluated once (sequence 0, kept between calls, so a prompt that starts like
the last one, such as the same page of example captions, evaluates only its new end) and the
``n`` continuations decode side by side, one token each per step, in one batch: a step costs
little more than a single sequence's while the weights are what limits the CPU (bundled Gemma 3
270M on one core of this project's 2-core machine: 25 tokens/s alone, 57 in a batch of 4, 79 in
a batch of 8, 103 in a batch of 16).

Sampling is llama-cpp-python's default chain, written in numpy so every candidate's token
log-probability (under the raw logits: the fluency gate's measure) comes with it: top-k 40,
top-p 0.95, min-p 0.05, then the temperature (0: the most likely token).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ranker.llm_base import Completion, LLMError

TOP_K, TOP_P, MIN_P = 40, 0.95, 0.05


@dataclass
class _Continuation:
    """One sequence being decoded: its tokens so far and their log-probabilities."""

    seq: int
    next_token: int
    tokens: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    text: str = ""
    finished: bool = False

    def mean_logprob(self) -> float | None:
        kept = self.logprobs[: len(self.tokens)]  # not the end token's
        return float(np.mean(kept)) if kept else None


class BatchSampler:
    """Decodes up to ``max_parallel`` continuations of a prompt side by side.

    ``llama`` is a loaded ``llama_cpp.Llama``: its model and tokenizer are shared; the sampler
    has a context of its own (``n_ctx`` tokens for the prompt and every continuation together,
    one KV cache for all sequences). Not thread-safe, like llama.cpp.
    """

    def __init__(self, llama, n_ctx: int, max_parallel: int, n_threads: int) -> None:
        import llama_cpp.llama_cpp as low

        self._low, self._llama = low, llama
        params = low.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = params.n_ubatch = min(512, n_ctx)
        params.n_seq_max = max_parallel + 1  # sequence 0 keeps the prompt
        params.n_threads = params.n_threads_batch = n_threads
        params.kv_unified = True  # the continuations share the prompt's cells
        params.swa_full = True  # so a prompt's end can be dropped and re-evaluated
        self._ctx = low.llama_init_from_model(llama._model.model, params)
        if not self._ctx:
            raise LLMError("llama.cpp could not create a batch context")
        self._memory = low.llama_get_memory(self._ctx)
        self._batch = low.llama_batch_init(params.n_batch, 0, 1)
        self._vocab = llama._model.vocab
        self._n_vocab = low.llama_vocab_n_tokens(self._vocab)
        self.n_ctx, self.max_parallel = n_ctx, max_parallel
        self._cached: list[int] = []  # the prompt tokens sequence 0 holds

    def close(self) -> None:
        if self._ctx:
            self._low.llama_batch_free(self._batch)
            self._low.llama_free(self._ctx)
            self._ctx = None

    def __del__(self) -> None:
        self.close()

    def complete(
        self,
        prompt_tokens: Sequence[int],
        n: int,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        rng: np.random.Generator,
        seconds: float | None = None,
    ) -> list[Completion]:
        """``n`` continuations; after ``seconds`` the unfinished ones stop where they are."""
        if not 1 <= n <= self.max_parallel:
            raise LLMError(f"between 1 and {self.max_parallel} completions at once, not {n}")
        if len(prompt_tokens) + n * max_tokens > self.n_ctx:
            raise LLMError(f"prompt of {len(prompt_tokens)} tokens too long for {n} completions")
        deadline = None if seconds is None else time.monotonic() + seconds
        first = self._evaluate_prompt(list(prompt_tokens))
        runs = []
        for seq in range(1, n + 1):
            token, logprob = self._pick(first, temperature, rng)
            runs.append(_Continuation(seq, token, logprobs=[logprob]))
        for run in runs:
            self._low.llama_memory_seq_rm(self._memory, run.seq, -1, -1)
            self._low.llama_memory_seq_cp(self._memory, 0, run.seq, -1, -1)
        position = len(prompt_tokens)
        for _ in range(max_tokens):
            for run in runs:
                if not run.finished:
                    self._take(run, stop)
            active = [r for r in runs if not r.finished and len(r.tokens) < max_tokens]
            if not active or (deadline is not None and time.monotonic() > deadline):
                break
            self._decode([(r.next_token, position, r.seq) for r in active], logits_for=None)
            for row, run in enumerate(active):
                run.next_token, logprob = self._pick(self._logits(row), temperature, rng)
                run.logprobs.append(logprob)
            position += 1
        for run in runs:
            self._low.llama_memory_seq_rm(self._memory, run.seq, -1, -1)
        return [Completion(r.text, r.mean_logprob(), r.finished) for r in runs]

    def _take(self, run: _Continuation, stop: Sequence[str]) -> None:
        """Append the sampled token to ``run``, or finish it at an end token or stop string."""
        if self._low.llama_vocab_is_eog(self._vocab, run.next_token):
            run.finished = True
            return
        run.tokens.append(run.next_token)
        text = self._llama.detokenize(run.tokens).decode("utf-8", errors="ignore")
        cut = min((text.index(s) for s in stop if s in text), default=None)
        run.text = text if cut is None else text[:cut]
        run.finished = cut is not None

    def _evaluate_prompt(self, tokens: list[int]) -> np.ndarray:
        """Put ``tokens`` in sequence 0, reusing the cached beginning; the last one's logits."""
        keep = 0
        for cached, token in zip(self._cached, tokens[:-1], strict=False):
            if cached != token:
                break
            keep += 1
        if not self._low.llama_memory_seq_rm(self._memory, 0, keep, -1):
            self._low.llama_memory_clear(self._memory, True)
            keep = 0
        self._cached = tokens[:keep]
        step = self._low.llama_n_batch(self._ctx)
        for start in range(keep, len(tokens), step):
            chunk = tokens[start : start + step]
            last = start + len(chunk) == len(tokens)
            self._decode(
                [(t, start + i, 0) for i, t in enumerate(chunk)],
                logits_for=len(chunk) - 1 if last else -1,
            )
            self._cached += chunk
        return self._logits(-1).copy()

    def _decode(self, items: list[tuple[int, int, int]], logits_for: int | None) -> None:
        """One ``llama_decode`` of (token, position, sequence) items; logits for every item
        (``None``), one row, or none (-1)."""
        batch = self._batch
        batch.n_tokens = len(items)
        for i, (token, position, seq) in enumerate(items):
            batch.token[i], batch.pos[i] = token, position
            batch.n_seq_id[i], batch.seq_id[i][0] = 1, seq
            batch.logits[i] = logits_for is None or i == logits_for
        status = self._low.llama_decode(self._ctx, batch)
        if status != 0:
            raise LLMError(f"llama_decode failed with status {status}")

    def _logits(self, row: int) -> np.ndarray:
        pointer = self._low.llama_get_logits_ith(self._ctx, row)
        return np.ctypeslib.as_array(pointer, shape=(self._n_vocab,))

    @staticmethod
    def _pick(
        logits: np.ndarray, temperature: float, rng: np.random.Generator
    ) -> tuple[int, float]:
        """A token by top-k, top-p, min-p and temperature; its log-probability under ``logits``."""
        top = np.argpartition(logits, -TOP_K)[-TOP_K:]
        top = top[np.argsort(-logits[top])]
        peak = float(logits[top[0]])
        normaliser = peak + float(np.log(np.exp(logits - peak).sum()))
        if temperature <= 0:
            return int(top[0]), peak - normaliser
        probs = np.exp(logits[top] - peak)
        probs /= probs.sum()
        keep = int(np.searchsorted(np.cumsum(probs), TOP_P)) + 1
        keep = min(keep, int((probs >= MIN_P * probs[0]).sum())) or 1
        scaled = np.exp((logits[top[:keep]] - peak) / temperature)
        token = int(top[rng.choice(keep, p=scaled / scaled.sum())])
        return token, float(logits[token]) - normaliser
