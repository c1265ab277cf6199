"""Text generation backends: llama.cpp with a local GGUF file, or an OpenAI-compatible server.

The default is the bundled Gemma 3 270M (a base model, not instruction-tuned: prompt it with text
to continue, e.g. a few example captions). Any GGUF path or server URL is configuration.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ranker.llm_base import Completion, LLMBackend, LLMError, default_gguf_path


def default_threads() -> int:
    """All usable cores but one, and at least one.

    llama.cpp's threads meet at a barrier after every operation, so when any other process holds
    one of its cores the whole generation waits on it: on this project's 2-core machines, busy
    with other work, 2 threads made 4.8 tokens/s where 1 thread made 18.7. The core left over
    also keeps the bot's event loop and the encoder responsive while a joke is generated.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) - 1)


def cpu_has_amx() -> bool:
    """Whether the CPU advertises Intel AMX tiles (Linux: ``/proc/cpuinfo``)."""
    try:
        return " amx_tile" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


@contextlib.contextmanager
def without_amx_buffers() -> Iterator[None]:
    """Load with llama.cpp's extra weight buffers off on CPUs with AMX.

    llama.cpp built for such a CPU places weights in AMX buffers, and its AMX matrix multiply
    crashes the process (SIGSEGV in ``ggml_backend_amx_mul_mat``, llama-cpp-python 0.3.36 on a
    virtualised Xeon). ``Llama`` does not expose ``use_extra_bufts``, so the default model
    parameters are patched for the one load. Elsewhere nothing changes.
    """
    if not cpu_has_amx():
        yield
        return
    import llama_cpp.llama_cpp as low

    defaults = low.llama_model_default_params

    def without_extra_buffers():  # returns a ctypes struct
        params = defaults()
        params.use_extra_bufts = False
        return params

    low.llama_model_default_params = without_extra_buffers
    try:
        yield
    finally:
        low.llama_model_default_params = defaults


class LlamaCppBackend:
    """A GGUF model run by llama.cpp, on the GPU when the build supports offload.

    Not thread-safe: use it from one thread (``AsyncLLM`` does that).
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        n_ctx: int = 1024,
        n_threads: int | None = None,
        n_gpu_layers: int | None = None,
        seed: int = 0,
    ) -> None:
        import llama_cpp

        path = Path(model_path) if model_path else default_gguf_path()
        if not path.is_file():
            raise LLMError(f"GGUF file not found: {path}")
        if n_gpu_layers is None:
            n_gpu_layers = -1 if llama_cpp.llama_supports_gpu_offload() else 0
        if n_threads is None:
            n_threads = default_threads()
        try:
            with without_amx_buffers():
                self.model = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=n_ctx,
                    n_threads=n_threads,
                    n_gpu_layers=n_gpu_layers,
                    seed=seed,
                    verbose=False,
                )
        except ValueError as error:
            raise LLMError(f"cannot load {path}: {error}") from error
        self.name = path.name
        self.n_gpu_layers = n_gpu_layers
        self._random = random.Random(seed)

    def complete(
        self,
        prompt: str,
        max_tokens: int = 64,
        temperature: float = 0.8,
        n: int = 1,
        stop: Sequence[str] | None = None,
    ) -> list[Completion]:
        """``n`` completions, each with its own sampling seed.

        The prompt is evaluated once: llama.cpp keeps it in its cache between the ``n`` samples
        (and between requests that share its beginning, such as the same few-shot examples).
        """
        tokens = self.model.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
        return [self._sample(tokens, max_tokens, temperature, list(stop or [])) for _ in range(n)]

    def generate(self, prompt: str, *args: Any, **kwargs: Any) -> list[str]:
        """The texts of :meth:`complete`."""
        return [c.text for c in self.complete(prompt, *args, **kwargs)]

    def _sample(
        self, prompt_tokens: list[int], max_tokens: int, temperature: float, stop: list[str]
    ) -> Completion:
        """One sampled continuation, with each token's log-probability under the raw logits."""
        import llama_cpp

        model = self.model
        model.set_seed(self._random.randrange(2**31))
        generated: list[int] = []
        logprobs: list[float] = []
        text = ""
        for token in model.generate(prompt_tokens, temp=temperature, reset=True):
            if llama_cpp.llama_vocab_is_eog(model._model.vocab, token):
                break
            logits = np.ctypeslib.as_array(model._ctx.get_logits(), shape=(model.n_vocab(),))
            logprobs.append(float(logits[token] - _logsumexp(logits)))
            generated.append(token)
            text = model.detokenize(generated, prev_tokens=prompt_tokens).decode(
                "utf-8", errors="ignore"
            )
            cut = min((text.index(s) for s in stop if s in text), default=None)
            if cut is not None:
                text = text[:cut]
                break
            if len(generated) >= max_tokens:
                break
        return Completion(text, float(np.mean(logprobs)) if logprobs else None)


