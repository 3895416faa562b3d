"""The on-disk index: a versioned folder written atomically and verified before it is read.

Layout of an index folder::

    embeddings/
      CURRENT            {"version": "v-...", "manifest_sha256": "..."}; replaced atomically
      .lock              held (flock) by the one build allowed at a time
      v-<id>/            one complete, immutable version
        manifest.json    model, dimension, chunking settings, corpus file hashes, counts,
                         and the SHA-256 and size of every other file in the version
        passages.jsonl   one Passage per line, in FAISS row order
        documents.jsonl  cleaned documents (paragraphs, metadata, what was dropped)
        vectors.npy      passage vectors (float32, unit length); the embedding cache
        dense.faiss      FAISS inner-product index over those vectors
        bm25/            bm25s's own .npy/.json files
      milvus-lite.db/    the Milvus Lite collection, when built with --store milvus

A build writes a new ``v-*.tmp`` folder, fsyncs it, renames it to ``v-*``, then replaces
``CURRENT``. A build killed at any moment leaves the previous version intact and current; the
next build (holding the lock, so no live build owns them) removes the ``v-*.tmp`` it left.
Publishing keeps the version it replaces, so a reader that found the old ``CURRENT`` a moment
before can still open it; only older versions are deleted.

Every index file is opened with ``qa.fileio.open_regular`` (a FIFO or device in its place
cannot hang a reader) and the manifest is checked against a schema (``qa.safe_read``) before
any field is used.
Nothing here is pickled: JSON, JSON lines, ``.npy`` (``allow_pickle=False``) and FAISS's format.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import io
import json
import os
import shutil
import stat
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qa.errors import IndexCorruptError, IndexLockedError, IndexUnavailableError, QAError
from qa.fileio import (
    FileTooLargeError,
    file_sha256,
    fsync_dir,
    open_regular,
    read_regular,
    write_bytes_atomic,
)
from qa.safe_read import (
    MAX_MANIFEST_BYTES,
    MAX_POINTER_BYTES,
    check_version_name,
    validate_manifest,
    validate_pointer,
)

FORMAT_VERSION = 1
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
LOCK = ".lock"
REBUILD_HINT = "Fix: rebuild it with `qa index --index {path}` (or delete the folder)."


def check_index_dir(index_dir: Path) -> None:
    """Raise a ``QAError`` when ``index_dir`` names a file, or a path under a file.

    Called before anything is created, so ``--index somefile`` is one error line rather than a
    ``FileExistsError`` or ``NotADirectoryError`` traceback from ``mkdir``.
    """
    try:
        st = os.stat(index_dir)
    except FileNotFoundError:
        return  # a new index: created by the build
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            raise QAError(
                f"Index path {str(index_dir)!r} is under a file, not a folder. "
                "Fix: pass --index a folder path."
            ) from exc
        if exc.errno == errno.ELOOP:
            raise QAError(
                f"Index path {str(index_dir)!r} is a symlink loop. Fix: pass --index a folder."
            ) from exc
        raise QAError(
            f"Index path {str(index_dir)!r} cannot be read ({exc.strerror or exc}). "
            "Fix: pass --index a folder you can read."
        ) from exc
    if not stat.S_ISDIR(st.st_mode):
        raise QAError(
            f"Index path {str(index_dir)!r} is a file, not a folder. Fix: pass --index a folder."
        )


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` atomically (a temp file, fsync, ``os.replace``)."""
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
    write_bytes_atomic(path, text.encode("utf-8"))


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index folder's build lock; a second concurrent build fails at once."""
    check_index_dir(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    lock_path = index_dir / LOCK
    fh = open(lock_path, "a+")  # noqa: SIM115 - held open for the lock's whole lifetime
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                raise IndexLockedError(
                    f"Index {str(index_dir)!r} is being built by {holder}. Fix: wait for that "
                    "build to finish, then retry."
                ) from exc
            raise
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} since {time.strftime('%H:%M:%S')}")
        fh.flush()
        yield
    finally:
        fh.close()  # closing releases the flock


