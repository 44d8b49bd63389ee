"""Atomic file writes: a temporary file in the same folder, flushed to disk, then renamed over the
destination. A crash, a full disk or an exception leaves either the old file or the new one, never
a half-written one, and the temporary file is removed on failure."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (ending in ``suffix``, for writers that choose the
    format by extension); when the block succeeds it is synced and renamed onto ``path``."""
    dst = Path(path)
    # the temporary name stays under 255 bytes however long the destination's name is
    fd, name = tempfile.mkstemp(prefix=f".{dst.name[:120]}.", suffix=f".tmp{suffix}", dir=dst.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_writable(path: str | os.PathLike, folder: bool = False) -> None:
    """Raise ``ValueError`` now, before any work, if ``path`` (a file, or with ``folder`` a folder
    that may not exist yet) could not be written later."""
    p = Path(path)
    if folder and p.exists() and not p.is_dir():
        raise ValueError(f"{p}: exists and is not a folder")
    if not folder and p.is_dir():
        raise ValueError(f"{p}: is a folder; give a file name")
    parent = p.parent if not folder else p
    while not parent.exists():  # the nearest existing ancestor must be a writable folder
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{p}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{p}: {parent} is not writable")


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with replacing(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode())
