"""Lexical search: a diacritic- and case-insensitive tokenizer in front of ``bm25s``.

"Lương", "Luong" and "LUONG" all become the token ``luong``, so names typed without their
Vietnamese marks still match.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cached_property, lru_cache
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


def stems(tokens: Sequence[str]) -> list[str]:
    """The Snowball English stems of already folded tokens ("grammies" -> "grammi")."""
    return _stemmer().stemWords(list(tokens)) if tokens else []


def words(text: str) -> list[str]:
    """Folded word tokens, stopwords kept (for overlap checks)."""
    return _WORD.findall(fold(text))


# Irregular past forms the Snowball stemmer leaves apart from their verb: a question asks
# "who did he hold talks with", the article says "held talks with". News-reporting verbs.
IRREGULAR_VERBS = {
    "held": "hold", "met": "meet", "led": "lead", "made": "make", "took": "take",
    "taken": "take", "gave": "give", "given": "give", "said": "say", "told": "tell",
    "went": "go", "gone": "go", "came": "come", "saw": "see", "seen": "see", "sent": "send",
    "spoke": "speak", "spoken": "speak", "brought": "bring", "sought": "seek",
    "thought": "think", "began": "begin", "begun": "begin", "left": "leave", "kept": "keep",
    "paid": "pay", "won": "win", "wrote": "write", "written": "write", "became": "become",
    "chose": "choose", "chosen": "choose", "drew": "draw", "drawn": "draw", "grew": "grow",
    "grown": "grow", "knew": "know", "known": "know", "rose": "rise", "risen": "rise",
}  # fmt: skip


def one_edit(a: str, b: str) -> bool:
    """At most one insertion, deletion, substitution or adjacent swap between ``a`` and ``b``."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        i, j = (diff + [0, 0])[:2]
        return len(diff) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    if la > lb:
        a, b = b, a
    return any(b[:i] + b[i + 1 :] == a for i in range(len(b)))


def tokenize(text: str) -> list[str]:
    """Folded, stopword-free, stemmed tokens: the terms BM25 indexes and queries with."""
    stop = _stopwords()
    toks = [IRREGULAR_VERBS.get(w, w) for w in words(text) if w not in stop]
    return _stemmer().stemWords(toks) if toks else []


class LexicalIndex:
    """BM25 over pre-tokenized passages, saved with bm25s's own numpy/JSON files (no pickle)."""

    def __init__(self, retriever) -> None:  # noqa: ANN001 - bm25s.BM25
        self._bm25 = retriever
        self.size = int(retriever.scores["num_docs"])
        self._local = threading.local()  # per-thread scratch buffer for sparse()

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

    def _postings(self, query: str) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(rows, scores)`` of each known query term, in query order (repeats kept, as bm25s)."""
        vocab = self._bm25.vocab_dict
        ids = [vocab[t] for t in tokenize(query) if t in vocab]
        mat = self._bm25.scores
        indptr, indices, data = mat["indptr"], mat["indices"], mat["data"]
        out = []
        for i in ids:
            s, e = int(indptr[i]), int(indptr[i + 1])
            out.append((np.asarray(indices[s:e]), np.asarray(data[s:e], dtype=np.float32)))
        return out

    def _scratch(self) -> np.ndarray:
        """This thread's N-long zeroed float32 buffer (left zeroed after each use)."""
        buf = getattr(self._local, "buf", None)
        if buf is None:
            buf = self._local.buf = np.zeros(self.size, dtype=np.float32)
        return buf

    def sparse(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, scores)`` of the passages holding a query term, rows ascending.

        The same float32 sums as :meth:`scores` (term by term, in query order), but it reads
        only the query terms' postings into a reused buffer: :meth:`scores` allocates and
        ranks a new N-long array, most of a query's time at 1M passages (``bench/scale.py``).
        """
        posts = self._postings(query)
        if not posts:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        buf = self._scratch()
        try:
            for rows, sc in posts:  # each term's postings hold a row once: fancy += is exact
                buf[rows] += sc
            hit = np.flatnonzero(buf)
            vals = buf[hit]
        finally:
            for rows, _ in posts:
                buf[rows] = 0.0
        return hit.astype(np.int64, copy=False), vals

    def top(
        self, query: str, n: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` best ``(rows, scores)`` with a positive score, best first (ties: lower row).

        ``allowed`` is a boolean mask over passages; rows outside it are never returned.
        From ``NUMBA_MIN_DOCS`` passages on, the postings are summed by a numba loop when
        numba is installed (the same float32 sums, in the same order).
        """
        kernel = _numba_accumulate() if self.size >= NUMBA_MIN_DOCS else None
        if kernel is None:
            rows, sc = self.sparse(query)
            return top_rows(rows, sc, n, allowed)
        vocab = self._bm25.vocab_dict
        ids = np.asarray([vocab[t] for t in tokenize(query) if t in vocab], dtype=np.int64)
        if len(ids) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        mat = self._bm25.scores
        indptr = np.asarray(mat["indptr"])
        total = int(sum(int(indptr[i + 1]) - int(indptr[i]) for i in ids))
        touched = np.empty(total, dtype=np.int64)
        buf = self._scratch()
        try:
            m = kernel(
                indptr, np.asarray(mat["indices"]), np.asarray(mat["data"]), ids, buf, touched
            )
        except BaseException:
            buf[:] = 0.0  # which rows were touched is unknown: clear it all
            raise
        rows = touched[:m]
        sc = buf[rows]
        buf[rows] = 0.0
        return top_rows(rows, sc, n, allowed)

    def scores_at(self, query: str, rows: np.ndarray) -> np.ndarray:
        """BM25 scores of ``rows`` (0 where a row holds no query term), by binary search in
        each term's postings: no pass over the other passages."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(rows), dtype=np.float32)
        for prow, psc in self._postings(query):
            out += lookup(prow, psc, rows)  # term by term, as bm25s sums them
        return out

    def known(self, token: str) -> bool:
        """Whether a (tokenized) term occurs anywhere in the indexed passages."""
        return token in self._bm25.vocab_dict

    def near_known(self, token: str) -> bool:
        """Whether the term, or one a single edit away, occurs in the indexed passages.

        A name typed with one letter dropped, added or changed ("Yvete", "Cleverley") is the
        corpus's name, not a missing one. Terms shorter than ``MIN_FUZZY_LEN`` must match
        exactly: "pho" is not "phu".
        """
        if self.known(token):
            return True
        if len(token) < MIN_FUZZY_LEN:
            return False
        return not self._deletion_keys.isdisjoint(_deletions(token) | {token})

    @cached_property
    def _deletion_keys(self) -> frozenset[str]:
        """Every vocabulary term and its one-letter deletions (a symmetric-delete index)."""
        keys: set[str] = set()
        for term in self._bm25.vocab_dict:
            if len(term) >= MIN_FUZZY_LEN - 1:
                keys.add(term)
                keys |= _deletions(term)
        return frozenset(keys)


MIN_FUZZY_LEN = 4  # a stem shorter than this ("pho") is one letter from too many other words


def _deletions(term: str) -> set[str]:
    return {term[:i] + term[i + 1 :] for i in range(len(term))}


# Below this many passages numpy's buffer sums take under a millisecond (0.6 ms at 100k in
# bench/scale.py --retrieve), so numba is never imported or compiled for small corpora.
NUMBA_MIN_DOCS = 200_000


@lru_cache(maxsize=1)
def _numba_accumulate():  # noqa: ANN202 - a numba dispatcher, or None without numba
    """Sum the query terms' postings into ``buf``, recording each row on its first touch."""
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(nogil=True)
    def accumulate(indptr, indices, data, ids, buf, touched):  # noqa: ANN001, ANN202
        m = 0
        for t in ids:
            for j in range(indptr[t], indptr[t + 1]):
                r = indices[j]
                if buf[r] == 0.0:  # BM25 weights are positive: zero means not touched yet
                    touched[m] = r
                    m += 1
                buf[r] += data[j]
        return m

    return accumulate


