"""Where the real data lives: ``$LOCI_DATA_DIR`` or ``../shared/data`` beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_root"]


def data_root() -> Path:
    env = os.environ.get("LOCI_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"
