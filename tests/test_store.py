"""The store seam (qa.store_protocol) and candidate-only BM25 (qa.lexical.sparse/top)."""

from __future__ import annotations

import numpy as np

from qa.lexical import lookup, top_rows
from qa.store_protocol import EmbeddedStore, SearchFilter, SearchStore

QUERIES = (
    "Lương Tam Quang Yvette Cooper",
    "illegal migration small boats",
    "human trafficking victims returned to Vietnam",
    "memorandum of understanding signed in Hanoi",
    "zzzz unknownword",
)


def test_sparse_scores_equal_the_full_score_array(fake_index):
    lex = fake_index.lexical
    for q in QUERIES:
        full = lex.scores(q)
        rows, sc = lex.sparse(q)
        np.testing.assert_array_equal(rows, np.flatnonzero(full))
        np.testing.assert_array_equal(sc, full[rows])  # bit for bit: same float32 sums


def test_top_is_the_stable_sort_of_the_full_array(fake_index):
    lex = fake_index.lexical
    mask = np.zeros(lex.size, dtype=bool)
    mask[::3] = True
    for q in QUERIES:
        for n in (1, 5, 40, 10_000):
            for allowed in (None, mask):
                full = lex.scores(q)
                if allowed is not None:
                    full = np.where(allowed, full, 0.0)
                want = np.argsort(-full, kind="stable")[:n]
                want = want[full[want] > 0]
                rows, sc = lex.top(q, n, allowed)
                np.testing.assert_array_equal(rows, want)
                np.testing.assert_array_equal(sc, full[want].astype(np.float32))


def test_top_rows_breaks_ties_towards_the_lower_row():
    rows = np.array([2, 5, 7, 9, 11], dtype=np.int64)
    sc = np.array([1.0, 3.0, 1.0, 1.0, 0.0], dtype=np.float32)
    got_rows, got = top_rows(rows, sc, 3)
    assert got_rows.tolist() == [5, 2, 7]
    assert got.tolist() == [3.0, 1.0, 1.0]
    assert top_rows(rows, sc, 10)[0].tolist() == [5, 2, 7, 9]  # the zero score is dropped


def test_lookup_gives_zero_for_missing_rows():
    keys = np.array([1, 4, 8], dtype=np.int64)
    vals = np.array([0.5, 1.5, 2.5], dtype=np.float32)
    assert lookup(keys, vals, np.array([8, 0, 4, 9])).tolist() == [2.5, 0.0, 1.5, 0.0]
    assert lookup(keys[:0], vals[:0], np.array([1])).tolist() == [0.0]


def test_embedded_store_is_the_default_and_satisfies_the_protocol(fake_index):
    store = fake_index.store
    assert isinstance(store, EmbeddedStore) and isinstance(store, SearchStore)
    assert store.kind == "embedded"
    qvec = fake_index.embed_query("small boats crossing the Channel")
    rows, sims = store.dense_search(qvec, 5, None)
    want = np.argsort(-(fake_index.vectors @ qvec), kind="stable")[:5]
    assert sorted(rows.tolist()) == sorted(want.tolist())
    np.testing.assert_allclose(sims, (fake_index.vectors @ qvec)[rows], rtol=1e-5)
    assert [p.passage_id for p in store.passages([3, 1])] == [
        fake_index.passages[3].passage_id,
        fake_index.passages[1].passage_id,
    ]


def test_embedded_store_filters_inside_the_search(fake_index):
    doc = fake_index.passages[0].doc_id
    mask = np.array([p.doc_id == doc for p in fake_index.passages])
    flt = SearchFilter(doc_ids=(doc,), mask=mask)
    qvec = fake_index.embed_query("human trafficking")
    rows, _ = fake_index.store.dense_search(qvec, 10, flt)
    assert len(rows) == min(10, int(mask.sum())) and mask[rows].all()
    lrows, _ = fake_index.store.lexical_search("human trafficking", 10, flt)
    assert len(lrows) > 0 and mask[lrows].all()


def test_write_checked_and_is_intact(tmp_path):
    from qa.onnx_encoder import SUM_SUFFIX, is_intact, write_checked

    target = tmp_path / "m.onnx"
    tmp = tmp_path / ".m.onnx.tmp"
    tmp.write_bytes(b"weights")
    assert not is_intact(target)
    write_checked(target, str(tmp))
    assert not tmp.exists() and target.read_bytes() == b"weights"
    assert is_intact(target)
    (target.with_name(target.name + SUM_SUFFIX)).unlink()
    assert not is_intact(target)  # no sidecar: not trusted


def test_scores_at_equals_the_full_array(fake_index):
    lex = fake_index.lexical
    rows = np.array([0, 5, 7, lex.size - 1, 3, 5], dtype=np.int64)
    for q in QUERIES:
        np.testing.assert_array_equal(lex.scores_at(q, rows), lex.scores(q)[rows])


def test_sparse_scratch_buffers_are_per_thread(fake_index):
    from concurrent.futures import ThreadPoolExecutor

    want = {q: fake_index.lexical.sparse(q) for q in QUERIES}
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(fake_index.lexical.sparse, list(QUERIES) * 25))
    for q, (rows, sc) in zip(list(QUERIES) * 25, got):
        np.testing.assert_array_equal(rows, want[q][0])
        np.testing.assert_array_equal(sc, want[q][1])


def test_numba_top_equals_numpy_top(fake_index, monkeypatch):
    import qa.lexical as lexical

    if lexical._numba_accumulate() is None:
        import pytest

        pytest.skip("numba is not installed (the fast extra)")
    lex = fake_index.lexical
    mask = np.zeros(lex.size, dtype=bool)
    mask[1::2] = True
    want = {
        (q, n, m is None): lex.top(q, n, m)
        for q in QUERIES
        for n in (1, 5, 40)
        for m in (None, mask)
    }
    monkeypatch.setattr(lexical, "NUMBA_MIN_DOCS", 0)  # the numba path on this small index
    for (q, n, nomask), (rows, sc) in want.items():
        got_rows, got = lex.top(q, n, None if nomask else mask)
        np.testing.assert_array_equal(got_rows, rows)
        np.testing.assert_array_equal(got, sc)
    assert not lex._scratch().any()  # the scratch buffer is left zeroed
