"""Loading documents from a corpus folder and cleaning them into numbered paragraphs.

Cleaning happens here, not by hand, so a user's own files get the same treatment as the seeds:
Unicode NFC, image placeholders, photo captions, datelines, bylines and outlet signatures are
dropped, and exact or near-duplicate paragraphs inside a document are removed. Every kept
paragraph keeps its character offsets into the original decoded file.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import stat
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from html.parser import HTMLParser
from itertools import chain
from pathlib import Path

from qa.dates import is_iso_date
from qa.errors import CorpusError
from qa.fileio import FileTooLargeError, NotRegularFileError, read_regular
from qa.lexical import fold
from qa.text import split_sentences
from qa.types import DocMeta, Document, Dropped, Paragraph

log = logging.getLogger("qa")

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
METADATA_FILE = "metadata.json"
MAX_FILE_BYTES = int(os.environ.get("QA_MAX_FILE_BYTES", 20 * 1024 * 1024))
# metadata.json describes files, a few hundred bytes each: 16 MiB covers ~50k files.
MAX_METADATA_BYTES = 16 * 1024 * 1024
# Folder levels below the corpus root that are read. News corpora nest by outlet/year/month;
# 32 is far past that and stops a hostile tree long before PATH_MAX or recursion limits.
MAX_DEPTH = 32
NOT_REGULAR = "not a regular file (FIFO, socket or device)"

# Wire services and outlets whose names appear as signatures at the end of an article.
OUTLETS = {"vna", "vns", "vov", "vov.vn", "vnexpress", "reuters", "ap", "afp", "bbc", "vnanet"}


@dataclass(frozen=True)
class Skipped:
    """A corpus file that was not indexed (``kind="skipped"``), or a warning about one that was
    (``kind="warning"``), and why."""

    path: str
    reason: str
    kind: str = "skipped"  # one of SKIPPED_KINDS

    @property
    def is_warning(self) -> bool:
        """True for a file that was indexed despite a problem (the reason is the warning)."""
        return self.kind == "warning"


SKIPPED_KINDS = ("skipped", "warning")


@dataclass(frozen=True)
class SourceFile:
    """A decoded corpus file, before cleaning."""

    doc_id: str
    text: str
    file_hash: str
    kind: str  # "text" or "html"
    warning: str = ""
    title: str = ""  # an HTML page's <title>


# --- reading files ---------------------------------------------------------------------------


def _display_name(rel: str) -> str:
    """``rel`` as valid UTF-8 text: undecodable bytes of a file name shown as ``\\xNN``."""
    return os.fsencode(rel).decode("utf-8", "backslashreplace")


def _refusal(path: str, root: Path) -> str:
    """Why the corpus entry at ``path`` cannot be read as a document, or ``""`` if it can."""
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            try:
                st = os.stat(path)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    return "symlink loop; not followed"
                raise
            # realpath, not Path.resolve(): on Python 3.11 resolve() raises RuntimeError on a
            # loop, and the loop check above can race with a link being replaced.
            target = Path(os.path.realpath(path))
            if not target.is_relative_to(root):
                return f"symlink to {target} points outside the corpus"
    except OSError as exc:  # vanished since the listing, dangling symlink, no permission
        return f"unreadable ({exc.strerror or exc})"
    if stat.S_ISDIR(st.st_mode):
        return "a folder, not a file"
    if not stat.S_ISREG(st.st_mode):
        return NOT_REGULAR
    return ""


def corpus_files(corpus_dir: Path) -> Iterator[tuple[str, Path] | Skipped]:
    """Yield ``(doc_id, path)`` for each indexable file, or ``Skipped`` for refused ones.

    Never raises for what the corpus holds: symlink loops, dangling links, FIFOs, sockets,
    devices, folders named ``*.txt``, files that vanish mid-walk, unreadable or too deep
    folders and file names that are not UTF-8 all become ``Skipped`` with the reason.
    Symlinks that resolve outside the corpus folder are not followed: a corpus must not be
    able to pull in ``/etc/passwd``. Symlinked folders are not entered (no directory loops).
    """
    root = Path(os.path.realpath(corpus_dir))
    # Depth-first, files of a folder before its sub-folders, names sorted: the same order as
    # the ``os.walk`` this replaces (doc order decides passage order). An explicit stack, not
    # recursion: Python 3.11's os.walk recursed and a deep tree raised RecursionError.
    stack: list[tuple[str, int]] = [(str(root), 0)]
    while stack:
        folder, depth = stack.pop()
        rel_folder = os.path.relpath(folder, root)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield Skipped(_display_name(rel_folder) + "/", f"folder unreadable ({exc.strerror})")
            continue
        subdirs: list[str] = []
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            rel = name if folder == str(root) else f"{Path(rel_folder).as_posix()}/{name}"
            if is_dir:
                if depth + 1 > MAX_DEPTH:
                    yield Skipped(
                        _display_name(rel) + "/",
                        f"folder nested deeper than {MAX_DEPTH} levels; not read",
                    )
                else:
                    subdirs.append(entry.path)
                continue
            if name == METADATA_FILE or Path(name).suffix.lower() not in SUFFIXES:
                continue
            shown = _display_name(rel)
            if shown != rel:
                yield Skipped(shown, "file name is not valid UTF-8; rename the file")
                continue
            reason = _refusal(entry.path, root)
            if reason:
                yield Skipped(rel, reason)
                continue
            yield rel, Path(entry.path)
        stack.extend((d, depth + 1) for d in reversed(subdirs))


def read_source(doc_id: str, path: Path) -> SourceFile | Skipped:
    """Read and decode one file; refuse binary, empty, huge or unreadable files."""
    try:
        raw = read_regular(path, MAX_FILE_BYTES)
    except NotRegularFileError as exc:
        return Skipped(doc_id, "a folder, not a file" if "folder" in exc.strerror else NOT_REGULAR)
    except FileTooLargeError as exc:
        return Skipped(doc_id, exc.strerror)
    except OSError as exc:
        return Skipped(doc_id, f"unreadable ({exc.strerror or exc})")
    if not raw.strip():
        return Skipped(doc_id, "empty file")
    if b"\x00" in raw:
        return Skipped(doc_id, "binary file (contains NUL bytes)")
    warning = ""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
        if _control_ratio(text) > 0.05:
            return Skipped(doc_id, "binary file (not UTF-8 text)")
        warning = "not valid UTF-8; read as Windows-1252/Latin-1"
    if _control_ratio(text) > 0.05:
        return Skipped(doc_id, "binary file (control characters)")
    kind = "html" if path.suffix.lower() in HTML_SUFFIXES else "text"
    title = ""
    if kind == "html":
        title, text = html_to_text(text)
        if not text.strip():
            return Skipped(doc_id, "HTML file with no text")
    digest = hashlib.sha256(raw).hexdigest()
    return SourceFile(doc_id, text, digest, kind, warning, title)


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    return bad / len(text)


class _TextExtractor(HTMLParser):
    """Collects visible text, one block per block-level element; skips script/style."""

    BLOCKS = {
        "p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section",
        "article", "header", "footer", "blockquote", "pre", "figcaption", "title", "ul", "ol",
        "table", "hr", "dd", "dt", "main", "aside", "nav", "figure",
    }  # fmt: skip
    HIDDEN = {"script", "style", "noscript", "template", "head", "svg", "iframe"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:  # noqa: D102
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "title":
            self._in_title = True
        if tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:  # noqa: D102
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1
        if tag == "title":
            self._in_title = False
        if tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:  # noqa: D102
        if self._in_title:
            self.title += data
            return
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """``(title, text)`` of an HTML page: its ``<title>`` and its visible text, a blank line
    between blocks. Uses the standard library's HTML parser; script and style are skipped.
    Character offsets of an HTML document refer to this extracted text.
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    body = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in body.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return " ".join(parser.title.split()), text


