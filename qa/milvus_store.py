"""The Milvus store: dense and BM25 search in one Milvus collection (``pymilvus``, lazily).

The URI picks the deployment: a Milvus Lite folder (``/path/to/qa.db``, embedded in this
process), a Lite server or a standalone/cluster Milvus (``http://host:19530``). Install the
optional extra: ``pip install -e '.[milvus]'``.

Collection schema (one entity per passage; ``row`` is its line in ``passages.jsonl``)::

    row       INT64 primary key
    doc_id    VARCHAR(1024)           filter: doc_id in [...]
    date      VARCHAR(16)             ISO date or ""; filter: date >= "..." and date <= "..."
    terms     VARCHAR(65535)          qa.lexical.tokenize(text) joined by spaces (analyzer
                                      "standard": it only splits them again)
    passage   VARCHAR(65535)          the Passage as JSON (passages by row)
    dense     FLOAT_VECTOR(dim)       unit passage vector; index FLAT or HNSW, metric IP
    sparse    SPARSE_FLOAT_VECTOR     output of a BM25 Function on ``terms``;
                                      SPARSE_INVERTED_INDEX, metric BM25, k1 1.2, b 0.75

Indexing the *tokenized* text makes Milvus's BM25 see exactly bm25s's terms (folded,
stemmed, stopwords removed), so both rank alike: top hit equal on 69/69 dev questions.
Milvus scores ``idf * tf * (k1 + 1) / (tf + k1 * norm)``; bm25s's Lucene form has no
``(k1 + 1)``, so scores are divided by it. Milvus Lite returns BM25 scores negated, hence
``abs``. Fusion divides BM25 by the query's best score, so neither affects the ranking.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from qa.errors import QAError
from qa.lexical import lookup, tokenize
from qa.store_protocol import HNSW_EF_SEARCH, SearchFilter
from qa.types import Passage

BM25_K1 = 1.2  # the same as qa.lexical.LexicalIndex.build
BM25_B = 0.75
# Milvus returns at most this many BM25 hits per query; lexical_scores() of a dense
# candidate ranked below it reads 0 (the embedded store has every score). 1000 covers every
# passage of the bundled corpora, so parity there is exact.
LEXICAL_DEPTH = 1000
FLAT_MAX = 50_000  # the same switch to an approximate index as qa.build.factory_string
VARCHAR_MAX = 65_535  # Milvus's limit, in bytes
INSERT_BATCH = 1000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


def _pymilvus() -> Any:
    try:
        import pymilvus
    except ImportError as exc:
        raise QAError(
            "The Milvus store needs pymilvus. Fix: pip install -e '.[milvus]' "
            "(pymilvus 3.0.2 and milvus-lite 3.2.2), or use --store embedded."
        ) from exc
    return pymilvus


def collection_name(version: str) -> str:
    """A valid collection name for an index version (``v-2024...-ab12`` -> ``qa_v_2024..._ab12``)."""
    name = "qa_" + re.sub(r"[^A-Za-z0-9_]", "_", version)
    if not _NAME.match(name):
        raise QAError(f"Cannot make a Milvus collection name from {version!r}.")
    return name


def filter_expr(flt: SearchFilter | None) -> str:
    """The Milvus boolean expression for a filter ("" for none)."""
    if flt is None:
        return ""
    parts = []
    if flt.doc_ids is not None:
        parts.append(f"doc_id in {json.dumps(list(flt.doc_ids), ensure_ascii=False)}")
    if flt.date_from or flt.date_to:
        parts.append('date != ""')  # an undated passage never matches a date range
    if flt.date_from:
        parts.append(f"date >= {json.dumps(flt.date_from)}")
    if flt.date_to:
        parts.append(f"date <= {json.dumps(flt.date_to)}")
    return " and ".join(parts)


def _client(uri: str) -> Any:
    pm = _pymilvus()
    try:
        return pm.MilvusClient(uri=uri)
    except Exception as exc:  # noqa: BLE001 - pymilvus raises many types for "cannot connect"
        if "://" not in uri:  # a Milvus Lite folder: one process at a time may open it
            fix = (
                "close the other process using it, or serve it to several with "
                f"`milvus-lite server --data-dir {uri} --host 127.0.0.1 --port 19530` and "
                "build with --milvus-uri http://127.0.0.1:19530"
            )
        else:
            fix = "start the server, or check --milvus-uri (http://host:19530)"
        raise QAError(
            f"Cannot open Milvus at {uri!r} ({type(exc).__name__}: {exc}). Fix: {fix}."
        ) from exc


@contextmanager
def _quiet_lite_server() -> Iterator[None]:
    """Milvus Lite's in-process server lacks AllocTimestamp, which pymilvus calls while it
    waits for an index and then does without; grpc logs each call as an ERROR traceback."""
    import logging

    def drop(record: logging.LogRecord) -> bool:
        return "Method not implemented" not in record.getMessage()

    logger = logging.getLogger("grpc._server")
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


class MilvusStore:
    """A :class:`qa.store_protocol.SearchStore` over one Milvus collection."""

    kind = "milvus"

    def __init__(self, client: Any, uri: str, collection: str) -> None:
        self.client = client
        self.uri = uri
        self.collection = collection
        self._last: tuple[tuple[str, str], tuple[np.ndarray, np.ndarray]] | None = None
        self._hnsw = False

    # -- building ------------------------------------------------------------------------

    @classmethod
    def create(cls, uri: str, collection: str, dim: int, *, drop: bool = False) -> MilvusStore:
        """Create the collection (schema above); ``drop`` replaces one of the same name."""
        pm = _pymilvus()
        client = _client(uri)
        if client.has_collection(collection):
            if not drop:
                raise QAError(f"Milvus collection {collection!r} already exists at {uri!r}.")
            client.drop_collection(collection)
        dt = pm.DataType
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("row", dt.INT64, is_primary=True)
        schema.add_field("doc_id", dt.VARCHAR, max_length=1024)
        schema.add_field("date", dt.VARCHAR, max_length=16)
        schema.add_field(
            "terms", dt.VARCHAR, max_length=VARCHAR_MAX, enable_analyzer=True,
            analyzer_params={"type": "standard"},
        )  # fmt: skip
        schema.add_field("passage", dt.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("dense", dt.FLOAT_VECTOR, dim=dim)
        schema.add_field("sparse", dt.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            pm.Function(
                name="bm25", function_type=pm.FunctionType.BM25,
                input_field_names=["terms"], output_field_names=["sparse"],
            )
        )  # fmt: skip
        store = cls(client, uri, collection)
        store._schema = schema
        return store

    def insert(
        self,
        passages: Sequence[Passage],
        vectors: np.ndarray,
        texts: Sequence[str],
        *,
        terms_are_tokens: bool = False,
        log: Callable[[str], None] | None = None,
    ) -> None:
        """Insert every passage (row = position), then index and load the collection.

        ``texts`` are what BM25 indexes for each passage (tokenized here unless
        ``terms_are_tokens``).
        """
        n = len(passages)
        if vectors.shape[0] != n or len(texts) != n:
            raise QAError("Milvus insert: passages, vectors and texts differ in length.")
        hnsw = n > FLAT_MAX
        params = self.client.prepare_index_params()
        if hnsw:
            params.add_index(
                field_name="dense", index_type="HNSW", metric_type="IP",
                params={"M": 32, "efConstruction": 40},
            )  # fmt: skip
        else:
            params.add_index(field_name="dense", index_type="FLAT", metric_type="IP")
        bm25 = {"bm25_k1": BM25_K1, "bm25_b": BM25_B}
        # pymilvus 3 flattens ``params`` into top-level keys (what the server reads); Milvus
        # Lite 3.2.2 reads only a JSON "params" key and otherwise scores with k1 = 1.5, so
        # both forms are sent.
        params.add_index(
            field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
            params={**bm25, "params": bm25},
        )  # fmt: skip
        with _quiet_lite_server():
            self.client.create_collection(self.collection, schema=self._schema, index_params=params)
        for start in range(0, n, INSERT_BATCH):
            batch = []
            for i in range(start, min(n, start + INSERT_BATCH)):
                p = passages[i]
                terms = texts[i] if terms_are_tokens else " ".join(tokenize(texts[i]))
                blob = json.dumps(p.to_dict(), ensure_ascii=False)
                if len(blob.encode()) > VARCHAR_MAX or len(terms) > VARCHAR_MAX:
                    raise QAError(
                        f"Passage {p.passage_id} is too long for a Milvus VARCHAR "
                        f"({VARCHAR_MAX} bytes). Fix: use smaller chunks (--max-chars)."
                    )
                batch.append(
                    {"row": i, "doc_id": p.doc_id, "date": p.date or "", "terms": terms,
                     "passage": blob, "dense": vectors[i].tolist()}
                )  # fmt: skip
            self.client.insert(self.collection, batch)
            if log is not None and (start // INSERT_BATCH) % 100 == 99:
                log(f"  milvus: {start + len(batch):,} of {n:,} inserted")
        self.client.flush(self.collection)
        self.client.load_collection(self.collection)
        self._hnsw = hnsw

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def connect(cls, uri: str, collection: str, *, expect_rows: int | None = None) -> MilvusStore:
        """Open an existing collection and check it holds ``expect_rows`` passages."""
        client = _client(uri)
        if not client.has_collection(collection):
            raise QAError(
                f"Milvus at {uri!r} has no collection {collection!r}. Fix: rebuild the index "
                "with `qa index --store milvus --milvus-uri URI`."
            )
        client.load_collection(collection)
        store = cls(client, uri, collection)
        rows = store.count()
        if expect_rows is not None and rows != expect_rows:
            raise QAError(
                f"Milvus collection {collection!r} holds {rows} passages, the index "
                f"{expect_rows}. Fix: rebuild with `qa index --store milvus --force`."
            )
        store._hnsw = rows > FLAT_MAX
        return store

    def count(self) -> int:
        """How many passages the collection holds."""
        res = self.client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(res[0]["count(*)"])

    def drop(self) -> None:
        """Remove the collection."""
        self.client.drop_collection(self.collection)

    def bind(self, passages: Sequence[Passage]) -> None:
        """Nothing to bind: passages come from the collection (kept for symmetry in benches)."""

    # -- the SearchStore protocol --------------------------------------------------------

    @staticmethod
    def _rows(hits: list[dict]) -> np.ndarray:
        return np.asarray([int(h.get("row", h.get("id"))) for h in hits], dtype=np.int64)

    def dense_search(
        self, qvec: np.ndarray, n: int, flt: SearchFilter | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """ANN (or exact, below ``FLAT_MAX``) inner-product search, filtered in Milvus."""
        params: dict[str, Any] = {"metric_type": "IP"}
        if self._hnsw:
            params["params"] = {"ef": max(HNSW_EF_SEARCH, n)}
        res = self.client.search(
            self.collection, data=[np.asarray(qvec, np.float32).tolist()], anns_field="dense",
            limit=n, filter=filter_expr(flt), search_params=params, output_fields=["row"],
        )  # fmt: skip
        hits = res[0]
        sims = np.asarray([float(h["distance"]) for h in hits], dtype=np.float32)
        return self._rows(hits), sims

    def _bm25(self, query: str, flt: SearchFilter | None) -> tuple[np.ndarray, np.ndarray]:
        """The query's BM25 hits (rows ascending), at most ``LEXICAL_DEPTH``; cached per query."""
        expr = filter_expr(flt)
        last = self._last
        if last is not None and last[0] == (query, expr):
            return last[1]
        terms = " ".join(tokenize(query))
        if not terms:
            hits_out = (np.zeros(0, np.int64), np.zeros(0, np.float32))
        else:
            res = self.client.search(
                self.collection, data=[terms], anns_field="sparse", limit=LEXICAL_DEPTH,
                filter=expr, search_params={"metric_type": "BM25"}, output_fields=["row"],
            )  # fmt: skip
            rows = self._rows(res[0])
            sc = np.abs(np.asarray([float(h["distance"]) for h in res[0]], np.float32))
            sc = (sc / (BM25_K1 + 1.0)).astype(np.float32)
            order = np.argsort(rows, kind="stable")
            hits_out = (rows[order], sc[order])
        self._last = ((query, expr), hits_out)
        return hits_out

    def lexical_search(
        self, query: str, n: int, flt: SearchFilter | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """BM25 through the collection's BM25 function, filtered in Milvus."""
        from qa.lexical import top_rows

        rows, sc = self._bm25(query, flt)
        return top_rows(rows, sc, n)

    def lexical_scores(self, query: str, rows: np.ndarray) -> np.ndarray:
        """Scores of ``rows`` from the last search of ``query`` (0 below ``LEXICAL_DEPTH``)."""
        last = self._last
        if last is not None and last[0][0] == query:
            hit_rows, hit_sc = last[1]
        else:
            hit_rows, hit_sc = self._bm25(query, None)
        return lookup(hit_rows, hit_sc, rows)

    def passages(self, rows: Sequence[int]) -> list[Passage]:
        """Passages read back from the collection's ``passage`` field, in ``rows`` order."""
        ids = [int(r) for r in rows]
        if not ids:
            return []
        got = self.client.get(self.collection, ids=ids, output_fields=["row", "passage"])
        by_row = {int(g["row"]): g["passage"] for g in got}
        missing = [r for r in ids if r not in by_row]
        if missing:
            raise QAError(f"Milvus collection {self.collection!r} has no rows {missing[:5]}.")
        return [Passage.from_dict(json.loads(by_row[r])) for r in ids]

    def close(self) -> None:
        """Close the client connection."""
        self.client.close()


# -- what qa.build and qa.index call: build, open and drop by the manifest's "store" record ---


def resolve_uri(uri: str) -> str:
    """``http(s)://`` and ``tcp://`` URIs as given; a Lite path made absolute (it is recorded)."""
    if re.match(r"^[a-z][a-z0-9+.-]*://", uri):
        return uri
    from pathlib import Path

    return str(Path(uri).expanduser().resolve())


def build_collection(
    uri: str, version: str, passages: Sequence[Passage], vectors: np.ndarray, texts: Sequence[str]
) -> dict[str, Any]:
    """Create and fill the collection of one index version; returns the manifest record."""
    uri = resolve_uri(uri)
    name = collection_name(version)
    store = MilvusStore.create(uri, name, int(vectors.shape[1]), drop=True)
    try:
        store.insert(passages, vectors, texts)
    except BaseException:
        store.drop()
        raise
    finally:
        store.close()
    return {"kind": "milvus", "uri": uri, "collection": name, "rows": len(passages)}


def open_store(record: dict[str, Any], n: int) -> MilvusStore:
    """The store a manifest's ``store`` record names, checked to hold ``n`` passages."""
    return MilvusStore.connect(record["uri"], record["collection"], expect_rows=n)


def drop_collection(record: dict[str, Any]) -> None:
    """Drop a replaced version's collection (the caller logs a failure; nothing is lost)."""
    client = _client(record["uri"])
    try:
        if client.has_collection(record["collection"]):
            client.drop_collection(record["collection"])
    finally:
        client.close()
