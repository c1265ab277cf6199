"""Writing the ranker's ``.npz`` files (adapters, encoder deltas) so that no reader ever sees a
half-written one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np


def save_npz(target: Path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``arrays`` compressed to ``target`` atomically: a temporary file in the same folder,
    then ``os.replace``. The file is readable by all (``mkstemp`` makes it owner-only; these
    files are not secrets). Returns ``target``."""
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez_compressed(stream, **arrays)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
