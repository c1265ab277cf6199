"""The preference adapter: a small head on frozen features whose output is a Bradley–Terry logit.

An adapter file is one ``.npz`` holding the weights, the feature standardisation and a JSON
metadata record (format version, adapter version, encoder, feature layout, training contests,
metrics). It is written atomically (temporary file + ``os.replace``) so a reader never sees half a
file. Loading never unpickles.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ranker.features import FeatureSpec
from ranker.npz import save_npz

ADAPTER_FORMAT = "punchline-ranker-adapter"
ADAPTER_FORMAT_VERSION = 1
ADAPTER_KINDS = ("linear", "mlp")
_METADATA_KEY = "metadata_json"


class AdapterError(ValueError):
    """An adapter file that cannot be used (wrong format, wrong features, corrupt)."""


@dataclass
class Adapter:
    """Weights of the scoring head plus everything needed to use and audit them.

    ``kind`` is ``linear`` (``w``, ``b``) or ``mlp`` (``w1``, ``b1``, ``w2``, ``b2``, GELU, and
    optionally a community's linear ``residual`` added to the head's output, see
    ``ranker.community``). Features are standardised with ``feature_mean`` / ``feature_scale``
    before the head.
    """

    kind: str
    feature_mean: np.ndarray
    feature_scale: np.ndarray
    weights: dict[str, np.ndarray]
    metadata: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ADAPTER_KINDS:
            raise AdapterError(f"unknown adapter kind {self.kind!r}")
        self.metadata.setdefault("version", new_version())

    @property
    def version(self) -> str:
        """Unique id of this adapter (timestamp + random suffix)."""
        return str(self.metadata["version"])

    @property
    def spec(self) -> FeatureSpec:
        """The feature layout the weights expect."""
        return FeatureSpec.from_dict(self.metadata["feature_spec"])  # type: ignore[arg-type]

    @property
    def training_contests(self) -> list[str]:
        """Contest ids the adapter was fitted on (as strings); evaluation must skip them."""
        training = self.metadata.get("training", {})
        return [str(c) for c in training.get("contests", [])]  # type: ignore[union-attr]

    @property
    def encoder_name(self) -> str | None:
        """The encoder (and its version) whose embeddings the adapter was fitted on, if recorded."""
        encoder = self.metadata.get("encoder") or {}
        name = encoder.get("name") if isinstance(encoder, dict) else None
        return str(name) if name else None

    def encoder_mismatch(self, encoder_name: str) -> str | None:
        """Why the adapter must not score ``encoder_name``'s embeddings, or ``None`` if it may.

        Weights fitted on one encoder's embeddings mean nothing on another's, even at the same
        dimension (a fine-tuned MiniLM moves every direction a little). Adapters that record no
        encoder predate the record and are taken as fitted on the current one.
        """
        recorded = self.encoder_name
        if recorded is None or recorded == encoder_name:
            return None
        return (
            f"adapter {self.version} was fitted on the embeddings of encoder {recorded}; "
            f"this ranker runs {encoder_name}"
        )

    @property
    def metrics(self) -> dict[str, object]:
        """Measurements recorded when the adapter was made (held-out accuracy and the like)."""
        return dict(self.metadata.get("metrics", {}))  # type: ignore[call-overload]

    @property
    def calibration(self) -> dict[str, object]:
        """The held-out calibration record (``ranker.calibration``); empty if never calibrated."""
        return dict(self.metadata.get("calibration") or {})  # type: ignore[call-overload]

    @property
    def calibrated(self) -> bool:
        """Whether ``temperature`` was fitted on this adapter's own held-out pairs."""
        return bool(self.calibration.get("fitted", "temperature" in self.calibration))

    @property
    def temperature(self) -> float:
        """Divides score gaps so that σ(gap / T) is a calibrated probability (1.0 if never fitted)."""
        return float(self.calibration.get("temperature", 1.0))  # type: ignore[arg-type]

    @property
    def calibration_contests(self) -> list[str]:
        """Contest ids the temperature was fitted on: a calibration check must skip them too."""
        return [str(c) for c in self.calibration.get("contests_fit", [])]  # type: ignore[union-attr]

    def standardise(self, features: np.ndarray) -> np.ndarray:
        """Features as the head sees them."""
        return (features - self.feature_mean) / self.feature_scale

    def score_features(self, features: np.ndarray) -> np.ndarray:
        """Bradley–Terry logits for a feature matrix (n, spec.dim)."""
        if features.ndim != 2 or features.shape[1] != len(self.feature_mean):
            raise AdapterError(
                f"features have shape {features.shape}, adapter expects (n, {len(self.feature_mean)})"
            )
        x = self.standardise(features.astype(np.float32))
        w = self.weights
        if self.kind == "linear":
            return x @ w["w"] + w["b"][0]
        hidden = x @ w["w1"] + w["b1"]
        hidden = 0.5 * hidden * (1.0 + _erf(hidden / np.sqrt(2.0)))
        scores = hidden @ w["w2"] + w["b2"][0]
        return scores + x @ w["residual"] if "residual" in w else scores


def _erf(x: np.ndarray) -> np.ndarray:
    """Elementwise erf without scipy (matches torch's exact GELU to float32 precision)."""
    import torch

    return torch.erf(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()


def new_version() -> str:
    """A sortable, unique adapter version id."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


def save_adapter(adapter: Adapter, path: str | os.PathLike[str]) -> Path:
    """Write ``adapter`` to ``path`` atomically and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    metadata = {
        "format": ADAPTER_FORMAT,
        "format_version": ADAPTER_FORMAT_VERSION,
        "kind": adapter.kind,
        **adapter.metadata,
    }
    encoded = np.frombuffer(json.dumps(metadata, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    return save_npz(
        target,
        {
            "feature_mean": adapter.feature_mean.astype(np.float32),
            "feature_scale": adapter.feature_scale.astype(np.float32),
            _METADATA_KEY: encoded,
            **{f"weight_{name}": w.astype(np.float32) for name, w in adapter.weights.items()},
        },
    )


def load_adapter(path: str | os.PathLike[str]) -> Adapter:
    """Read an adapter written by ``save_adapter``; ``AdapterError`` when it is not one."""
    source = Path(path)
    if not source.is_file():
        raise AdapterError(f"adapter file not found: {source}")
    try:
        with np.load(source, allow_pickle=False) as archive:
            metadata = json.loads(archive[_METADATA_KEY].tobytes().decode("utf-8"))
            mean = archive["feature_mean"]
            scale = archive["feature_scale"]
            weights = {
                key.removeprefix("weight_"): archive[key]
                for key in archive.files
                if key.startswith("weight_")
            }
    except (OSError, KeyError, ValueError) as error:
        raise AdapterError(f"{source} is not a ranker adapter: {error}") from error
    if metadata.get("format") != ADAPTER_FORMAT:
        raise AdapterError(f"{source} is not a ranker adapter (format {metadata.get('format')!r})")
    if int(metadata.get("format_version", 0)) > ADAPTER_FORMAT_VERSION:
        raise AdapterError(f"{source} needs a newer ranker (format {metadata['format_version']})")
    kind = metadata.pop("kind")
    metadata.pop("format")
    metadata.pop("format_version")
    return Adapter(kind, mean, scale, weights, metadata)


def base_adapter_path() -> Path:
    """The NYCCC-trained adapter shipped with the package."""
    return Path(__file__).parent / "data" / "base_adapter.npz"
