"""Worker leases on one host: ``flock`` on files in the study folder.

Each worker holds an exclusive ``flock`` on ``<study>/workers/<token>.lock`` while it lives; the kernel
frees it when the process dies, even by ``kill -9``, so a lock that can be taken marks a dead worker.
Claims take ``<study>/claim.lock``. Only processes sharing the study folder see these files: the
journal file's workers (the whole study), or the workers of one folder among others sharing a
database that has no server leases (see :mod:`server_leases`). Then another folder's workers are
out of sight: their trials are never taken for dead, and claims are exact only within the folder.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no leases; dead trials stay RUNNING
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (blocking); a no-op where flock is missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class FileLeases:
    """This process's lease in ``study_dir`` (held until :meth:`release`), and the others' liveness.

    ``whole_study``: every worker of the study uses this folder (a journal file). Then claims are
    exact (``exact_claims``) and every token is judged; otherwise only this folder's tokens are.
    """

    def __init__(self, study_dir: Path, whole_study: bool = True) -> None:
        self.study_dir = Path(study_dir)
        self.folder = self.study_dir / "workers"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.exact_claims = whole_study
        where = f"{socket.gethostname()}:{self.folder.resolve()}"
        self.prefix = "" if whole_study else f"{uuid.uuid5(uuid.NAMESPACE_URL, where).hex[:8]}."
        self.token = f"{self.prefix}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.path = self.folder / f"{self.token}.lock"
        self._handle = open(self.path, "w")
        if fcntl is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def claim(self) -> contextlib.AbstractContextManager[None]:
        """The claim section: at most one worker of this folder inside at a time."""
        return file_lock(self.study_dir / "claim.lock")

    def alive(self, token: str) -> bool:
        """True while the worker ``token`` holds its lock (False once it died or released it)."""
        if fcntl is None or not token.startswith(self.prefix):
            return True  # cannot tell: never take a live trial away
        path = self.folder / f"{token}.lock"
        if not path.exists():
            return False
        with open(path, "a") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            path.unlink()  # the dead worker's file, now known dead
        return False

    def release(self) -> None:
        if not self._handle.closed:
            self._handle.close()
            with contextlib.suppress(OSError):
                self.path.unlink()

    def __enter__(self) -> FileLeases:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


__all__ = ["FileLeases", "file_lock"]
