"""Fitting an adapter with the Bradley–Terry loss on preference pairs (torch, CPU is fine).

For a pair (a preferred over b) the model's probability is sigmoid(s_a - s_b); the loss is its
negative log. Training is full-batch over the captions the pairs touch, so each step scores every
caption once and gathers the pairs from those scores.

Starting from an existing adapter (``init``) keeps its standardisation and pulls the weights
towards it (``anchor``), so a small community refit adjusts the base taste instead of
forgetting it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported where it trains: the bot imports this module with the AI off
    import torch
    from torch import nn

from ranker.adapter import Adapter
from ranker.features import FeatureSpec
from ranker.pairs import PairSet


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters of one fit (the defaults are the ones measured for the base adapter)."""

    kind: str = "linear"
    hidden: int = 32
    steps: int = 300
    learning_rate: float = 0.01
    weight_decay: float = 0.01
    anchor: float = 0.01
    dropout: float = 0.1
    seed: int = 0


def _build_head(kind: str, dim: int, hidden: int, dropout: float) -> nn.Module:
    from torch import nn

    if kind == "linear":
        return nn.Linear(dim, 1)
    return nn.Sequential(
        nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, 1)
    )


def _head_to_weights(kind: str, head: nn.Module) -> dict[str, np.ndarray]:
    params = [p.detach().numpy().astype(np.float32) for p in head.parameters()]
    if kind == "linear":
        weight, bias = params
        return {"w": weight[0].copy(), "b": bias.copy()}
    w1, b1, w2, b2 = params
    return {"w1": w1.T.copy(), "b1": b1.copy(), "w2": w2[0].copy(), "b2": b2.copy()}


def _weights_to_head(kind: str, head: nn.Module, weights: dict[str, np.ndarray]) -> None:
    if kind == "linear":
        values = [weights["w"][None, :], weights["b"]]
    else:
        values = [weights["w1"].T, weights["b1"], weights["w2"][None, :], weights["b2"]]
    import torch

    with torch.no_grad():
        for parameter, value in zip(head.parameters(), values, strict=True):
            parameter.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32)))


def bradley_terry_loss(scores: torch.Tensor, pairs: PairSet) -> torch.Tensor:
    """Mean negative log-likelihood of the pairs under sigmoid(s_preferred - s_other)."""
    import torch

    preferred = torch.from_numpy(pairs.preferred)
    other = torch.from_numpy(pairs.other)
    return torch.nn.functional.softplus(scores[other] - scores[preferred]).mean()


def train_adapter(
    features: np.ndarray,
    pairs: PairSet,
    spec: FeatureSpec,
    config: TrainingConfig | None = None,
    init: Adapter | None = None,
    progress: bool = False,
) -> Adapter:
    """Fit a head on ``features`` (all captions, flat) so it orders ``pairs`` correctly.

    Returns a new ``Adapter`` whose metadata holds the feature spec and the training config; the
    caller adds what it knows (encoder, contests, metrics).
    """
    import torch

    config = config or TrainingConfig()
    if len(pairs) == 0:
        raise ValueError("no preference pairs to train on")
    torch.manual_seed(config.seed)
    kind = init.kind if init is not None else config.kind
    used = np.unique(np.concatenate([pairs.preferred, pairs.other]))
    mean, scale = _standardisation(features[used], init)
    # Re-index so only the captions the pairs touch are scored each step.
    position = np.full(len(features), -1, dtype=np.int64)
    position[used] = np.arange(len(used))
    local = replace(pairs, preferred=position[pairs.preferred], other=position[pairs.other])
    inputs = torch.from_numpy(((features[used] - mean) / scale).astype(np.float32))
    head = _build_head(kind, features.shape[1], config.hidden, config.dropout)
    if init is not None:
        _weights_to_head(kind, head, init.weights)
    _optimise(head, inputs, local, config, anchored=init is not None, progress=progress)
    metadata: dict[str, object] = {
        "feature_spec": spec.to_dict(),
        "training_config": {**config.__dict__, "kind": kind},
    }
    if init is not None:
        metadata["parent_version"] = init.version
    return Adapter(
        kind,
        mean.astype(np.float32),
        scale.astype(np.float32),
        _head_to_weights(kind, head),
        metadata,
    )


def _standardisation(rows: np.ndarray, init: Adapter | None) -> tuple[np.ndarray, np.ndarray]:
    """The feature mean and scale: the parent's when warm-starting (its weights expect them),
    else those of the captions the pairs touch (a constant column keeps scale 1)."""
    if init is not None:
        return init.feature_mean, init.feature_scale
    scale = rows.std(axis=0)
    scale[scale < 1e-6] = 1.0
    return rows.mean(axis=0), scale


def _optimise(
    head: nn.Module,
    inputs: torch.Tensor,
    pairs: PairSet,
    config: TrainingConfig,
    anchored: bool,
    progress: bool,
) -> None:
    """``config.steps`` Adam steps on the Bradley–Terry loss of ``pairs`` (rows of ``inputs``),
    plus weight decay on the matrices and, when ``anchored``, a pull towards the start weights."""
    import torch
    from tqdm import trange

    anchors = [p.detach().clone() for p in head.parameters()] if anchored else []
    optimiser = torch.optim.Adam(head.parameters(), lr=config.learning_rate)
    matrices = [p for p in head.parameters() if p.ndim == 2]
    head.train()
    for _ in trange(config.steps, desc="training", unit="step", disable=not progress):
        scores = head(inputs).squeeze(1)
        loss = bradley_terry_loss(scores, pairs)
        if anchors:
            loss = loss + config.anchor * sum(
                ((p - a) ** 2).sum() for p, a in zip(head.parameters(), anchors, strict=True)
            )
        loss = loss + config.weight_decay * sum((m**2).sum() for m in matrices)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    head.eval()
