"""Building, loading and searching an index: the seam between the stages.

Data flows one way: documents -> chunking -> embedding -> store, and at query time
store -> dense + lexical search -> fusion -> passages (-> answering).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.chunking import ChunkSettings, chunk_document, passage_sentences
from qa.documents import (
    METADATA_FILE,
    Skipped,
    corpus_files,
    file_sha256,
    iter_documents,
    no_documents_error,
)
from qa.embedding import Encoder, get_encoder, text_key
from qa.errors import IndexCorruptError, IndexError_, QAError
from qa.fusion import FusionSettings, fuse
from qa.lexical import LexicalIndex, fold, lookup
from qa.store import (
    VersionWriter,
    build_lock,
    check_space,
    current_version,
    read_jsonl,
    write_jsonl,
)
from qa.store_protocol import EmbeddedStore, SearchFilter, SearchStore
from qa.types import Answer, DocMeta, Document, Dropped, Paragraph, Passage

log = logging.getLogger("qa")

MAX_QUESTION_CHARS = 2000
FLAT_MAX = 50_000  # above this many passages the default FAISS index is approximate


class QuestionError(QAError, ValueError):
    """A question that cannot be searched: empty, control characters only, or too long."""


def check_question(question: str) -> str:
    """Normalise a question to NFC and validate it; raises ``QuestionError`` (a ValueError)."""
    if not isinstance(question, str):
        raise QuestionError(f"The question must be text, got {type(question).__name__}.")
    q = unicodedata.normalize("NFC", question)
    q = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in q)
    q = " ".join(q.split())
    if not q:
        raise QuestionError("The question is empty. Type a question about the articles.")
    if len(q) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"The question is {len(q):,} characters long; the limit is {MAX_QUESTION_CHARS:,}. "
            "Shorten it to the question itself."
        )
    return q


def factory_string(n: int) -> str:
    """The FAISS index type for ``n`` vectors: exact up to ``FLAT_MAX``, then graph/quantised."""
    if n <= FLAT_MAX:
        return "Flat"
    if n <= 2_000_000:
        return "HNSW32,Flat"
    nlist = int(4 * np.sqrt(n))
    return f"IVF{nlist},PQ48x8,RFlat"


@dataclass(frozen=True)
class BuildSummary:
    """What a build did: the counts the CLI prints and the manifest records."""

    documents: int
    paragraphs: int
    chunks: int
    sentences: int
    dropped: dict[str, int]
    skipped: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]
    embedded: int
    reused: int
    seconds: float
    rebuilt: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        d = asdict(self)
        d["skipped"] = [list(s) for s in self.skipped]
        return d

    def lines(self) -> list[str]:
        """A human summary, one fact per line."""
        drops = ", ".join(f"{v} {k}" for k, v in sorted(self.dropped.items())) or "none"
        out = [
            f"documents: {self.documents}",
            f"paragraphs: {self.paragraphs}",
            f"chunks: {self.chunks} ({self.sentences} sentences)",
            f"dropped by cleaning: {drops}",
            f"embedded: {self.embedded} new, {self.reused} reused from cache",
            f"time: {self.seconds:.2f} s",
        ]
        if not self.rebuilt:
            out.insert(
                0, "unchanged: the corpus and settings match the current index (--force rebuilds)"
            )
        for path, reason in self.skipped:
            out.append(f"skipped {path}: {reason}")
        for w in self.warnings:
            out.append(f"warning: {w}")
        return out


def _doc_to_dict(doc: Document) -> dict[str, Any]:
    return {
        "doc_id": doc.doc_id,
        "file_hash": doc.file_hash,
        "meta": asdict(doc.meta),
        "paragraphs": [asdict(p) for p in doc.paragraphs],
        "dropped": [asdict(d) for d in doc.dropped],
    }


def _doc_from_dict(d: dict[str, Any]) -> Document:
    return Document(
        doc_id=d["doc_id"],
        meta=DocMeta(**d["meta"]),
        paragraphs=tuple(Paragraph(**p) for p in d["paragraphs"]),
        dropped=tuple(Dropped(**x) for x in d["dropped"]),
        file_hash=d.get("file_hash", ""),
    )


def embedding_text(passage: Passage, with_title: bool) -> str:
    """The text embedded for a passage (optionally prefixed by its document's title)."""
    return f"{passage.title}. {passage.text}" if with_title and passage.title else passage.text


def corpus_state(corpus_dir: Path) -> dict[str, dict[str, Any]]:
    """Size and mtime of every candidate corpus file (and metadata.json), without reading them."""
    state: dict[str, dict[str, Any]] = {}
    root = corpus_dir.resolve()
    for item in corpus_files(root):
        name = item.path if isinstance(item, Skipped) else item[0]
        path = root / name
        try:
            st = path.stat() if not path.is_symlink() else path.lstat()
        except OSError:
            continue
        state[name] = {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
    meta = root / METADATA_FILE
    if meta.exists():
        st = meta.stat()
        state[METADATA_FILE] = {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
    return state


def _hash_state(corpus_dir: Path, state: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, info in state.items():
        path = corpus_dir / name
        try:
            digest = (
                file_sha256(path)
                if not path.is_symlink() or path.resolve().is_relative_to(corpus_dir.resolve())
                else ""
            )
        except OSError:
            digest = ""
        out[name] = dict(info, sha256=digest)
    return out


class Index:
    """A loaded index: passages, their vectors, FAISS and BM25, and the encoder for queries."""

    def __init__(
        self,
        path: Path,
        manifest: dict[str, Any],
        passages: list[Passage],
        documents: list[Document],
        vectors: np.ndarray,
        dense: Any,
        lexical: LexicalIndex,
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
        # FAISS search is thread-safe for reads; the lock only guards parameter changes.
        self._faiss_lock = threading.Lock()
        self._norm_text = [" ".join(fold(p.text).split()) for p in passages]
        self.doc_lexical: LexicalIndex | None = None
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
            while len(self._query_cache) > 512:
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
            while len(self._query_cache) > max(512, len(texts)):
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
        if k < 1:
            raise QuestionError(f"k must be at least 1, got {k}.")
        allowed = self._allowed(doc_ids, date_from, date_to)
        flt = None
        if allowed is not None:
            ids = tuple(sorted(set(doc_ids))) if doc_ids is not None else None
            flt = SearchFilter(ids, date_from or None, date_to or None, mask=allowed)
        qvec = self.embed_query(q)
        n_cand = min(len(self.passages), max(self.fusion.candidates, k * 4))
        d_idx, _ = self.store.dense_search(qvec, n_cand, flt)
        # Only the postings of the query's terms are read: no N-long score array to rank.
        lex_top, _ = self.store.lexical_search(q, n_cand, flt)
        cand = np.unique(np.concatenate([d_idx, lex_top]).astype(np.int64))
        if len(cand) == 0:
            return []
        dense = (self.vectors[cand] @ qvec).astype(np.float32)
        sent = self._sentence_max(qvec, cand)
        lex = self.store.lexical_scores(q, cand)
        doc_score = None
        if self.fusion.w_document and self.doc_lexical is not None:
            drows = self._passage_doc[cand]
            d_dense = self._doc_vectors[drows] @ qvec
            d_rows, d_hits = self.doc_lexical.sparse(q)
            top = float(d_hits.max()) if len(d_hits) else 0.0
            d_lex = (
                lookup(d_rows, d_hits, drows) / top if top > 0 else np.zeros(len(cand), np.float32)
            )
            doc_score = (0.5 * d_dense + 0.5 * d_lex).astype(np.float32)
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

    def answer(
        self,
        question: str,
        history: list[dict] | None = None,
        *,
        k: int = 5,
        passages: Sequence[Passage] | None = None,
        doc_ids: Iterable[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> Answer:
        """A short extractive answer with numbered citations (see ``qa.answering``)."""
        from qa.answering import answer as _answer

        return _answer(
            self,
            question,
            history,
            k=k,
            passages=passages,
            doc_ids=doc_ids,
            date_from=date_from,
            date_to=date_to,
        )

    # --- staleness --------------------------------------------------------------------------

    def stale_reason(self, corpus_dir: str | os.PathLike | None = None) -> str:
        """Why this index no longer matches its corpus (``""`` when it still does).

        Files whose size and mtime are unchanged are not re-read; the others are hashed, so
        touching a file without changing it does not force a rebuild.
        """
        corpus = Path(corpus_dir or self.manifest["corpus"]["dir"])
        return _stale_files(corpus, self.manifest) if corpus.exists() else ""


# --- building ---------------------------------------------------------------------------------


# How a passage's dense vector is made. "derived" sums the unit vectors of its sentences plus
# half its document title's vector, so the model runs over each token once (the sentences are
# needed anyway for answering). Measured against "encoded" (the model run on title + passage):
# hit@5 unchanged on dev, test and SQuAD; hit@1 -0.5 point on SQuAD; the build takes half the
# time. See docs/performance.md.
PASSAGE_VECTOR_MODES = ("derived", "encoded")
TITLE_WEIGHT = 0.5


def default_index_encoder(model: str | None = None, backend: str | None = None) -> Encoder:
    """The shared encoder for the default index (its ONNX export is the machine's one)."""
    return get_encoder(model, backend)


def derive_passage_vectors(
    sentence_vectors: np.ndarray, offsets: Sequence[int], title_vectors: Sequence[np.ndarray | None]
) -> np.ndarray:
    """Unit passage vectors: sum of each passage's sentence vectors plus ``TITLE_WEIGHT`` × title."""
    n = len(offsets) - 1
    dim = sentence_vectors.shape[1]
    out = np.zeros((n, dim), dtype=np.float32)
    for i in range(n):
        s, e = int(offsets[i]), int(offsets[i + 1])
        if e > s:
            out[i] = sentence_vectors[s:e].sum(axis=0)
        tv = title_vectors[i]
        if tv is not None:
            out[i] += TITLE_WEIGHT * tv
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    empty = norms[:, 0] == 0
    out[empty, 0] = 1.0  # a passage with no sentence and no title: any fixed unit vector
    norms[empty] = 1.0
    return out / norms


# Bump when cleaning, chunking or vector derivation changes what a build produces from the
# same files: an index made by other code is then rebuilt instead of kept as "unchanged".
PIPELINE_VERSION = 2


def _unchanged(index_dir: Path, corpus: Path, wanted: dict[str, Any]) -> BuildSummary | None:
    """The current version's summary if it was built from these exact files and settings."""
    try:
        _, manifest = current_version(index_dir)
    except QAError:
        return None  # missing or damaged: build
    recorded = {
        "pipeline": manifest.get("pipeline"),
        "model": manifest["model"]["id"],
        "chunking": manifest.get("chunking"),
        "fusion": manifest.get("fusion"),
        "embed_title": manifest.get("embed_title"),
        "passage_vectors": manifest.get("passage_vectors"),
        "factory": manifest["faiss"]["factory"] if wanted["factory"] else None,
        "store": _store_key(**_store_args(manifest.get("store"))),
    }
    if recorded != wanted or not corpus.is_dir():
        return None
    if manifest["corpus"]["dir"] != str(corpus.resolve()) or _stale_files(corpus, manifest):
        return None
    s = dict(manifest.get("summary") or {})
    try:
        s["skipped"] = tuple(tuple(x) for x in s.get("skipped", ()))
        s["warnings"] = tuple(s.get("warnings", ()))
        return BuildSummary(**s)
    except TypeError:
        return None  # a summary from an older layout: rebuild rather than guess


def _previous_cache(index_dir: Path, model_id: str) -> dict[str, np.ndarray]:
    """Vectors of the current version keyed by text hash, if it used the same model."""
    try:
        folder, manifest = current_version(index_dir)
    except QAError:
        return {}
    if manifest.get("model", {}).get("id") != model_id:
        return {}
    cache: dict[str, np.ndarray] = {}
    for vec_name, key_name in (
        ("vectors.npy", "vector_keys.json"),
        ("sentence_vectors.npy", "sentence_keys.json"),
        ("title_vectors.npy", "title_keys.json"),
    ):
        vp, kp = folder / vec_name, folder / key_name
        if vp.exists() and kp.exists():
            vecs = np.load(vp, allow_pickle=False, mmap_mode="r")
            keys = json.loads(kp.read_text(encoding="utf-8"))
            for key, row in zip(keys, range(len(keys))):
                cache[key] = vecs[row]
    return cache


def _encode_with_cache(
    encoder: Encoder,
    texts: list[str],
    cache: dict[str, np.ndarray],
    *,
    batch_size: int,
    show_progress: bool,
    progress: Callable[[int, int], None] | None,
) -> tuple[np.ndarray, list[str], int]:
    keys = [text_key(encoder.model_id, t) for t in texts]
    todo = sorted(
        {i for i, key in enumerate(keys) if key not in cache}, key=lambda i: len(texts[i])
    )
    # Encode unique missing texts once, longest-similar lengths together (less padding).
    unique: dict[str, int] = {}
    for i in todo:
        unique.setdefault(keys[i], i)
    idx = list(unique.values())
    fresh: dict[str, np.ndarray] = {}
    bar = None
    if show_progress and idx:
        from tqdm import tqdm

        bar = tqdm(total=len(idx), desc="embedding", unit="text")
    step = max(batch_size * 8, 64)
    for b in range(0, len(idx), step):
        chunk = idx[b : b + step]
        vecs = encoder.encode([texts[i] for i in chunk], batch_size=batch_size)
        for i, v in zip(chunk, vecs):
            fresh[keys[i]] = v
        if bar is not None:
            bar.update(len(chunk))
        if progress is not None:
            progress(min(b + step, len(idx)), len(idx))
    if bar is not None:
        bar.close()
    dim = encoder.dim
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, key in enumerate(keys):
        out[i] = fresh[key] if key in fresh else cache[key]
    return out, keys, len(unique)


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
    is kept and loaded (``summary.rebuilt`` is False) unless ``force``.
    """
    if passage_vectors not in PASSAGE_VECTOR_MODES:
        raise QAError(
            f"Unknown passage_vectors {passage_vectors!r}. "
            f"Fix: use one of {', '.join(PASSAGE_VECTOR_MODES)}."
        )
    t0 = time.perf_counter()
    corpus = Path(corpus_dir)
    index_path = Path(index_dir)
    settings = settings or ChunkSettings()
    fusion = fusion or FusionSettings()
    encoder = encoder or get_encoder(model, backend)
    state = corpus_state(corpus) if corpus.is_dir() else {}
    if store is None:  # a plain rebuild stays in the store the index is in
        kept_store = _store_args(_current_store(index_path))
        store, milvus_uri = kept_store["store"], milvus_uri or kept_store["milvus_uri"]
    store_key = _store_key(store, milvus_uri, index_path)

    with build_lock(index_path):
        if not force:
            wanted = {
                "pipeline": PIPELINE_VERSION,
                "model": encoder.model_id,
                "chunking": settings.to_dict(),
                "fusion": fusion.to_dict(),
                "embed_title": embed_title,
                "passage_vectors": passage_vectors,
                "factory": factory,
                "store": store_key,
            }
            kept = _unchanged(index_path, corpus, wanted)
            if kept is not None:
                index = load_index(index_path, encoder=encoder, check_stale=False)
                index.summary = replace(
                    kept, embedded=0, reused=kept.embedded + kept.reused, rebuilt=False,
                    seconds=round(time.perf_counter() - t0, 3),
                )  # fmt: skip
                return index
        documents: list[Document] = []
        passages: list[Passage] = []
        skipped: list[tuple[str, str]] = []
        warnings: list[str] = []
        dropped: dict[str, int] = {}
        for item in iter_documents(corpus):
            if isinstance(item, Skipped):
                if item.reason.startswith("warning: "):
                    warnings.append(f"{item.path}: {item.reason[9:]}")
                else:
                    skipped.append((item.path, item.reason))
                continue
            # Keep only the cleaned document (not the raw text) once it is chunked.
            documents.append(item)
            passages.extend(chunk_document(item, settings))
            for d in item.dropped:
                dropped[d.reason] = dropped.get(d.reason, 0) + 1
        if not documents:
            raise no_documents_error(corpus, len(skipped))

        sentences: list[str] = []
        offsets = [0]
        for p in passages:
            sentences.extend(s for _, _, s in passage_sentences(p))
            offsets.append(len(sentences))

        cache = _previous_cache(index_path, encoder.model_id)
        # Titles feed only derived passage vectors; encoded ones carry the title in their text.
        derive = passage_vectors == "derived" and embed_title
        titles = sorted({p.title for p in passages if p.title}) if derive else []
        if passage_vectors == "encoded":
            texts = [embedding_text(p, embed_title) for p in passages]
        else:
            texts = []
        vectors, vkeys, n_new = _encode_with_cache(
            encoder, texts + sentences + titles, cache,
            batch_size=batch_size, show_progress=show_progress, progress=progress,
        )  # fmt: skip
        n_text, n_sent = len(texts), len(sentences)
        svectors, skeys = vectors[n_text : n_text + n_sent], vkeys[n_text : n_text + n_sent]
        tvectors, tkeys = vectors[n_text + n_sent :], vkeys[n_text + n_sent :]
        if passage_vectors == "encoded":
            vectors, vkeys = vectors[:n_text], vkeys[:n_text]
        else:
            title_vec = dict(zip(titles, tvectors))
            vectors = derive_passage_vectors(
                svectors, offsets, [title_vec.get(p.title) for p in passages]
            )
            vkeys = []  # derived rows have no text of their own to cache by
        dim = int(vectors.shape[1])
        check_space(index_path, int(vectors.nbytes * 3 + svectors.nbytes * 2 + 10_000_000))

        previous_store = _current_store(index_path)
        writer = VersionWriter(index_path)
        store_record: dict[str, Any] = {"kind": "embedded"}
        try:
            if store == "milvus":
                from qa import milvus_store

                kind = "milvus"
                store_record = milvus_store.build_collection(
                    store_key.split(":", 1)[1], writer.version, passages, vectors,
                    [embedding_text(p, embed_title) for p in passages],
                )  # fmt: skip
            else:
                import faiss

                kind = factory or factory_string(len(passages))
                dense = faiss.index_factory(dim, kind, faiss.METRIC_INNER_PRODUCT)
                if not dense.is_trained:
                    dense.train(vectors)
                dense.add(vectors)
                faiss.write_index(dense, str(writer.path("dense.faiss")))
            np.save(writer.path("vectors.npy"), vectors, allow_pickle=False)
            np.save(writer.path("sentence_vectors.npy"), svectors, allow_pickle=False)
            np.save(
                writer.path("sentence_offsets.npy"),
                np.asarray(offsets, dtype=np.int64),
                allow_pickle=False,
            )
            writer.path("vector_keys.json").write_text(json.dumps(vkeys), encoding="utf-8")
            writer.path("sentence_keys.json").write_text(json.dumps(skeys), encoding="utf-8")
            np.save(writer.path("title_vectors.npy"), tvectors, allow_pickle=False)
            writer.path("title_keys.json").write_text(json.dumps(tkeys), encoding="utf-8")
            write_jsonl(writer.path("passages.jsonl"), (p.to_dict() for p in passages))
            write_jsonl(writer.path("documents.jsonl"), (_doc_to_dict(d) for d in documents))
            lexical = LexicalIndex.build([embedding_text(p, embed_title) for p in passages])
            lexical.save(writer.path("bm25"))
            doc_texts = [
                d.meta.title + "\n\n" + "\n\n".join(par.text for par in d.paragraphs)
                for d in documents
            ]
            LexicalIndex.build(doc_texts).save(writer.path("bm25_docs"))
            summary = BuildSummary(
                documents=len(documents),
                paragraphs=sum(len(d.paragraphs) for d in documents),
                chunks=len(passages),
                sentences=len(sentences),
                dropped=dropped,
                skipped=tuple(skipped),
                warnings=tuple(warnings),
                embedded=n_new,
                reused=len(texts) + len(sentences) + len(titles) - n_new,
                seconds=round(time.perf_counter() - t0, 3),
            )
            manifest = {
                "model": {"id": encoder.model_id, "dim": dim},
                "chunking": settings.to_dict(),
                "fusion": fusion.to_dict(),
                "embed_title": embed_title,
                "passage_vectors": passage_vectors,
                "pipeline": PIPELINE_VERSION,
                "faiss": {"factory": kind, "metric": "inner_product"},
                "store": store_record,
                "corpus": {
                    "dir": str(corpus.resolve()),
                    "files": _hash_state(corpus.resolve(), state),
                },
                "counts": {
                    "documents": len(documents),
                    "paragraphs": summary.paragraphs,
                    "passages": len(passages),
                    "sentences": len(sentences),
                    "dropped": dropped,
                    "skipped": len(skipped),
                },
                "summary": summary.to_dict(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            writer.publish(manifest)
        except OSError as exc:
            # A full disk mid-write must read like every other fixable error, not a traceback.
            writer.abort()
            _drop_store(store_record)
            fix = (
                "free some space"
                if exc.errno in (errno.ENOSPC, errno.EDQUOT)
                else ("make the folder writable")
            )
            raise QAError(
                f"Could not write the index to {str(index_path)!r} ({exc.strerror or exc}). "
                f"Fix: {fix} and rebuild; the current index is untouched."
            ) from exc
        except BaseException:
            writer.abort()
            _drop_store(store_record)
            raise
        if previous_store.get("collection") != store_record.get("collection"):
            _drop_store(previous_store)  # the replaced version's collection
    index = load_index(index_path, encoder=encoder, check_stale=False)
    index.summary = summary
    return index


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
    folder, manifest = current_version(path)
    recorded_model = manifest["model"]["id"]
    if encoder is None:
        if model is None and backend is None:
            backend_guess = "torch"
            if recorded_model.endswith("+onnx-int8"):
                backend_guess = "onnx-int8"
            elif recorded_model.endswith("+onnx"):
                backend_guess = "onnx"
            elif recorded_model.startswith("fake-"):
                backend_guess = "fake"
            encoder = get_encoder(None, backend_guess)
        else:
            encoder = get_encoder(model, backend)
    if check_stale:
        reason = ""
        if encoder.model_id != recorded_model:
            reason = f"model changed ({recorded_model} -> {encoder.model_id})"
        corpus = Path(manifest["corpus"]["dir"])
        if not reason and corpus.exists():
            reason = _stale_files(corpus, manifest)
        if reason:
            log.warning("index %s is stale (%s); rebuilding", path, reason)
            return _rebuild(corpus, path, manifest, encoder)
    import faiss

    try:
        passages = [Passage.from_dict(d) for d in read_jsonl(folder / "passages.jsonl")]
        documents = [_doc_from_dict(d) for d in read_jsonl(folder / "documents.jsonl")]
        mode = "r" if mmap else None
        vectors = np.load(folder / "vectors.npy", allow_pickle=False, mmap_mode=mode)
        svectors = np.load(folder / "sentence_vectors.npy", allow_pickle=False, mmap_mode=mode)
        offsets = np.load(folder / "sentence_offsets.npy", allow_pickle=False)
        flags = faiss.IO_FLAG_MMAP if mmap else 0
        record = manifest.get("store") or {"kind": "embedded"}
        milvus = record.get("kind") == "milvus"
        dense = None if milvus else faiss.read_index(str(folder / "dense.faiss"), flags)
        lexical = LexicalIndex.load(folder / "bm25", mmap=mmap)
        doc_lexical = LexicalIndex.load(folder / "bm25_docs", mmap=mmap)
    except (ValueError, KeyError, TypeError, RuntimeError, OSError) as exc:
        raise IndexCorruptError(
            f"Index {str(path)!r} could not be read ({type(exc).__name__}: {exc}). "
            f"Fix: rebuild it with `qa index --index {path}`."
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
            f"({dense.ntotal}) and BM25 ({lexical.size}) counts disagree. "
            f"Fix: rebuild it with `qa index --index {path}`."
        )
    if encoder.model_id != recorded_model and not check_stale:
        log.warning(
            "index %s was built with %s but queries use %s; rebuild for consistent results",
            path, recorded_model, encoder.model_id,
        )  # fmt: skip
    if doc_lexical.size != len(documents):
        raise IndexCorruptError(
            f"Index {str(path)!r}: documents ({len(documents)}) and document BM25 "
            f"({doc_lexical.size}) counts disagree. Fix: rebuild it with `qa index --index {path}`."
        )
    store = None
    if milvus:
        from qa.milvus_store import open_store

        store = open_store(record, n)
    index = Index(path, manifest, passages, documents, vectors, dense, lexical, svectors, offsets,
                  encoder, store=store)  # fmt: skip
    index.doc_lexical = doc_lexical
    return index


def _rebuild(
    corpus: Path, index_dir: Path, manifest: dict[str, Any], encoder: Encoder, **kwargs: Any
) -> Index:
    """Rebuild a stale index with the chunking, fusion and title settings it was built with."""
    return build_index(
        corpus,
        index_dir,
        encoder=encoder,
        settings=ChunkSettings(**manifest["chunking"]),
        fusion=FusionSettings(**manifest.get("fusion", {})),
        embed_title=manifest.get("embed_title", True),
        passage_vectors=manifest.get("passage_vectors", "encoded"),
        **_store_args(manifest.get("store")),
        **kwargs,
    )


def _store_args(record: dict[str, Any] | None) -> dict[str, Any]:
    """``build_index`` arguments that rebuild into the store a manifest records."""
    if record and record.get("kind") == "milvus":
        return {"store": "milvus", "milvus_uri": record["uri"]}
    return {"store": "embedded", "milvus_uri": None}


def _store_key(store: str, milvus_uri: str | None, index_path: Path | None = None) -> str:
    """``embedded`` or ``milvus:<absolute URI>``: what the unchanged check compares."""
    if store == "embedded":
        return "embedded"
    if store != "milvus":
        raise QAError(f"Unknown store {store!r}. Fix: use embedded or milvus.")
    if not milvus_uri:
        if index_path is None:
            raise QAError("The Milvus store needs a URI. Fix: pass --milvus-uri.")
        milvus_uri = str(index_path / "milvus-lite.db")
    from qa.milvus_store import resolve_uri

    return "milvus:" + resolve_uri(milvus_uri)


def _current_store(index_dir: Path) -> dict[str, Any]:
    try:
        return current_version(index_dir)[1].get("store") or {"kind": "embedded"}
    except QAError:
        return {"kind": "embedded"}


def _drop_store(record: dict[str, Any]) -> None:
    if record.get("kind") != "milvus":
        return
    from qa.milvus_store import drop_collection

    try:
        drop_collection(record)
    except Exception as exc:  # noqa: BLE001 - a leftover collection must not fail a build
        log.warning("could not drop Milvus collection %s: %s", record.get("collection"), exc)


def _stale_files(corpus: Path, manifest: dict[str, Any]) -> str:
    recorded = manifest["corpus"]["files"]
    now = corpus_state(corpus)
    if set(now) != set(recorded):
        added = sorted(set(now) - set(recorded))
        removed = sorted(set(recorded) - set(now))
        return f"corpus files changed (added {added}, removed {removed})"
    for name, info in now.items():
        old = recorded[name]
        if info["bytes"] == old["bytes"] and info["mtime_ns"] == old["mtime_ns"]:
            continue
        if file_sha256(corpus / name) != old.get("sha256"):
            return f"{name} changed"
    return ""


def open_index(
    corpus_dir: str | os.PathLike = "corpus",
    index_dir: str | os.PathLike = "embeddings",
    *,
    model: str | None = None,
    backend: str | None = None,
    encoder: Encoder | None = None,
    show_progress: bool = False,
) -> Index:
    """Load ``index_dir``, building it from ``corpus_dir`` if missing or stale."""
    index_path = Path(index_dir)
    enc = encoder or get_encoder(model, backend)
    try:
        folder, manifest = current_version(index_path)
    except IndexCorruptError:
        raise
    except IndexError_:
        log.warning("building the index of %s into %s", corpus_dir, index_dir)
        return build_index(corpus_dir, index_path, encoder=enc, show_progress=show_progress)
    corpus = Path(corpus_dir)
    reason = ""
    if manifest["model"]["id"] != enc.model_id:
        reason = f"model changed ({manifest['model']['id']} -> {enc.model_id})"
    elif Path(manifest["corpus"]["dir"]) != corpus.resolve():
        reason = f"corpus folder changed ({manifest['corpus']['dir']} -> {corpus.resolve()})"
    elif corpus.exists():
        reason = _stale_files(corpus, manifest)
    if reason:
        log.warning("index %s is stale (%s); rebuilding", index_dir, reason)
        return _rebuild(corpus, index_path, manifest, enc, show_progress=show_progress)
    return load_index(index_path, encoder=enc)