# --- metadata --------------------------------------------------------------------------------


def load_metadata(corpus_dir: Path) -> dict[str, dict]:
    """Read ``metadata.json`` (``{"files": {doc_id: {...}}}``) if the corpus has one."""
    path = corpus_dir / METADATA_FILE
    if not os.path.lexists(path):
        return {}
    try:
        raw = read_regular(path, MAX_METADATA_BYTES)
    except OSError as exc:
        raise CorpusError(
            f"{path} cannot be read ({exc.strerror or exc}). Fix: make it a readable JSON "
            "file, or delete it to index without metadata."
        ) from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        raise CorpusError(
            f"{path} is not valid JSON ({exc}). Fix the file or delete it to index without metadata."
        ) from exc
    files = data.get("files", {}) if isinstance(data, dict) else None
    if not isinstance(files, dict):
        raise CorpusError(f'{path} must hold {{"files": {{"name.txt": {{...}}}}}}. Fix its layout.')
    return files


def _iso_date(value: object) -> str:
    """``value`` if it is a real ``YYYY-MM-DD`` date, else ``""`` (with a warning).

    Dates are compared as strings by the date filters and shown unescaped in answers, so
    anything else (``"[1](javascript:...)"``, ``"May 2024"``) must not get through.
    """
    text = str(value or "")
    if not text or is_iso_date(text):
        return text
    log.warning("metadata.json: date %r is not an ISO date (YYYY-MM-DD); ignored", text[:80])
    return ""


