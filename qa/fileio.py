"""File helpers shared by the store, the corpus reader and the model cache: safe reads,
hashing, atomic writes.

A path in a corpus or an index folder can be a FIFO (opening it blocks until a writer comes),
a device, a socket, a directory, a symlink loop, or a file that grows while it is read. Every
reader here opens with ``O_NONBLOCK``, checks with ``fstat`` on the open descriptor that it
really is a regular file (so a swap between a ``stat`` and an ``open`` cannot slip a FIFO in),
and never reads more than a stated number of bytes.

A leaf module: it imports nothing from ``qa``.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_BLOCK = 1 << 20


class NotRegularFileError(OSError):
    """The path is a FIFO, socket, device or directory, not a regular file."""


class FileTooLargeError(OSError):
    """The file is bigger than the caller's limit."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def describe(path: str | os.PathLike) -> str:
    """What ``path`` is, for a message: ``"a FIFO (named pipe)"``, ``"a symlink loop"``..."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symlink loop"
        if exc.errno == errno.ENOENT and os.path.islink(path):
            return "a symlink to a missing file"
        return f"unreadable ({exc.strerror or exc})"
    return _kind(os.stat(path).st_mode)


@contextmanager
def open_regular(path: str | os.PathLike, max_bytes: int | None = None) -> Iterator[BinaryIO]:
    """Open ``path`` for binary reading only if it is a regular file of at most ``max_bytes``.

    Raises ``NotRegularFileError`` / ``FileTooLargeError`` (both ``OSError``) or the
    ``OSError`` of the open itself (missing, permission, symlink loop): callers that already
    handle unreadable files need no new ``except`` clause.
    """
    # O_NONBLOCK: opening a FIFO with no writer returns at once instead of blocking forever.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFileError(errno.EINVAL, f"{_kind(st.st_mode)}, not a file", str(path))
        if max_bytes is not None and st.st_size > max_bytes:
            raise FileTooLargeError(
                errno.EFBIG, f"{st.st_size:,} bytes is over the {max_bytes:,}-byte limit", str(path)
            )
        os.set_blocking(fd, True)
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with fh:
        yield fh


def read_regular(path: str | os.PathLike, max_bytes: int) -> bytes:
    """All bytes of a regular file of at most ``max_bytes`` (checked again after reading,
    since a file can grow between the ``fstat`` and the read)."""
    with open_regular(path, max_bytes) as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLargeError(
            errno.EFBIG, f"grew past the {max_bytes:,}-byte limit while read", str(path)
        )
    return data


def file_sha256(path: str | os.PathLike, max_bytes: int | None = None) -> str:
    """SHA-256 hex digest of a regular file's bytes; ``""`` for a FIFO, socket, device or folder.

    Other failures (missing, no permission, symlink loop, over ``max_bytes``) raise ``OSError``.
    """
    h = hashlib.sha256()
    try:
        with open_regular(path, max_bytes) as fh:
            for block in iter(lambda: fh.read(_BLOCK), b""):
                h.update(block)
    except NotRegularFileError:
        # Opening a FIFO blocks until a writer appears: a named pipe in the corpus hung builds.
        return ""
    return h.hexdigest()


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
