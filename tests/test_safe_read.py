"""``qa.safe_read``: regular files only, bounded reads, and the manifest schema (issue 13).

Not yet wired into ``qa.store`` / ``qa.index`` (phase 2); these are its unit tests.
"""

from __future__ import annotations

import copy
import json
import os
import socket
import threading

import numpy as np
import pytest

from qa.embedding import FakeEncoder
from qa.errors import IndexCorruptError
from qa.fileio import (
    FileTooLargeError,
    NotRegularFileError,
    describe,
    file_sha256,
    open_regular,
    read_regular,
)
from qa.index import build_index
from qa.safe_read import (
    MAX_VERSION_NAME,
    check_artifact_path,
    check_version_name,
    npy_shape,
    validate_manifest,
    validate_pointer,
)


def _bounded(fn, timeout: float = 20):  # noqa: ANN001, ANN202
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it blocks."""
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # returned to the caller
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "blocked"
    return out


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "CURRENT"
    os.mkfifo(fifo)
    out = _bounded(lambda: read_regular(fifo, 100))
    if "error" not in out:
        pytest.fail(f"read a FIFO: {out}")
    assert isinstance(out["error"], NotRegularFileError)
    assert "FIFO" in str(out["error"])
    assert describe(fifo) == "a FIFO (named pipe)"


def test_folder_socket_and_device_are_refused(tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(tmp_path / "s"))
    try:
        for path in (tmp_path, "/dev/null"):
            with pytest.raises(NotRegularFileError):
                read_regular(path, 10)
        with pytest.raises(OSError):  # a socket cannot even be opened for reading
            read_regular(tmp_path / "s", 10)
        assert describe(tmp_path / "s") == "a socket"
        assert describe("/dev/null") == "a device"
        assert describe(tmp_path) == "a folder"
    finally:
        sock.close()


def test_symlink_loop_and_missing_file_raise_oserror(tmp_path):
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "gone").symlink_to("nowhere")
    with pytest.raises(OSError):
        read_regular(tmp_path / "loop", 10)
    with pytest.raises(FileNotFoundError):
        file_sha256(tmp_path / "gone")
    assert describe(tmp_path / "loop") == "a symlink loop"
    assert describe(tmp_path / "gone") == "a symlink to a missing file"


def test_size_limit_is_exact(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"x" * 100)
    assert read_regular(p, 100) == b"x" * 100
    with pytest.raises(FileTooLargeError, match="100 bytes is over the 99-byte limit"):
        read_regular(p, 99)
    with open_regular(p, 100) as fh:
        assert fh.read(3) == b"xxx"


def test_sha256_of_a_regular_file(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"abc")
    assert file_sha256(p) == ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_descriptor_is_closed_after_a_refusal(tmp_path):
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(50):
        with pytest.raises(NotRegularFileError):
            read_regular(tmp_path, 10)
    assert len(os.listdir("/proc/self/fd")) == before


# --- manifest schema -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A real index (fake encoder): its folder and manifest."""
    from tests.test_reliability import write_corpus

    tmp = tmp_path_factory.mktemp("safe")
    build_index(write_corpus(tmp / "corpus"), tmp / "index", encoder=FakeEncoder())
    pointer = json.loads((tmp / "index" / "CURRENT").read_text())
    folder = tmp / "index" / pointer["version"]
    return folder, json.loads((folder / "manifest.json").read_text()), pointer


def test_a_real_manifest_is_valid(built):
    folder, manifest, pointer = built
    assert validate_manifest(manifest) is manifest
    assert validate_pointer(pointer) == (pointer["version"], pointer["manifest_sha256"])


def _without(d: dict, dotted: str) -> dict:
    d = copy.deepcopy(d)
    *parents, last = dotted.split(".")
    cur = d
    for p in parents:
        cur = cur[p]
    del cur[last]
    return d


def _with(d: dict, dotted: str, value) -> dict:  # noqa: ANN001
    d = copy.deepcopy(d)
    *parents, last = dotted.split(".")
    cur = d
    for p in parents:
        cur = cur[p]
    cur[last] = value
    return d


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("counts", "counts is missing"),
        ("model", "model is missing"),
        ("corpus", "corpus is missing"),
        ("files", "files is missing"),
        ("version", "version is missing"),
        ("model.id", "model.id is missing"),
        ("model.dim", "model.dim is missing"),
        ("counts.passages", "counts.passages is missing"),
        ("corpus.files", "corpus.files is missing"),
    ],
)
def test_missing_field_is_named(built, field, message):
    with pytest.raises(IndexCorruptError, match="damaged: " + message):
        validate_manifest(_without(built[1], field))


