"""Loading and searching an index: the seam between the stages.

Data flows one way: documents -> chunking -> embedding -> store (``qa.build`` writes a version),
and at query time store -> dense + lexical search -> fusion -> passages (-> ``qa.answering``).
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from qa.build import (
    BuildSettings,
    BuildSummary,
    build_version,
    chosen_store,
    document_from_dict,
    preload_structure,
    stale_reason,
)
from qa.chunking import ChunkSettings
from qa.dates import is_iso_date
from qa.documents import check_corpus_dir
from qa.embedding import Encoder, backend_from_model_id, get_encoder
from qa.errors import IndexCorruptError, IndexUnavailableError, IndexWriteError, QAError
from qa.fusion import FusionSettings, fuse
from qa.lexical import LexicalIndex, defined_acronyms, expand_acronyms, fold, lookup, tokenize
from qa.questions import MAX_QUESTION_CHARS, QuestionError, check_history, check_k, check_question
from qa.safe_read import npy_shape
from qa.store import check_index_dir, current_version, pointed_version, read_jsonl
from qa.store_protocol import EmbeddedStore, SearchFilter, SearchStore
from qa.structure import Agreement, Entity, Event, Structure
from qa.text import entities
from qa.types import Answer, Document, Passage

__all__ = [
    "MAX_QUESTION_CHARS",  # re-exported from qa.questions for callers of qa.index
    "Index",
    "QuestionError",
    "build_index",
    "check_question",
    "default_index_encoder",
    "load_index",
    "open_index",
]

log = logging.getLogger("qa")

# Query vectors kept for follow-ups and repeated questions. Set with the first retrieval core
# (commit ed76686) as "far more than a chat session asks"; a 384-float vector is 1.5 kB, so the
# cache stays under 1 MB. An evaluation batch larger than this is kept whole (embed_queries).
QUERY_CACHE_SIZE = 512
# A document's score mixes its centroid's cosine and its BM25 (scaled to the best document) in
# equal parts: set by hand with the first retrieval core (commit ed76686) and never tuned alone;
# the share the document score gets in the passage's fused score is ``FusionSettings.w_document``,
# which bench/tune_retrieval.py fits.
DOC_DENSE_WEIGHT = 0.5
DOC_LEXICAL_WEIGHT = 0.5
# A bound on the distinct names collected for synonym checks in big corpora; names repeat heavily.
MAX_CORPUS_NAMES = 20_000


def check_date(value: object, field: str) -> str | None:
    """A date filter as given (``None`` or ``""`` for none) if it is an ISO ``YYYY-MM-DD`` date;
    else a ``QuestionError`` (a ValueError) naming the field."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not is_iso_date(value):
        raise QuestionError(
            f"{field} must be a date written YYYY-MM-DD (for example 2024-05-31), "
            f"got {repr(value)[:40]}."
        )
    return value


