"""Hostile corpus files (issue 13): every kind of entry a user can put in a corpus folder ends
in a ``Skipped`` notice with a warning, never an exception, a hang or a silent loss.

Covers document loading (``qa.documents``), the corpus state / staleness scan used by
``qa.index`` (``open_index`` on a good index whose corpus gained a hostile file), and the
``qa`` command in a subprocess.
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import qa.build
import qa.documents
from qa.build import _hash_state as hash_state  # what the index records
from qa.build import corpus_state
from qa.documents import load_corpus
from qa.embedding import FakeEncoder
from qa.errors import CorpusError
from qa.index import build_index, open_index

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from test_reliability import GOOD_IDS, write_corpus  # noqa: E402

LOOP = "symlink loop; not followed"
NOT_REGULAR = "not a regular file (FIFO, socket or device)"


def _loops(corpus: Path) -> None:
    (corpus / "a.txt").symlink_to("b.txt")
    (corpus / "b.txt").symlink_to("a.txt")
    (corpus / "self.txt").symlink_to("self.txt")


def _skipped(loaded) -> list[tuple[str, str]]:
    return [(s.path, s.reason) for s in loaded.skipped]


def test_symlink_loops_are_skipped_with_a_warning(tmp_path, caplog):
    corpus = write_corpus(tmp_path / "corpus")
    _loops(corpus)
    with caplog.at_level("WARNING", logger="qa"):
        loaded = load_corpus(corpus)
    assert _skipped(loaded) == [("a.txt", LOOP), ("b.txt", LOOP), ("self.txt", LOOP)]
    assert sorted(d.doc_id for d in loaded.documents) == GOOD_IDS
    assert f"skipped self.txt: {LOOP}" in caplog.messages


def test_corpus_state_and_hashes_survive_symlink_loops(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    _loops(corpus)
    state = corpus_state(corpus)
    assert sorted(state) == sorted([*GOOD_IDS, "a.txt", "b.txt", "self.txt"])
    hashed = hash_state(corpus, state)
    assert [hashed[n]["sha256"] for n in ("a.txt", "b.txt", "self.txt")] == ["", "", ""]
    assert all(len(hashed[n]["sha256"]) == 64 for n in GOOD_IDS)


def test_good_index_opens_when_a_symlink_loop_appears(tmp_path, caplog):
    corpus = write_corpus(tmp_path / "corpus")
    first = build_index(corpus, tmp_path / "index", encoder=FakeEncoder())
    _loops(corpus)
    with caplog.at_level("WARNING", logger="qa"):
        index = open_index(corpus, tmp_path / "index", encoder=FakeEncoder())
    assert index.summary.skipped == (("a.txt", LOOP), ("b.txt", LOOP), ("self.txt", LOOP))
    assert [p.passage_id for p in index.passages] == [p.passage_id for p in first.passages]
    assert index.retrieve("Chevening scholarships", k=1)[0].doc_id == "school.md"
    # The loops are now part of the recorded state: the next open is not stale again.
    pointer = (tmp_path / "index" / "CURRENT").read_text()
    again = open_index(corpus, tmp_path / "index", encoder=FakeEncoder())
    assert (tmp_path / "index" / "CURRENT").read_text() == pointer
    assert len(again) == len(index)


def test_cli_search_with_symlink_loop_prints_results_not_a_traceback(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    env = dict(os.environ, QA_BACKEND="fake", PYTHONPATH=str(HERE.parent))
    index = tmp_path / "index"
    built = subprocess.run(
        [sys.executable, "-m", "qa.cli", "index", "--corpus", str(corpus), "--index", str(index)],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    _loops(corpus)
    proc = subprocess.run(
        [sys.executable, "-m", "qa.cli", "search", "Chevening scholarships", "-k", "1",
         "--corpus", str(corpus), "--index", str(index)],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "school.md" in proc.stdout


def test_symlink_to_a_folder_named_txt_is_skipped_and_real_folder_is_read(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    real = corpus / "notes.txt"  # a folder whose name looks like a document
    real.mkdir()
    (real / "inner.md").write_text("Inner notes\n\nThe embassy in Hanoi opened a new office.\n")
    (corpus / "link.txt").symlink_to("notes.txt", target_is_directory=True)
    loaded = load_corpus(corpus)
    assert _skipped(loaded) == [("link.txt", "a folder, not a file")]
    assert sorted(d.doc_id for d in loaded.documents) == sorted([*GOOD_IDS, "notes.txt/inner.md"])


def test_socket_in_the_corpus_is_skipped(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(corpus / "sock.txt"))
        loaded = load_corpus(corpus)
    finally:
        sock.close()
    assert _skipped(loaded) == [("sock.txt", NOT_REGULAR)]
    assert sorted(d.doc_id for d in loaded.documents) == GOOD_IDS


def test_device_file_in_the_corpus_is_skipped(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    try:
        os.mknod(corpus / "zero.txt", 0o600 | 0o020000, os.makedev(1, 5))  # /dev/zero
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device node here ({exc})")
    loaded = load_corpus(corpus)
    assert _skipped(loaded) == [("zero.txt", NOT_REGULAR)]


def test_file_that_vanishes_between_listing_and_reading(tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus")
    (corpus / "brief.txt").write_text("Brief\n\nA short note on trade.\n")
    real = qa.documents.read_regular

    def vanish_then_read(path, max_bytes):  # noqa: ANN001, ANN202
        if Path(path).name == "brief.txt":
            os.unlink(path)  # deleted by someone else after the folder was listed
        return real(path, max_bytes)

    monkeypatch.setattr(qa.documents, "read_regular", vanish_then_read)
    loaded = load_corpus(corpus)
    assert _skipped(loaded) == [("brief.txt", "unreadable (No such file or directory)")]
    assert sorted(d.doc_id for d in loaded.documents) == GOOD_IDS


def test_unreadable_subfolder_is_reported_not_silently_dropped(tmp_path, monkeypatch):
    # Root reads mode-000 folders, so the listing itself is made to fail as it does for users.
    corpus = write_corpus(tmp_path / "corpus")
    (corpus / "private").mkdir()
    (corpus / "private" / "x.txt").write_text("Private\n\nThe ZORKMID ledger.\n")
    real = os.scandir

    def guarded(path="."):  # noqa: ANN001, ANN202
        if Path(path).name == "private":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", guarded)
    monkeypatch.setattr(os, "walk", _walk_with(guarded))
    loaded = load_corpus(corpus)
    assert _skipped(loaded) == [("private/", "folder unreadable (Permission denied)")]
    assert sorted(d.doc_id for d in loaded.documents) == GOOD_IDS


def _walk_with(scandir):  # noqa: ANN001, ANN202
    """An ``os.walk`` whose listings go through ``scandir`` (so the old code sees the fault)."""
    real_walk = os.walk

    def walk(top, *args, **kwargs):  # noqa: ANN001, ANN202
        onerror = kwargs.get("onerror")
        for dirpath, dirnames, filenames in real_walk(top, *args, **kwargs):
            try:
                scandir(dirpath).close()
            except OSError as exc:
                if onerror:
                    onerror(exc)
                continue
            yield dirpath, dirnames, filenames

    return walk


def test_very_deep_tree_is_cut_with_a_warning_not_a_recursion_error(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    fd = os.open(corpus, os.O_RDONLY)
    try:
        for _ in range(1100):  # deeper than Python's recursion limit
            os.mkdir("d", dir_fd=fd)
            nfd = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        out = os.open("x.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, b"Deep\n\nText about Vietnam far down.\n")
        os.close(out)
    finally:
        os.close(fd)
    try:
        loaded = load_corpus(corpus)
    finally:
        # shutil.rmtree (and so pytest's tmp cleanup) recurses and would fail on this tree.
        subprocess.run(["rm", "-rf", str(corpus / "d")], check=True, timeout=60)
    depth = qa.documents.MAX_DEPTH
    assert _skipped(loaded) == [
        ("d/" * (depth + 1), f"folder nested deeper than {depth} levels; not read")
    ]
    assert sorted(d.doc_id for d in loaded.documents) == GOOD_IDS


def test_shallow_subfolders_are_read_in_walk_order(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    for rel in ("b/z.txt", "b/a/y.txt", "a/x.txt", "c.txt"):
        (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
        (corpus / rel).write_text(f"Note {rel}\n\nA text about trade numbered {rel}.\n")
    loaded = load_corpus(corpus)
    assert [d.doc_id for d in loaded.documents] == [
        "c.txt", "minister.txt", "school.md", "trade.txt", "a/x.txt", "b/z.txt", "b/a/y.txt",
    ]  # fmt: skip


def test_non_utf8_file_name_is_skipped_and_the_index_is_written(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    bad = os.path.join(os.fsencode(corpus), b"bad\xff name.txt")
    with open(bad, "wb") as fh:
        fh.write(b"Title of the file\n\nSome text about trade and Vietnam.\n")
    index = build_index(corpus, tmp_path / "index", encoder=FakeEncoder())
    assert index.summary.skipped == (
        ("bad\\xff name.txt", "file name is not valid UTF-8; rename the file"),
    )
    assert sorted(d.doc_id for d in index.documents) == GOOD_IDS


def test_metadata_json_fifo_does_not_hang(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    fifo = corpus / "metadata.json"
    os.mkfifo(fifo)
    result: dict = {}

    def run() -> None:
        try:
            load_corpus(corpus)
        except BaseException as exc:  # reported below
            result["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # unblock the reader
        worker.join(timeout=10)
        pytest.fail("load_corpus blocked on a FIFO named metadata.json")
    assert isinstance(result.get("error"), CorpusError), result
    assert "cannot be read" in str(result["error"])


def test_file_swapped_for_a_fifo_after_the_listing_does_not_hang(tmp_path):
    # read_source is a door of its own: it must check what it opened, not what it stat'ed.
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    result: dict = {}
    worker = threading.Thread(
        target=lambda: result.update(src=qa.documents.read_source("pipe.txt", fifo)), daemon=True
    )
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=10)
        pytest.fail("read_source blocked on a FIFO")
    assert result["src"] == qa.documents.Skipped("pipe.txt", NOT_REGULAR)


def test_corpus_digest_never_raises(tmp_path):
    (tmp_path / "loop.txt").symlink_to("loop.txt")
    os.mkfifo(tmp_path / "pipe.txt")
    root = tmp_path
    for name in ("loop.txt", "pipe.txt", "missing.txt", "."):
        assert qa.build._digest(tmp_path / name, root) == ""
