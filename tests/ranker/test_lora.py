"""The encoder's LoRA delta: saved and loaded exactly, merged once and deterministically, equal to
the low-rank forward it was trained with, never put on a user's own encoder; and an adapter fitted
on another encoder's embeddings is refused with a reason."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from ranker import load_adapter
from ranker.adapter import AdapterError, base_adapter_path
from ranker.core import Ranker
from ranker.encoders import DEFAULT_ENCODER_NAME, SentenceEncoder, default_encoder_path
from ranker.finetune import (
    FinetuneConfig,
    attach_lora,
    embed,
    finetune_encoder,
    lower_states,
    upper_embed,
)
from ranker.lora import LoraDelta, load_delta, save_delta
from ranker.votes import CaptionVotes, ContestVotes

TEXTS = ["I told you the lasagna would be a problem.", "Relax, it's only the quarterly report."]


def random_delta(seed: int = 0, rank: int = 4) -> LoraDelta:
    """A small delta on two layers, as ``ranker.finetune`` would write one."""
    rng = np.random.default_rng(seed)
    factors = {}
    for name, (out, inner) in {
        "encoder.layer.0.attention.self.query": (384, 384),
        "encoder.layer.5.intermediate.dense": (1536, 384),
    }.items():
        a = rng.normal(0, 0.05, (rank, inner)).astype(np.float32)
        factors[name] = (a, rng.normal(0, 0.05, (out, rank)).astype(np.float32))
    return LoraDelta(factors, rank, 2.0 * rank, {"base_encoder": DEFAULT_ENCODER_NAME})


@pytest.fixture(scope="module")
def delta_path(tmp_path_factory):
    return save_delta(random_delta(), tmp_path_factory.mktemp("lora") / "delta.npz")


@pytest.fixture(scope="module")
def raw_encoder():
    return SentenceEncoder(device="cpu", lora=False)


@pytest.fixture(scope="module")
def tuned_encoder(delta_path):
    return SentenceEncoder(device="cpu", lora=delta_path)


def test_delta_round_trips_with_its_digest(delta_path):
    original, loaded = random_delta(), load_delta(delta_path)
    assert loaded.digest == original.digest
    assert loaded.scale == 2.0
    for name, (a, b) in original.factors.items():
        np.testing.assert_array_equal(loaded.factors[name][0], a)
        np.testing.assert_array_equal(loaded.factors[name][1], b)
    assert random_delta(seed=1).digest != original.digest


def test_merged_delta_changes_embeddings_and_the_encoder_version(
    raw_encoder, tuned_encoder, delta_path
):
    assert raw_encoder.name == DEFAULT_ENCODER_NAME
    assert tuned_encoder.name == f"{DEFAULT_ENCODER_NAME}+lora-{random_delta().digest}"
    raw, tuned = raw_encoder.encode_uncached(TEXTS), tuned_encoder.encode_uncached(TEXTS)
    assert np.abs(raw - tuned).max() > 1e-3
    np.testing.assert_allclose(np.linalg.norm(tuned, axis=1), 1.0, atol=1e-5)
    again = SentenceEncoder(device="cpu", lora=delta_path).encode_uncached(TEXTS)
    np.testing.assert_array_equal(again, tuned)  # merging is deterministic


def test_merged_weights_give_the_low_rank_forward_training_used(tuned_encoder):
    """Scoring with merged weights is the function the fine-tune optimised (no train/serve skew)."""
    training = SentenceEncoder(device="cpu", lora=False)
    delta = random_delta()
    config = FinetuneConfig(rank=delta.rank, alpha=delta.alpha, layers=(0, 5))
    wrapped = attach_lora(training.model[0].auto_model, config)
    with torch.no_grad():
        for name, module in wrapped.items():
            a, b = delta.factors.get(name, (np.zeros_like(module.a), np.zeros_like(module.b)))
            module.a.copy_(torch.from_numpy(np.asarray(a)))
            module.b.copy_(torch.from_numpy(np.asarray(b)))
        low_rank = embed(training.model, TEXTS).numpy()
    np.testing.assert_allclose(tuned_encoder.encode_uncached(TEXTS), low_rank, atol=1e-5)
    # training runs only the adapted blocks, on the frozen blocks' output computed once
    with torch.no_grad():
        cached = upper_embed(training.model, lower_states(training.model, TEXTS, 1), 1).numpy()
    np.testing.assert_allclose(cached, low_rank, atol=1e-6)


def test_a_users_own_encoder_gets_no_delta_and_starts_from_the_base_adapter(delta_path):
    own = SentenceEncoder(default_encoder_path(), device="cpu")
    assert own.delta is None
    assert "+lora" not in own.name
    assert Ranker(encoder=own).adapter.version == load_adapter(base_adapter_path()).version


def with_encoder(adapter, version: str, name: str):
    return replace(
        adapter,
        metadata={
            **adapter.metadata,
            "version": version,
            "encoder": {"name": name, "dimension": 384},
        },
    )


def test_an_adapter_fitted_for_another_encoder_is_refused_with_a_reason(raw_encoder, tuned_encoder):
    fitted_raw = with_encoder(load_adapter(base_adapter_path()), "raw", raw_encoder.name)
    ranker = Ranker(fitted_raw, encoder=raw_encoder)
    assert ranker.usable(fitted_raw) is None
    stale = with_encoder(fitted_raw, "stale", tuned_encoder.name)
    reason = ranker.usable(stale)
    assert reason is not None
    assert "stale" in reason
    assert tuned_encoder.name in reason
    assert raw_encoder.name in reason
    with pytest.raises(AdapterError, match="fitted on the embeddings of encoder"):
        ranker.score("", TEXTS, adapter=stale)
    with pytest.raises(AdapterError, match="fitted on the embeddings of encoder"):
        Ranker(fitted_raw, encoder=tuned_encoder)


def test_a_few_finetune_steps_train_the_factors(raw_encoder):
    encoder = SentenceEncoder(device="cpu", lora=False)
    captions = [
        f"Caption number {i} about a {w}." for i, w in enumerate("cat dog eel ant fox".split())
    ]
    contest = ContestVotes(
        "1", tuple(CaptionVotes(c, 40 - 8 * i, 10, 8 * i + 2) for i, c in enumerate(captions))
    )
    config = FinetuneConfig(rank=2, alpha=4.0, steps=3, batch=5, layers=(5,))
    delta, _, record = finetune_encoder(
        encoder.model, [contest], (np.zeros(384, np.float32), 0.0), config, log=lambda _: None
    )
    assert record["steps"] == 3
    assert len(delta.factors) == 6  # every linear layer of block 5
    assert all(np.abs(b).max() > 0 for _, b in delta.factors.values())


def test_the_shipped_base_adapter_was_fitted_on_the_encoder_that_loads_by_default(encoder):
    """A delta and the base adapter refitted on its embeddings ship together, or neither does."""
    assert load_adapter(base_adapter_path()).encoder_name == encoder.name
