"""``python -m qa.warm``: make the machine's ONNX export once, at setup time.

``make run`` and ``make test`` call this after installing, so a first question (or the first
index build, or a ``qa eval`` on a SQuAD file) never pays the export (about 20-30 s, plus 6 s
of quantization). It exits at once when the shared cache already holds an intact export.
"""

from __future__ import annotations

import sys
import time


def warm(backend: str | None = None, model: str | None = None) -> str:
    """Export (if needed) and load the encoder; returns a one-line report."""
    from qa.embedding import get_encoder

    t0 = time.perf_counter()
    enc = get_encoder(model, backend)
    load = getattr(enc, "load", None)
    if load is None:  # torch / fake: nothing is exported
        return f"{enc.model_id}: nothing to export"
    load()
    return f"{enc.model_id}: ready in {enc.onnx_path.parent} ({time.perf_counter() - t0:.1f} s)"


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m qa.warm [backend]``."""
    from qa.errors import QAError

    args = sys.argv[1:] if argv is None else argv
    try:
        print(warm(args[0] if args else None))
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
