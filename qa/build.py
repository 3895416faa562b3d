"""Building an index version: ingest the corpus, embed, write the files, publish the manifest.

``build_version`` is the whole build as a short sequence of named steps, each a function of its
own: ``unchanged`` (keep the current version?), ``ingest`` (clean and chunk), ``embed`` (vectors,
reusing the current version's), ``write_version`` (FAISS, vectors, JSON lines, BM25) and
``make_manifest``. With ``BuildSettings.store == "milvus"`` the dense and BM25 search live in a
Milvus collection (``qa.milvus_store``) built before the files, and FAISS is not written. Loading and searching live in ``qa.index``, which imports this module (never
the other way round).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from qa.chunking import ChunkSettings, chunk_document, passage_sentences
from qa.documents import (
    METADATA_FILE,
    Skipped,
    check_corpus_dir,
    corpus_files,
    iter_documents,
    no_documents_error,
)
from qa.embedding import Encoder, encoder_backend, text_key
from qa.errors import IndexWriteError, QAError
from qa.fileio import file_sha256, read_regular
from qa.fusion import FusionSettings
from qa.lexical import LexicalIndex
from qa.safe_read import MAX_MANIFEST_BYTES, NPY_MAX_ROWS, npy_shape
from qa.store import (
    VersionWriter,
    build_lock,
    check_space,
    current_version,
    remove_dead_temps,
    write_jsonl,
)
from qa.structure import STRUCTURE_FILE, Structure, extract, preload
from qa.types import DocMeta, Document, Dropped, Paragraph, Passage

log = logging.getLogger("qa")

FLAT_MAX = 50_000  # above this many passages the default FAISS index is approximate
# How a passage's dense vector is made. "derived" sums the unit vectors of its sentences plus
# half its document title's vector, so the model runs over each token once (the sentences are
# needed anyway for answering). Measured against "encoded" (the model run on title + passage):
# hit@5 unchanged on dev, test and SQuAD; hit@1 -0.5 point on SQuAD; the build takes half the
# time. See docs/performance.md.
PASSAGE_VECTOR_MODES = ("derived", "encoded")
TITLE_WEIGHT = 0.5
# Bump when cleaning, chunking or vector derivation changes what a build produces from the
# same files: an index made by other code is then rebuilt instead of kept as "unchanged".
# 3: every version holds structure.json (qa.structure), so older ones are rebuilt to get it.
# 4: BM25 terms read irregular past forms as their verb ("held" as "hold", qa.lexical).
PIPELINE_VERSION = 4
# Extraction runs spaCy's NER (qa.structure); patterns alone miss places and people named
# without a title. bench/build_structure.py measures both and the build time they add.
STRUCTURE_NER = True
STRUCTURE_CACHE = 4  # structures remembered per process (a few corpora; each ~0.1-1 MB)
# Where dense and BM25 search run: FAISS + bm25s in the folder, or a Milvus collection.
STORES = ("embedded", "milvus")
# A Milvus store built without a URI: a Milvus Lite folder inside the index folder.
DEFAULT_LITE_DB = "milvus-lite.db"
EMBEDDED_RECORD: dict[str, Any] = {"kind": "embedded"}


def factory_string(n: int) -> str:
    """The FAISS index type for ``n`` vectors: exact up to ``FLAT_MAX``, then graph/quantised."""
    if n <= FLAT_MAX:
        return "Flat"
    if n <= 2_000_000:
        return "HNSW32,Flat"
    nlist = int(4 * np.sqrt(n))
    return f"IVF{nlist},PQ48x8,RFlat"


# --- settings and summary -------------------------------------------------------------------


@dataclass(frozen=True)
class BuildSettings:
    """Everything besides the corpus and the model that decides what a build writes.

    Recorded in the manifest (all but ``factory``, which the manifest keeps under ``faiss``,
    and the store, which it keeps under ``store``); a build whose settings, model and files
    match the current version keeps it. ``milvus_uri`` is a Milvus Lite folder or
    ``http://host:19530``; ``None`` means ``<index>/milvus-lite.db`` (see ``for_index``).
    """

    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    fusion: FusionSettings = field(default_factory=FusionSettings)
    embed_title: bool = True
    passage_vectors: str = "derived"  # one of PASSAGE_VECTOR_MODES
    factory: str | None = None  # a FAISS factory string; None picks one by size
    store: str = "embedded"  # one of STORES
    milvus_uri: str | None = None  # only with store="milvus"

    def __post_init__(self) -> None:
        if self.passage_vectors not in PASSAGE_VECTOR_MODES:
            raise QAError(
                f"Unknown passage_vectors {self.passage_vectors!r}. "
                f"Fix: use one of {', '.join(PASSAGE_VECTOR_MODES)}."
            )
        if self.store not in STORES:
            raise QAError(f"Unknown store {self.store!r}. Fix: use one of {', '.join(STORES)}.")
        if self.store == "embedded" and self.milvus_uri:
            raise QAError(
                f"A Milvus URI ({self.milvus_uri!r}) was given for the embedded store. "
                "Fix: add --store milvus, or drop --milvus-uri."
            )

    def for_index(self, index_path: Path) -> BuildSettings:
        """These settings with the Milvus URI made absolute (defaulting inside ``index_path``)."""
        if self.store != "milvus":
            return replace(self, milvus_uri=None)
        from qa.milvus_store import resolve_uri

        return replace(
            self, milvus_uri=resolve_uri(self.milvus_uri or str(index_path / DEFAULT_LITE_DB))
        )

    def store_key(self) -> str:
        """``embedded`` or ``milvus:<URI>``: the store part of ``key``."""
        return "embedded" if self.store == "embedded" else f"milvus:{self.milvus_uri}"

    def to_manifest(self) -> dict[str, Any]:
        """The manifest's settings fields."""
        return {
            "chunking": self.chunking.to_dict(),
            "fusion": self.fusion.to_dict(),
            "embed_title": self.embed_title,
            "passage_vectors": self.passage_vectors,
        }

    def key(self, model_id: str) -> dict[str, Any]:
        """What must match a version's ``recorded_key`` for a build to keep that version."""
        return {"pipeline": PIPELINE_VERSION, "model": model_id, **self.to_manifest(),
                "factory": self.factory, "store": self.store_key()}  # fmt: skip

    @staticmethod
    def recorded_key(manifest: dict[str, Any], with_factory: bool) -> dict[str, Any]:
        """The ``key`` a version was built with, read from its manifest."""
        names = [f.name for f in fields(BuildSettings) if f.name not in _NOT_IN_SETTINGS]
        return {
            "pipeline": manifest.get("pipeline"),
            "model": manifest["model"]["id"],
            **{name: manifest.get(name) for name in names},
            "factory": manifest["faiss"]["factory"] if with_factory else None,
            "store": BuildSettings(**store_args(manifest.get("store"))).store_key(),
        }

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> BuildSettings:
        """The settings a version was built with, for rebuilding it when its corpus changes."""
        return cls(
            chunking=ChunkSettings(**manifest["chunking"]),
            fusion=FusionSettings(**manifest.get("fusion", {})),
            embed_title=manifest.get("embed_title", True),
            passage_vectors=manifest.get("passage_vectors", "encoded"),
            **store_args(manifest.get("store")),
        )


