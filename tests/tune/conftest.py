"""Fixtures of the tuning tests: a real PostgreSQL server for the whole session (one per pytest-xdist
worker) and a fresh database on it for each test.

Where the server cannot run (no binaries: install Debian's ``postgresql`` package, as ``.ci/run``
does) the tests marked ``postgres`` are skipped with that reason, except under CI (``CI`` set), where
a missing server is a failure: CI must really run them.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from tests.tune import postgres_server

_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[postgres_server.Server]:
    folder = postgres_server.find_binaries()
    if folder is None:
        reason = ("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH nor under "
                  "/usr/lib/postgresql/*/bin: install Debian's postgresql package (.ci/run does)")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    server = postgres_server.start(folder)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres: postgres_server.Server) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://deepzen:PASSWORD@127.0.0.1:PORT/db_N``) of an empty database."""
    return postgres.create_database(f"db_{os.getpid()}_{next(_databases)}")
