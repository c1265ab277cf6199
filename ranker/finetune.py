"""Fine-tuning the bundled encoder end to end with the Bradley–Terry loss, as a LoRA delta.

    HF_HUB_OFFLINE=1 nice -n 10 python -m ranker.finetune ../shared/data/nyccc \\
        --out ranker/data/encoder_lora.npz [--rank 8] [--learning-rate 5e-4] [--steps 1200]

Training sees only the contests the shipped base adapter was fitted on (its metadata names
them), so the base adapter's held-out contests stay unseen. Each step draws one contest and
``batch`` of its captions that take part in a clear pair (the README's rule, ``clear_pairs``),
embeds them through MiniLM with LoRA factors on every linear layer of the upper blocks
(``layers``), scores them with a linear head on the unit embedding (captions only; the head starts
from a Bradley–Terry fit on the frozen embeddings of the same captions) and minimises the Bradley–Terry loss of the clear pairs
among them. Encoder and head train jointly (Adam); the head is then dropped, and the base adapter
is refitted on the new embeddings (``python -m ranker fit``). The blocks below the adapted ones
never change, so their output is computed once per caption and each step runs only the adapted
blocks. Fixed seed; CPU.

The delta is merged into the encoder's weights once at load (``ranker.lora``), so scoring costs
what the raw encoder costs. The defaults were chosen on a validation split of the training
contests (``benchmarks/encoder_finetune.py``, whose docstring has the figures).

Measured, not kept (2026-12-02): with the defaults and ``--without-validation`` (the chosen
checkpoint), the pipeline gained +0.8 points [+0.0, +1.6] on the held-out contests at full size
(random-part field), +0.2 [-0.5, +1.0] with every caption as the field, +2.4 [+0.3, +4.6] /
+0.6 [-0.8, +2.0] / +0.5 [-0.5, +1.5] on cuts of 10 / 20 / 40 captions: not enough to retire
every community adapter for, so no delta ships (``ranker/data/encoder_lora.npz`` is absent, and
the encoder runs raw).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from transformers.masking_utils import create_bidirectional_mask

from ranker.features import FeatureSpec
from ranker.lora import LoraDelta, save_delta
from ranker.pairs import clear_pairs, contest_offsets, sample_per_contest
from ranker.training import train_adapter
from ranker.votes import ContestVotes

TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
MAX_TOKENS = 64
VALIDATION_FRACTION = 0.2
VALIDATION_SEED = 1


@dataclass(frozen=True)
class FinetuneConfig:
    """Hyper-parameters of one fine-tune."""

    rank: int = 8
    alpha: float = 16.0
    learning_rate: float = 5e-4
    head_learning_rate: float = 1e-3
    batch: int = 32
    steps: int = 600
    minutes: float = 25.0
    layers: tuple[int, ...] = (3, 4, 5)
    seed: int = 0


class LoraLinear(nn.Module):
    """``base(x) + scale · x Aᵀ Bᵀ`` with ``base`` frozen; B starts at zero, so training does too."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float, generator: torch.Generator):
        super().__init__()
        self.base = base
        bound = 1.0 / math.sqrt(base.in_features)
        a = (torch.rand(rank, base.in_features, generator=generator) * 2 - 1) * bound
        self.a = nn.Parameter(a)
        self.b = nn.Parameter(torch.zeros(base.out_features, rank))
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.a.T @ self.b.T) * self.scale


def attach_lora(transformer: nn.Module, config: FinetuneConfig) -> dict[str, LoraLinear]:
    """Wrap the target linear layers of ``transformer`` (a ``BertModel``) in place."""
    for parameter in transformer.parameters():
        parameter.requires_grad_(False)
    generator = torch.Generator().manual_seed(config.seed)
    wrapped = {}
    for layer in config.layers:
        for target in TARGETS:
            name = f"encoder.layer.{layer}.{target}"
            parent_name, child = name.rsplit(".", 1)
            parent = transformer.get_submodule(parent_name)
            module = LoraLinear(getattr(parent, child), config.rank, config.alpha, generator)
            setattr(parent, child, module)
            wrapped[name] = module
    return wrapped


