"""What the fitting scripts (calibrate.py, fit_sentence_weights.py) share: their arguments."""

from __future__ import annotations

import argparse


def fit_args(description: str) -> argparse.Namespace:
    """``DEV [--check SET] [--index DIR]``: fit on DEV, report on the check set too."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("dev", nargs="?", default="tests/data/dev.jsonl")
    ap.add_argument("--check", default="tests/data/test.jsonl")
    ap.add_argument("--index", default="embeddings")
    return ap.parse_args()
