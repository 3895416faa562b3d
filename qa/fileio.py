"""File helpers shared by the store, the corpus reader and the model cache: hashing, atomic writes.

A leaf module: it imports nothing from ``qa``.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file's bytes; ``""`` for a FIFO, socket or device."""
    # Opening a FIFO blocks until a writer appears: a named pipe in the corpus hung builds.
    if not stat.S_ISREG(os.stat(path).st_mode):
        return ""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries to disk, so a rename in it survives a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_beside(path: Path) -> str:
    """A new, empty temp file in the target's folder, so ``os.replace`` is an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    # mkstemp makes 0600 files; other users of a shared model cache must be able to read it.
    os.chmod(tmp, 0o644)
    return tmp


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file beside it and ``os.replace``.

    Readers see the old file or the new one, never a part. The file is fsynced before the
    rename and the folder after it.
    """
    tmp = temp_beside(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
