"""Where a study lives and how its workers share it.

By default a study is an Optuna journal file, ``<study>/study.journal``: an append-only log that
several processes on one host may write at once (SQLite is not safe for concurrent writers). A
database URL (``postgresql://...``, ``mysql://...``) serves workers on many machines.

Crash safety. Each worker process holds an exclusive ``flock`` on ``<study>/workers/<token>.lock``
while it lives, and tags each trial it starts with its token. A RUNNING trial whose token's lock can
be taken belongs to a dead process: it is marked FAIL and its parameters are queued again (at most
:data:`MAX_RETRIES` times). Claiming a trial (count, then ``study.ask``) happens under
``<study>/claim.lock``, so N workers together finish exactly ``n_trials`` trials.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from deepzen.config import ConfigError

JOURNAL = "study.journal"
WORKER_ATTR = "deepzen:worker"  # system attr: token of the worker running the trial
RETRY_ATTR = "deepzen:retry_of"  # system attr: number of the crashed trial this one repeats
CRASHED_ATTR = "deepzen:crashed"  # system attr: the process died; repeated by a later trial
SURPLUS_ATTR = "deepzen:surplus"  # system attr: claimed past n_trials by a racing worker; ignored
MAX_RETRIES = 3

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no leases; dead trials stay RUNNING
    fcntl = None  # type: ignore[assignment]


def open_storage(url: str | None, study_dir: Path) -> BaseStorage:
    """The study storage: a journal file in ``study_dir`` (``url`` unset) or the database at ``url``.

    A URL that cannot be opened (bad scheme, missing driver, unreachable server, bad credentials)
    is a :class:`ConfigError` naming it, raised before any trial runs.
    """
    if url is None or url.startswith("journal:"):
        path = Path(url.removeprefix("journal:")) if url else study_dir / JOURNAL
        path.parent.mkdir(parents=True, exist_ok=True)
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        return JournalStorage(JournalFileBackend(str(path)))
    if "://" not in url:
        raise ConfigError(f"storage {url!r}: expected a database URL such as "
                          "postgresql://user:pass@host/db or mysql://..., or journal:PATH")
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=_engine_options(url))
    except Exception as err:  # noqa: BLE001 - SQLAlchemy and driver errors have no common base
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(f"storage {hide_password(url)}: cannot be opened: {reason}") from None


def _engine_options(url: str) -> dict[str, Any]:
    """Long-lived workers: check pooled connections before use (servers drop idle ones)."""
    return {} if url.startswith("sqlite") else {"pool_pre_ping": True}


def hide_password(url: str) -> str:
    """``postgresql://user:***@host/db``."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def is_local(storage: BaseStorage) -> bool:
    """True for a journal file, which only processes on this host share (claims can use a file lock)."""
    return isinstance(storage, optuna.storages.JournalStorage)


# ---------------------------------------------------------------------------------------------- locks
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


class WorkerLease:
    """This process's lock file: held while it lives, free once it dies (even by ``kill -9``)."""

    def __init__(self, study_dir: Path) -> None:
        self.folder = Path(study_dir) / "workers"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.token = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.path = self.folder / f"{self.token}.lock"
        self._handle = open(self.path, "w")
        if fcntl is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if not self._handle.closed:
            self._handle.close()
            with contextlib.suppress(OSError):
                self.path.unlink()

    def __enter__(self) -> WorkerLease:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def lease_alive(study_dir: Path, token: str) -> bool:
    """True while the worker ``token`` holds its lock (False once it died or released it)."""
    path = Path(study_dir) / "workers" / f"{token}.lock"
    if fcntl is None:
        return True  # cannot tell: never take a live trial away
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


def any_lease_alive(study_dir: Path, except_token: str | None = None) -> bool:
    folder = Path(study_dir) / "workers"
    tokens = [p.stem for p in folder.glob("*.lock")] if folder.is_dir() else []
    return any(lease_alive(study_dir, t) for t in tokens if t != except_token)


# ---------------------------------------------------------------------------------------------- recovery
def recover_dead_trials(study: optuna.Study, study_dir: Path, own_token: str | None = None) -> list[int]:
    """Mark the RUNNING trials of dead workers FAIL and queue their parameters again.

    A trial without a worker token (a process killed between claiming and tagging it) counts as dead
    only when no other worker is alive. Returns the numbers of the trials marked failed.
    """
    running = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))]
    if not running or fcntl is None:
        return []
    others_alive: bool | None = None
    failed = []
    for trial in running:
        token = trial.system_attrs.get(WORKER_ATTR)
        if token == own_token and own_token is not None:
            continue
        if token is None:
            if others_alive is None:
                others_alive = any_lease_alive(study_dir, own_token)
            if others_alive:
                continue
        elif lease_alive(study_dir, token):
            continue
        storage = study._storage
        first = trial.system_attrs.get(RETRY_ATTR, trial.number)
        retries = trial.system_attrs.get("deepzen:retries", 0)
        retry = retries < MAX_RETRIES  # past that, a genuine failure: stays FAIL and counts as finished
        try:
            if retry:  # tagged before the state change: a finished trial takes no more attributes
                storage.set_trial_system_attr(trial._trial_id, CRASHED_ATTR, True)
            storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another worker recovered it first
        failed.append(trial.number)
        if retry:
            study.add_trial(optuna.trial.create_trial(
                state=TrialState.WAITING,
                system_attrs={"fixed_params": dict(trial.params), RETRY_ATTR: first, "deepzen:retries": retries + 1},
            ))
    return failed


def counts_toward_total(trial: optuna.trial.FrozenTrial) -> bool:
    """Finished or running trials count toward ``n_trials``; crashed (repeated) and surplus ones don't."""
    if trial.state == TrialState.WAITING:
        return False
    return not (trial.system_attrs.get(CRASHED_ATTR) or trial.system_attrs.get(SURPLUS_ATTR))


__all__ = ["JOURNAL", "MAX_RETRIES", "WorkerLease", "counts_toward_total", "file_lock", "hide_password",
           "is_local", "lease_alive", "open_storage", "recover_dead_trials"]
