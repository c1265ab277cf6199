"""The same GGUF model on a GPU through torch: the LLM's route to CUDA without a CUDA llama.cpp.

``pip install llama-cpp-python`` builds llama.cpp for the CPU only, while torch from PyPI brings
its CUDA libraries already (the encoder uses them). transformers reads the GGUF file itself
(``gguf_file=``; needs the ``gguf`` and ``accelerate`` packages), de-quantising its weights into
torch tensors, so the bundled Gemma 3 270M runs on the GPU with no extra build. :func:`ranker.llm.
load_llm` picks this backend when the device is CUDA and llama.cpp cannot offload.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ranker.llm_base import Completion, LLMError, default_gguf_path


class TransformersBackend:
    """A GGUF model de-quantised into transformers/torch, sampling ``n`` candidates in one batch."""

    def __init__(
        self, model_path: str | os.PathLike[str] | None = None, device: str = "cuda", seed: int = 0
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(model_path) if model_path else default_gguf_path()
        if not path.is_file():
            raise LLMError(f"GGUF file not found: {path}")
        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
            self.model = AutoModelForCausalLM.from_pretrained(
                str(path.parent), gguf_file=path.name, dtype=dtype
            ).to(device)
        except (ValueError, OSError) as error:
            raise LLMError(f"cannot load {path} with transformers: {error}") from error
        self.model.eval()
        self.device = device
        self.name = path.name
        self._generator = torch.Generator(device=device).manual_seed(seed)

    def complete(
        self,
        prompt: str,
        max_tokens: int = 64,
        temperature: float = 0.8,
        n: int = 1,
        stop: Sequence[str] | None = None,
    ) -> list[Completion]:
        """``n`` sampled continuations, with the mean log-probability of each under the raw
        (untempered) logits, cut at the first stop string."""
        import torch

        inputs = self.tokenizer(prompt, return_tensors="pt").to(self.device)
        torch.manual_seed(int(torch.randint(2**31, (1,), generator=self._generator)))
        with torch.inference_mode():
            out = self.model.generate(
                **inputs,
                do_sample=temperature > 0,
                temperature=max(temperature, 1e-3),
                top_k=40,
                top_p=0.95,
                max_new_tokens=max_tokens,
                num_return_sequences=n,
                stop_strings=list(stop or []) or None,
                tokenizer=self.tokenizer,
                output_logits=True,
                return_dict_in_generate=True,
                pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
            )
        start = inputs["input_ids"].shape[1]
        logprobs = torch.stack(out.logits, dim=1).float().log_softmax(-1)  # (n, steps, vocab)
        chosen = out.sequences[:, start:]
        token_logprobs = logprobs.gather(-1, chosen.unsqueeze(-1)).squeeze(-1).cpu().numpy()
        return [
            self._cut(row.tolist(), token_logprobs[i], list(stop or []))
            for i, row in enumerate(chosen)
        ]

    def generate(self, prompt: str, *args: Any, **kwargs: Any) -> list[str]:
        """The texts of :meth:`complete`."""
        return [c.text for c in self.complete(prompt, *args, **kwargs)]

    def _cut(self, tokens: list[int], logprobs: np.ndarray, stop: list[str]) -> Completion:
        """The text up to the first stop string or end of sequence, and its tokens' mean."""
        special = set(self.tokenizer.all_special_ids)
        kept: list[int] = []
        for token in tokens:
            if token in special:
                break
            kept.append(token)
            text = self.tokenizer.decode(kept)
            if any(s in text for s in stop):
                break
        text = self.tokenizer.decode(kept)
        cut = min((text.index(s) for s in stop if s in text), default=len(text))
        mean = float(np.mean(logprobs[: len(kept)])) if kept else None
        return Completion(text[:cut], mean)
