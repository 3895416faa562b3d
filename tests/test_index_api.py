"""The index through the Python API, with the fake encoder: build, load, search, staleness."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import qa
from qa.embedding import FakeEncoder
from qa.errors import IndexCorruptError, IndexUnavailableError, QAError
from qa.index import MAX_QUESTION_CHARS, build_index, load_index, open_index

LE_QUOC_HUNG_DOC = "004_3d375005956adc1b.txt"


def test_build_summary_counts(fake_index):
    s = fake_index.summary
    assert (s.documents, s.paragraphs, s.chunks) == (5, 54, 40)
    assert s.dropped == {
        "byline": 5, "caption": 5, "dateline": 5, "duplicate": 7, "image": 3, "title": 5,
    }  # fmt: skip
    # Derived passage vectors: only the sentences and the five titles go through the model.
    assert (s.sentences, s.embedded, s.reused) == (65, 70, 0)


def test_passage_vectors_are_derived_from_sentences_and_title(fake_index, fake_encoder):
    import numpy as np

    p = fake_index.passages[3]
    sents = [t for _, _, t in qa.chunking.passage_sentences(p)]
    raw = fake_encoder.encode(sents).sum(axis=0) + 0.5 * fake_encoder.encode([p.title])[0]
    np.testing.assert_allclose(fake_index.vectors[3], raw / np.linalg.norm(raw), atol=1e-6)
    assert fake_index.manifest["passage_vectors"] == "derived"


def test_encoded_passage_vectors_run_the_model_on_each_passage(corpus_copy, tmp_path):
    import numpy as np

    enc = FakeEncoder()
    idx = build_index(corpus_copy, tmp_path / "enc", encoder=enc, passage_vectors="encoded")
    assert (idx.summary.embedded, enc.calls) == (40 + 65, 105)  # no title vectors needed
    p = idx.passages[3]
    np.testing.assert_allclose(
        idx.vectors[3], FakeEncoder().encode([f"{p.title}. {p.text}"])[0], atol=1e-6
    )
    assert idx.manifest["passage_vectors"] == "encoded"


def test_unknown_passage_vector_mode_is_refused(corpus_copy, tmp_path):
    with pytest.raises(QAError, match=r"Unknown passage_vectors 'mean'.*derived, encoded"):
        build_index(corpus_copy, tmp_path / "x", encoder=FakeEncoder(), passage_vectors="mean")
    assert not (tmp_path / "x").exists()


def test_manifest_records_model_settings_hashes_and_checksums(fake_index):
    m = fake_index.manifest
    assert m["model"] == {"id": "fake-hash-64", "dim": 64, "backend": "fake"}
    assert m["chunking"] == {"min_chars": 200, "max_chars": 900, "window_chars": 600}
    assert sorted(m["corpus"]["files"]) == sorted(
        [p.name for p in Path(m["corpus"]["dir"]).iterdir()]
    )
    assert all(len(f["sha256"]) == 64 for f in m["corpus"]["files"].values())
    assert set(m["files"]) >= {"dense.faiss", "passages.jsonl", "vectors.npy", "documents.jsonl"}
    assert m["counts"]["passages"] == 40
    assert m["faiss"] == {"factory": "Flat", "metric": "inner_product"}


def test_no_pickle_files(fake_index):
    names = [p.name for p in Path(fake_index.path).rglob("*") if p.is_file()]
    assert not [n for n in names if n.endswith((".pkl", ".pickle"))]


def test_retrieve_returns_sources_and_scores(fake_index):
    results = fake_index.retrieve("National Crime Agency Rob Jones", k=3)
    assert len(results) == 3
    top = results[0]
    assert top.doc_id == LE_QUOC_HUNG_DOC
    assert "Rob Jones" in top.text
    assert (top.source, top.date, top.date_inferred) == ("VNA", "2023-09-16", True)
    assert top.title == "Vietnam, UK enhance cooperation in law enforcement"
    assert top.paragraph == 10
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    assert set(top.scores) == {"dense", "sentence", "bm25"}


def test_diacritics_and_case_do_not_matter_lexically(fake_index):
    a = fake_index.retrieve("Lương Tam Quang Yvette Cooper", k=5)
    b = fake_index.retrieve("LUONG TAM QUANG YVETTE COOPER", k=5)
    assert [p.passage_id for p in a] == [p.passage_id for p in b]
    lex = fake_index.lexical
    import numpy as np

    np.testing.assert_array_equal(lex.scores("Lương"), lex.scores("LUONG"))
    hits = {fake_index.passages[i].doc_id for i in np.flatnonzero(lex.scores("luong"))}
    # 001 spells it "Lương", 002 "Luong": both match the unaccented query.
    assert hits == {"001_725ecd0f546f87bb.txt", "002_0e3753c4b3636534.txt"}


def test_results_never_repeat_text(fake_index):
    results = fake_index.retrieve("To Lam James Cleverly phone call", k=40)
    texts = [p.text for p in results]
    assert len(texts) == len(set(texts))


def test_filters_are_pushed_down(fake_index):
    res = fake_index.retrieve("cooperation", k=5, doc_ids=[LE_QUOC_HUNG_DOC])
    assert len(res) == 5 and {p.doc_id for p in res} == {LE_QUOC_HUNG_DOC}
    res = fake_index.retrieve("cooperation", k=50, date_from="2024-01-01", date_to="2024-12-31")
    assert {p.date for p in res} == {"2024-05-30", "2024-10-10"}
    assert fake_index.retrieve("cooperation", k=5, doc_ids=[]) == []


@pytest.mark.parametrize("bad", ["", "   ", "\x00\x01\n\t"])
def test_empty_question_is_value_error(fake_index, bad):
    with pytest.raises(ValueError, match="The question is empty"):
        fake_index.retrieve(bad)


def test_huge_question_rejected_with_limit(fake_index):
    with pytest.raises(ValueError, match=f"limit is {MAX_QUESTION_CHARS:,}"):
        fake_index.retrieve("a" * 100_000)


def test_load_gives_the_same_results(fake_index, fake_encoder):
    again = load_index(fake_index.path, encoder=fake_encoder)
    q = "joint statement migration dialogue"
    assert [p.passage_id for p in again.retrieve(q)] == [
        p.passage_id for p in fake_index.retrieve(q)
    ]


def _version(index_dir) -> str:
    return json.loads((Path(index_dir) / "CURRENT").read_text("utf-8"))["version"]


def test_unchanged_rebuild_keeps_the_current_version(fake_index, corpus_copy):
    before = _version(fake_index.path)
    enc = FakeEncoder()
    again = build_index(corpus_copy, fake_index.path, encoder=enc)
    assert enc.calls == 0 and _version(fake_index.path) == before
    s = again.summary
    assert (s.rebuilt, s.embedded, s.reused, s.documents, s.chunks) == (False, 0, 70, 5, 40)
    assert s.lines()[0].startswith("unchanged: the corpus and settings match")
    assert [p.passage_id for p in again.passages] == [p.passage_id for p in fake_index.passages]


def test_touched_but_identical_files_keep_the_current_version(fake_index, corpus_copy):
    before = _version(fake_index.path)
    for f in corpus_copy.iterdir():
        os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    again = build_index(corpus_copy, fake_index.path, encoder=FakeEncoder())
    assert not again.summary.rebuilt and _version(fake_index.path) == before


def test_forced_rebuild_writes_a_new_version_and_reuses_every_vector(fake_index, corpus_copy):
    before = _version(fake_index.path)
    enc = FakeEncoder()
    again = build_index(corpus_copy, fake_index.path, encoder=enc, force=True)
    assert enc.calls == 0 and _version(fake_index.path) != before
    assert (again.summary.rebuilt, again.summary.embedded, again.summary.reused) == (True, 0, 70)


@pytest.mark.parametrize(
    "change",
    ["edit", "settings", "pipeline"],
)
def test_a_changed_file_setting_or_pipeline_is_rebuilt(
    fake_index, corpus_copy, change, monkeypatch
):
    before = _version(fake_index.path)
    kwargs = {}
    if change == "edit":
        (corpus_copy / "metadata.json").write_text(
            (corpus_copy / "metadata.json").read_text("utf-8") + "\n", "utf-8"
        )
    elif change == "settings":
        kwargs["embed_title"] = False
    else:
        monkeypatch.setattr("qa.build.PIPELINE_VERSION", 999)
    again = build_index(corpus_copy, fake_index.path, encoder=FakeEncoder(), **kwargs)
    assert again.summary.rebuilt and _version(fake_index.path) != before


def test_adding_a_document_embeds_only_it(fake_index, corpus_copy):
    (corpus_copy / "new.txt").write_text(
        "A new report on cooperation\n\nThe ministers met again in London.", "utf-8"
    )
    enc = FakeEncoder()
    again = build_index(corpus_copy, fake_index.path, encoder=enc)
    assert again.summary.documents == 6
    assert enc.calls == 2  # its title and its one sentence: nothing else re-embedded


def test_stale_index_rebuilt_automatically(fake_index, corpus_copy, fake_encoder):
    assert open_index(corpus_copy, fake_index.path, encoder=fake_encoder).summary is None
    (corpus_copy / "new.txt").write_text(
        "Fresh title of a report\n\nExtradition talks resumed.", "utf-8"
    )
    rebuilt = open_index(corpus_copy, fake_index.path, encoder=fake_encoder)
    assert rebuilt.summary is not None and rebuilt.summary.documents == 6
    assert rebuilt.retrieve("Extradition talks resumed", k=1)[0].doc_id == "new.txt"


def test_touch_without_change_is_not_stale(fake_index, corpus_copy, fake_encoder):
    f = corpus_copy / LE_QUOC_HUNG_DOC
    os.utime(f, (1, 1))
    assert fake_index.stale_reason(corpus_copy) == ""
    f.write_text(f.read_text("utf-8") + "\n\nOne more paragraph.", "utf-8")
    assert fake_index.stale_reason(corpus_copy) == f"{LE_QUOC_HUNG_DOC} changed"


def test_model_change_makes_index_stale(fake_index, corpus_copy):
    other = FakeEncoder(dim=32, model_id="fake-hash-32")
    rebuilt = open_index(corpus_copy, fake_index.path, encoder=other)
    assert rebuilt.model_id == "fake-hash-32" and rebuilt.summary is not None


def test_damaged_faiss_detected_before_reading(fake_index, monkeypatch):
    folder = next(p for p in Path(fake_index.path).iterdir() if p.name.startswith("v-"))
    (folder / "dense.faiss").write_bytes(b"\x00" * 100)
    import faiss

    def boom(*a, **k):
        raise AssertionError("FAISS must not read a file that failed its checksum")

    monkeypatch.setattr(faiss, "read_index", boom)
    with pytest.raises(IndexCorruptError, match=r"dense\.faiss fails its checksum.*qa index"):
        load_index(fake_index.path, encoder=FakeEncoder())


def test_missing_index_is_qaerror(tmp_path):
    with pytest.raises(IndexUnavailableError, match="No index at"):
        load_index(tmp_path / "none", encoder=FakeEncoder())


def test_damaged_current_pointer(fake_index):
    (Path(fake_index.path) / "CURRENT").write_text("{", "utf-8")
    with pytest.raises(IndexCorruptError, match="CURRENT is damaged"):
        load_index(fake_index.path, encoder=FakeEncoder())


def test_default_api_uses_env_paths(corpus_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_CORPUS", str(corpus_copy))
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "default-index"))
    monkeypatch.setenv("QA_BACKEND", "fake")
    monkeypatch.setattr("qa.embedding.DEFAULT_BACKEND", "fake")
    monkeypatch.setattr("qa.opening._default", None)
    results = qa.retrieve("Simon Ridley Second Permanent Secretary", k=2)
    assert len(results) == 2 and results[0].doc_id == "002_0e3753c4b3636534.txt"
    with pytest.raises(ValueError):
        qa.retrieve("  ")
    assert (tmp_path / "default-index" / "CURRENT").exists()


def test_public_api_names():
    assert set(qa.__all__) >= {"build_index", "load_index", "retrieve", "answer", "evaluate"}
    assert issubclass(qa.CorpusError, QAError)


def test_passage_round_trips_through_json(fake_index):
    p = fake_index.passages[3]
    assert qa.Passage.from_dict(json.loads(json.dumps(p.to_dict()))) == p


def test_build_over_missing_corpus_keeps_old_index(fake_index, tmp_path):
    with pytest.raises(qa.CorpusError, match="does not exist"):
        build_index(tmp_path / "missing", fake_index.path, encoder=FakeEncoder())
    assert len(load_index(fake_index.path, encoder=FakeEncoder())) == 40


def test_index_folder_can_be_moved(fake_index, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(fake_index.path, moved)
    assert len(load_index(moved, encoder=FakeEncoder())) == 40


def test_onnx_export_is_shared_by_every_index_unless_qa_model_cache_says(tmp_path, monkeypatch):
    from qa.embedding import get_encoder
    from qa.onnx_encoder import default_cache_dir

    monkeypatch.delenv("QA_BACKEND", raising=False)
    monkeypatch.delenv("QA_MODEL_CACHE", raising=False)
    shared = get_encoder()  # constructing exports nothing
    assert (shared.model_id, shared.cache_dir) == (
        "all-MiniLM-L6-v2+onnx-int8",
        default_cache_dir(),
    )
    here = get_encoder(cache_dir=tmp_path / "elsewhere")  # an explicit folder is still honoured
    assert here.cache_dir == tmp_path / "elsewhere" and not here.cache_dir.exists()
    monkeypatch.setenv("QA_MODEL_CACHE", str(tmp_path / "shared"))
    assert get_encoder(cache_dir=tmp_path / "elsewhere").cache_dir == tmp_path / "shared"
    monkeypatch.setenv("QA_BACKEND", "onnx")
    assert get_encoder().model_id == "all-MiniLM-L6-v2+onnx"


def test_derived_tables_are_cached_properties_computed_once(fake_index):
    assert fake_index.idf is fake_index.idf
    assert fake_index.row_by_id is fake_index.row_by_id
    assert fake_index.row_by_id[fake_index.passages[7].passage_id] == 7
    assert len(fake_index.idf) == len(
        {t for p in fake_index.passages for t in qa.lexical.tokenize(p.text)}
    )