def meta_from_dict(d: dict) -> DocMeta:
    """A ``DocMeta`` from a metadata.json entry (unknown keys ignored)."""
    return DocMeta(
        title=str(d.get("title") or ""),
        source=str(d.get("source") or d.get("outlet") or ""),
        date=_iso_date(d.get("date")),
        date_inferred=bool(d.get("date_inferred", False)),
        date_note=str(d.get("date_note") or ""),
    )


# --- cleaning --------------------------------------------------------------------------------

_TERMINAL = tuple('.!?:;"”’)]|…')
_IMAGE = re.compile(
    r"^(?:\[?(?:img|image|photo|picture|ảnh|hình)\]?[\s_#:-]*\d*[\w.-]*|.{0,200}\b(?:picture|photo|image|ảnh)\s+\d+)$",
    re.IGNORECASE,
)
# Linear on any line (tests/test_hardening_regex.py): no two adjacent quantifiers can trade
# the same characters ("photo\s*(?:by\s*)?:" not "photo\s*(?:by)?\s*:"), and repeats that
# could restart at every "vna/" or "(photo:" of a hostile line are bounded.
_CAPTION = re.compile(
    r"\((?:photo|ảnh|source|image)\s*:[^)]{0,500}\)\s*$|\bphoto\s*(?:by\s*)?:"
    r"|(?:vna|vns|vov)(?:/\w+){0,8}\s+photo\b"
    r"|\bphoto\b[^.]{0,40}\|\s*$",
    re.IGNORECASE,
)
_DATE_NUM = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
# "HÀ NỘI — ", "VOV.VN - ": an upper-case place or outlet prefix before a dash.
_LEAD_DATELINE = re.compile(r"^([A-ZÀ-Ỹ][A-ZÀ-Ỹ.]*(?:\s+[A-ZÀ-Ỹ][A-ZÀ-Ỹ.]*){0,3})\s+[—–-]\s+")
# "... money laundering. — VNS": a trailing outlet signature after a dash.
# Starts only at the first space of a run: each run is scanned once, not once per space.
_TRAIL_SIGNATURE = re.compile(r"(?<!\s)\s+[—–-]\s*([A-Z][A-Za-z.]{1,10})\s*$")


# Two paragraphs whose word 3-gram sets overlap this much are one paragraph, lightly edited
# (a re-posted copy with a changed word or two); 4/5 as integers for exact prefix bounds.
NEAR_NUM, NEAR_DEN = 4, 5
NEAR_DUPLICATE_JACCARD = NEAR_NUM / NEAR_DEN


def _norm(text: str) -> str:
    return " ".join(fold(text).split())


def _shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    toks = re.findall(r"\w+", fold(text))
    if len(toks) < n:
        return {tuple(toks)}
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