def extract_delta(wrapped: dict[str, LoraLinear], config: FinetuneConfig) -> LoraDelta:
    """The trained factors as a ``LoraDelta``."""
    factors = {
        name: (m.a.detach().numpy().copy(), m.b.detach().numpy().copy())
        for name, m in wrapped.items()
    }
    return LoraDelta(factors, config.rank, config.alpha)


def _tokens(model, texts: Sequence[str]) -> dict[str, torch.Tensor]:
    return model.tokenizer(
        list(texts), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
    )


def _pooled(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return nn.functional.normalize(pooled, dim=-1)


def embed(model, texts: Sequence[str]) -> torch.Tensor:
    """Unit mean-pooled embeddings, as sentence-transformers computes them, with gradients."""
    tokens = _tokens(model, texts)
    hidden = model[0].auto_model(**tokens).last_hidden_state
    return _pooled(hidden, tokens["attention_mask"])


def _run_blocks(transformer, hidden: torch.Tensor, mask: torch.Tensor, blocks) -> torch.Tensor:
    attention = create_bidirectional_mask(
        config=transformer.config, inputs_embeds=hidden, attention_mask=mask
    )
    for block in blocks:
        hidden = block(hidden, attention)
    return hidden


@torch.no_grad()
def lower_states(model, texts: Sequence[str], first: int, batch: int = 128) -> list[torch.Tensor]:
    """What enters block ``first`` for each text (its own tokens only).

    The blocks below ``first`` carry no LoRA factors and never change, so training computes
    their output once and runs only the adapted blocks at each step.
    """
    transformer = model[0].auto_model
    states: list[torch.Tensor] = []
    for start in range(0, len(texts), batch):
        tokens = _tokens(model, texts[start : start + batch])
        hidden = transformer.embeddings(
            input_ids=tokens["input_ids"], token_type_ids=tokens.get("token_type_ids")
        )
        mask = tokens["attention_mask"]
        hidden = _run_blocks(transformer, hidden, mask, transformer.encoder.layer[:first])
        states.extend(row[:length].clone() for row, length in zip(hidden, mask.sum(1), strict=True))
    return states


def upper_embed(model, states: Sequence[torch.Tensor], first: int) -> torch.Tensor:
    """``embed`` from the states ``lower_states`` computed, running blocks ``first`` and up."""
    transformer = model[0].auto_model
    longest = max(len(s) for s in states)
    hidden = torch.zeros(len(states), longest, states[0].shape[1])
    mask = torch.zeros(len(states), longest, dtype=torch.long)
    for row, state in enumerate(states):
        hidden[row, : len(state)] = state
        mask[row, : len(state)] = 1
    hidden = _run_blocks(transformer, hidden, mask, transformer.encoder.layer[first:])
    return _pooled(hidden, mask)


@torch.no_grad()
def embed_all(model, texts: Sequence[str], batch: int = 128) -> np.ndarray:
    """``embed`` over many texts without gradients (evaluation)."""
    parts = [embed(model, texts[i : i + batch]).numpy() for i in range(0, len(texts), batch)]
    return np.vstack(parts) if parts else np.zeros((0, 384), dtype=np.float32)


def contest_pair_matrices(contests: Sequence[ContestVotes]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per contest: the captions that take part in a clear pair, and its clear-pair matrix."""
    result = []
    for contest in contests:
        pairs = clear_pairs([contest])
        clear = np.zeros((len(contest.captions),) * 2, dtype=bool)
        clear[pairs.preferred, pairs.other] = True
        result.append((np.unique(np.concatenate([pairs.preferred, pairs.other])), clear))
    return result


def finetune_encoder(
    model,
    contests: Sequence[ContestVotes],
    head_init: tuple[np.ndarray, float] | None,
    config: FinetuneConfig,
    log=print,
    checkpoint=None,
    checkpoint_every: int = 300,
) -> tuple[LoraDelta, nn.Linear, dict[str, object]]:
    """Train LoRA factors and a linear head on the clear pairs of ``contests``.

    The head starts from ``head_init`` (weights on the unit embedding, bias), or when ``None`` from
    a Bradley–Terry fit on the frozen encoder's embeddings of the same captions (``frozen_head``).
    Returns the delta, the head (on unit embeddings) and a record of the run. ``model`` keeps
    the LoRA modules attached (``embed_all`` then gives the fine-tuned embeddings).
    ``checkpoint(step, head, delta)``, if given, is called before the first step (the frozen
    encoder and its head) and every ``checkpoint_every`` steps (a validation curve).
    """
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    transformer = model[0].auto_model
    transformer.eval()  # no dropout: the gradient steps are noisy enough
    wrapped = attach_lora(transformer, config)
    usable = [
        (c, members, clear)
        for c, (members, clear) in zip(contests, contest_pair_matrices(contests), strict=True)
        if len(members) >= 2
    ]
    first = min(config.layers)
    started = time.perf_counter()
    states = [lower_states(model, [c.captions[i].caption for i in m], first) for c, m, _ in usable]
    log(f"states entering block {first} computed in {time.perf_counter() - started:.0f}s")
    if head_init is None:
        head_init = frozen_head(model, contests, usable, states, first, config.seed)
    head = nn.Linear(transformer.config.hidden_size, 1)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(head_init[0].astype(np.float32))[None, :])
        head.bias.fill_(float(head_init[1]))
    lora_parameters = [p for m in wrapped.values() for p in (m.a, m.b)]
    optimiser = torch.optim.Adam(
        [
            {"params": lora_parameters, "lr": config.learning_rate},
            {"params": head.parameters(), "lr": config.head_learning_rate},
        ]
    )
    if checkpoint is not None:
        checkpoint(0, head, extract_delta(wrapped, config))
    started = time.perf_counter()
    losses: list[float] = []
    step = 0
    while step < config.steps and time.perf_counter() - started < 60 * config.minutes:
        pick = rng.integers(len(usable))
        _, members, clear = usable[pick]
        chosen = rng.choice(len(members), size=min(config.batch, len(members)), replace=False)
        winner, loser = np.nonzero(clear[np.ix_(members[chosen], members[chosen])])
        if len(winner) == 0:
            continue
        embeddings = upper_embed(model, [states[pick][i] for i in chosen], first)
        scores = head(embeddings).squeeze(1)
        loss = nn.functional.softplus(scores[loser] - scores[winner]).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
        step += 1
        if step % 50 == 0:
            log(
                f"step {step}: loss {np.mean(losses[-50:]):.4f}"
                f" ({time.perf_counter() - started:.0f}s)"
            )
        if checkpoint is not None and step % checkpoint_every == 0:
            paused = time.perf_counter()
            checkpoint(step, head, extract_delta(wrapped, config))
            started += time.perf_counter() - paused
    record = {
        "config": {**asdict(config), "layers": list(config.layers)},
        "steps": step,
        "seconds": round(time.perf_counter() - started, 1),
        "loss_first_50": float(np.mean(losses[:50])) if losses else None,
        "loss_last_50": float(np.mean(losses[-50:])) if losses else None,
        "contests": [str(c.contest) for c, _, _ in usable],
    }
    delta = extract_delta(wrapped, config)
    delta.metadata.update({"base_encoder": "all-MiniLM-L6-v2", "training": record})
    return delta, head, record


def frozen_head(model, contests, usable, states, first: int, seed: int) -> tuple[np.ndarray, float]:
    """A captions-only Bradley–Terry head on the frozen encoder's embeddings (``train_adapter``,
    the base adapter's pair sampling), as weights on the unit embedding and a bias.

    Called before any step, when every LoRA ``B`` is still zero: the adapted blocks then compute
    exactly the frozen encoder.
    """
    offsets = contest_offsets(contests)
    position = {id(c): i for i, c in enumerate(contests)}
    embeddings = np.zeros((offsets[-1], model[0].auto_model.config.hidden_size), np.float32)
    with torch.no_grad():
        for (contest, members, _), contest_states in zip(usable, states, strict=True):
            for start in range(0, len(members), 128):
                rows = offsets[position[id(contest)]] + members[start : start + 128]
                embeddings[rows] = upper_embed(model, contest_states[start : start + 128], first)
    pairs = sample_per_contest(clear_pairs(contests), 3000, np.random.default_rng(seed))
    head = train_adapter(embeddings, pairs, FeatureSpec(embeddings.shape[1]))
    weight = head.weights["w"] / head.feature_scale
    return weight, float(head.weights["b"][0] - (weight * head.feature_mean).sum())


def validation_split(
    contests: Sequence[ContestVotes],
) -> tuple[list[ContestVotes], list[ContestVotes]]:
    """Training contests split by contest into (fine-tune, validation) for choosing settings."""
    from ranker.fitting import split_contests

    return split_contests(contests, VALIDATION_FRACTION, VALIDATION_SEED)


def training_contests(contests: Sequence[ContestVotes]) -> list[ContestVotes]:
    """The contests the shipped base adapter was fitted on (never its held-out ones)."""
    from ranker.adapter import base_adapter_path, load_adapter

    trained = set(load_adapter(base_adapter_path()).training_contests)
    return [c for c in contests if str(c.contest) in trained]


def add_config_arguments(parser: argparse.ArgumentParser, defaults: FinetuneConfig) -> None:
    """The command-line options that set a ``FinetuneConfig`` (read back by
    ``config_from_arguments``), with ``defaults``' values."""
    parser.add_argument("--rank", type=int, default=defaults.rank, help="alpha is 2 × rank")
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--minutes", type=float, default=defaults.minutes)
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--layers", default=",".join(map(str, defaults.layers)), help="blocks to adapt (0-5)"
    )


def config_from_arguments(args: argparse.Namespace) -> FinetuneConfig:
    """The ``FinetuneConfig`` the options of ``add_config_arguments`` ask for."""
    return FinetuneConfig(
        rank=args.rank,
        alpha=2.0 * args.rank,
        learning_rate=args.learning_rate,
        minutes=args.minutes,
        steps=args.steps,
        seed=args.seed,
        layers=tuple(int(x) for x in args.layers.split(",")),
    )


def main(argv: Sequence[str] | None = None) -> None:
    from ranker.csvio import read_dataset
    from ranker.encoders import SentenceEncoder

    parser = argparse.ArgumentParser(prog="python -m ranker.finetune", description=__doc__)
    parser.add_argument("data", help="NYCCC data directory")
    parser.add_argument("--out", required=True, help="where to write the delta (.npz)")
    add_config_arguments(parser, FinetuneConfig())
    parser.add_argument(
        "--without-validation",
        action="store_true",
        help="train on the training contests less the validation split that chose the settings"
        f" ({100 * VALIDATION_FRACTION:.0f}%%, seed {VALIDATION_SEED}; what the shipped delta is)",
    )
    args = parser.parse_args(argv)
    config = config_from_arguments(args)
    contests = training_contests(read_dataset(args.data))
    if args.without_validation:
        contests = validation_split(contests)[0]
    encoder = SentenceEncoder(device="cpu", lora=False)
    delta, _, record = finetune_encoder(encoder.model, contests, None, config)
    save_delta(delta, args.out)
    print(
        f"wrote {args.out}: {record['steps']} steps in {record['seconds']}s, delta {delta.digest}"
    )


if __name__ == "__main__":
    main()
