"""Worker leases on a PostgreSQL server: session-level advisory locks, for workers on many machines.

Each worker opens one connection of its own for its whole life and takes the advisory lock
``key(study, token)`` on it. The server frees a session's advisory locks when the session ends, and a
session ends when its process dies (``kill -9`` closes the socket at once; a machine that vanishes is
noticed through the TCP keepalives set on the session, within about :data:`KEEPALIVE_SECONDS`). So
``pg_try_advisory_lock`` on another worker's key succeeds exactly when that worker is gone.

Claims ("recover dead trials, count, ask, tag") take the advisory lock ``key(study, 'claim')``: one
worker at a time across every machine, so N workers finish exactly ``n_trials`` trials and none is
claimed past the total (no surplus trials). Optuna's own storage connections commit each write
before the claim lock is released, so the next claimer sees it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy
from sqlalchemy.pool import NullPool

#: Seconds until the server drops the session of a machine that vanished without closing it.
KEEPALIVE_SECONDS = 60
_KEEPALIVES = "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3"


def lock_key(study: str, name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name`` in ``study`` (BLAKE2b: collisions ~2^-64)."""
    digest = hashlib.blake2b(f"deepzen\0{study}\0{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def supports(url: str) -> bool:
    """True for a PostgreSQL URL (advisory locks are PostgreSQL's)."""
    return sqlalchemy.engine.make_url(url).get_backend_name() == "postgresql"


@contextlib.contextmanager
def schema_lock(url: str) -> Iterator[None]:
    """Hold the server-wide advisory lock under which deepzen processes create Optuna's tables: several
    machines opening a fresh database at once would otherwise race in ``CREATE TABLE`` (a unique
    violation in PostgreSQL's catalog)."""
    engine = sqlalchemy.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            key = {"key": lock_key("", "schema")}
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), key)
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), key)
    finally:
        engine.dispose()


class ServerLeases:
    """This worker's lease on the server (held until :meth:`release`) and the claim lock of ``study``."""

    exact_claims = True  # every worker of the study, on every machine, takes the same claim lock

    def __init__(self, url: str, study: str) -> None:
        self.study = study
        self.token = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._engine = sqlalchemy.create_engine(url, poolclass=NullPool, connect_args={"options": _KEEPALIVES})
        self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._call("pg_advisory_lock", self.token)

    def _call(self, function: str, name: str) -> Any:
        statement = sqlalchemy.text(f"SELECT {function}(:key)")
        return self._conn.execute(statement, {"key": lock_key(self.study, name)}).scalar()

    @contextlib.contextmanager
    def claim(self) -> Iterator[None]:
        """The claim section: one worker of the study at a time, on every machine."""
        self._call("pg_advisory_lock", "claim")
        try:
            yield
        finally:
            self._call("pg_advisory_unlock", "claim")

    def alive(self, token: str) -> bool:
        """True while the worker ``token`` holds its lease (its session is open)."""
        if token == self.token:
            return True
        if not self._call("pg_try_advisory_lock", token):
            return True
        self._call("pg_advisory_unlock", token)
        return False

    def release(self) -> None:
        if not self._conn.closed:
            self._conn.close()  # ends the session: the server frees its locks
            self._engine.dispose()

    def __enter__(self) -> ServerLeases:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


__all__ = ["KEEPALIVE_SECONDS", "ServerLeases", "lock_key", "schema_lock", "supports"]
