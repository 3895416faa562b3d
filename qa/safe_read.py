"""Checking index files that someone may have tampered with, before any field is used.

Files are opened with ``qa.fileio.open_regular`` (regular files only, bounded sizes).
``validate_manifest`` checks an index manifest's shape before any field is used, so a damaged
or hand-edited manifest ends in one ``IndexCorruptError`` naming the field, never a
``KeyError`` deep inside loading. Leaf module: imports only ``qa.errors`` and ``qa.fileio``.
"""

from __future__ import annotations

import ast
import math
import os
import re
from pathlib import Path
from typing import Any

from qa.errors import IndexCorruptError
from qa.fileio import open_regular

# A manifest is a few kB per thousand corpus files; 64 MiB leaves room for a huge corpus
# while refusing a file that would exhaust memory when parsed as JSON.
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
# CURRENT holds one version name and one hex digest.
MAX_POINTER_BYTES = 4096
# Version names look like ``v-20261201T214016-0df81abd`` (26 characters); 100 is generous
# and far below NAME_MAX (255), so a crafted name can never reach ENAMETOOLONG.
MAX_VERSION_NAME = 100
_VERSION_NAME = re.compile(r"v-[A-Za-z0-9_.-]{1,98}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# An artifact path inside a version: relative, forward slashes, no "..", no hidden parts.
_ARTIFACT_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_NPY_MAGIC = b"\x93NUMPY"
# Rows no index array may claim whatever the manifest says (2**40: a thousand times the
# largest archive benchmarked); the exact header-vs-size check does the real work.
NPY_MAX_ROWS = 1 << 40
# numpy writes headers padded to 64 bytes (v1) or longer (v2/v3); 64 KiB bounds the parse.
_NPY_MAX_HEADER = 65536
_NPY_DTYPES = {"<f4", "<f8", "<i4", "<i8", "<u4", "<u8", "|u1", "|i1", "|b1"}
_BLOCK = 1 << 20


# --- manifest schema -------------------------------------------------------------------------


def _fail(field: str, problem: str) -> IndexCorruptError:
    return IndexCorruptError(
        f"The index manifest is damaged: {field} {problem}. "
        "Fix: rebuild it with `qa index` (or delete the index folder)."
    )


def _count(value: Any, field: str, limit: int = 1 << 40) -> int:
    if value is None:
        raise _fail(field, "is missing")
    # bool is an int subclass; ``True`` rows is a damaged manifest, not one row.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(field, f"must be a whole number, got {type(value).__name__}")
    if not 0 <= value <= limit:
        raise _fail(field, f"must be between 0 and {limit:,}, got {value:,}")
    return value


def _mapping(d: Any, field: str) -> dict:
    if d is None:
        raise _fail(field, "is missing")
    if not isinstance(d, dict):
        raise _fail(field, f"must be an object, got {type(d).__name__}")
    return d


def _text(value: Any, field: str, max_len: int = 4096) -> str:
    if value is None:
        raise _fail(field, "is missing")
    if not isinstance(value, str):
        raise _fail(field, f"must be text, got {type(value).__name__}")
    if len(value) > max_len:
        raise _fail(field, f"is {len(value):,} characters long (limit {max_len:,})")
    return value


def check_version_name(name: Any, field: str = "version") -> str:
    """``name`` if it is a safe version folder name (``v-...``, short, no path parts)."""
    name = _text(name, field, MAX_VERSION_NAME)
    if not _VERSION_NAME.fullmatch(name) or name.endswith(".tmp") or ".." in name:
        raise _fail(field, f"is not a version folder name (got {name[:40]!r})")
    return name


def check_artifact_path(name: Any, field: str = "files") -> str:
    """``name`` if it is a safe relative path inside a version folder."""
    name = _text(name, field, 512)
    parts = name.split("/")
    if not all(_ARTIFACT_PART.fullmatch(p) for p in parts) or any(p == ".." for p in parts):
        raise _fail(field, f"names an unsafe path {name[:60]!r}")
    return name


def validate_manifest(d: Any) -> dict:
    """``d`` itself if it has the shape an index manifest must have; else ``IndexCorruptError``
    naming the first bad field. Checks types and bounds, not checksums (the store does those).
    """
    d = _mapping(d, "the manifest")
    check_version_name(d.get("version"), "version")
    model = _mapping(d.get("model"), "model")
    _text(model.get("id"), "model.id", 512)
    dim = _count(model.get("dim"), "model.dim", 65536)
    if dim < 1:
        raise _fail("model.dim", "must be at least 1")
    corpus = _mapping(d.get("corpus"), "corpus")
    _text(corpus.get("dir"), "corpus.dir")
    for name, info in _mapping(corpus.get("files"), "corpus.files").items():
        field = f"corpus.files[{name[:60]!r}]"
        _text(name, field)
        info = _mapping(info, field)
        _count(info.get("bytes"), field + ".bytes")
        mtime = info.get("mtime_ns")
        if isinstance(mtime, bool) or not isinstance(mtime, int):
            raise _fail(field + ".mtime_ns", "must be a whole number")
        digest = info.get("sha256")
        if not isinstance(digest, str) or not (digest == "" or _SHA256.fullmatch(digest)):
            raise _fail(field + ".sha256", "must be a SHA-256 hex digest or empty")
    counts = _mapping(d.get("counts"), "counts")
    for key in ("documents", "paragraphs", "passages", "sentences", "skipped"):
        _count(counts.get(key), f"counts.{key}")
    dropped = _mapping(counts.get("dropped", {}), "counts.dropped")
    for key, value in dropped.items():
        _count(value, f"counts.dropped[{str(key)[:40]!r}]")
    files = _mapping(d.get("files"), "files")
    for name, info in files.items():
        check_artifact_path(name, "files")
        info = _mapping(info, f"files[{name!r}]")
        _count(info.get("bytes"), f"files[{name!r}].bytes")
        digest = info.get("sha256")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise _fail(f"files[{name!r}].sha256", "must be a SHA-256 hex digest")
    return d


def validate_pointer(d: Any) -> tuple[str, str]:
    """``(version, manifest_sha256)`` from a parsed ``CURRENT`` file, or ``IndexCorruptError``."""
    d = _mapping(d, "CURRENT")
    version = check_version_name(d.get("version"), "CURRENT.version")
    digest = d.get("manifest_sha256")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise _fail("CURRENT.manifest_sha256", "must be a SHA-256 hex digest")
    return version, digest


# --- .npy headers ----------------------------------------------------------------------------


def npy_shape(path: str | os.PathLike, max_rows: int, max_cols: int | None = None) -> tuple:
    """The shape in a ``.npy`` header, checked before numpy allocates anything.

    The first dimension may be at most ``max_rows`` (the manifest's count) and, for a 2-D
    array, the second at most ``max_cols``; the header must match the file's size exactly.
    A header claiming 4e12 rows would otherwise make ``np.load`` try to map terabytes.
    """
    name = Path(path).name
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(10)
        if len(head) < 10 or head[:6] != _NPY_MAGIC:
            raise _fail(name, "is not a .npy file")
        major = head[6]
        if major == 1:
            hlen = int.from_bytes(head[8:10], "little")
            start = 10
        elif major in (2, 3):
            head += fh.read(2)
            hlen = int.from_bytes(head[8:12], "little")
            start = 12
        else:
            raise _fail(name, f"has an unknown .npy version {major}")
        if hlen > _NPY_MAX_HEADER:
            raise _fail(name, f"has a {hlen:,}-byte header")
        raw = fh.read(hlen)
    try:
        header = ast.literal_eval(raw.decode("latin-1"))
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise _fail(name, "has an unreadable .npy header") from exc
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise _fail(name, "has an unexpected .npy header")
    descr, shape = header["descr"], header["shape"]
    if descr not in _NPY_DTYPES:
        raise _fail(name, f"has dtype {str(descr)[:20]!r}, not a plain number type")
    if not isinstance(shape, tuple) or not 1 <= len(shape) <= 2:
        raise _fail(name, "must be a 1-D or 2-D array")
    for i, n in enumerate(shape):
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise _fail(name, f"has a bad shape {shape!r}")
        if i == 0 and n > max_rows:
            raise _fail(name, f"claims {n:,} rows; the manifest counts {max_rows:,}")
        if i == 1 and max_cols is not None and n > max_cols:
            raise _fail(name, f"claims {n:,} columns; at most {max_cols:,} expected")
    itemsize = int(descr[2:])
    expected = start + hlen + math.prod(shape) * itemsize
    if expected != size:
        raise _fail(name, f"is {size:,} bytes; its header says {expected:,}")
    return shape