class Index:
    """A loaded index: passages, their vectors, the search store (FAISS + BM25 by default, or
    a Milvus collection), and the encoder for queries."""

    def __init__(
        self,
        path: Path,
        manifest: dict[str, Any],
        passages: list[Passage],
        documents: list[Document],
        vectors: np.ndarray,
        dense: Any,
        lexical: LexicalIndex,
        doc_lexical: LexicalIndex | None,
        sentence_vectors: np.ndarray,
        sentence_offsets: np.ndarray,
        encoder: Encoder,
        summary: BuildSummary | None = None,
        store: SearchStore | None = None,
    ) -> None:
        self.path = path
        self.manifest = manifest
        self.passages = passages
        self.documents = documents
        self.vectors = vectors
        self.dense = dense
        self.lexical = lexical
        self.doc_lexical = doc_lexical  # BM25 over whole documents (title + paragraphs)
        self.sentence_vectors = sentence_vectors
        self.sentence_offsets = sentence_offsets
        self.encoder = encoder
        self.summary = summary
        # Where dense and BM25 search run (qa.store_protocol); FAISS + bm25s unless given.
        self.store: SearchStore = store or EmbeddedStore(dense, lexical, passages)
        self.fusion = FusionSettings(**manifest.get("fusion", {}))
        self._doc_by_id = {d.doc_id: d for d in documents}
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._norm_text = [" ".join(fold(p.text).split()) for p in passages]
        # Each passage's document row, and each document's centroid (mean passage vector).
        doc_row = {d.doc_id: i for i, d in enumerate(documents)}
        self._passage_doc = np.asarray([doc_row.get(p.doc_id, 0) for p in passages], np.int64)
        centroids = np.zeros((max(1, len(documents)), vectors.shape[1]), dtype=np.float32)
        np.add.at(centroids, self._passage_doc, np.asarray(vectors, dtype=np.float32))
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        self._doc_vectors = centroids / np.where(norms == 0, 1, norms)

    # --- introspection ----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.passages)

    def __repr__(self) -> str:
        return f"<Index {str(self.path)!r}: {len(self.documents)} documents, {len(self)} passages>"

    @property
    def model_id(self) -> str:
        """The embedding model this index was built with."""
        return str(self.manifest["model"]["id"])

    def document(self, doc_id: str) -> Document:
        """The cleaned document ``doc_id``; raises ``QAError`` if it is not in the index."""
        try:
            return self._doc_by_id[doc_id]
        except KeyError:
            raise QAError(f"No document {doc_id!r} in this index.") from None

    # --- derived tables (computed once, on first use; the index never changes) --------------

    @cached_property
    def idf(self) -> dict[str, float]:
        """BM25-style IDF of every passage token (``qa.answering`` weights term overlap by it)."""
        df: dict[str, int] = {}
        for p in self.passages:
            for t in set(tokenize(p.text)):
                df[t] = df.get(t, 0) + 1
        n = max(1, len(self.passages))
        return {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}

    @cached_property
    def corpus_names(self) -> tuple[list[str], np.ndarray]:
        """The capitalised names in the passages and their vectors (for synonym checks)."""
        seen: dict[str, str] = {}
        for p in self.passages:
            for ent in entities(p.text):
                seen.setdefault(fold(ent), ent)
                if len(seen) >= MAX_CORPUS_NAMES:
                    break
        names = list(seen.values())
        vecs = self.encoder.encode(names) if names else np.zeros((0, 1), np.float32)
        return names, vecs

    @cached_property
    def acronyms(self) -> dict[str, str]:
        """The acronyms the passages define, with their long forms (``defined_acronyms``)."""
        return defined_acronyms(p.text for p in self.passages)

    @cached_property
    def row_by_id(self) -> dict[str, int]:
        """Each passage id's row in ``passages`` (and in the vector arrays)."""
        return {p.passage_id: i for i, p in enumerate(self.passages)}

    # --- search -----------------------------------------------------------------------------

    def embed_query(self, text: str) -> np.ndarray:
        """The query vector (cached: follow-ups and repeated questions skip the encoder)."""
        with self._cache_lock:
            vec = self._query_cache.get(text)
            if vec is not None:
                self._query_cache.move_to_end(text)
                return vec
        vec = self.encoder.encode([text])[0]
        with self._cache_lock:
            self._query_cache[text] = vec
            while len(self._query_cache) > QUERY_CACHE_SIZE:
                self._query_cache.popitem(last=False)
        return vec

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Encode many queries in one batch and cache them (evaluation runs use this)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.vectors.shape[1]), dtype=np.float32)
        vecs = self.encoder.encode(texts, batch_size=64)
        with self._cache_lock:
            for t, v in zip(texts, vecs):
                self._query_cache[t] = v
                self._query_cache.move_to_end(t)
            while len(self._query_cache) > max(QUERY_CACHE_SIZE, len(texts)):
                self._query_cache.popitem(last=False)
        return vecs

    def _allowed(
        self, doc_ids: Iterable[str] | None, date_from: str | None, date_to: str | None
    ) -> np.ndarray | None:
        if doc_ids is None and not date_from and not date_to:
            return None
        wanted = set(doc_ids) if doc_ids is not None else None
        mask = np.zeros(len(self.passages), dtype=bool)
        for i, p in enumerate(self.passages):
            if wanted is not None and p.doc_id not in wanted:
                continue
            if (date_from or date_to) and not p.date:
                continue
            if date_from and p.date < date_from:
                continue
            if date_to and p.date > date_to:
                continue
            mask[i] = True
        return mask

    def _filter(
        self, doc_ids: Iterable[str] | None, date_from: str | None, date_to: str | None
    ) -> SearchFilter | None:
        """The store's filter: the fields (a remote store's expression) and the row mask."""
        allowed = self._allowed(doc_ids, date_from, date_to)
        if allowed is None:
            return None
        ids = tuple(sorted(set(doc_ids))) if doc_ids is not None else None
        return SearchFilter(ids, date_from or None, date_to or None, mask=allowed)

    def _document_scores(self, q: str, qvec: np.ndarray, cand: np.ndarray) -> np.ndarray | None:
        """Each candidate's document score (centroid cosine and BM25 over whole documents)."""
        if not self.fusion.w_document or self.doc_lexical is None:
            return None
        drows = self._passage_doc[cand]
        d_dense = self._doc_vectors[drows] @ qvec
        # Only the postings of the query's terms are read, as for the passages.
        d_rows, d_hits = self.doc_lexical.sparse(q)
        top = float(d_hits.max()) if len(d_hits) else 0.0
        d_lex = lookup(d_rows, d_hits, drows) / top if top > 0 else np.zeros(len(cand), np.float32)
        return (DOC_DENSE_WEIGHT * d_dense + DOC_LEXICAL_WEIGHT * d_lex).astype(np.float32)

    def _sentence_max(self, qvec: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = np.zeros(len(rows), dtype=np.float32)
        off = self.sentence_offsets
        for j, r in enumerate(rows):
            s, e = int(off[r]), int(off[r + 1])
            if e > s:
                out[j] = float(np.max(self.sentence_vectors[s:e] @ qvec))
        return out

    def retrieve(
        self,
        question: str,
        k: int = 5,
        *,
        doc_ids: Iterable[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> list[Passage]:
        """The ``k`` best passages for ``question``, best first, each with its fused score.

        Filters (documents, ISO date range) are applied inside the searches, not to a short
        list afterwards, so a filtered search still returns ``k`` passages when ``k`` match.
        """
        q = check_question(question)
        k = check_k(k)
        date_from, date_to = check_date(date_from, "date_from"), check_date(date_to, "date_to")
        flt = self._filter(doc_ids, date_from, date_to)
        qvec = self.embed_query(q)
        n_cand = min(len(self.passages), max(self.fusion.candidates, k * 4))
        d_idx, _ = self.store.dense_search(qvec, n_cand, flt)
        # Only the postings of the query's terms are read: no N-long score array to rank.
        # BM25 reads a defined acronym and its long form as one ("NCA" ~ "National Crime Agency")
        lq = expand_acronyms(q, self.acronyms)
        lex_top, _ = self.store.lexical_search(lq, n_cand, flt)
        cand = np.unique(np.concatenate([d_idx, lex_top]).astype(np.int64))
        if len(cand) == 0:
            return []
        dense = (self.vectors[cand] @ qvec).astype(np.float32)
        sent = self._sentence_max(qvec, cand)
        lex = self.store.lexical_scores(lq, cand)
        doc_score = self._document_scores(q, qvec, cand)
        fused = fuse(dense, sent, lex, self.fusion, doc_score)
        order = np.argsort(-fused, kind="stable")
        out: list[Passage] = []
        seen: set[str] = set()
        for j in order:
            row = int(cand[j])
            norm = self._norm_text[row]
            if norm in seen:  # never show the same text twice
                continue
            seen.add(norm)
            scores = {
                "dense": round(float(dense[j]), 6),
                "sentence": round(float(sent[j]), 6),
                "bm25": round(float(lex[j]), 6),
            }
            out.append(replace(self.passages[row], score=float(fused[j]), scores=scores))
            if len(out) == k:
                break
        return out

    def answer(self, question: str, history: list[dict] | None = None, **options: Any) -> Answer:
        """A short extractive answer with numbered citations.

        Questions about order, change, periods, lists of people or agreements are answered
        from the extracted structure (``answer.path == "structure"``), the rest by quoting
        sentences (``"sentences"``); ``qa.routing`` decides. ``options`` are those of
        ``qa.answering.answer`` (``k``, ``passages``, ``doc_ids``, ``date_from``, ``date_to``),
        forwarded as they are so the two never drift apart.
        """
        from qa.routing import answer as _answer

        check_question(question)
        history = check_history(history)  # the shape, and long turns cut: context, not a question
        if "k" in options:
            options["k"] = check_k(options["k"])
        return _answer(self, question, history, **options)

    # --- the structure (events, entities, agreements extracted at build time) ---------------

    @cached_property
    def structure(self) -> Structure:
        """The version's ``structure.json``, read and checked on first use."""
        from qa.structure_query import read_structure

        return read_structure(self.path / self.manifest["version"], self.documents, self.path)

    def timeline(self, *args: Any, **filters: Any) -> list[Event]:
        """Events ordered by date, filtered by the fields of
        ``qa.structure_query.TimelineFilter``; see ``qa.structure_query.timeline``."""
        from qa.structure_query import timeline

        return timeline(self.structure, *args, **filters)

    def entities(self, kind: str | None = None, side: str | None = None) -> list[Entity]:
        """People, organisations and places (``kind`` person/org/place, ``side`` VN/UK)."""
        from qa.structure_query import entities

        return entities(self.structure, kind, side)

    def agreements(self) -> list[Agreement]:
        """Every agreement, in the order it first comes up, with what happened at each event."""
        from qa.structure_query import agreements

        return agreements(self.structure)

    # --- staleness --------------------------------------------------------------------------

    def stale_reason(self, corpus_dir: str | os.PathLike | None = None) -> str:
        """Why this index no longer matches its corpus (``""`` when it still does).

        Files whose size and mtime are unchanged are not re-read; the others are hashed, so
        touching a file without changing it does not force a rebuild.
        """
        return stale_reason(self.manifest, Path(corpus_dir or self.manifest["corpus"]["dir"]))


# --- building, loading, opening ---------------------------------------------------------------


def default_index_encoder(model: str | None = None, backend: str | None = None) -> Encoder:
    """The shared encoder for the default index (its ONNX export is the machine's one, in the
    user cache: ``qa.onnx_encoder.default_cache_dir``)."""
    return get_encoder(model, backend)


def build_index(
    corpus_dir: str | os.PathLike = "corpus",
    index_dir: str | os.PathLike = "embeddings",
    *,
    model: str | None = None,
    backend: str | None = None,
    encoder: Encoder | None = None,
    settings: ChunkSettings | None = None,
    fusion: FusionSettings | None = None,
    embed_title: bool = True,
    passage_vectors: str = "derived",
    factory: str | None = None,
    show_progress: bool = False,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = 16,
    force: bool = False,
    store: str | None = None,
    milvus_uri: str | None = None,
) -> Index:
    """Build (or rebuild) the index of ``corpus_dir`` into ``index_dir`` and load it.

    ``store="milvus"`` puts the dense and BM25 search in a Milvus collection at
    ``milvus_uri`` (a Milvus Lite folder or ``http://host:19530``; default
    ``<index>/milvus-lite.db``) instead of FAISS; the folder keeps everything else.
    ``store=None`` keeps the store the current version records (embedded for a new index).

    Vectors of texts already embedded by the current version with the same model are reused,
    so an unchanged corpus rebuilds without running the model. The write is atomic.
    ``passage_vectors="derived"`` (the default) builds each passage's vector from its sentence
    vectors; ``"encoded"`` runs the model on the whole passage as well (about twice the work).
    When the corpus files, the model and every setting match the current version, that version
    is kept and loaded (``summary.rebuilt`` is False) unless ``force``. The steps are in
    ``qa.build``.
    """
    build = BuildSettings(
        chunking=settings or ChunkSettings(),
        fusion=fusion or FusionSettings(),
        embed_title=embed_title,
        passage_vectors=passage_vectors,
        factory=factory,
        **chosen_store(Path(index_dir), store, milvus_uri),
    )
    return _build(
        Path(corpus_dir), Path(index_dir), build, encoder, model=model, backend=backend,
        force=force, batch_size=batch_size, show_progress=show_progress, progress=progress,
    )  # fmt: skip


def _build(
    corpus: Path,
    index_path: Path,
    build: BuildSettings,
    encoder: Encoder | None,
    *,
    model: str | None = None,
    backend: str | None = None,
    **options: Any,
) -> Index:
    # spaCy loads while the encoder does. Unconditional: finding out whether the build will
    # keep the current version needs the encoder's model id (and hashes the corpus); when it
    # does, the load only warms the process for its next build.
    preload_structure()
    encoder = encoder or get_encoder(model, backend)
    summary = build_version(corpus, index_path, encoder, build, **options)
    try:
        return _read(index_path, encoder, summary=summary)
    except IndexCorruptError as exc:
        if summary.rebuilt:
            raise
        # "Nothing changed" trusted a version that cannot be read: replace it, never keep it.
        log.warning("index %s cannot be read (%s); rebuilding it", index_path, exc)
        summary = build_version(corpus, index_path, encoder, build, **{**options, "force": True})
        return _read(index_path, encoder, summary=summary)


def load_index(
    index_dir: str | os.PathLike = "embeddings",
    *,
    encoder: Encoder | None = None,
    model: str | None = None,
    backend: str | None = None,
    check_stale: bool = False,
    mmap: bool = False,
) -> Index:
    """Load a built index after verifying every file against the manifest's checksums.

    With ``check_stale``, an index whose corpus or model changed is rebuilt first.
    Never re-reads the corpus otherwise.
    """
    path = Path(index_dir)
    try:
        return _load_once(path, encoder, model, backend, check_stale, mmap)
    except IndexCorruptError:
        # A rebuild may have switched CURRENT (and cleaned up) while this reader was opening
        # the version it named: the new one is complete, so read that once before giving up.
        if not _moved_since(path):
            raise
        log.info("index %s changed while it was read; reading the new version", path)
        return _load_once(path, encoder, model, backend, check_stale, mmap)


def _current_or_moved(path: Path) -> tuple[Path, dict[str, Any]]:
    """``current_version``, read once more if a rebuild switched ``CURRENT`` meanwhile."""
    before = pointed_version(path)
    try:
        return current_version(path)
    except IndexCorruptError:
        if pointed_version(path) in ("", before):
            raise
        return current_version(path)


def _moved_since(path: Path) -> bool:
    """Whether ``CURRENT`` now names a different version than the last read in this thread."""
    seen = getattr(_last_seen, "version", None)
    return seen is not None and pointed_version(path) not in ("", seen)


def _load_once(
    path: Path,
    encoder: Encoder | None,
    model: str | None,
    backend: str | None,
    check_stale: bool,
    mmap: bool,
) -> Index:
    _last_seen.version = pointed_version(path)
    folder, manifest = current_version(path)
    _last_seen.version = folder.name
    if encoder is None:
        if model is None and backend is None:
            # Older manifests do not record the backend: fall back on the model id's suffix.
            recorded = manifest["model"].get("backend") or backend_from_model_id(
                manifest["model"]["id"]
            )
            encoder = get_encoder(None, recorded)
        else:
            encoder = get_encoder(model, backend)
    if check_stale:
        corpus = Path(manifest["corpus"]["dir"])
        reason = stale_reason(manifest, corpus, encoder.model_id)
        if reason:
            log.warning("index %s is stale (%s); rebuilding", path, reason)
            return _build(corpus, path, BuildSettings.from_manifest(manifest), encoder)
    return _read(path, encoder, mmap=mmap, warn_model=not check_stale, version=(folder, manifest))


def _read(
    path: Path,
    encoder: Encoder,
    *,
    mmap: bool = False,
    warn_model: bool = False,
    summary: BuildSummary | None = None,
    version: tuple[Path, dict[str, Any]] | None = None,
) -> Index:
    """Read the current version of ``path`` (or ``version``, already verified) into an ``Index``."""
    import faiss

    folder, manifest = version or current_version(path)
    fix = f"Fix: rebuild it with `qa index --index {path}`."
    try:
        passages = [Passage.from_dict(d) for d in read_jsonl(folder / "passages.jsonl")]
        documents = [document_from_dict(d) for d in read_jsonl(folder / "documents.jsonl")]
        mode = "r" if mmap else None
        _check_npy_headers(folder, manifest)
        vectors = np.load(folder / "vectors.npy", allow_pickle=False, mmap_mode=mode)
        svectors = np.load(folder / "sentence_vectors.npy", allow_pickle=False, mmap_mode=mode)
        offsets = np.load(folder / "sentence_offsets.npy", allow_pickle=False)
        flags = faiss.IO_FLAG_MMAP if mmap else 0
        record = manifest.get("store") or {"kind": "embedded"}
        milvus = record.get("kind") == "milvus"  # the collection holds the dense side
        dense = None if milvus else faiss.read_index(str(folder / "dense.faiss"), flags)
        lexical = LexicalIndex.load(folder / "bm25", mmap=mmap)
        doc_lexical = LexicalIndex.load(folder / "bm25_docs", mmap=mmap)
    except (ValueError, KeyError, TypeError, RuntimeError, OSError) as exc:
        raise IndexCorruptError(
            f"Index {str(path)!r} could not be read ({type(exc).__name__}: {exc}). {fix}"
        ) from exc
    n = len(passages)
    if (
        (dense is not None and dense.ntotal != n)
        or vectors.shape[0] != n
        or lexical.size != n
        or len(offsets) != n + 1
        or int(offsets[-1]) != svectors.shape[0]
        or manifest["counts"]["passages"] != n
    ):
        raise IndexCorruptError(
            f"Index {str(path)!r}: passages ({n}), vectors ({vectors.shape[0]}), FAISS "
            f"({dense.ntotal if dense is not None else '-'}) and BM25 ({lexical.size}) counts "
            f"disagree. {fix}"
        )
    recorded_model = manifest["model"]["id"]
    if warn_model and encoder.model_id != recorded_model:
        log.warning(
            "index %s was built with %s but queries use %s; rebuild for consistent results",
            path, recorded_model, encoder.model_id,
        )  # fmt: skip
    if doc_lexical.size != len(documents):
        raise IndexCorruptError(
            f"Index {str(path)!r}: documents ({len(documents)}) and document BM25 "
            f"({doc_lexical.size}) counts disagree. {fix}"
        )
    store = _open_store(record, n)
    return Index(path, manifest, passages, documents, vectors, dense, lexical, doc_lexical,
                 svectors, offsets, encoder, summary, store=store)  # fmt: skip


def _open_store(record: dict[str, Any], n: int) -> SearchStore | None:
    """The remote store a manifest's ``store`` record names (None: the embedded one)."""
    if record.get("kind") != "milvus":
        return None
    from qa.milvus_store import open_store

    return open_store(record, n)


# The version this thread last began to read: load_index retries once when CURRENT moved.
_last_seen = threading.local()
# A generous bound on any .npy's row count beyond the manifest's own counts (sentence offsets
# have one row more than passages); npy_shape also requires the header to match the file size.
_NPY_SLACK = 1


def _check_npy_headers(folder: Path, manifest: dict[str, Any]) -> None:
    """Refuse a ``.npy`` whose header claims more rows than the manifest counts (or than its
    own size holds) before numpy maps it: a 4e12-row header made ``np.load`` fail deep."""
    counts = manifest["counts"]
    dim = manifest["model"]["dim"]
    rows = {
        "vectors.npy": (counts["passages"], dim),
        "sentence_vectors.npy": (counts["sentences"], dim),
        "sentence_offsets.npy": (counts["passages"] + _NPY_SLACK, None),
    }
    for name, (max_rows, max_cols) in rows.items():
        if (folder / name).exists():
            npy_shape(folder / name, max_rows, max_cols)


def open_index(
    corpus_dir: str | os.PathLike = "corpus",
    index_dir: str | os.PathLike = "embeddings",
    *,
    model: str | None = None,
    backend: str | None = None,
    encoder: Encoder | None = None,
    show_progress: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Index:
    """Load ``index_dir``, building it from ``corpus_dir`` if missing or stale.

    ``progress(done, total)`` is called as texts are embedded (a first build, a rebuild)."""
    index_path = Path(index_dir)
    corpus = Path(corpus_dir)
    if os.path.lexists(corpus):  # a file or a symlink loop is one error, before any write
        check_corpus_dir(corpus)
    check_index_dir(index_path)
    enc = encoder or get_encoder(model, backend)
    try:
        _, manifest = _current_or_moved(index_path)
    except IndexCorruptError:
        raise
    except IndexUnavailableError:
        # A first build is the normal first run, not a warning.
        log.info("building the index of %s into %s", corpus_dir, index_dir)
        return build_index(corpus_dir, index_path, encoder=enc, show_progress=show_progress,
                           progress=progress)  # fmt: skip
    reason = stale_reason(manifest, corpus, enc.model_id, same_folder=True)
    if reason:
        log.info("index %s is stale (%s); rebuilding", index_dir, reason)
        try:
            return _build(corpus, index_path, BuildSettings.from_manifest(manifest), enc,
                          show_progress=show_progress, progress=progress)  # fmt: skip
        except IndexWriteError as exc:
            # A read-only (or full) index folder still answers from what it holds.
            log.warning(
                "index %s is stale (%s) but cannot be rebuilt: the folder is read-only or full "
                "(%s); searching the version that is there", index_dir, reason, exc.__cause__,
            )  # fmt: skip
    return load_index(index_path, encoder=enc)
