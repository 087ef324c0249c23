"""A throwaway PostgreSQL server for the tests: ``initdb`` + ``pg_ctl`` into a temporary folder, on a
free port of 127.0.0.1, password authentication over TCP, ``fsync`` off (the data is thrown away).

The binaries come from ``PATH`` or Debian's ``/usr/lib/postgresql/<version>/bin`` (not on ``PATH``).
``initdb`` refuses to run as root, so as root the server runs as the unprivileged ``postgres`` user
that Debian's package creates (or ``nobody``), through ``runuser``.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "deepzen"
SERVER_USERS = ("postgres", "nobody")


def find_binaries() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres`` (newest Debian version first), or None."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = sorted((p for p in debian.iterdir() if p.name.isdigit()), key=lambda p: int(p.name), reverse=True)
        candidates += [p / "bin" for p in versions]
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running server: ``url(database)`` gives a SQLAlchemy URL with the password in it."""

    folder: Path
    bin: Path
    port: int
    password: str
    run_as: str | None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, password=self.password,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        _run([str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop"],
             self.run_as, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def _run(command: list[str], run_as: str | None, check: bool = True) -> subprocess.CompletedProcess:
    if run_as is not None:
        command = ["runuser", "-u", run_as, "--", *command]
    return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120, cwd="/")


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in SERVER_USERS:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError(f"running as root and none of the users {SERVER_USERS} exists to run PostgreSQL")


def start(bin_folder: Path) -> Server:
    """A fresh server (raises ``RuntimeError`` with the server's own words when it cannot start)."""
    run_as = _server_user()
    folder = Path(tempfile.mkdtemp(prefix="deepzen-pg-"))
    password = secrets.token_hex(12)
    (folder / "pw").write_text(password + "\n")
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        for path in (folder, folder / "pw"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    init = _run([str(bin_folder / "initdb"), "-D", str(folder / "data"), "-U", USER, f"--pwfile={folder / 'pw'}",
                 "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "--no-sync", "-E", "UTF8"],
                run_as, check=False)
    if init.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
    last = ""
    for _ in range(3):  # the free port may be taken between probing and binding
        port = free_port()
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
        started = _run([str(bin_folder / "pg_ctl"), "-D", str(folder / "data"), "-l", str(folder / "log"),
                        "-o", options, "-w", "-t", "60", "start"], run_as, check=False)
        if started.returncode == 0:
            return Server(folder, bin_folder, port, password, run_as)
        last = (folder / "log").read_text(errors="replace")[-2000:] if (folder / "log").exists() else started.stderr
    shutil.rmtree(folder, ignore_errors=True)
    raise RuntimeError(f"pg_ctl start failed: {last.strip()}")