def _logsumexp(values: np.ndarray) -> float:
    top = float(values.max())
    return top + float(np.log(np.exp(values - top).sum()))


class OpenAICompatibleBackend:
    """A server speaking the OpenAI completions API (llama-server, vLLM, ...), over plain HTTP.

    ``logprobs=True`` asks for token log-probabilities (the fluency gate's measure). vLLM and
    llama.cpp's ``llama-server`` give them cheaply; llama-cpp-python's server only when started
    with ``--logits_all true``, which costs n_ctx × vocabulary floats, so it is off by default
    and the fluency gate then lets candidates through unmeasured.
    """

    def __init__(
        self,
        base_url: str,
        model: str = "default",
        api_key: str | None = None,
        timeout: float = 60.0,
        logprobs: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        if not self.base_url.endswith("/v1"):
            self.base_url += "/v1"
        self.name = model
        self.api_key = api_key
        self.timeout = timeout
        self.logprobs = logprobs

    def complete(
        self,
        prompt: str,
        max_tokens: int = 64,
        temperature: float = 0.8,
        n: int = 1,
        stop: Sequence[str] | None = None,
    ) -> list[Completion]:
        """``n`` completions from ``POST /v1/completions`` (with log-probabilities when
        ``logprobs`` was asked for and the server returns them)."""
        body: dict[str, object] = {
            "model": self.name,
            "prompt": prompt,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "n": n,
        }
        if stop:
            body["stop"] = list(stop)
        if self.logprobs:
            body["logprobs"] = 1
        payload = self._post("completions", body)
        try:
            choices = sorted(payload["choices"], key=lambda c: c.get("index", 0))
            return [Completion(str(c["text"]), _mean_logprob(c.get("logprobs"))) for c in choices]
        except (KeyError, TypeError) as error:
            raise LLMError(f"unexpected response from {self.base_url}: {payload!r:.200}") from error

    def generate(self, prompt: str, *args: Any, **kwargs: Any) -> list[str]:
        """The texts of :meth:`complete`."""
        return [c.text for c in self.complete(prompt, *args, **kwargs)]

    def _post(self, route: str, body: dict[str, object]) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(
            f"{self.base_url}/{route}",
            data=json.dumps(body).encode("utf-8"),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, json.JSONDecodeError) as error:
            raise LLMError(f"completion request to {self.base_url} failed: {error}") from error


def _mean_logprob(logprobs: Any) -> float | None:
    """The mean of an OpenAI ``logprobs.token_logprobs`` list, or None without one."""
    values = [v for v in (logprobs or {}).get("token_logprobs") or [] if v is not None]
    return float(np.mean(values)) if values else None


def llm_engine(device: str, llama_gpu_offload: bool) -> str:
    """Which engine runs a GGUF file on ``device`` ("cpu" or "cuda[:n]").

    The CPU path is llama.cpp, as always. On CUDA, llama.cpp when it was built with GPU offload
    (``CMAKE_ARGS="-DGGML_CUDA=on"``), else transformers + torch, whose PyPI wheels bring CUDA.
    """
    if device.startswith("cuda") and not llama_gpu_offload:
        return "transformers"
    return "llama.cpp"


def load_llm(
    source: str | os.PathLike[str] | None = None,
    device: str | None = None,
    **options: object,
) -> LLMBackend:
    """A backend from configuration: an ``http(s)://`` URL, a GGUF path, or ``None`` (bundled).

    ``device`` follows the encoder's rule (``PUNCHLINE_DEVICE``): given, or CUDA when torch sees
    a GPU, else the CPU; :func:`llm_engine` says what runs the model there.
    """
    if source is not None and str(source).startswith(("http://", "https://")):
        return OpenAICompatibleBackend(str(source), **options)  # type: ignore[arg-type]
    import llama_cpp

    from ranker.encoders import resolve_device

    device = resolve_device(device)
    gpu_offload = bool(llama_cpp.llama_supports_gpu_offload())
    if llm_engine(device, gpu_offload) == "transformers":
        from ranker.llm_torch import TransformersBackend

        return TransformersBackend(source, device=device, **options)  # type: ignore[arg-type]
    layers = -1 if device.startswith("cuda") else 0
    return LlamaCppBackend(source, n_gpu_layers=layers, **options)  # type: ignore[arg-type]
