"""Files kubegate writes that a reader, or a crash, must never see half-written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from kubegate.errors import KubegateError


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write via a temp file born 0600 and renamed into place.

    A key must never exist with a wider mode, not even between create and chmod, and a reader
    (or a crash) must never see half a file.
    """
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise KubegateError(f"cannot write {path}: {e.strerror}; make {path.parent} writable") from e
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise KubegateError(f"cannot write {path}: {e.strerror}; make {path.parent} writable") from e
