"""Loading and cleaning: every noise kind in the seeds, metadata, HTML, offsets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.chunking import ChunkSettings, chunk_document, split_sentences
from qa.documents import clean, html_to_text, load_corpus, parse_dateline, split_paragraphs
from qa.errors import CorpusError
from qa.types import DocMeta

from .conftest import CORPUS


@pytest.fixture(scope="module")
def docs():
    return {d.doc_id: d for d in load_corpus(CORPUS).documents}


def dropped(doc, reason):
    return [d.text for d in doc.dropped if d.reason == reason]


def test_seed_000_duplicate_article_image_caption_byline_dateline(docs):
    doc = docs["000_fb84059b2aa56672.txt"]
    assert len(doc.paragraphs) == 7
    assert dropped(doc, "image") == ["Img 8915", "Img 8915"]
    assert (
        dropped(doc, "caption")
        == ["Minister To Lam has a phone call with British Home Affairs Minister James Cleverly."]
        * 2
    )
    assert dropped(doc, "byline") == ["Hoang Thanh", "Hoang Thanh"]
    assert dropped(doc, "dateline") == ["09:25 - 30/05/2024", "09:25 - 30/05/2024"]
    assert len(dropped(doc, "duplicate")) == 7  # the whole second copy of the article
    assert len(dropped(doc, "title")) == 2
    texts = [p.text for p in doc.paragraphs]
    assert len(set(texts)) == 7
    assert texts[0].startswith("On the afternoon of April 15, 2024, in Hanoi, General To Lam")


def test_seed_001_caption_dateline_prefix_and_signature(docs):
    doc = docs["001_725ecd0f546f87bb.txt"]
    assert dropped(doc, "caption")[0].startswith("Minister of Public Security Sen. Lieut. Gen.")
    assert dropped(doc, "dateline") == ["HÀ NỘI — "]
    assert dropped(doc, "byline") == [" — VNS"]
    assert doc.paragraphs[0].text.startswith("The Vietnamese Ministry of Public Security (MPS)")
    assert doc.paragraphs[-1].text.endswith("and money laundering.")
    # No headline: the title is the lead sentence, marked as inferred.
    assert doc.meta.title_inferred is True
    assert doc.meta.title.startswith("The Vietnamese Ministry of Public Security (MPS) supports")


def test_seed_002_outlet_prefix(docs):
    doc = docs["002_0e3753c4b3636534.txt"]
    assert dropped(doc, "dateline") == ["VOV.VN - "]
    assert doc.paragraphs[0].text.startswith("Vietnam and the UK have reaffirmed")
    assert len(doc.paragraphs) == 14


def test_seed_003_picture_placeholder_and_signature(docs):
    doc = docs["003_54951c10dc3a2d65.txt"]
    assert dropped(doc, "image") == [
        "vietnam, uk promote cooperation in human trafficking prevention and control picture 1"
    ]
    assert dropped(doc, "byline") == ["VOV"]
    assert dropped(doc, "dateline") == ["Thứ Ba, 16/08/2022, 23:41"]
    # The paragraph after the placeholder is body text (a blank line apart), not a caption.
    assert doc.paragraphs[1].text.startswith("Deputy Minister Chien congratulated his guest")


def test_seed_004_repeated_caption(docs):
    doc = docs["004_3d375005956adc1b.txt"]
    captions = dropped(doc, "caption")
    assert len(captions) == 2 and captions[0] == captions[1]
    assert captions[0].endswith("(Photo: VNA)")
    assert dropped(doc, "byline") == ["VNA"]
    assert len(doc.paragraphs) == 13


def test_metadata_from_sidecar(docs):
    meta = docs["001_725ecd0f546f87bb.txt"].meta
    assert (meta.source, meta.date, meta.date_inferred) == (
        "VNS (Viet Nam News)",
        "2024-10-10",
        True,
    )
    assert meta.date_label == "2024-10-10 (inferred)"
    meta3 = docs["003_54951c10dc3a2d65.txt"].meta
    assert (meta3.date, meta3.date_inferred, meta3.date_label) == (
        "2022-08-16",
        False,
        "2022-08-16",
    )


def test_offsets_point_into_the_original_file(docs):
    for doc in docs.values():
        original = (CORPUS / doc.doc_id).read_text(encoding="utf-8")
        for p in doc.paragraphs:
            assert original[p.start : p.end] == p.text


def test_metadata_inferred_from_text_when_no_sidecar(tmp_path: Path):
    (tmp_path / "a.txt").write_text(
        "A headline about cooperation\n\n09:25 - 30/05/2024\n\nThe first paragraph says a thing."
        "\n\nThe second paragraph says more.\n\nVNA",
        encoding="utf-8",
    )
    (doc,) = load_corpus(tmp_path).documents
    assert doc.meta.title == "A headline about cooperation"
    assert (doc.meta.date, doc.meta.date_inferred) == ("2024-05-30", False)
    assert doc.meta.source == "VNA"
    assert [p.text for p in doc.paragraphs] == [
        "The first paragraph says a thing.",
        "The second paragraph says more.",
    ]


def test_near_duplicate_paragraph_dropped():
    text = (
        "Title line of the story here\n\n"
        "The two ministers agreed to strengthen cooperation against human trafficking today.\n\n"
        "The two ministers agreed to strengthen cooperation against human trafficking today!\n\n"
        "Something else entirely is said here."
    )
    doc = clean("x.txt", text, DocMeta())
    assert [d.reason for d in doc.dropped] == ["title", "near-duplicate"]
    assert len(doc.paragraphs) == 2


def test_nfc_normalisation():
    nfd = "Lu\u031bo\u031b\u0300ng Tam Quang met the minister today in Hanoi."
    doc = clean("x.txt", f"{nfd}\n\nSecond paragraph here.", DocMeta(title="T"))
    assert doc.paragraphs[0].text.startswith("Lường Tam Quang")


def test_html_uses_a_parser_and_drops_script(tmp_path: Path):
    (tmp_path / "page.html").write_text(
        "<html><head><title>Page title</title><script>var x = '<p>no</p>';</script></head>"
        "<body><p>First &amp; only <b>paragraph</b>.</p><style>p{}</style><p>Second.</p></body>"
        "</html>",
        encoding="utf-8",
    )
    (doc,) = load_corpus(tmp_path).documents
    assert doc.meta.title == "Page title"
    assert [p.text for p in doc.paragraphs] == ["First & only paragraph.", "Second."]
    assert html_to_text("<script>no</script><p>yes</p>") == ("", "yes")


def test_soft_wrapped_lines_join_into_one_paragraph():
    text = "This sentence is wrapped\nacross two lines.\nA new paragraph starts here."
    spans = split_paragraphs(text)
    assert [text[s:e] for s, e in spans] == [
        "This sentence is wrapped\nacross two lines.",
        "A new paragraph starts here.",
    ]


def test_dateline_parser():
    assert parse_dateline("09:25 - 30/05/2024") == "2024-05-30"
    assert parse_dateline("Thứ Ba, 16/08/2022, 23:41") == "2022-08-16"
    assert parse_dateline("On 30/05/2024 the ministers met in Hanoi to talk.") == ""


def test_sentence_splitter_keeps_abbreviations():
    text = "Minister Sen. Lieut. Gen. Lương Tam Quang spoke. Quang added more. U.K. ties grew."
    assert [s for _, _, s in split_sentences(text)] == [
        "Minister Sen. Lieut. Gen. Lương Tam Quang spoke.",
        "Quang added more.",
        "U.K. ties grew.",
    ]


def test_chunks_merge_short_and_split_long(docs):
    settings = ChunkSettings(min_chars=200, max_chars=900, window_chars=600)
    doc = docs["003_54951c10dc3a2d65.txt"]
    passages = chunk_document(doc, settings)
    # Paragraph 1 (160 chars) is short: it merges with paragraph 2.
    assert (passages[0].paragraph, passages[0].paragraph_end) == (1, 2)
    assert all(len(p.text) <= 900 for p in passages)
    long_doc = clean(
        "l.txt", "T\n\n" + " ".join(["This is a sentence of words."] * 60), DocMeta(title="T")
    )
    windows = chunk_document(long_doc, settings)
    assert len(windows) == 3
    assert all(w.paragraph == 1 and w.text.endswith("words.") for w in windows)


def test_missing_and_empty_corpus(tmp_path: Path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")
    with pytest.raises(CorpusError, match="no readable"):
        load_corpus(tmp_path)


def test_bad_files_skipped_rest_loaded(tmp_path: Path):
    (tmp_path / "good.txt").write_text("Good title here\n\nA real paragraph of text.", "utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin.txt").write_bytes(
        "Caf\xe9 title here\n\nNa\xefve text paragraph.".encode("latin-1")
    )
    result = load_corpus(tmp_path)
    assert sorted(d.doc_id for d in result.documents) == ["good.txt", "latin.txt"]
    assert sorted((s.path, s.reason) for s in result.skipped) == [
        ("bin.txt", "binary file (contains NUL bytes)"),
        ("empty.txt", "empty file"),
    ]
    assert result.warnings == ("latin.txt: not valid UTF-8; read as Windows-1252/Latin-1",)


def test_metadata_file_errors(tmp_path: Path):
    (tmp_path / "a.txt").write_text("Title words here\n\nBody.", "utf-8")
    (tmp_path / "metadata.json").write_text("{not json", "utf-8")
    with pytest.raises(CorpusError, match="metadata.json is not valid JSON"):
        load_corpus(tmp_path)
    (tmp_path / "metadata.json").write_text(json.dumps({"files": []}), "utf-8")
    with pytest.raises(CorpusError, match="must hold"):
        load_corpus(tmp_path)
