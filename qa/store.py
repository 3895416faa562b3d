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
``CURRENT``. A build killed at any moment leaves the previous version intact and current.
Nothing here is pickled: JSON, JSON lines, ``.npy`` (``allow_pickle=False``) and FAISS's format.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qa.errors import IndexCorruptError, IndexLockedError, IndexUnavailableError, QAError
from qa.fileio import file_sha256, fsync_dir, write_bytes_atomic

FORMAT_VERSION = 1
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
LOCK = ".lock"
REBUILD_HINT = "Fix: rebuild it with `qa index --index {path}` (or delete the folder)."


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` atomically (a temp file, fsync, ``os.replace``)."""
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
    write_bytes_atomic(path, text.encode("utf-8"))


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index folder's build lock; a second concurrent build fails at once."""
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
        write_json_atomic(
            self.index_dir / CURRENT,
            {"version": self.version, "manifest_sha256": file_sha256(final / MANIFEST)},
        )
        _collect_garbage(self.index_dir, keep=self.version)
        return final

    def abort(self) -> None:
        """Remove the unfinished version."""
        shutil.rmtree(self.tmp, ignore_errors=True)


def _collect_garbage(index_dir: Path, keep: str) -> None:
    """Remove old versions and leftovers of killed builds (only called under the lock)."""
    for p in index_dir.iterdir():
        if p.name.startswith("v-") and p.name != keep and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(".CURRENT.") and p.name.endswith(".tmp"):
            p.unlink(missing_ok=True)


def current_version(index_dir: Path) -> tuple[Path, dict[str, Any]]:
    """Find, checksum and return ``(version_folder, manifest)`` of the current version.

    Every artifact listed in the manifest is verified here, before any reader (FAISS, numpy,
    bm25s) opens it, so a damaged file can never reach a native parser.
    """
    hint = REBUILD_HINT.format(path=index_dir)
    if not index_dir.exists() or (index_dir.is_dir() and not any(index_dir.iterdir())):
        # An empty folder (made ahead of a first build) holds no index; it is not damaged.
        raise IndexUnavailableError(
            f"No index at {str(index_dir)!r}. Fix: build it with `qa index`."
        )
    pointer = index_dir / CURRENT
    if not pointer.exists():
        raise IndexCorruptError(f"Index {str(index_dir)!r} has no {CURRENT} file. {hint}")
    try:
        cur = json.loads(pointer.read_text(encoding="utf-8"))
        version = str(cur["version"])
        expected_manifest = str(cur["manifest_sha256"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorruptError(f"Index {str(index_dir)!r}: {CURRENT} is damaged. {hint}") from exc
    if "/" in version or version.startswith(".") or not version.startswith("v-"):
        raise IndexCorruptError(f"Index {str(index_dir)!r}: bad version {version!r}. {hint}")
    folder = index_dir / version
    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        raise IndexCorruptError(f"Index {str(index_dir)!r}: the manifest is missing. {hint}")
    if file_sha256(manifest_path) != expected_manifest:
        raise IndexCorruptError(
            f"Index {str(index_dir)!r}: the manifest fails its checksum. {hint}"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise IndexCorruptError(
            f"Index {str(index_dir)!r}: the manifest is not JSON. {hint}"
        ) from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexUnavailableError(
            f"Index {str(index_dir)!r} has format {manifest.get('format')!r}, this version reads "
            f"{FORMAT_VERSION}. {hint}"
        )
    files = manifest.get("files") or {}
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    on_disk.discard(MANIFEST)
    if set(files) != on_disk:
        missing = sorted(set(files) - on_disk)
        extra = sorted(on_disk - set(files))
        raise IndexCorruptError(
            f"Index {str(index_dir)!r}: files differ from the manifest "
            f"(missing {missing}, unexpected {extra}). {hint}"
        )
    for name, info in files.items():
        p = folder / name
        if p.stat().st_size != info["bytes"] or file_sha256(p) != info["sha256"]:
            raise IndexCorruptError(
                f"Index {str(index_dir)!r}: {name} fails its checksum (damaged or truncated). {hint}"
            )
    return folder, manifest


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSON-lines file (already checksummed)."""
    with open(path, encoding="utf-8") as fh:
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