class NearDuplicates:
    """Which paragraphs are near-duplicates (3-gram Jaccard >= 0.8) of one kept before them.

    The same answer as comparing each paragraph with every kept one, in about linear time:
    PPJoin (Xiao et al., "Efficient similarity joins for near duplicate detection", 2008).
    Shingles are ordered rarest first; if J(x, y) >= t then the first ``|x| - ceil(t|x|) + 1``
    shingles of x and the first ``|y| - ceil(t|y|) + 1`` of y share one (prefix filter), the
    sizes are within a factor t (size filter), and the shingles after a shared one bound the
    overlap (positional filter). Only pairs passing all three get the exact Jaccard. No false
    negatives, unlike MinHash/LSH, so cleaning drops exactly what the quadratic scan dropped.
    """

    def __init__(self, shingle_sets: list[set]) -> None:
        freq = Counter(chain.from_iterable(shingle_sets))  # counted in C
        # Rarest first, ties by the shingle itself: one total order shared by every paragraph.
        self._sets = [tuple(sorted(shs, key=lambda sh: (freq[sh], sh))) for shs in shingle_sets]
        self._postings: dict[tuple, list[tuple[int, int]]] = {}

    @staticmethod
    def _prefix(n: int) -> int:
        # n - ceil(t*n) + 1 with t = 4/5 in integers: float 0.8*n can round up past an integer.
        return n - (NEAR_NUM * n + NEAR_DEN - 1) // NEAR_DEN + 1

    def matches_kept(self, i: int) -> bool:
        """Whether paragraph ``i`` is a near-duplicate of any paragraph kept so far."""
        x = self._sets[i]
        n = len(x)
        overlap: dict[int, int] = {}  # kept paragraph -> shared prefix shingles; -1 = ruled out
        for px, sh in enumerate(x[: self._prefix(n)]):
            for j, py in self._postings.get(sh, ()):
                a = overlap.get(j, 0)
                if a < 0:
                    continue
                m = len(self._sets[j])
                # J >= t  <=>  |x & y| >= t/(1+t) * (n + m); with t = 4/5 that is 4/9.
                need = (NEAR_NUM * (n + m) + NEAR_NUM + NEAR_DEN - 1) // (NEAR_NUM + NEAR_DEN)
                too_far = NEAR_DEN * m < NEAR_NUM * n or NEAR_NUM * m > NEAR_DEN * n
                if too_far or a + 1 + min(n - px - 1, m - py - 1) < need:
                    overlap[j] = -1
                else:
                    overlap[j] = a + 1
        xs: set | None = None
        for j, a in overlap.items():
            if a > 0:
                xs = xs if xs is not None else set(x)
                if _jaccard(xs, set(self._sets[j])) >= NEAR_DUPLICATE_JACCARD:
                    return True
        return False

    def keep(self, i: int) -> None:
        """Record paragraph ``i`` as kept, so later paragraphs are compared with it."""
        x = self._sets[i]
        for pos, sh in enumerate(x[: self._prefix(len(x))]):
            self._postings.setdefault(sh, []).append((i, pos))