# BuildSettings fields the manifest keeps elsewhere than its top-level settings.
_NOT_IN_SETTINGS = ("factory", "store", "milvus_uri")


def store_args(record: dict[str, Any] | None) -> dict[str, Any]:
    """The ``BuildSettings`` store fields that rebuild into the store a manifest records
    (manifests from before the store seam have no record: embedded)."""
    if record and record.get("kind") == "milvus":
        return {"store": "milvus", "milvus_uri": record["uri"]}
    return {"store": "embedded", "milvus_uri": None}


def current_store(index_dir: Path) -> dict[str, Any]:
    """The ``store`` record of ``index_dir``'s current version (embedded when there is none)."""
    try:
        return current_version(index_dir)[1].get("store") or EMBEDDED_RECORD
    except QAError:
        return EMBEDDED_RECORD


def chosen_store(index_dir: Path, store: str | None, milvus_uri: str | None) -> dict[str, Any]:
    """The ``BuildSettings`` store fields of a build asked for ``store`` at ``milvus_uri``.

    ``store=None`` keeps the store the current version records (embedded for a new index), so
    a plain ``qa index`` never moves an index out of Milvus; a URI alone means Milvus.
    """
    if store is not None:
        return {"store": store, "milvus_uri": milvus_uri}
    if milvus_uri:
        return {"store": "milvus", "milvus_uri": milvus_uri}
    return store_args(current_store(index_dir))


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
    # What extraction found (qa.structure): events, entities, agreements; {} before issue 12.
    structure: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        d = asdict(self)
        d["skipped"] = [list(s) for s in self.skipped]
        return d

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> BuildSummary | None:
        """The summary a manifest records; None for one from an older layout."""
        s = dict(manifest.get("summary") or {})
        try:
            s["skipped"] = tuple(tuple(x) for x in s.get("skipped", ()))
            s["warnings"] = tuple(s.get("warnings", ()))
            return cls(**s)
        except TypeError:
            return None

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
        if self.structure:
            c = self.structure
            out.insert(-1, f"structure: {c.get('events', 0)} events, {c.get('entities', 0)} "
                       f"people, organisations and places, {c.get('agreements', 0)} agreements")  # fmt: skip
        if not self.rebuilt:
            out.insert(
                0, "unchanged: the corpus and settings match the current index (--force rebuilds)"
            )
        for path, reason in self.skipped:
            out.append(f"skipped {path}: {reason}")
        for w in self.warnings:
            out.append(f"warning: {w}")
        return out


