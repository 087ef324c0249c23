"""Where a study lives and how its workers share it.

By default a study is an Optuna journal file, ``<study>/study.journal``: an append-only log that
several processes on one host may write at once (SQLite is not safe for concurrent writers). A
database URL (``postgresql+psycopg://user:pass@host/db``, ``mysql://...``) serves workers on many
machines.

Crash safety. Each worker holds a lease while it lives (:func:`open_leases`: a ``flock`` in the
study folder, or an advisory lock on a PostgreSQL server) and tags each trial it starts with its
token. A RUNNING trial whose worker's lease is free belongs to a dead process: it is marked FAIL and
its parameters are queued again (at most :data:`MAX_RETRIES` times). Claiming a trial (recover,
count, then ``study.ask``) happens inside the leases' claim section, so N workers together finish
exactly ``n_trials`` trials.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

import optuna
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from deepzen.config import ConfigError
from deepzen.tune import server_leases
from deepzen.tune.file_leases import FileLeases

JOURNAL = "study.journal"
WORKER_ATTR = "deepzen:worker"  # system attr: token of the worker running the trial
RETRY_ATTR = "deepzen:retry_of"  # system attr: number of the crashed trial this one repeats
CRASHED_ATTR = "deepzen:crashed"  # system attr: the process died; repeated by a later trial
SURPLUS_ATTR = "deepzen:surplus"  # system attr: claimed past n_trials by a racing worker; ignored
MAX_RETRIES = 3


class Leases(Protocol):
    """A worker's lease and what it can tell about the others' (:mod:`file_leases`, :mod:`server_leases`)."""

    token: str
    exact_claims: bool  # the claim section excludes every other worker of the study

    def claim(self) -> Any: ...  # a context manager: the claim section
    def alive(self, token: str) -> bool: ...
    def release(self) -> None: ...
    def __enter__(self) -> Leases: ...
    def __exit__(self, *exc: Any) -> None: ...


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
        raise ConfigError(f"storage {hide_password(url)!r}: expected a database URL such as "
                          "postgresql+psycopg://user:pass@host/db or mysql://..., or journal:PATH")
    url_with_driver = with_driver(url)
    try:
        exclusive = server_leases.schema_lock if server_leases.supports(url) else contextlib.nullcontext
        with exclusive(url_with_driver):
            return optuna.storages.RDBStorage(url_with_driver, engine_kwargs=_engine_options(url))
    except Exception as err:  # noqa: BLE001 - SQLAlchemy and driver errors have no common base
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(f"storage {hide_password(url)}: cannot be opened: {redact(reason, url)}") from None


def with_driver(url: str) -> str:
    """``postgresql://`` means SQLAlchemy's default driver, psycopg2; where only psycopg 3 is
    installed (deepzen's test extra), use it: ``postgresql+psycopg://``."""
    scheme, sep, rest = url.partition("://")
    if scheme not in ("postgresql", "postgres"):
        return url
    import importlib.util

    if importlib.util.find_spec("psycopg2") is None and importlib.util.find_spec("psycopg") is not None:
        return f"postgresql+psycopg{sep}{rest}"
    return url


def open_leases(storage: BaseStorage, url: str | None, study_dir: Path, study_name: str) -> Leases:
    """This worker's lease: on the server for PostgreSQL, else a file lock in ``study_dir`` (exact for a
    journal file; for another database, only among the workers started from this folder)."""
    if url is not None and not is_local(storage) and server_leases.supports(url):
        return server_leases.ServerLeases(with_driver(url), study_name)
    return FileLeases(study_dir, whole_study=is_local(storage))


def _engine_options(url: str) -> dict[str, Any]:
    """Long-lived workers: check pooled connections before use (servers drop idle ones)."""
    return {} if url.startswith("sqlite") else {"pool_pre_ping": True}


_USERINFO = re.compile(r"^(?P<head>[^:/?#]+://[^:/?#@]*:)(?P<password>.*)@(?=[^@]*$)")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def hide_password(url: str) -> str:
    """``postgresql://user:***@host/db``: the password (in the user info, up to the last ``@`` of the
    address, or as a ``password=`` query parameter) replaced by ``***``."""
    address, sep, query = url.partition("?")
    address = _USERINFO.sub(r"\g<head>***@", address)
    return address + _QUERY_PASSWORD.sub(r"\1***", sep + query)


def passwords_in(url: str) -> list[str]:
    """The password(s) ``url`` holds, as written and decoded (empty when none)."""
    address, _, query = url.partition("?")
    found = [m.group("password") for m in [_USERINFO.match(address)] if m]
    found += [m.group(0).split("=", 1)[1] for m in _QUERY_PASSWORD.finditer("?" + query)]
    return [p for text in found if text for p in dict.fromkeys([text, unquote(text)])]


def redact(text: str, url: str) -> str:
    """``text`` (a driver's error message, say) with every password of ``url`` replaced by ``***``."""
    for password in sorted(passwords_in(url), key=len, reverse=True):
        text = text.replace(password, "***")
    return text


def is_local(storage: BaseStorage) -> bool:
    """True for a journal file, which only processes on this host share (claims can use a file lock)."""
    return isinstance(storage, optuna.storages.JournalStorage)


# ---------------------------------------------------------------------------------------------- recovery
def recover_dead_trials(study: optuna.Study, leases: Leases) -> list[int]:
    """Mark the RUNNING trials of dead workers FAIL and queue their parameters again; call it inside
    ``leases.claim()``. Returns the numbers of the trials marked failed.

    A trial without a worker token belongs to a process killed between claiming and tagging it, both
    done inside the claim section: dead for sure when that section excludes every worker
    (``leases.exact_claims``), else left alone.
    """
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        token = trial.system_attrs.get(WORKER_ATTR)
        if token is None and not leases.exact_claims:
            continue
        if token is not None and (token == leases.token or leases.alive(token)):
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


__all__ = ["JOURNAL", "MAX_RETRIES", "Leases", "counts_toward_total", "hide_password", "is_local", "open_leases",
           "open_storage", "recover_dead_trials", "redact", "with_driver"]
