"""Run by tests/test_milvus.py inside a private network namespace (``unshare -rn``): start the
real Milvus 2.3.5 standalone server (PyPI ``milvus``), load a dense-only collection (2.3.5
predates BM25), search it through ``qa.milvus_store.MilvusStore`` and print JSON results.

The server binds every interface of its namespace, which holds only loopback, so nothing
outside this process tree can reach it. Exit code 77: it did not start within the limit.

Usage: python tests/milvus_standalone_check.py DATA_DIR VECTORS.npy QUERIES.npy DOC_IDS.json
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

START_LIMIT_S = 60


def main() -> int:
    """Start, load, search, stop (by the server's PID); print one JSON object."""
    data_dir, vec_path, q_path, ids_path = sys.argv[1:5]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=False)
    from milvus import MilvusServer

    server = MilvusServer(wait_for_started=False)
    server.set_base_dir(data_dir)
    t0 = time.monotonic()
    server.start()
    try:
        try:
            server.wait_started(timeout=START_LIMIT_S * 1000)
        except (TimeoutError, RuntimeError) as exc:
            print(json.dumps({"error": f"not started in {START_LIMIT_S} s: {exc}"}))
            return 77
        started = time.monotonic() - t0
        return _check(server, started, np.load(vec_path), np.load(q_path), ids_path)
    finally:
        server.stop()  # terminates the server process it started (its PID), then kills


def _check(server, started: float, vecs: np.ndarray, queries: np.ndarray, ids_path: str) -> int:  # noqa: ANN001
    from pymilvus import DataType, MilvusClient

    from qa.milvus_store import MilvusStore
    from qa.store_protocol import SearchFilter

    uri = f"http://127.0.0.1:{server.config.get('proxy_port')}"
    doc_ids = json.loads(Path(ids_path).read_text(encoding="utf-8"))
    client = MilvusClient(uri=uri)
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
    schema.add_field("date", DataType.VARCHAR, max_length=16)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=int(vecs.shape[1]))
    params = client.prepare_index_params()
    params.add_index(field_name="dense", index_type="FLAT", metric_type="IP")
    client.create_collection("qa_dense", schema=schema, index_params=params)
    client.insert(
        "qa_dense",
        [
            {"row": i, "doc_id": doc_ids[i], "date": "", "dense": v.tolist()}
            for i, v in enumerate(vecs)
        ],
    )
    client.flush("qa_dense")
    client.load_collection("qa_dense")
    store = MilvusStore.connect(uri, "qa_dense", expect_rows=len(vecs))
    top = [store.dense_search(q, 10, None)[0].tolist() for q in queries]
    first = doc_ids[0]
    flt = SearchFilter(doc_ids=(first,))
    filtered = [store.dense_search(q, 5, flt)[0].tolist() for q in queries]
    print(json.dumps({"started_s": round(started, 1), "top10": top, "filtered": filtered}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