# --- documents on disk -----------------------------------------------------------------------


def document_to_dict(doc: Document) -> dict[str, Any]:
    """A JSON-ready row of ``documents.jsonl``."""
    return {
        "doc_id": doc.doc_id,
        "file_hash": doc.file_hash,
        "meta": asdict(doc.meta),
        "paragraphs": [asdict(p) for p in doc.paragraphs],
        "dropped": [asdict(d) for d in doc.dropped],
    }


def document_from_dict(d: dict[str, Any]) -> Document:
    """Inverse of :func:`document_to_dict`."""
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


# --- the corpus state and staleness ----------------------------------------------------------


def corpus_state(corpus_dir: Path) -> dict[str, dict[str, Any]]:
    """Size and mtime of every candidate corpus file (and metadata.json), without reading them.

    Entries that cannot be stat'ed (vanished, loops) are left out rather than raising.
    """
    state: dict[str, dict[str, Any]] = {}
    # realpath, not Path.resolve(): on Python 3.11 resolve() raises RuntimeError on a loop.
    root = Path(os.path.realpath(corpus_dir))
    for item in corpus_files(root):
        name = item.path if isinstance(item, Skipped) else item[0]
        try:
            st = os.lstat(root / name)
        except (OSError, ValueError):
            continue
        state[name] = {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
    try:
        st = os.stat(root / METADATA_FILE)
    except OSError:
        pass
    else:
        state[METADATA_FILE] = {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
    return state


def _digest(path: Path, root: Path) -> str:
    """A corpus file's SHA-256; ``""`` when it is unreadable, not regular or outside ``root``
    (staleness checks compare digests, they never crash on a hostile entry)."""
    try:
        if not Path(os.path.realpath(path)).is_relative_to(root):
            return ""
        return file_sha256(path)
    except (OSError, ValueError):
        return ""


def _hash_state(corpus_dir: Path, state: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    root = Path(os.path.realpath(corpus_dir))
    return {name: dict(info, sha256=_digest(root / name, root)) for name, info in state.items()}


def stale_reason(
    manifest: dict[str, Any],
    corpus: Path,
    model_id: str | None = None,
    *,
    same_folder: bool = False,
) -> str:
    """Why the version ``manifest`` describes no longer matches (``""`` when it still does).

    Checks, in order: the model (when ``model_id`` is given), the corpus folder (with
    ``same_folder``), then the files. Files whose size and mtime are unchanged are not
    re-read; the others are hashed, so touching a file without changing it is not a change.
    A corpus folder that no longer exists is not a reason (there is nothing to rebuild from).
    """
    recorded_model = manifest["model"]["id"]
    if model_id is not None and model_id != recorded_model:
        return f"model changed ({recorded_model} -> {model_id})"
    real = Path(os.path.realpath(corpus))  # never raises on a symlink loop
    if same_folder and Path(manifest["corpus"]["dir"]) != real:
        return f"corpus folder changed ({manifest['corpus']['dir']} -> {real})"
    if not corpus.exists():
        return ""
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
        root = Path(os.path.realpath(corpus))
        if _digest(root / name, root) != old.get("sha256"):
            return f"{name} changed"
    return ""


def unchanged(
    index_dir: Path, corpus: Path, settings: BuildSettings, model_id: str
) -> BuildSummary | None:
    """The current version's summary if it was built from these exact files and settings."""
    try:
        _, manifest = current_version(index_dir)
    except QAError:
        return None  # missing or damaged: build
    recorded = BuildSettings.recorded_key(manifest, with_factory=bool(settings.factory))
    if recorded != settings.key(model_id) or not corpus.is_dir():
        return None
    if stale_reason(manifest, corpus, same_folder=True):
        return None
    return BuildSummary.from_manifest(manifest)  # None for an older layout: rebuild, not guess


# --- the steps --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ingested:
    """The cleaned documents and their passages, with what was dropped, skipped or warned."""

    documents: list[Document]
    passages: list[Passage]
    skipped: list[tuple[str, str]]
    warnings: list[str]
    dropped: dict[str, int]
    sentences: list[str]  # every passage's sentences, in passage order
    offsets: list[int]  # passage i's sentences are sentences[offsets[i]:offsets[i + 1]]


def ingest(corpus: Path, chunking: ChunkSettings) -> Ingested:
    """Read, clean and chunk every corpus file; raises ``CorpusError`` if none is usable."""
    documents: list[Document] = []
    passages: list[Passage] = []
    skipped: list[tuple[str, str]] = []
    warnings: list[str] = []
    dropped: dict[str, int] = {}
    for item in iter_documents(corpus):
        if isinstance(item, Skipped):
            if item.is_warning:
                warnings.append(f"{item.path}: {item.reason}")
            else:
                skipped.append((item.path, item.reason))
            continue
        # Keep only the cleaned document (not the raw text) once it is chunked.
        documents.append(item)
        passages.extend(chunk_document(item, chunking))
        for d in item.dropped:
            dropped[d.reason] = dropped.get(d.reason, 0) + 1
    if not documents:
        raise no_documents_error(corpus, len(skipped))
    sentences: list[str] = []
    offsets = [0]
    for p in passages:
        sentences.extend(s for _, _, s in passage_sentences(p))
        offsets.append(len(sentences))
    return Ingested(documents, passages, skipped, warnings, dropped, sentences, offsets)


@dataclass(frozen=True)
class Embedded:
    """Vectors (and their cache keys) of the passages, sentences and titles of a build."""

    vectors: np.ndarray
    vector_keys: list[str]
    sentence_vectors: np.ndarray
    sentence_keys: list[str]
    title_vectors: np.ndarray
    title_keys: list[str]
    embedded: int  # texts the model ran on
    reused: int  # texts whose vectors came from the previous version


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


def embed(
    ingested: Ingested,
    encoder: Encoder,
    settings: BuildSettings,
    cache: dict[str, np.ndarray],
    *,
    batch_size: int = 16,
    show_progress: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Embedded:
    """Encode what the build needs, reusing ``cache`` (vectors of the previous version)."""
    passages, sentences = ingested.passages, ingested.sentences
    encoded = settings.passage_vectors == "encoded"
    # Titles feed only derived passage vectors; encoded ones carry the title in their text.
    derive = not encoded and settings.embed_title
    titles = sorted({p.title for p in passages if p.title}) if derive else []
    texts = [embedding_text(p, settings.embed_title) for p in passages] if encoded else []
    vectors, vkeys, n_new = _encode_with_cache(
        encoder, texts + sentences + titles, cache,
        batch_size=batch_size, show_progress=show_progress, progress=progress,
    )  # fmt: skip
    n_text, n_sent = len(texts), len(sentences)
    svectors, skeys = vectors[n_text : n_text + n_sent], vkeys[n_text : n_text + n_sent]
    tvectors, tkeys = vectors[n_text + n_sent :], vkeys[n_text + n_sent :]
    if encoded:
        vectors, vkeys = vectors[:n_text], vkeys[:n_text]
    else:
        title_vec = dict(zip(titles, tvectors))
        vectors = derive_passage_vectors(
            svectors, ingested.offsets, [title_vec.get(p.title) for p in passages]
        )
        vkeys = []  # derived rows have no text of their own to cache by
    reused = len(texts) + len(sentences) + len(titles) - n_new
    return Embedded(vectors, vkeys, svectors, skeys, tvectors, tkeys, n_new, reused)


def previous_cache(index_dir: Path, model_id: str) -> dict[str, np.ndarray]:
    """Vectors of the current version keyed by text hash, if it used the same model."""
    try:
        folder, manifest = current_version(index_dir)
    except QAError:
        return {}
    if manifest.get("model", {}).get("id") != model_id:
        return {}
    cache: dict[str, np.ndarray] = {}
    try:
        for vec_name, key_name in (
            ("vectors.npy", "vector_keys.json"),
            ("sentence_vectors.npy", "sentence_keys.json"),
            ("title_vectors.npy", "title_keys.json"),
        ):
            vp, kp = folder / vec_name, folder / key_name
            if vp.exists() and kp.exists():
                keys = json.loads(read_regular(kp, MAX_MANIFEST_BYTES).decode("utf-8"))
                # The header must match the file's size before numpy maps it (a 4e12-row
                # header in a 2 kB file is damage, not a cache).
                npy_shape(vp, NPY_MAX_ROWS, manifest["model"]["dim"])
                vecs = np.load(vp, allow_pickle=False, mmap_mode="r")
                for key, row in zip(keys, range(len(keys))):
                    cache[key] = vecs[row]
    except (OSError, ValueError, TypeError, QAError) as exc:
        # A version this build cannot reuse is rebuilt from scratch, never a reason to fail.
        log.warning("index %s: previous vectors not reused (%s)", index_dir, exc)
        return {}
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


@lru_cache(maxsize=STRUCTURE_CACHE)
def extract_cached(documents: tuple[Document, ...], ner: bool) -> Structure:
    """``qa.structure.extract``, remembered for the last few sets of documents.

    Extraction is deterministic on the cleaned documents, so a rebuild of the same documents
    (``--force``, a settings change, a test suite building the corpus again) reuses it.
    """
    return extract(documents, ner=ner)


def preload_structure() -> None:
    """Start loading what extraction needs (spaCy) in the background; call before the encoder."""
    if STRUCTURE_NER:
        preload()


def start_structure(documents: Sequence[Document]) -> Future[Structure]:
    """Extract the structure (``qa.structure.extract``) of the cleaned documents in a thread.

    The build starts it before encoding and collects it after: spaCy's load and NER then
    overlap the encoder's work instead of adding to it (measured in bench/build_structure.py).
    """
    docs = tuple(documents)
    future: Future[Structure] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(extract_cached(docs, STRUCTURE_NER))
        except BaseException as exc:  # handed to the build, which raises it
            future.set_exception(exc)

    # A daemon thread: an interrupted build exits at once instead of waiting for spaCy.
    threading.Thread(target=run, name="qa-structure", daemon=True).start()
    return future


def build_store(
    writer: VersionWriter, ingested: Ingested, vecs: Embedded, settings: BuildSettings
) -> dict[str, Any]:
    """Create and fill the Milvus collection of this version; returns the manifest's ``store``
    record (the embedded store's search files are written by ``write_version``).

    ``settings`` must come from ``BuildSettings.for_index`` (an absolute URI)."""
    if settings.store != "milvus":
        return EMBEDDED_RECORD
    from qa import milvus_store

    texts = [embedding_text(p, settings.embed_title) for p in ingested.passages]
    return milvus_store.build_collection(
        settings.milvus_uri, writer.version, ingested.passages, vecs.vectors, texts
    )


def drop_store(record: dict[str, Any]) -> None:
    """Drop a Milvus collection no version uses (an aborted build's, or a replaced one's)."""
    if record.get("kind") != "milvus":
        return
    from qa.milvus_store import drop_collection

    try:
        drop_collection(record)
    except Exception as exc:  # noqa: BLE001 - a leftover collection must not fail a build
        log.warning("could not drop Milvus collection %s: %s", record.get("collection"), exc)


def _write_faiss(writer: VersionWriter, vectors: np.ndarray, kind: str) -> None:
    import faiss

    dense = faiss.index_factory(int(vectors.shape[1]), kind, faiss.METRIC_INNER_PRODUCT)
    if not dense.is_trained:
        dense.train(vectors)
    dense.add(vectors)
    faiss.write_index(dense, str(writer.path("dense.faiss")))


def write_version(
    writer: VersionWriter,
    ingested: Ingested,
    vecs: Embedded,
    settings: BuildSettings,
    structure: Structure | None = None,
) -> str:
    """Write every artifact of a version into ``writer``'s folder; returns the dense index kind
    (the FAISS factory, or ``"milvus"`` when the collection holds the dense side)."""
    if structure is not None:
        writer.path(STRUCTURE_FILE).write_text(structure.to_json(), encoding="utf-8")
    passages, documents = ingested.passages, ingested.documents
    if settings.store == "milvus":
        kind = "milvus"  # the vectors are in the collection (build_store); no FAISS file
    else:
        kind = settings.factory or factory_string(len(passages))
        _write_faiss(writer, vecs.vectors, kind)
    offsets = np.asarray(ingested.offsets, dtype=np.int64)
    for name, array in (
        ("vectors.npy", vecs.vectors),
        ("sentence_vectors.npy", vecs.sentence_vectors),
        ("sentence_offsets.npy", offsets),
        ("title_vectors.npy", vecs.title_vectors),
    ):
        np.save(writer.path(name), array, allow_pickle=False)
    for name, keys in (
        ("vector_keys.json", vecs.vector_keys),
        ("sentence_keys.json", vecs.sentence_keys),
        ("title_keys.json", vecs.title_keys),
    ):
        writer.path(name).write_text(json.dumps(keys), encoding="utf-8")
    write_jsonl(writer.path("passages.jsonl"), (p.to_dict() for p in passages))
    write_jsonl(writer.path("documents.jsonl"), (document_to_dict(d) for d in documents))
    texts = [embedding_text(p, settings.embed_title) for p in passages]
    LexicalIndex.build(texts).save(writer.path("bm25"))
    doc_texts = [
        d.meta.title + "\n\n" + "\n\n".join(par.text for par in d.paragraphs) for d in documents
    ]
    LexicalIndex.build(doc_texts).save(writer.path("bm25_docs"))
    return kind


def make_summary(
    ingested: Ingested, vecs: Embedded, seconds: float, structure: Structure | None = None
) -> BuildSummary:
    """The counts of a build that wrote a new version."""
    return BuildSummary(
        documents=len(ingested.documents),
        paragraphs=sum(len(d.paragraphs) for d in ingested.documents),
        chunks=len(ingested.passages),
        sentences=len(ingested.sentences),
        dropped=ingested.dropped,
        skipped=tuple(ingested.skipped),
        warnings=tuple(ingested.warnings),
        embedded=vecs.embedded,
        reused=vecs.reused,
        seconds=round(seconds, 3),
        structure={
            "events": len(structure.events),
            "entities": len(structure.entities),
            "agreements": len(structure.agreements),
        }
        if structure is not None
        else {},
    )


def make_manifest(
    corpus: Path,
    state: dict[str, dict[str, Any]],
    encoder: Encoder,
    settings: BuildSettings,
    factory: str,
    summary: BuildSummary,
    store: dict[str, Any] = EMBEDDED_RECORD,
) -> dict[str, Any]:
    """The manifest of a new version (the store adds the format, version and checksums).

    ``store`` is where dense and BM25 search run: ``{"kind": "embedded"}``, or ``{"kind":
    "milvus", "uri", "collection", "rows"}`` (``build_store``).
    """
    return {
        "model": {
            "id": encoder.model_id,
            "dim": int(encoder.dim),
            "backend": encoder_backend(encoder),
        },
        **settings.to_manifest(),
        "pipeline": PIPELINE_VERSION,
        "faiss": {"factory": factory, "metric": "inner_product"},
        "store": dict(store),
        "corpus": {"dir": os.path.realpath(corpus), "files": _hash_state(corpus, state)},
        "counts": {
            "documents": summary.documents,
            "paragraphs": summary.paragraphs,
            "passages": summary.chunks,
            "sentences": summary.sentences,
            "dropped": summary.dropped,
            "skipped": len(summary.skipped),
        },
        "summary": summary.to_dict(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _write_error(index_path: Path, exc: OSError) -> IndexWriteError:
    # A full disk mid-write must read like every other fixable error, not a traceback.
    fix = (
        "free some space"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT)
        else "make the folder writable"
    )
    return IndexWriteError(
        f"Could not write the index to {str(index_path)!r} ({exc.strerror or exc}). "
        f"Fix: {fix} and rebuild; the current index is untouched."
    )


@contextmanager
def _locked(index_path: Path) -> Iterator[None]:
    """The build lock, with the temp folders of killed builds removed; a folder that cannot be
    written (read-only, full) is one ``QAError``, even when there is nothing to rebuild."""
    try:
        with build_lock(index_path):
            remove_dead_temps(index_path)
            yield
    except OSError as exc:
        raise _write_error(index_path, exc) from exc


def build_version(
    corpus: Path,
    index_path: Path,
    encoder: Encoder,
    settings: BuildSettings,
    *,
    force: bool = False,
    batch_size: int = 16,
    show_progress: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> BuildSummary:
    """Build a new version of ``index_path`` from ``corpus`` (under the build lock) and publish it.

    When the corpus files, the model and every setting match the current version, that version
    is kept (the summary's ``rebuilt`` is False) unless ``force``. A new version's Milvus
    collection replaces the old one's, which is dropped once the new version is published.
    """
    t0 = time.perf_counter()
    settings = settings.for_index(index_path)
    check_corpus_dir(corpus)  # before the lock: nothing is written for a bad --corpus
    state = corpus_state(corpus)
    with _locked(index_path):
        kept = None if force else unchanged(index_path, corpus, settings, encoder.model_id)
        if kept is not None:
            return replace(
                kept, embedded=0, reused=kept.embedded + kept.reused, rebuilt=False,
                seconds=round(time.perf_counter() - t0, 3),
            )  # fmt: skip
        ingested = ingest(corpus, settings.chunking)
        pending = start_structure(ingested.documents)
        cache = previous_cache(index_path, encoder.model_id)
        vecs = embed(ingested, encoder, settings, cache, batch_size=batch_size,
                     show_progress=show_progress, progress=progress)  # fmt: skip
        structure = pending.result()  # an extraction error is raised here, never lost
        need = vecs.vectors.nbytes * 3 + vecs.sentence_vectors.nbytes * 2 + 10_000_000
        check_space(index_path, int(need))
        previous = current_store(index_path)
        writer = VersionWriter(index_path)
        record = EMBEDDED_RECORD
        try:
            record = build_store(writer, ingested, vecs, settings)
            factory = write_version(writer, ingested, vecs, settings, structure)
            summary = make_summary(ingested, vecs, time.perf_counter() - t0, structure)
            manifest = make_manifest(corpus, state, encoder, settings, factory, summary, record)
            writer.publish(manifest)
        except OSError as exc:
            writer.abort()
            drop_store(record)
            raise _write_error(index_path, exc) from exc
        except BaseException:
            writer.abort()
            drop_store(record)
            raise
        if previous.get("collection") != record.get("collection"):
            drop_store(previous)  # the replaced version's collection
    return summary
