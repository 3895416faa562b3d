"""Near-duplicate removal: the prefix-filter index against the old all-pairs scan.

Builds one document of N short news-like paragraphs (about 5% are lightly edited copies of an
earlier one, 2% exact copies) and times, side by side in one run:

* ``old``: the quadratic scan cleaning used before (every paragraph against every kept one);
* ``new``: ``qa.documents.NearDuplicates`` (exact 3-gram Jaccard >= 0.8, candidates from
  rarest-shingle prefixes);
* ``clean``: the whole ``qa.documents.clean`` of that document (splitting, cleaning, dedup).

Both methods must drop the same paragraphs; the script checks it wherever the old one runs.
The old scan is skipped above ``--old-max`` paragraphs (it needs ~33 s at 8k and hours at 1M).

    .venv/bin/python bench/bench_dedup.py                 # 1k 2k 4k 8k 100k 1M
    .venv/bin/python bench/bench_dedup.py --sizes 1000 8000
"""

from __future__ import annotations

import argparse
import random
import time
import unicodedata

from qa.documents import NearDuplicates, _jaccard, _norm, _shingles, clean
from qa.types import DocMeta

_WORDS = (  # noqa: SIM905 - one readable block of words
    "ministry delegation cooperation security trade investment education climate energy police "
    "training agreement visit partnership university students scholarship health technology "
    "finance transport port railway airport forum summit embassy province festival culture "
    "heritage museum market export import textile seafood rice coffee shipping logistics "
    "digital innovation research laboratory hospital officials signed pledged discussed "
    "migration trafficking border smuggling victims support network criminal investigation"
).split()
_NAMES = ["Hanoi", "London", "Da Nang", "Manchester", "Hue", "Edinburgh", "Can Tho", "Leeds"]


def paragraphs(n: int, seed: int = 7) -> list[str]:
    """``n`` short paragraphs; some are exact or lightly edited copies of earlier ones."""
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(n):
        r = rng.random()
        if out and r < 0.02:
            out.append(rng.choice(out))
            continue
        if out and r < 0.07:
            words = rng.choice(out).rstrip(".").split()
            words[rng.randrange(len(words))] = rng.choice(_WORDS)  # one word changed
            out.append(" ".join(words) + ".")
            continue
        words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 16))]
        words.insert(rng.randint(0, len(words)), rng.choice(_NAMES))
        words.append(str(i))  # keeps most paragraphs distinct, as in real text
        out.append(" ".join(words).capitalize() + ".")
    return out


def old_dedup(contents: list[str]) -> list[str]:
    """The reasons the pre-index cleaning gave (``""`` = kept), verbatim from the old loop."""
    seen_exact: set[str] = set()
    seen_shingles: list[set] = []
    out = []
    for content in contents:
        norm = _norm(content)
        if norm in seen_exact:
            out.append("duplicate")
            continue
        sh = _shingles(content)
        if any(_jaccard(sh, other) >= 0.8 for other in seen_shingles):
            out.append("near-duplicate")
            continue
        seen_exact.add(norm)
        seen_shingles.append(sh)
        out.append("")
    return out


def new_dedup(contents: list[str]) -> list[str]:
    """The same decisions through ``NearDuplicates``, as ``clean`` makes them."""
    near = NearDuplicates([_shingles(c) for c in contents])
    seen_exact: set[str] = set()
    out = []
    for i, content in enumerate(contents):
        norm = _norm(content)
        if norm in seen_exact:
            out.append("duplicate")
        elif near.matches_kept(i):
            out.append("near-duplicate")
        else:
            seen_exact.add(norm)
            near.keep(i)
            out.append("")
    return out


def _timed(fn, *args):  # noqa: ANN001, ANN202
    t0 = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - t0


def main() -> None:
    """Print one row per size: old, new and whole-clean seconds, the ratio, and the drops."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 8000, 100_000, 1_000_000]
    )
    ap.add_argument("--old-max", type=int, default=8000, help="largest size the old scan runs at")
    args = ap.parse_args()
    print(f"{'paragraphs':>10} {'old s':>8} {'new s':>8} {'old/new':>8} {'clean s':>8} "
          f"{'near-dups':>9} {'dups':>6} same")  # fmt: skip
    for n in args.sizes:
        contents = [unicodedata.normalize("NFC", p) for p in paragraphs(n)]
        new, t_new = _timed(new_dedup, contents)
        if n <= args.old_max:
            old, t_old = _timed(old_dedup, contents)
            same = "yes" if old == new else "NO"
            old_s, ratio = f"{t_old:8.2f}", f"{t_old / t_new:7.1f}x"
        else:
            same, old_s, ratio = "n/a", f"{'-':>8}", f"{'-':>8}"
        doc, t_clean = _timed(clean, "bench.txt", "\n\n".join(contents), DocMeta(title="Bench"))
        reasons = [d.reason for d in doc.dropped]
        print(
            f"{n:>10,} {old_s} {t_new:8.2f} {ratio} {t_clean:8.2f} "
            f"{new.count('near-duplicate'):>9,} {new.count('duplicate'):>6,} {same}",
            flush=True,
        )
        assert reasons.count("near-duplicate") == new.count("near-duplicate")


if __name__ == "__main__":
    main()