class VersionWriter:
    """Collects the files of a new version in a temp folder, then publishes it atomically."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.version = "v-" + time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        self.tmp = index_dir / f"{self.version}.tmp"
        self.tmp.mkdir(parents=True)

    def path(self, name: str) -> Path:
        """Where to write artifact ``name`` inside the new version."""
        p = self.tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def publish(self, manifest: dict[str, Any]) -> Path:
        """Checksum every file, write the manifest, fsync, rename, and switch ``CURRENT``."""
        files: dict[str, dict[str, Any]] = {}
        for p in sorted(self.tmp.rglob("*")):
            if p.is_file():
                with open(p, "rb+") as fh:
                    os.fsync(fh.fileno())
                files[p.relative_to(self.tmp).as_posix()] = {
                    "sha256": file_sha256(p),
                    "bytes": p.stat().st_size,
                }
        manifest = dict(manifest, format=FORMAT_VERSION, version=self.version, files=files)
        manifest_path = self.tmp / MANIFEST
        with open(manifest_path, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        for d in sorted({p.parent for p in self.tmp.rglob("*")} | {self.tmp}):
            fsync_dir(d)
        final = self.index_dir / self.version
        os.rename(self.tmp, final)
        fsync_dir(self.index_dir)
        previous = pointed_version(self.index_dir)
        write_json_atomic(
            self.index_dir / CURRENT,
            {"version": self.version, "manifest_sha256": file_sha256(final / MANIFEST)},
        )
        collect_garbage(self.index_dir, keep={self.version, previous, self.tmp.name})
        return final

    def abort(self) -> None:
        """Remove the unfinished version."""
        shutil.rmtree(self.tmp, ignore_errors=True)


def pointed_version(index_dir: Path) -> str:
    """The version name ``CURRENT`` names, or ``""`` when it is missing or unreadable."""
    try:
        raw = read_regular(index_dir / CURRENT, MAX_POINTER_BYTES)
        return validate_pointer(json.loads(raw.decode("utf-8")))[0]
    except (OSError, ValueError, QAError):
        return ""


def collect_garbage(index_dir: Path, keep: set[str]) -> None:
    """Remove versions not in ``keep`` and the temp folders and files of killed builds.

    Only called under the build lock: no live build can own a ``v-*.tmp`` then, so every one
    left is a killed build's. The version ``CURRENT`` named before a publish is kept (a reader
    may be opening it right now); it goes at the next publish.
    """
    keep = keep | {pointed_version(index_dir)}
    for p in index_dir.iterdir():
        if p.name.startswith("v-") and p.name not in keep and p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
    remove_dead_temps(index_dir)


def remove_dead_temps(index_dir: Path, own: Path | None = None) -> None:
    """Remove ``v-*.tmp`` folders and ``.CURRENT.*.tmp`` files of killed builds.

    Only called under the build lock, so none belongs to a live build except ``own``.
    """
    for p in index_dir.iterdir():
        if p == own or p.is_symlink():
            continue
        if p.name.startswith("v-") and p.name.endswith(".tmp") and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(".CURRENT.") and p.name.endswith(".tmp"):
            p.unlink(missing_ok=True)


def current_version(index_dir: Path) -> tuple[Path, dict[str, Any]]:
    """Find, checksum and return ``(version_folder, manifest)`` of the current version.

    Every artifact listed in the manifest is verified here, before any reader (FAISS, numpy,
    bm25s) opens it, so a damaged file can never reach a native parser.
    """
    hint = REBUILD_HINT.format(path=index_dir)
    check_index_dir(index_dir)
    if not index_dir.exists() or (index_dir.is_dir() and not any(index_dir.iterdir())):
        # An empty folder (made ahead of a first build) holds no index; it is not damaged.
        raise IndexUnavailableError(
            f"No index at {str(index_dir)!r}. Fix: build it with `qa index`."
        )
    pointer = index_dir / CURRENT
    if not os.path.lexists(pointer):
        raise IndexCorruptError(f"Index {str(index_dir)!r} has no {CURRENT} file. {hint}")
    version, expected_manifest = _read_pointer(index_dir, hint)
    folder = index_dir / version
    manifest_path = folder / MANIFEST
    try:
        raw = read_regular(manifest_path, MAX_MANIFEST_BYTES)
    except FileNotFoundError as exc:
        raise IndexCorruptError(
            f"Index {str(index_dir)!r}: the manifest is missing. {hint}"
        ) from exc
    except OSError as exc:
        raise IndexCorruptError(
            f"Index {str(index_dir)!r}: the manifest cannot be read ({exc.strerror or exc}). {hint}"
        ) from exc
    if hashlib.sha256(raw).hexdigest() != expected_manifest:
        raise IndexCorruptError(
            f"Index {str(index_dir)!r}: the manifest fails its checksum. {hint}"
        )
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        raise IndexCorruptError(
            f"Index {str(index_dir)!r}: the manifest is not JSON. {hint}"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise IndexUnavailableError(
            f"Index {str(index_dir)!r} has format {found!r}, this version reads "
            f"{FORMAT_VERSION}. {hint}"
        )
    try:
        validate_manifest(manifest)
    except IndexCorruptError as exc:
        raise IndexCorruptError(f"Index {str(index_dir)!r}: {exc}") from None
    _verify_files(index_dir, folder, manifest["files"], hint)
    return folder, manifest


def _read_pointer(index_dir: Path, hint: str) -> tuple[str, str]:
    """``(version, manifest_sha256)`` from ``CURRENT``, read as a small regular file."""
    where = f"Index {str(index_dir)!r}"
    try:
        raw = read_regular(index_dir / CURRENT, MAX_POINTER_BYTES)
    except OSError as exc:  # a FIFO, a folder, over the size limit, unreadable
        raise IndexCorruptError(
            f"{where}: {CURRENT} is damaged ({exc.strerror or exc}). {hint}"
        ) from exc
    damaged = IndexCorruptError(f"{where}: {CURRENT} is damaged. {hint}")
    try:
        cur = json.loads(raw.decode("utf-8"))
    except ValueError:
        raise damaged from None
    version = cur.get("version") if isinstance(cur, dict) else None
    try:
        check_version_name(version)
    except IndexCorruptError:
        if isinstance(version, str):  # "../../etc", a 100 MB name: never used as a path
            raise IndexCorruptError(f"{where}: bad version {version[:60]!r}. {hint}") from None
        raise damaged from None
    try:
        return validate_pointer(cur)
    except IndexCorruptError:
        raise damaged from None


def _verify_files(index_dir: Path, folder: Path, files: dict[str, Any], hint: str) -> None:
    """Every listed artifact is a regular file of the recorded size and checksum."""
    try:
        on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    except OSError as exc:
        raise IndexCorruptError(
            f"Index {str(index_dir)!r}: the version folder cannot be read ({exc}). {hint}"
        ) from exc
    on_disk.discard(MANIFEST)
    if set(files) != on_disk:
        missing = sorted(set(files) - on_disk)
        extra = sorted(on_disk - set(files))
        raise IndexCorruptError(
            f"Index {str(index_dir)!r}: files differ from the manifest "
            f"(missing {missing}, unexpected {extra}). {hint}"
        )
    for name, info in files.items():
        try:
            ok = file_sha256(folder / name, info["bytes"]) == info["sha256"]
        except (FileTooLargeError, OSError):
            ok = False
        if not ok:
            raise IndexCorruptError(
                f"Index {str(index_dir)!r}: {name} fails its checksum (damaged or truncated). {hint}"
            )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSON-lines file (already checksummed; opened only if it is a regular file)."""
    with open_regular(path) as raw, io.TextIOWrapper(raw, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_jsonl(path: Path, rows: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> int:
    """Write rows as JSON lines; returns how many."""
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def check_space(path: Path, need_bytes: int) -> None:
    """Fail early, with the fix, when the disk cannot hold a new version."""
    free = shutil.disk_usage(path).free
    if free < need_bytes:
        raise QAError(
            f"Not enough disk space in {str(path)!r}: {free:,} bytes free, about {need_bytes:,} "
            "needed. Fix: free some space and rebuild; the current index is untouched."
        )
