"""What the adapter sees of a caption: its embedding, how it relates to the prompt and to the
other captions of the same contest, and its form.

All features of one contest are computed together, because two blocks are relative to the
contest: the *field* block describes how crowded a caption's idea is among the contest's other
captions, and it is z-scored within the contest. Scores are therefore meaningful for comparing
captions of one contest, which is all a caption contest needs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FEATURE_VERSION = 1

FORM_NAMES = (
    "log_chars",
    "log_words",
    "question",
    "quotation",
    "exclamation",
    "clause_marks",
    "ellipsis",
    "capital_share",
    "digit",
    "second_person",
    "first_person",
    "ends_with_period",
)
FIELD_NAMES = (
    "centroid_similarity",
    "nearest_similarity",
    "top3_similarity",
    "top10_similarity",
    "top30_similarity",
    "share_above_0.6",
    "share_above_0.7",
    "share_above_0.8",
)
DESCRIPTION_NAMES = ("description_similarity", "has_description")
FIELD_MIN_SIZE = 3
# Length enters only through logs clipped to NYCCC's 5th-95th percentiles: shorter or longer than
# these, a caption gains or loses nothing more, so length alone cannot buy a top score.
CHAR_RANGE = (20, 100)
WORD_RANGE = (4, 20)

_SECOND_PERSON = re.compile(r"\b(you|your|you're|yours)\b", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(i|i'm|we|my|our|me|us)\b", re.IGNORECASE)


@dataclass(frozen=True)
class FeatureSpec:
    """The layout of the feature vector, stored in every adapter so a mismatch is detected."""

    embedding_dim: int
    version: int = FEATURE_VERSION

    @property
    def names(self) -> list[str]:
        """One name per column."""
        embedding = [f"embedding_{i}" for i in range(self.embedding_dim)]
        return [*embedding, *DESCRIPTION_NAMES, *FORM_NAMES, *FIELD_NAMES]

    @property
    def dim(self) -> int:
        """Number of columns."""
        return self.embedding_dim + len(DESCRIPTION_NAMES) + len(FORM_NAMES) + len(FIELD_NAMES)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready description."""
        return {
            "version": self.version,
            "embedding_dim": self.embedding_dim,
            "blocks": {
                "embedding": self.embedding_dim,
                "description": list(DESCRIPTION_NAMES),
                "form": list(FORM_NAMES),
                "field": list(FIELD_NAMES),
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> FeatureSpec:
        """Inverse of ``to_dict``."""
        return cls(embedding_dim=int(data["embedding_dim"]), version=int(data["version"]))


def form_features(caption: str) -> list[float]:
    """Surface form of one caption, in ``FORM_NAMES`` order."""
    text = caption.strip()
    chars = len(text)
    words = len(text.split())
    return [
        float(np.log(np.clip(chars, *CHAR_RANGE))),
        float(np.log(np.clip(words, *WORD_RANGE))),
        float(text.endswith("?")),
        float(any(q in text for q in ('"', "“", "”"))),
        float("!" in text),
        float(min(text.count(",") + text.count(";") + text.count(":"), 5)),
        float("..." in text or "…" in text),
        sum(ch.isupper() for ch in text) / max(chars, 1),
        float(any(ch.isdigit() for ch in text)),
        float(bool(_SECOND_PERSON.search(text))),
        float(bool(_FIRST_PERSON.search(text))),
        float(text.endswith(".")),
    ]


def field_features(embeddings: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """How crowded each caption's idea is among the contest's other captions.

    ``reference`` marks the captions that make up the field (default: all). Similarities to the
    field exclude the caption itself. Each column is z-scored within the contest; fields smaller
    than ``FIELD_MIN_SIZE`` carry no information and give zeros.
    """
    count = len(embeddings)
    result = np.zeros((count, len(FIELD_NAMES)), dtype=np.float32)
    members = np.arange(count) if reference is None else np.nonzero(reference)[0]
    if len(members) < FIELD_MIN_SIZE:
        return result
    field = embeddings[members]
    similarity = embeddings @ field.T
    similarity[members, np.arange(len(members))] = np.nan  # a caption is not its own neighbour
    ordered = -np.sort(-np.nan_to_num(similarity, nan=-2.0), axis=1)
    others = np.sum(~np.isnan(similarity), axis=1).clip(min=1)
    centroid = field.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
    result[:, 0] = embeddings @ centroid
    for column, k in ((1, 1), (2, 3), (3, 10), (4, 30)):
        k = min(k, len(members) - 1)
        result[:, column] = ordered[:, :k].mean(axis=1)
    for column, threshold in ((5, 0.6), (6, 0.7), (7, 0.8)):
        result[:, column] = np.nansum(similarity > threshold, axis=1) / others
    spread = result.std(axis=0)
    spread[spread < 1e-6] = 1.0
    return (result - result.mean(axis=0)) / spread


def contest_features(
    caption_embeddings: np.ndarray,
    captions: Sequence[str],
    description_embedding: np.ndarray | None = None,
    reference: np.ndarray | None = None,
) -> np.ndarray:
    """Feature matrix (len(captions), spec.dim) of one contest's captions."""
    count = len(captions)
    if description_embedding is None:
        description = np.zeros((count, len(DESCRIPTION_NAMES)), dtype=np.float32)
    else:
        description = np.column_stack(
            [caption_embeddings @ description_embedding, np.ones(count)]
        ).astype(np.float32)
    form = np.array([form_features(c) for c in captions], dtype=np.float32).reshape(count, -1)
    field = field_features(caption_embeddings, reference)
    return np.hstack([caption_embeddings, description, form, field]).astype(np.float32)