def test_mistyped_fields_are_named(built):
    m = built[1]
    name = next(iter(m["files"]))
    cases = [
        (_with(m, "files", list(m["files"])), "files must be an object, got list"),
        (_with(m, "counts.passages", "40"), "counts.passages must be a whole number, got str"),
        (_with(m, "counts.passages", True), "counts.passages must be a whole number, got bool"),
        (_with(m, "counts.passages", -1), "counts.passages must be between 0 and"),
        (_with(m, "model.dim", 0), "model.dim must be at least 1"),
        (_with(m, "model", "fake"), "model must be an object, got str"),
    ]
    m2 = copy.deepcopy(m)
    del m2["files"][name]["bytes"]
    cases.append((m2, f"files['{name}'].bytes is missing"))
    m3 = copy.deepcopy(m)
    m3["files"][name]["sha256"] = "xyz"
    cases.append((m3, f"files['{name}'].sha256 must be a SHA-256 hex digest"))
    m4 = copy.deepcopy(m)
    m4["files"]["../../etc/passwd"] = m4["files"][name]
    cases.append((m4, "files names an unsafe path '../../etc/passwd'"))
    for bad, message in cases:
        with pytest.raises(IndexCorruptError) as err:
            validate_manifest(bad)
        assert message in str(err.value)
        assert "Fix: rebuild it with `qa index`" in str(err.value)


@pytest.mark.parametrize(
    "name",
    ["v-" + "x" * (10**6), "../v-x", "v-a/../../b", "v-x.tmp", "", "x-123", ".v-1", "v-\n", 42],
)
def test_unsafe_version_names_are_refused(name):
    with pytest.raises(IndexCorruptError):
        check_version_name(name)


def test_version_name_limit_is_exact():
    assert check_version_name("v-" + "a" * (MAX_VERSION_NAME - 2))
    with pytest.raises(IndexCorruptError, match="characters long"):
        check_version_name("v-" + "a" * (MAX_VERSION_NAME - 1))


@pytest.mark.parametrize("path", ["bm25/data.csc.index.npy", "vectors.npy", "a_b-c.json"])
def test_artifact_paths_accepted(path):
    assert check_artifact_path(path) == path


@pytest.mark.parametrize("path", ["../x", "/abs", "a//b", ".hidden", "a/../b", "a\\b", "x\x00"])
def test_artifact_paths_refused(path):
    with pytest.raises(IndexCorruptError):
        check_artifact_path(path)


def test_pointer_with_bad_fields(built):
    pointer = built[2]
    for bad in ({}, [], {"version": pointer["version"]}, dict(pointer, manifest_sha256=5)):
        with pytest.raises(IndexCorruptError):
            validate_pointer(bad)


# --- .npy headers ----------------------------------------------------------------------------


def test_npy_shape_of_real_vectors(built):
    folder, manifest, _ = built
    n, dim = manifest["counts"]["passages"], manifest["model"]["dim"]
    assert npy_shape(folder / "vectors.npy", n, dim) == (n, dim)


def test_npy_header_claiming_4e12_rows_is_refused_before_numpy_allocates(tmp_path):
    p = tmp_path / "vectors.npy"
    np.save(p, np.zeros((3, 4), dtype=np.float32))
    raw = p.read_bytes()
    head_end = raw.index(b"\n") + 1
    header = raw[10:head_end].decode("latin-1").replace("(3, 4)", "(4000000000000, 4)")
    header = header.rstrip("\n")
    header = header + " " * (head_end - 10 - 1 - len(header)) + "\n"
    p.write_bytes(raw[:10] + header.encode("latin-1") + raw[head_end:])
    with pytest.raises(IndexCorruptError, match="claims 4,000,000,000,000 rows"):
        npy_shape(p, max_rows=3)


def test_npy_size_mismatch_and_bad_dtype_are_refused(tmp_path):
    p = tmp_path / "v.npy"
    np.save(p, np.zeros((3, 4), dtype=np.float32))
    with open(p, "ab") as fh:
        fh.write(b"\0" * 16)
    with pytest.raises(IndexCorruptError, match="its header says"):
        npy_shape(p, max_rows=3)
    np.save(p, np.array(["a"], dtype=object), allow_pickle=True)
    with pytest.raises(IndexCorruptError, match="dtype"):
        npy_shape(p, max_rows=3)
    p.write_bytes(b"not numpy")
    with pytest.raises(IndexCorruptError, match="not a .npy file"):
        npy_shape(p, max_rows=3)
    np.save(p, np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(IndexCorruptError, match="columns"):
        npy_shape(p, max_rows=3, max_cols=4)
