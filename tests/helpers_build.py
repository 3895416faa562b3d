"""Subprocess target for the killed-build tests, and the corpus generator they share.

Run as ``python tests/helpers_build.py CORPUS INDEX``: builds the index of CORPUS into INDEX
with the FakeEncoder, printing ``started`` once the imports are done (so the caller can time
its kill against the build itself, not interpreter start-up) and ``built N`` at the end.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

_WORDS = [
    "ministry", "delegation", "cooperation", "security", "trade", "investment", "education",
    "climate", "energy", "police", "training", "agreement", "visit", "partnership", "university",
    "students", "scholarship", "health", "vaccine", "technology", "finance", "transport", "port",
    "railway", "airport", "forum", "summit", "embassy", "province", "festival", "culture",
    "heritage", "museum", "market", "export", "import", "textile", "seafood", "rice", "coffee",
    "shipping", "logistics", "digital", "innovation", "startup", "research", "laboratory",
    "hospital",
]  # fmt: skip
_NAMES = ["Hanoi", "London", "Da Nang", "Manchester", "Hue", "Edinburgh", "Can Tho", "Leeds"]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 16))]
    words.insert(rng.randint(0, len(words)), rng.choice(_NAMES))
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def make_corpus(folder: Path, n_docs: int, seed: int) -> Path:
    """Write ``n_docs`` deterministic news-like articles (a headline and 3-6 paragraphs)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_docs):
        headline = f"Report {seed}-{i} on {rng.choice(_WORDS)} and {rng.choice(_WORDS)} in Vietnam"
        paragraphs = [
            " ".join(_sentence(rng) for _ in range(rng.randint(2, 7)))
            for _ in range(rng.randint(3, 6))
        ]
        (folder / f"doc_{seed}_{i:04d}.txt").write_text(
            headline + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8"
        )
    return folder


def main(argv: list[str]) -> int:
    """Build ``argv[0]`` into ``argv[1]`` with the FakeEncoder."""
    from qa.embedding import FakeEncoder
    from qa.index import build_index

    corpus, index = argv
    print("started", flush=True)
    idx = build_index(corpus, index, encoder=FakeEncoder())
    print(f"built {len(idx)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
