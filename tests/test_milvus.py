"""The Milvus store against the embedded one: Milvus Lite in process, a Lite server over gRPC
on 127.0.0.1, and (dense side only) the real ``milvus`` 2.3.5 standalone server if it starts.

Marked ``milvus``; skipped with the reason when the ``milvus`` extra is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qa.store_protocol import SearchFilter
from tests.test_app_server import free_port, port_open

pytestmark = pytest.mark.milvus
pymilvus = pytest.importorskip("pymilvus", reason="the milvus extra is not installed")
pytest.importorskip("milvus_lite", reason="the milvus extra is not installed")

DATA = Path(__file__).resolve().parent / "data"
SERVER_START_S = 60  # the bar for the standalone server: skip beyond a minute


def _questions() -> list[str]:
    with open(DATA / "dev.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["question"] for line in fh if line.strip()]


def _wait_port(port: int, proc: subprocess.Popen, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if port_open(port):
            return True
        time.sleep(0.2)
    return False


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server we started, by its PID (its own process group), and wait for it."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory, corpus_for_milvus):
    from qa.embedding import FakeEncoder
    from qa.index import build_index

    return build_index(
        corpus_for_milvus, tmp_path_factory.mktemp("emb") / "index", encoder=FakeEncoder()
    )


@pytest.fixture(scope="module")
def corpus_for_milvus(tmp_path_factory) -> Path:
    from tests.conftest import CORPUS

    dst = tmp_path_factory.mktemp("corpus") / "corpus"
    shutil.copytree(CORPUS, dst)
    return dst


@pytest.fixture(scope="module")
def lite_index(tmp_path_factory, corpus_for_milvus):
    from qa.embedding import FakeEncoder
    from qa.index import build_index

    folder = tmp_path_factory.mktemp("lite") / "index"
    return build_index(corpus_for_milvus, folder, encoder=FakeEncoder(), store="milvus")


@pytest.fixture(scope="module")
def lite_server(tmp_path_factory):
    """``milvus-lite server`` on 127.0.0.1 and a free port; stopped by its PID afterwards."""
    exe = Path(sys.executable).parent / "milvus-lite"
    port = free_port()
    data = tmp_path_factory.mktemp("lite-server")
    proc = subprocess.Popen(
        [str(exe), "server", "--data-dir", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        if not _wait_port(port, proc, SERVER_START_S):
            err = proc.stderr.read().decode(errors="replace")[-500:] if proc.poll() else ""
            pytest.fail(f"milvus-lite server did not listen on 127.0.0.1:{port}: {err}")
        yield f"http://127.0.0.1:{port}", proc
    finally:
        _stop(proc)


def _top5(index, q: str, **kw) -> list[str]:
    return [p.passage_id for p in index.retrieve(q, k=5, **kw)]


def _parity(a, b) -> float:
    qs = _questions()
    same = sum(_top5(a, q) == _top5(b, q) for q in qs)
    return same / len(qs)


def test_lite_manifest_records_the_store_and_collection(lite_index):
    from qa.store import current_version

    _, manifest = current_version(lite_index.path)
    rec = manifest["store"]
    assert rec["kind"] == "milvus"
    assert rec["collection"] == "qa_" + manifest["version"].replace("-", "_")
    assert rec["uri"] == str((lite_index.path / "milvus-lite.db").resolve())
    assert rec["rows"] == len(lite_index.passages)
    assert not (lite_index.path / manifest["version"] / "dense.faiss").exists()
    assert lite_index.store.kind == "milvus"


def test_lite_top5_matches_the_embedded_store(lite_index, embedded):
    assert [p.passage_id for p in lite_index.passages] == [p.passage_id for p in embedded.passages]
    assert _parity(lite_index, embedded) >= 0.95


def test_lite_bm25_scores_equal_bm25s(lite_index, embedded):
    for q in _questions()[:20]:
        rows, sc = lite_index.store.lexical_search(q, 10, None)
        want_rows, want = embedded.store.lexical_search(q, 10, None)
        assert rows[0] == want_rows[0]
        np.testing.assert_allclose(
            lite_index.store.lexical_scores(q, want_rows), want, rtol=1e-4, atol=1e-5
        )


def test_lite_passages_by_row_round_trip(lite_index):
    rows = [3, 0, len(lite_index.passages) - 1]
    assert lite_index.store.passages(rows) == [lite_index.passages[r] for r in rows]


def test_lite_filters_run_in_milvus(lite_index, embedded):
    doc = lite_index.passages[0].doc_id
    q = "human trafficking cooperation"
    got = lite_index.retrieve(q, k=5, doc_ids=[doc])
    assert got and {p.doc_id for p in got} == {doc}
    assert _top5(lite_index, q, doc_ids=[doc]) == _top5(embedded, q, doc_ids=[doc])
    dates = sorted({p.date for p in lite_index.passages if p.date})
    lo = hi = dates[len(dates) // 2]
    got = lite_index.retrieve(q, k=5, date_from=lo, date_to=hi)
    assert got and {p.date for p in got} == {lo}
    flt = SearchFilter(doc_ids=(doc,), date_from="2999-01-01")
    rows, _ = lite_index.store.dense_search(lite_index.embed_query(q), 5, flt)
    assert len(rows) == 0


def test_lite_reload_opens_the_collection(lite_index):
    from qa.embedding import FakeEncoder
    from qa.index import load_index

    again = load_index(lite_index.path, encoder=FakeEncoder())
    q = "small boats"
    assert again.store.kind == "milvus"
    assert _top5(again, q) == _top5(lite_index, q)


def test_lite_rebuild_drops_the_old_collection(tmp_path, corpus_for_milvus):
    from qa.embedding import FakeEncoder
    from qa.index import build_index
    from qa.store import current_version

    folder = tmp_path / "index"
    first = build_index(corpus_for_milvus, folder, encoder=FakeEncoder(), store="milvus")
    old = current_version(folder)[1]["store"]
    first.store.close()
    second = build_index(corpus_for_milvus, folder, encoder=FakeEncoder(), force=True)  # kept
    new = current_version(folder)[1]["store"]
    assert new["kind"] == "milvus" and new["collection"] != old["collection"]
    names = second.store.client.list_collections()
    assert new["collection"] in names and old["collection"] not in names


def test_missing_collection_is_a_clear_error(lite_index, tmp_path):
    from qa.errors import QAError
    from qa.milvus_store import MilvusStore

    with pytest.raises(QAError, match="has no collection 'qa_nope'.*qa index --store milvus"):
        MilvusStore.connect(str(tmp_path / "empty.db"), "qa_nope")


def test_lite_server_over_grpc(lite_server, embedded, corpus_for_milvus, tmp_path):
    from qa.embedding import FakeEncoder
    from qa.index import build_index

    uri, proc = lite_server
    idx = build_index(
        corpus_for_milvus, tmp_path / "index", encoder=FakeEncoder(), store="milvus",
        milvus_uri=uri,
    )  # fmt: skip
    assert idx.manifest["store"]["uri"] == uri
    assert _parity(idx, embedded) >= 0.95
    assert proc.poll() is None  # still serving


def test_standalone_milvus_235_dense_side(tmp_path, embedded):
    """The real server (PyPI ``milvus`` 2.3.5) predates BM25, so only dense search is checked.

    It binds every interface, so it runs in a private network namespace (``unshare -rn``)
    whose only interface is loopback; the check script stops it by its PID.
    """
    pytest.importorskip("milvus", reason="the PyPI package milvus (2.3.5 server) is not installed")
    if (
        shutil.which("unshare") is None
        or subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode
    ):
        pytest.skip("cannot make a private network namespace (unshare -rn) for the server")
    vecs = np.ascontiguousarray(embedded.vectors, dtype=np.float32)
    queries = embedded.encoder.encode(_questions()[:20])
    np.save(tmp_path / "v.npy", vecs)
    np.save(tmp_path / "q.npy", queries)
    doc_ids = [p.doc_id for p in embedded.passages]
    (tmp_path / "ids.json").write_text(json.dumps(doc_ids))
    script = Path(__file__).with_name("milvus_standalone_check.py")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    out = subprocess.run(
        ["unshare", "-rn", sys.executable, str(script), str(tmp_path / "data"),
         str(tmp_path / "v.npy"), str(tmp_path / "q.npy"), str(tmp_path / "ids.json")],
        capture_output=True, text=True, env=env, timeout=SERVER_START_S + 120,
    )  # fmt: skip
    if out.returncode == 77:
        pytest.skip(f"milvus 2.3.5 standalone did not start within {SERVER_START_S} s")
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    sims = queries @ vecs.T
    same = 0
    for q, rows in enumerate(got["top10"]):
        want = np.argsort(-sims[q], kind="stable")[:10]
        same += set(rows) == set(want.tolist())
    assert same >= 0.95 * len(queries)
    allowed = {i for i, d in enumerate(doc_ids) if d == doc_ids[0]}
    assert all(rows and set(rows) <= allowed for rows in got["filtered"])


@pytest.mark.integration
def test_real_model_parity_and_eval_figures(real_index, tmp_path):
    """The issue's bar on tests/data/dev.jsonl: the same top-5 for >= 95% of questions and
    the same `qa eval` figures within 0.01 (real model; both stores in one run)."""
    from qa.evaluation import evaluate
    from qa.index import build_index

    corpus = Path(real_index.manifest["corpus"]["dir"])
    lite = build_index(
        corpus, tmp_path / "index", encoder=real_index.encoder, store="milvus", force=True
    )
    assert _parity(lite, real_index) >= 0.95
    a = evaluate(DATA / "dev.jsonl", real_index).metrics
    b = evaluate(DATA / "dev.jsonl", lite).metrics
    numeric = [k for k, v in a.items() if isinstance(v, float) and not k.endswith("ms")]
    assert numeric, a
    for key in numeric:
        if "latency" in key or key.endswith("_s"):
            continue
        assert b[key] == pytest.approx(a[key], abs=0.01), key
