"""The LLM follows PUNCHLINE_DEVICE like the encoder: llama.cpp on the CPU (unchanged), llama.cpp
with offload on CUDA when it was built for it, else transformers + torch on CUDA. There is no GPU
here: the choice is proven with torch's and llama.cpp's GPU answers replaced, and the torch
backend is run for real on the CPU with the same GGUF file."""

from __future__ import annotations

import pytest

from ranker import llm
from ranker.llm import LlamaCppBackend, llm_engine, load_llm


@pytest.mark.parametrize(
    ("device", "offload", "engine"),
    [
        ("cpu", False, "llama.cpp"),
        ("cpu", True, "llama.cpp"),
        ("cuda", True, "llama.cpp"),
        ("cuda", False, "transformers"),
        ("cuda:1", False, "transformers"),
    ],
)
def test_the_engine_for_each_device(device, offload, engine):
    assert llm_engine(device, offload) == engine


def test_the_cpu_path_is_llama_cpp_without_offload():
    backend = load_llm(None, device="cpu", n_ctx=256)
    assert isinstance(backend, LlamaCppBackend)
    assert backend.n_gpu_layers == 0


class Recorded:
    """Stands in for the torch backend where no GPU exists to load it on."""

    def __init__(self, source, device: str, **options) -> None:
        self.source, self.device, self.options = source, device, options


def test_auto_picks_cuda_through_torch_when_llama_cpp_cannot_offload(monkeypatch):
    import llama_cpp
    import torch

    import ranker.llm_torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: False)
    monkeypatch.setattr(ranker.llm_torch, "TransformersBackend", Recorded)
    chosen = load_llm(None, device=None, seed=3)
    assert isinstance(chosen, Recorded)
    assert chosen.device == "cuda"
    assert chosen.options == {"seed": 3}


def test_auto_offloads_llama_cpp_when_it_was_built_for_cuda(monkeypatch):
    import llama_cpp
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: True)
    built: dict = {}
    monkeypatch.setattr(llm, "LlamaCppBackend", lambda source, **options: built.update(options))
    load_llm(None, device=None)
    assert built["n_gpu_layers"] == -1


def test_an_explicit_cpu_wins_over_a_gpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert load_llm(None, device="cpu", n_ctx=256).n_gpu_layers == 0


@pytest.mark.slow
def test_the_torch_backend_runs_the_same_gguf_for_real_on_the_cpu():
    """The GPU route's code, on the device this machine has: transformers de-quantises the
    bundled GGUF and samples with log-probabilities, cut at the stop string."""
    from ranker.llm_torch import TransformersBackend

    backend = TransformersBackend(device="cpu", seed=1)
    prompt = 'Cartoon captions:\n1. "I told you the soup was haunted."\n2. "'
    completions = backend.complete(prompt, max_tokens=16, temperature=0.8, n=2, stop=['"'])
    assert len(completions) == 2
    for completion in completions:
        assert '"' not in completion.text
        assert completion.mean_logprob is not None
        assert completion.mean_logprob < 0
