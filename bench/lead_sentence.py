"""Sentence-selection accuracy from a ``qa eval --json`` report (issue 11's external check).

Usage: python bench/lead_sentence.py REPORT.json [REPORT.json ...]

For each answerable question with gold answers, whether the first quoted sentence of the
answer holds a gold answer (``qa.metrics.best_containment``, as answer containment matches);
a declined answer counts as a miss. Also prints the share whose short answer holds the gold.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.metrics import best_containment  # noqa: E402


def lead_accuracy(rows: list[dict]) -> tuple[int, int, int]:
    """``(lead sentence holds gold, short answer holds gold, answerable questions)``."""
    lead = short = n = 0
    for r in rows:
        gold = r.get("gold_answers") or []
        if not r.get("answerable") or not gold:
            continue
        n += 1
        if r.get("declined"):
            continue
        sentences = r.get("answer_sentences") or []
        lead += bool(sentences) and best_containment(sentences[0], gold) > 0
        short += bool(r.get("short")) and best_containment(r["short"], gold) > 0
    return lead, short, n


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    for path in argv:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))["questions"]
        lead, short, n = lead_accuracy(rows)
        print(f"{path}: lead sentence holds the gold {lead}/{n} ({lead / max(n, 1):.3f}); "
              f"short answer holds it {short}/{n} ({short / max(n, 1):.3f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