def lookup(keys: np.ndarray, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values`` at ``rows`` for sorted ``keys`` (0 where a row is not a key)."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.zeros(len(rows), dtype=np.float32)
    if len(keys) == 0 or len(rows) == 0:
        return out
    pos = np.minimum(np.searchsorted(keys, rows), len(keys) - 1)
    hit = keys[pos] == rows
    out[hit] = values[pos[hit]]
    return out


def top_rows(
    rows: np.ndarray, scores: np.ndarray, n: int, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` best positive ``(rows, scores)``, best first, ties to the lower row.

    The same set as a stable sort of a full score array, at the cost of a partition.
    """
    if allowed is not None and len(rows):
        keep = allowed[rows]
        rows, scores = rows[keep], scores[keep]
    keep = scores > 0
    rows, scores = rows[keep], scores[keep]
    if len(rows) > n:
        thr = np.partition(scores, len(scores) - n)[len(scores) - n]
        above = np.flatnonzero(scores > thr)
        ties = np.flatnonzero(scores == thr)
        ties = ties[np.argsort(rows[ties], kind="stable")][: n - len(above)]
        sel = np.concatenate([above, ties])
        rows, scores = rows[sel], scores[sel]
    order = np.lexsort((rows, -scores))  # best first, ties to the lower row (rows may be unsorted)
    return rows[order], scores[order]


# "National Crime Agency (NCA)": a name and the acronym of its initials, as a text defines
# them. Function words may sit between the initials ("Ministry of Public Security (MPS)").
_DEFINED_ACRONYM = re.compile(
    r"((?:[A-Z][\w'’-]*\s+(?:(?:of|for|and|the|on)\s+)*){1,7}?)\(\s*([A-Z]{2,8})\s*\)"
)
_SMALL_WORDS = {"of", "for", "and", "the", "on"}


def defined_acronyms(texts: Iterable[str]) -> dict[str, str]:
    """Each acronym the texts define, and its folded long form, both ways (lower case):
    ``{"nca": "national crime agency", "national crime agency": "nca"}``."""
    out: dict[str, str] = {}
    for text in texts:
        for m in _DEFINED_ACRONYM.finditer(text):
            long_words = m.group(1).split()
            abbr = m.group(2)
            # the long form is the shortest run of trailing words whose initials spell it
            for i in range(len(long_words)):
                tail = long_words[i:]
                initials = "".join(w[0] for w in tail if w.lower() not in _SMALL_WORDS)
                if initials.upper() == abbr and tail[0].lower() not in _SMALL_WORDS:
                    long = " ".join(fold(w) for w in tail)
                    out.setdefault(abbr.lower(), long)
                    out.setdefault(long, abbr.lower())
                    break
    return out


def expand_acronyms(query: str, table: dict[str, str]) -> str:
    """``query`` with the acronym of each defined long name it uses appended, so BM25 finds
    "Visiting the NCA" for "the National Crime Agency"."""
    if not table:
        return query
    folded = fold(query)
    toks = set(re.findall(r"\w+", folded))
    # Only a long form gains its acronym: the reverse would add several words for one and
    # outweigh the acronym's own passages ("the NCA's operations chief" would rank the
    # passage naming the "National Crime Agency" once above the one about the NCA visit).
    extra = [
        other for form, other in table.items()
        if " " in form and re.search(rf"\b{re.escape(form)}\b", folded)
        and other not in toks
    ]  # fmt: skip
    return f"{query} {' '.join(extra)}" if extra else query