def split_paragraphs(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the paragraphs of ``text``, whitespace trimmed.

    A blank line always ends a paragraph. A single line break ends one too, unless the line
    reads as soft-wrapped: it lacks closing punctuation and the next line starts in lower case.
    """
    spans: list[tuple[int, int]] = []
    lines: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        lines.append((pos, pos + len(line)))
        pos += len(line)
    cur: tuple[int, int] | None = None
    prev_line = ""
    for s, e in lines:
        content = text[s:e].strip()
        if not content:
            if cur:
                spans.append(cur)
            cur = None
            prev_line = ""
            continue
        soft = (
            cur is not None
            and not prev_line.endswith(_TERMINAL)
            and content[:1].islower()
            and len(prev_line) < 200
        )
        if soft:
            cur = (cur[0], e)
        else:
            if cur:
                spans.append(cur)
            cur = (s, e)
        prev_line = content
    if cur:
        spans.append(cur)
    out = []
    for s, e in spans:
        seg = text[s:e]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg) - len(seg.rstrip())
        if e - trail > s + lead:
            out.append((s + lead, e - trail))
    return out


def parse_dateline(line: str) -> str:
    """ISO date from a dateline such as ``09:25 - 30/05/2024`` or ``Thứ Ba, 16/08/2022, 23:41``.

    Returns ``""`` when ``line`` is not a bare dateline.
    """
    m = _DATE_NUM.search(line)
    if not m or len(line) > 60:
        return ""
    rest = _TIME.sub(" ", _DATE_NUM.sub(" ", line))
    if len(re.findall(r"\w+", rest)) > 3:
        return ""
    day, month, year = (int(g) for g in m.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return ""


def _is_name_line(content: str) -> bool:
    """A short line of capitalised words and no sentence punctuation: a byline or signature."""
    if len(content) > 40 or any(ch.isdigit() for ch in content):
        return False
    ws = content.split()
    if not 1 <= len(ws) <= 4 or content.endswith((".", "?", "!", ":", ",")):
        return False
    return all(w[:1].isupper() for w in ws)


def _is_image(content: str) -> bool:
    return len(content) < 200 and not content.endswith(".") and bool(_IMAGE.match(content))


def _unique_paragraphs(
    text: str, kept: list[tuple[int, int]], drop: Callable[[str, int, int], None]
) -> list[Paragraph]:
    """Number the kept spans as paragraphs, dropping exact and near duplicates of earlier ones."""
    paragraphs: list[Paragraph] = []
    contents = [unicodedata.normalize("NFC", text[s:e]) for s, e in kept]
    near = NearDuplicates([_shingles(c) for c in contents])
    seen_exact: set[str] = set()
    for i, ((s, e), content) in enumerate(zip(kept, contents, strict=True)):
        norm = _norm(content)
        if norm in seen_exact:
            drop("duplicate", s, e)
            continue
        if near.matches_kept(i):
            drop("near-duplicate", s, e)
            continue
        seen_exact.add(norm)
        near.keep(i)
        paragraphs.append(Paragraph(len(paragraphs) + 1, content, s, e))
    return paragraphs


def clean(doc_id: str, text: str, meta: DocMeta, file_hash: str = "") -> Document:
    """Clean one decoded file into a ``Document`` of numbered paragraphs.

    ``meta`` fills title, outlet and date; what it lacks is inferred from the text (a headline
    first line, a dateline, an outlet signature) and marked so.
    """
    spans = split_paragraphs(text)
    dropped: list[Dropped] = []
    kept: list[tuple[int, int]] = []
    title = meta.title
    dateline_date = ""
    signature = ""

    def drop(reason: str, s: int, e: int) -> None:
        dropped.append(Dropped(reason, unicodedata.normalize("NFC", text[s:e]), s, e))

    title_norm = _norm(title) if title else ""
    n = len(spans)
    after_image = False
    prev_end = 0
    for i, (s, e) in enumerate(spans):
        content = text[s:e]
        # A caption sits right under its image placeholder, in the same block (no blank line).
        same_block = text[prev_end:s].count("\n") < 2
        prev_end = e
        was_after_image, after_image = after_image and same_block, False
        norm = _norm(content)
        if title_norm and norm == title_norm:
            drop("title", s, e)
            continue
        if i == 0 and not title and n > 1 and _looks_like_headline(content):
            title = unicodedata.normalize("NFC", content.strip())
            title_norm = _norm(title)
            drop("title", s, e)
            continue
        if _is_image(content):
            drop("image", s, e)
            after_image = True
            continue
        if _CAPTION.search(content) or (was_after_image and len(content) < 300):
            drop("caption", s, e)
            continue
        iso = parse_dateline(content)
        if iso:
            dateline_date = dateline_date or iso
            drop("dateline", s, e)
            continue
        next_is_repeat = i + 1 < n and (
            _norm(text[spans[i + 1][0] : spans[i + 1][1]]) == title_norm
        )
        if _is_name_line(content) and (
            i == n - 1 or next_is_repeat or content.strip().casefold() in OUTLETS
        ):
            if content.strip().casefold() in OUTLETS:
                signature = signature or content.strip()
            drop("byline", s, e)
            continue
        # Strip an in-line dateline prefix and an outlet signature suffix, keeping offsets exact.
        m = _LEAD_DATELINE.match(content)
        if m and len(m.group(1)) <= 30:
            drop("dateline", s, s + m.end())
            if m.group(1).casefold() in OUTLETS:
                signature = signature or m.group(1)
            s += m.end()
        m = _TRAIL_SIGNATURE.search(text[s:e])
        if m and m.group(1).casefold() in OUTLETS:
            drop("byline", s + m.start(), e)
            signature = signature or m.group(1)
            e = s + m.start()
        if e > s:
            kept.append((s, e))

    paragraphs = _unique_paragraphs(text, kept, drop)
    meta = _complete_meta(meta, title, dateline_date, signature, paragraphs)
    dropped.sort(key=lambda d: d.start)
    return Document(doc_id, meta, tuple(paragraphs), tuple(dropped), file_hash)


def _looks_like_headline(content: str) -> bool:
    c = content.strip()
    return (
        len(c) <= 160 and not c.endswith((".", "|", ")")) and "\n" not in c and len(c.split()) >= 3
    )


def _complete_meta(
    meta: DocMeta, title: str, dateline_date: str, signature: str, paragraphs: list[Paragraph]
) -> DocMeta:
    updates: dict = {}
    if title:
        updates["title"] = title
    elif paragraphs:
        sents = split_sentences(paragraphs[0].text)
        lead = sents[0][2] if sents else paragraphs[0].text
        short = " ".join(lead.split()[:14])
        updates["title"] = short + ("…" if len(lead.split()) > 14 else "")
        updates["title_inferred"] = True
    if not meta.date and dateline_date:
        updates["date"] = dateline_date
        updates["date_inferred"] = False
        updates["date_note"] = "from the article's dateline"
    if not meta.source and signature:
        updates["source"] = signature
    return replace(meta, **updates)


# --- the whole corpus ------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedCorpus:
    """Cleaned documents plus the files refused and the warnings raised while reading."""

    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...]
    warnings: tuple[str, ...]


def check_corpus_dir(root: Path) -> None:
    """Raise ``CorpusError`` unless ``root`` is a folder (checked before anything is written)."""
    try:
        st = os.stat(root)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CorpusError(
                f"Corpus path {str(root)!r} is a symlink loop. Fix: pass --corpus a folder."
            ) from exc
        if exc.errno == errno.ENOENT:
            raise CorpusError(
                f"Corpus folder {str(root)!r} does not exist. Fix: pass --corpus DIR."
            ) from exc
        raise CorpusError(
            f"Corpus path {str(root)!r} cannot be read ({exc.strerror or exc}). "
            "Fix: pass --corpus a folder you can read."
        ) from exc
    if not stat.S_ISDIR(st.st_mode):
        raise CorpusError(f"Corpus path {str(root)!r} is not a folder. Fix: pass a folder.")


def iter_documents(corpus_dir: str | os.PathLike) -> Iterator[Document | Skipped]:
    """Stream cleaned documents (and ``Skipped`` notices) one file at a time."""
    root = Path(corpus_dir)
    check_corpus_dir(root)
    metadata = load_metadata(root)
    for item in corpus_files(root):
        if isinstance(item, Skipped):
            log.warning("skipped %s: %s", item.path, item.reason)
            yield item
            continue
        doc_id, path = item
        src = read_source(doc_id, path)
        if isinstance(src, Skipped):
            log.warning("skipped %s: %s", src.path, src.reason)
            yield src
            continue
        if src.warning:
            log.warning("%s: %s", doc_id, src.warning)
            yield Skipped(doc_id, src.warning, kind="warning")
        meta = meta_from_dict(metadata.get(doc_id, {}))
        if src.title and not meta.title:
            meta = replace(meta, title=src.title)
        doc = clean(doc_id, src.text, meta, src.file_hash)
        if not doc.paragraphs:
            log.warning("skipped %s: nothing left after cleaning", doc_id)
            yield Skipped(doc_id, "nothing left after cleaning")
            continue
        yield doc


def load_corpus(corpus_dir: str | os.PathLike) -> LoadedCorpus:
    """Read and clean every file of a corpus folder. Raises ``CorpusError`` if none is usable."""
    docs: list[Document] = []
    skipped: list[Skipped] = []
    warnings: list[str] = []
    for item in iter_documents(corpus_dir):
        if isinstance(item, Document):
            docs.append(item)
        elif item.is_warning:
            warnings.append(f"{item.path}: {item.reason}")
        else:
            skipped.append(item)
    if not docs:
        raise no_documents_error(corpus_dir, len(skipped))
    return LoadedCorpus(tuple(docs), tuple(skipped), tuple(warnings))


def no_documents_error(corpus_dir: str | os.PathLike, skipped: int) -> CorpusError:
    """The error for a corpus with nothing indexable, naming the folder and the fix."""
    detail = f" ({skipped} file(s) skipped)" if skipped else ""
    return CorpusError(
        f"Corpus folder {str(corpus_dir)!r} has no readable .txt, .md or .html documents"
        f"{detail}. Fix: add UTF-8 text files to it."
    )
