"""A LoRA delta on the bundled encoder: low-rank updates of MiniLM's linear weights.

A delta file (``.npz``, no pickles) holds, for each adapted linear layer of the transformer
(named as in ``BertModel``, e.g. ``encoder.layer.0.attention.self.query``), two matrices ``A``
(rank × in) and ``B`` (out × rank), plus a JSON record (rank, alpha, base encoder, how it was
trained). ``merge_delta`` adds ``alpha / rank · B @ A`` to each weight once, so an encoder with a
merged delta costs exactly what the raw one costs. ``ranker.finetune`` trains and writes one.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ranker.npz import save_npz

LORA_FORMAT = "punchline-encoder-lora"
_METADATA_KEY = "metadata_json"


class LoraError(ValueError):
    """A delta file that cannot be used (wrong format, layers the encoder does not have)."""


@dataclass
class LoraDelta:
    """Low-rank updates: ``factors[name] = (A, B)``; the weight update is ``scale · B @ A``."""

    factors: dict[str, tuple[np.ndarray, np.ndarray]]
    rank: int
    alpha: float
    metadata: dict[str, object] = field(default_factory=dict)

    @property
    def scale(self) -> float:
        """LoRA's alpha / rank."""
        return self.alpha / self.rank

    @property
    def digest(self) -> str:
        """First 8 hex digits of a hash of the factors (names, shapes, values): the delta's id."""
        digest = hashlib.sha256(f"{self.rank}:{self.alpha}".encode())
        for name in sorted(self.factors):
            for matrix in self.factors[name]:
                array = np.ascontiguousarray(matrix, dtype=np.float32)
                digest.update(name.encode() + str(array.shape).encode() + array.tobytes())
        return digest.hexdigest()[:8]


def encoder_version(base_name: str, delta: LoraDelta | None) -> str:
    """The name adapters and caches record: ``all-MiniLM-L6-v2+lora-<digest>`` with a delta."""
    return base_name if delta is None else f"{base_name}+lora-{delta.digest}"


def shipped_delta_path() -> Path:
    """Where the delta for the bundled encoder lives (absent when none is shipped)."""
    return Path(__file__).parent / "data" / "encoder_lora.npz"


def save_delta(delta: LoraDelta, path: str | os.PathLike[str]) -> Path:
    """Write ``delta`` atomically to ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"format": LORA_FORMAT, "rank": delta.rank, "alpha": delta.alpha, **delta.metadata}
    arrays: dict[str, np.ndarray] = {
        _METADATA_KEY: np.frombuffer(json.dumps(metadata, sort_keys=True).encode(), np.uint8)
    }
    for name, (a, b) in delta.factors.items():
        arrays[f"{name}.A"] = a.astype(np.float32)
        arrays[f"{name}.B"] = b.astype(np.float32)
    return save_npz(target, arrays)


def load_delta(path: str | os.PathLike[str]) -> LoraDelta:
    """Read a delta written by ``save_delta``; ``LoraError`` when it is not one."""
    source = Path(path)
    try:
        with np.load(source, allow_pickle=False) as archive:
            metadata = json.loads(archive[_METADATA_KEY].tobytes().decode())
            names = sorted({k.rsplit(".", 1)[0] for k in archive.files if k != _METADATA_KEY})
            factors = {n: (archive[f"{n}.A"], archive[f"{n}.B"]) for n in names}
    except (OSError, KeyError, ValueError) as error:
        raise LoraError(f"{source} is not an encoder delta: {error}") from error
    if metadata.pop("format", None) != LORA_FORMAT:
        raise LoraError(f"{source} is not an encoder delta")
    return LoraDelta(factors, int(metadata.pop("rank")), float(metadata.pop("alpha")), metadata)


def merge_delta(transformer, delta: LoraDelta) -> None:
    """Add ``delta`` to the weights of ``transformer`` (a ``BertModel``) in place, once."""
    import torch

    with torch.no_grad():
        for name, (a, b) in sorted(delta.factors.items()):
            try:
                linear = transformer.get_submodule(name)
            except AttributeError as error:
                raise LoraError(f"the encoder has no layer {name}") from error
            update = torch.from_numpy(b.astype(np.float32)) @ torch.from_numpy(a.astype(np.float32))
            if update.shape != linear.weight.shape:
                raise LoraError(
                    f"{name}: delta {tuple(update.shape)} vs {tuple(linear.weight.shape)}"
                )
            linear.weight += delta.scale * update.to(linear.weight.device, linear.weight.dtype)
