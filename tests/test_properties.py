"""Property tests: the text pipeline never crashes on any Unicode, passages map back to the
exact characters of the source file, and chunking never loses or duplicates a sentence."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.chunking import ChunkSettings, chunk_document, passage_sentences, split_sentences
from qa.documents import clean, html_to_text, split_paragraphs
from qa.index import MAX_QUESTION_CHARS, QuestionError, check_question
from qa.lexical import fold, tokenize, words
from qa.types import DocMeta

PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- never crash on any text --------------------------------------------------------------------


@PROPS
@given(st.text())
def test_fold_never_crashes_and_strips_every_mark(text):
    out = fold(text)
    assert not any(unicodedata.combining(ch) for ch in out)
    assert fold(out) == out  # a folded query and a folded passage agree


@PROPS
@given(st.text())
def test_tokenize_never_crashes(text):
    for token in tokenize(text):
        assert re.fullmatch(r"[a-z0-9]+", token), token
    for word in words(text):
        assert re.fullmatch(r"[a-z0-9]+", word), word


@PROPS
@given(st.text())
def test_split_sentences_covers_the_text(text):
    sentences = split_sentences(text)
    prev = 0
    for s, e, sent in sentences:
        assert text[s:e] == sent and s < e
        assert not text[prev:s].strip()  # only white space falls between sentences
        prev = e
    assert not text[prev:].strip()


@PROPS
@given(st.text())
def test_clean_keeps_exact_offsets(text):
    doc = clean("doc.txt", text, DocMeta())
    assert [p.number for p in doc.paragraphs] == list(range(1, len(doc.paragraphs) + 1))
    for p in doc.paragraphs:
        assert p.text == unicodedata.normalize("NFC", text[p.start : p.end])
        assert p.text and p.text == p.text.strip()
    for d in doc.dropped:
        assert 0 <= d.start <= d.end <= len(text)
    for s, e in split_paragraphs(text):
        assert text[s:e] == text[s:e].strip() and s < e


@PROPS
@given(st.text())
def test_chunk_document_never_crashes(text):
    doc = clean("doc.txt", text, DocMeta())
    passages = chunk_document(doc, ChunkSettings(min_chars=20, max_chars=60, window_chars=40))
    assert len({p.passage_id for p in passages}) == len(passages)


@PROPS
@given(st.text())
def test_html_to_text_never_crashes(text):
    for page in (text, f"<html><title>{text}</title><p>{text}</p></html>"):
        out = html_to_text(page)
        # Returns the text, or (title, text) in newer versions: either way, only strings.
        assert all(isinstance(x, str) for x in (out if isinstance(out, tuple) else (out,)))


@PROPS
@given(st.text(max_size=3000))
def test_check_question_accepts_or_rejects_cleanly(text):
    try:
        q = check_question(text)
    except QuestionError as exc:
        assert isinstance(exc, ValueError) and str(exc)
        return
    assert q and len(q) <= MAX_QUESTION_CHARS
    assert unicodedata.is_normalized("NFC", q)
    assert not any(unicodedata.category(ch).startswith("C") for ch in q)
    assert check_question(q) == q


# --- passages map back to the source ------------------------------------------------------------

# Letters a Vietnamese or English article uses, plus the punctuation that drives splitting.
_LETTERS = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    + list("ăâđêôơưĂÂĐÊÔƠƯáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")
    + list("ÁÀẢÃẠÉÈÓÒÚÙÍÌÝỲ—–-'\"“”‘’(),;:%$€£/&")
)
_WORD = st.text(_LETTERS, min_size=1, max_size=12)
_ABBREV = st.sampled_from(["Mr.", "Dr.", "Gen.", "Lt.", "U.S.", "e.g.", "No.", "A."])
_END = st.sampled_from([".", "!", "?", "…", ".”", '?"', ".)", "..."])
_GAP = st.sampled_from([" ", " ", " ", "  ", "\t", " \u00a0", "\u2003"])  # between sentences


@st.composite
def sentences(draw) -> str:
    ws = draw(st.lists(st.one_of(_WORD, _ABBREV), min_size=1, max_size=14))
    return " ".join(ws) + draw(_END)


@st.composite
def paragraphs(draw) -> str:
    # Either generated sentences (long enough to need sentence windows) or free text.
    if draw(st.booleans()):
        sents = draw(st.lists(sentences(), min_size=1, max_size=30))
        text = sents[0]
        for s in sents[1:]:
            text += draw(_GAP) + s
        return text
    blocked = set("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
    # No line breaks (they would make more paragraphs) and no lone surrogates (UTF-8
    # decoding of a file can never produce one).
    chars = st.characters(blacklist_characters=list(blocked), blacklist_categories=("Cs",))
    free = st.text(chars, min_size=1, max_size=200)
    return draw(free)


@st.composite
def documents(draw) -> str:
    paras = draw(st.lists(paragraphs(), min_size=1, max_size=8))
    return unicodedata.normalize("NFC", "\n\n".join(paras))


CHUNKS = [ChunkSettings(), ChunkSettings(min_chars=40, max_chars=160, window_chars=90)]


def _whitespace_tolerant(part: str) -> re.Pattern:
    """A pattern for the original of a part whose sentences were joined by single spaces.

    Joining replaces the white space between two sentences by one space; everything else,
    including runs of spaces inside a sentence, must match character for character.
    """
    out = []
    for token in re.split(r"(\s+)", part):
        out.append(r"\s+" if token == " " else re.escape(token))
    return re.compile("".join(out), re.DOTALL)


@pytest.mark.parametrize("chunking", CHUNKS, ids=["default", "small"])
@PROPS
@given(text=documents())
def test_passages_map_back_exactly_and_keep_every_sentence(chunking, text):
    doc = clean("doc.txt", text, DocMeta())
    paras = {p.number: p for p in doc.paragraphs}
    passages = chunk_document(doc, chunking)
    for passage in passages:
        parts = passage.text.split("\n\n")
        assert len(parts) == len(passage.spans)
        assert (passage.start, passage.end) == (passage.spans[0][0], passage.spans[-1][1])
        assert all(a[1] <= b[0] for a, b in zip(passage.spans, passage.spans[1:]))
        for part, (s, e) in zip(parts, passage.spans):
            owner = [p for p in paras.values() if p.start <= s and e <= p.end]
            assert len(owner) == 1, (s, e)
            para = owner[0]
            assert passage.paragraph <= para.number <= passage.paragraph_end
            if len(para.text) <= chunking.max_chars:
                assert text[s:e] == part  # a whole paragraph: the very same characters
            else:
                assert _whitespace_tolerant(part).fullmatch(text[s:e]), (part, text[s:e])
                assert text[s:e] == para.text[s - para.start : e - para.start]

    # No sentence of the cleaned text is lost or repeated by chunking.
    in_doc = Counter(s for p in doc.paragraphs for _, _, s in split_sentences(p.text))
    in_passages = Counter(s for p in passages for _, _, s in passage_sentences(p))
    assert in_passages == in_doc
    covered = [n for p in passages for n in range(p.paragraph, p.paragraph_end + 1)]
    assert sorted(set(covered)) == sorted(paras)


# --- answer text cannot carry live markup -------------------------------------------------------


@PROPS
@given(st.text())
def test_md_escape_leaves_no_live_markup(text):
    from qa.render import md_escape

    escaped = md_escape(text)
    # Drop every escaped pair; what is left must hold nothing that starts a link, an image,
    # a citation, HTML, code or emphasis. ("(" alone is harmless once "[" is escaped.)
    bare = re.sub(r"\\.", "", escaped, flags=re.DOTALL)
    assert not re.search(r"[\\`*_\[\]<>]", bare), escaped
