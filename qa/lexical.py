"""Lexical search: a diacritic- and case-insensitive tokenizer in front of ``bm25s``.

"Lương", "Luong" and "LUONG" all become the token ``luong``, so names typed without their
Vietnamese marks still match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

# bm25s's English list minus words that carry meaning in this domain's questions.
_KEEP = {"no", "not", "first", "second", "third", "against"}

_WORD = re.compile(r"[a-z0-9]+")
# Letters NFKD does not decompose into base + combining mark.
_EXTRA_FOLD = str.maketrans({"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss"})


@lru_cache(maxsize=1)
def _bmp_combining() -> re.Pattern[str]:
    marks = "".join(chr(c) for c in range(0x300, 0x10000) if unicodedata.combining(chr(c)))
    return re.compile(f"[{re.escape(marks)}]+")


def fold(text: str) -> str:
    """Lower-case and strip diacritics: ``"Lương Tam Quang"`` -> ``"luong tam quang"``."""
    if text.isascii():  # most English text: nothing to decompose (indexing time is spent here)
        return text.lower()
    text = unicodedata.normalize("NFKD", text.translate(_EXTRA_FOLD))
    if max(text) <= "\uffff":
        text = _bmp_combining().sub("", text)
    else:
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.casefold()


@lru_cache(maxsize=1)
def _bm25s():  # noqa: ANN202 - the bm25s module
    import logging

    import bm25s

    # bm25s pins its logger to DEBUG on import, which prints "Building index from tokens" on
    # every build; NOTSET hands the decision back to the application's logging setup.
    # This is the one place the logger is handled: the CLI and the app configure the root only.
    logging.getLogger("bm25s").setLevel(logging.NOTSET)
    return bm25s


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    _bm25s()  # the package import, with its logger reset
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) - _KEEP


@lru_cache(maxsize=1)
def _stemmer():  # noqa: ANN202 - Stemmer.Stemmer
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Folded word tokens, stopwords kept (for overlap checks)."""
    return _WORD.findall(fold(text))


def tokenize(text: str) -> list[str]:
    """Folded, stopword-free, stemmed tokens: the terms BM25 indexes and queries with."""
    stop = _stopwords()
    toks = [w for w in words(text) if w not in stop]
    return _stemmer().stemWords(toks) if toks else []


class LexicalIndex:
    """BM25 over pre-tokenized passages, saved with bm25s's own numpy/JSON files (no pickle)."""

    def __init__(self, retriever) -> None:  # noqa: ANN001 - bm25s.BM25
        self._bm25 = retriever
        self.size = int(retriever.scores["num_docs"])

    @classmethod
    def build(cls, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        """Index ``texts`` (one per passage, in passage order)."""
        retriever = _bm25s().BM25(k1=k1, b=b)
        retriever.index([tokenize(t) for t in texts], show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        """Write the index files into ``folder``."""
        self._bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, *, mmap: bool = False) -> LexicalIndex:
        """Read an index written by :meth:`save`; ``mmap`` keeps big indexes on disk."""
        retriever = _bm25s().BM25.load(str(folder), mmap=mmap, show_progress=False, verbosity=0)
        return cls(retriever)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for ``query`` (zeros when no query term is known)."""
        toks = [t for t in tokenize(query) if t in self._bm25.vocab_dict]
        if not toks:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(toks), dtype=np.float32)

    def known(self, token: str) -> bool:
        """Whether a (tokenized) term occurs anywhere in the indexed passages."""
        return token in self._bm25.vocab_dict
