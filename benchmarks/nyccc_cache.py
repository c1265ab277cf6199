"""NYCCC contests and their MiniLM embeddings, cached on disk for the accuracy benchmarks.

Encoding the ~39,000 NYCCC captions takes minutes on 2 cores; the benchmarks need them many
times. The cache lives outside the repository (``PUNCHLINE_CACHE``, default
``/tmp/punchline-cache``) and is keyed by the encoder's version (its ``name``, which carries the
digest of a merged LoRA delta: ``all-MiniLM-L6-v2+lora-<digest>``) and a hash of the exact texts,
so a changed file, encoder or delta is never served stale vectors.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ranker.encoders import SentenceEncoder

CACHE_DIR = Path(os.environ.get("PUNCHLINE_CACHE", "/tmp/punchline-cache"))


def texts_key(encoder_name: str, texts: Sequence[str]) -> str:
    """A file-name-safe key for (encoder, texts)."""
    digest = hashlib.sha256(encoder_name.encode("utf-8"))
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return f"{encoder_name}-{digest.hexdigest()[:20]}"


def cached_embeddings(encoder: SentenceEncoder, texts: Sequence[str]) -> np.ndarray:
    """``encoder``'s unit embeddings of ``texts``, from the disk cache when it has them."""
    unique = sorted(set(texts))
    path = CACHE_DIR / f"{texts_key(encoder.name, unique)}.npy"
    if path.is_file():
        table = np.load(path)
    else:
        table = encoder.encode_uncached(unique, progress=True)
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp.npy")
        np.save(temporary, table)
        os.replace(temporary, path)
    row = {text: i for i, text in enumerate(unique)}
    return table[[row[t] for t in texts]] if texts else table[:0]


class CachedEncoder:
    """A ``SentenceEncoder`` stand-in that reads vectors from a preloaded table (benchmarks only).

    It lets ``featurize_contests`` and ``Ranker`` run on the cached NYCCC vectors without the
    model; any text outside the table is encoded by the real encoder (and remembered).
    """

    def __init__(self, encoder: SentenceEncoder, texts: Sequence[str]) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.dimension = encoder.dimension
        vectors = cached_embeddings(encoder, texts)
        self.table = dict(zip(texts, vectors, strict=True))

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Unit embeddings of ``texts`` (float32, one row each)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self.table]
        if missing:
            self.table.update(zip(missing, self.encoder.encode(missing, progress), strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.table[t] for t in texts])

    def encode_uncached(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Same as ``encode`` (the table is the cache)."""
        return self.encode(texts, progress)
