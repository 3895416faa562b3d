"""The build steps of qa.build, one at a time, with the fake encoder and tmp paths."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from qa.build import (
    BuildSettings,
    chosen_store,
    embed,
    ingest,
    make_summary,
    stale_reason,
    unchanged,
)
from qa.chunking import ChunkSettings
from qa.documents import Skipped, iter_documents
from qa.embedding import FakeEncoder, backend_from_model_id, encoder_backend
from qa.errors import QAError
from qa.fileio import file_sha256
from qa.fusion import FusionSettings
from qa.index import load_index
from qa.store import MANIFEST, current_version


def test_ingest_counts_documents_passages_and_sentences(corpus_copy):
    ing = ingest(corpus_copy, ChunkSettings())
    assert (len(ing.documents), len(ing.passages), len(ing.sentences)) == (5, 40, 65)
    assert ing.offsets[0] == 0 and ing.offsets[-1] == 65 and len(ing.offsets) == 41
    assert ing.dropped == {
        "byline": 5, "caption": 5, "dateline": 5, "duplicate": 7, "image": 3, "title": 5,
    }  # fmt: skip
    assert (ing.skipped, ing.warnings) == ([], [])


def test_embed_derives_passage_vectors_and_reuses_a_cache(corpus_copy):
    ing = ingest(corpus_copy, ChunkSettings())
    enc = FakeEncoder()
    first = embed(ing, enc, BuildSettings(), {})
    assert (first.embedded, first.reused, enc.calls) == (70, 0, 70)
    assert first.vectors.shape == (40, 64) and first.vector_keys == []
    cache = dict(zip(first.sentence_keys + first.title_keys,
                     list(first.sentence_vectors) + list(first.title_vectors)))  # fmt: skip
    again = embed(ing, enc, BuildSettings(), cache)
    assert (again.embedded, again.reused, enc.calls) == (0, 70, 70)
    assert (again.vectors == first.vectors).all()


def test_summary_of_the_steps_matches_the_build(corpus_copy, fake_index):
    ing = ingest(corpus_copy, ChunkSettings())
    vecs = embed(ing, FakeEncoder(), BuildSettings(), {})
    structure = fake_index.structure
    assert replace(make_summary(ing, vecs, 1.0, structure), seconds=0) == replace(
        fake_index.summary, seconds=0
    )


def test_build_settings_key_matches_what_the_manifest_records(fake_index):
    settings = BuildSettings()
    assert BuildSettings.recorded_key(fake_index.manifest, with_factory=False) == settings.key(
        "fake-hash-64"
    )
    assert BuildSettings.from_manifest(fake_index.manifest) == settings
    changed = BuildSettings(fusion=FusionSettings(w_document=0.0))
    assert BuildSettings.recorded_key(fake_index.manifest, False) != changed.key("fake-hash-64")


def test_build_settings_refuse_an_unknown_vector_mode():
    with pytest.raises(QAError, match=r"Unknown passage_vectors 'mean'.*derived, encoded"):
        BuildSettings(passage_vectors="mean")


def test_build_settings_carry_the_store(fake_index, tmp_path):
    assert fake_index.manifest["store"] == {"kind": "embedded"}
    with pytest.raises(QAError, match=r"Unknown store 'opensearch'.*embedded, milvus"):
        BuildSettings(store="opensearch")
    with pytest.raises(QAError, match=r"Milvus URI \('x.db'\) was given for the embedded store"):
        BuildSettings(milvus_uri="x.db")
    lite = BuildSettings(store="milvus").for_index(tmp_path / "idx")
    assert lite.milvus_uri == str((tmp_path / "idx" / "milvus-lite.db").resolve())
    assert lite.key("m")["store"] == f"milvus:{lite.milvus_uri}"
    server = BuildSettings(store="milvus", milvus_uri="http://127.0.0.1:19530")
    assert server.for_index(tmp_path).milvus_uri == "http://127.0.0.1:19530"
    record = {"kind": "milvus", "uri": "http://h:19530", "collection": "qa_v_1", "rows": 40}
    manifest = dict(fake_index.manifest, store=record)
    assert BuildSettings.from_manifest(manifest) == BuildSettings(
        store="milvus", milvus_uri="http://h:19530"
    )
    assert BuildSettings.recorded_key(manifest, False)["store"] == "milvus:http://h:19530"
    old = {k: v for k, v in fake_index.manifest.items() if k != "store"}  # before the seam
    assert BuildSettings.recorded_key(old, False)["store"] == "embedded"


def test_a_build_without_a_store_keeps_the_current_one(fake_index, tmp_path):
    kept = {"store": "embedded", "milvus_uri": None}
    assert chosen_store(fake_index.path, None, None) == kept
    assert chosen_store(tmp_path / "new", None, None) == kept
    assert chosen_store(fake_index.path, None, "x.db") == {"store": "milvus", "milvus_uri": "x.db"}
    assert chosen_store(fake_index.path, "milvus", None) == {"store": "milvus", "milvus_uri": None}


def test_unchanged_and_stale_reason(fake_index, corpus_copy):
    assert unchanged(fake_index.path, corpus_copy, BuildSettings(), "fake-hash-64") is not None
    assert unchanged(fake_index.path, corpus_copy, BuildSettings(), "other") is None
    m = fake_index.manifest
    assert stale_reason(m, corpus_copy) == ""
    assert stale_reason(m, corpus_copy, "other") == "model changed (fake-hash-64 -> other)"
    (corpus_copy / "new.txt").write_text("A new article\n\nIt says something new.\n", "utf-8")
    assert stale_reason(m, corpus_copy) == "corpus files changed (added ['new.txt'], removed [])"
    assert stale_reason(m, corpus_copy.parent / "gone") == ""


def test_backend_is_recorded_and_old_manifests_fall_back_to_the_model_id(fake_index):
    assert fake_index.manifest["model"]["backend"] == "fake"
    assert [backend_from_model_id(m) for m in ("x+onnx-int8", "x+onnx", "fake-1", "x")] == [
        "onnx-int8", "onnx", "fake", "torch",
    ]  # fmt: skip

    class Bare:  # an encoder that does not say its backend
        model_id = "fake-bare"
        dim = 64

    assert encoder_backend(Bare()) == "fake"
    # A manifest written before the field existed: drop it, re-sign, and load without an encoder.
    folder, _ = current_version(fake_index.path)
    manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    del manifest["model"]["backend"]
    (folder / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    cur = json.loads((fake_index.path / "CURRENT").read_text("utf-8"))
    cur["manifest_sha256"] = file_sha256(folder / MANIFEST)
    (fake_index.path / "CURRENT").write_text(json.dumps(cur), "utf-8")
    assert "backend" not in current_version(fake_index.path)[1]["model"]
    assert load_index(fake_index.path).encoder.model_id == "fake-hash-64"


def test_warnings_are_typed_not_prefixed(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "latin.txt").write_bytes(
        "Caf\xe9 news\n\nThe caf\xe9 opened today.\n".encode("cp1252")
    )
    items = [i for i in iter_documents(corpus) if isinstance(i, Skipped)]
    assert [(i.path, i.kind, i.is_warning) for i in items] == [("latin.txt", "warning", True)]
    assert not items[0].reason.startswith("warning")
