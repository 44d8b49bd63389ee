"""Atomic file writes: a temporary file in the same folder, flushed to disk, then renamed over the
destination. A crash, a full disk or an exception leaves either the old file or the new one, never
a half-written one, and the temporary file is removed on failure."""

from __future__ import annotations

import errno
import glob
import os
import shutil
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


LOW_SPACE = 16 << 20  # a write that fails with less free space than this failed for want of space


def disk_full(e: BaseException, folder: Path) -> bool:
    """Whether the failure ``e`` of a write into ``folder`` is a full disk: said so (ENOSPC, a quota),
    or any failure with next to no free space left there (writers such as ``torch.save`` and
    OpenVINO report it as a RuntimeError of their own)."""
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    try:
        return shutil.disk_usage(folder).free < LOW_SPACE
    except OSError:
        return False


@contextmanager
def replacing(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (ending in ``suffix``, for writers that choose the
    format by extension); when the block succeeds it is synced and renamed onto ``path``. On any
    failure the temporary file (and any file the writer made beside it under the same name with
    another extension) is removed; failures of the file system are reported for ``path``, never for
    the temporary name, and a full disk is said to be one."""
    dst = Path(path)
    if not dst.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"cannot write {dst}: the folder {dst.parent} does not exist", str(dst))
    # the temporary name stays under 255 bytes however long the destination's name is
    try:
        fd, name = tempfile.mkstemp(prefix=f".{dst.name[:120]}.", suffix=f".tmp{suffix}", dir=dst.parent)
    except OSError as e:
        raise _for(e, dst) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, dst)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        for extra in dst.parent.glob(f"{glob.escape(tmp.stem)}.*"):  # e.g. OpenVINO's .bin beside the .xml
            extra.unlink(missing_ok=True)
        if isinstance(e, Exception) and disk_full(e, dst.parent):
            raise OSError(errno.ENOSPC, "no space left on the disk; nothing was written", str(dst)) from e
        if isinstance(e, OSError) and e.filename and str(e.filename) == str(tmp):
            raise _for(e, dst) from e
        raise


def _for(e: OSError, dst: Path) -> OSError:
    """``e`` as a failure to write ``dst``."""
    return OSError(e.errno, e.strerror or str(e), str(dst))


def check_writable(path: str | os.PathLike, folder: bool = False) -> None:
    """Raise ``ValueError`` now, before any work, if ``path`` (a file in an existing folder, or with
    ``folder`` a folder that may not exist yet) could not be written later. Creates nothing."""
    p = Path(path)
    if folder and p.exists() and not p.is_dir():
        raise ValueError(f"{p}: exists and is not a folder")
    if not folder and p.is_dir():
        raise ValueError(f"{p}: is a folder; give a file name")
    if not folder and not p.parent.exists():
        raise ValueError(f"{p}: the folder {p.parent} does not exist; create it first or choose another path")
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
