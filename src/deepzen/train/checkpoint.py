"""Checkpoints that survive a kill at any moment and load with ``torch.load(weights_only=True)``.

Atomic write: the payload goes to a temporary file in the same folder, is flushed and ``fsync``-ed,
then ``os.replace``-d over the target (an atomic rename on POSIX and Windows), and the folder is
``fsync``-ed so the rename itself is durable. A reader therefore sees the old file or the new one,
never a torn one.

Everything in a checkpoint is a tensor or a plain container (dict, list, tuple, str, int, float,
bool, None): RNG states are stored as tensors, Python's ``random`` state as an int64 tensor.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from deepzen.train.optimizer_modes import evaluation_point

if TYPE_CHECKING:
    from deepzen.train.callbacks.base import Callback
    from deepzen.train.steps import Steps

FORMAT = "deepzen.checkpoint/1"


def atomic_save(payload: dict[str, Any], path: str | Path) -> Path:
    """Write ``payload`` to ``path`` with ``torch.save`` through temp file + fsync + ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: str | Path, map_location: str | torch.device | None = "cpu") -> dict[str, Any]:
    """Load a deepzen checkpoint with ``weights_only=True`` (no arbitrary pickle)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    payload = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a deepzen checkpoint (expected format {FORMAT!r})")
    return payload


def capture_rng_state() -> dict[str, Any]:
    """The state of every global generator, as tensors."""
    version, internal, gauss_next = random.getstate()
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": torch.tensor(internal, dtype=torch.int64),
        "python_version": int(version),
        "python_gauss": gauss_next,
        "numpy": torch.from_numpy(np.asarray(np_keys, dtype=np.int64).copy()),
        "numpy_kind": str(np_kind),
        "numpy_pos": int(np_pos),
        "numpy_has_gauss": int(np_has_gauss),
        "numpy_gauss": float(np_gauss),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`."""
    internal = tuple(int(v) for v in state["python"].tolist())
    random.setstate((state["python_version"], internal, state["python_gauss"]))
    keys = state["numpy"].numpy().astype(np.uint32)
    np.random.set_state(
        (state["numpy_kind"], keys, state["numpy_pos"], state["numpy_has_gauss"], state["numpy_gauss"])
    )
    torch.set_rng_state(state["torch"].cpu())
    cuda_states = state.get("cuda") or []
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda_states[: torch.cuda.device_count()]])


def full_state(trainer: Steps) -> dict[str, Any]:
    """What a checkpoint holds: model, optimizer, scaler, callbacks' states (by ``Class#index``),
    the loop state and the RNG states."""
    with evaluation_point(trainer.optimizer) as switched:           # Schedule-Free saves x
        model = trainer.model.state_dict()
        if switched:                                                 # the parameters go back to y below
            model = {k: v.detach().clone() for k, v in model.items()}
        optimizer = trainer.optimizer.state_dict()
    return {
        "format": FORMAT,
        "model": model,
        "optimizer": optimizer,
        "scaler": trainer.scaler.state_dict() if trainer.scaler is not None else None,
        "callbacks": {key: state for key, cb in callback_keys(trainer.callbacks).items() if (state := cb.state_dict())},
        "loop": trainer.state.state_dict(),
        "rng": capture_rng_state(),
        "processes": trainer.processes,
    }


def restore_full_state(trainer: Steps, state: dict[str, Any]) -> None:
    """Inverse of :func:`full_state`; a callback state with no matching callback is an error, and so is
    a checkpoint of a run in another number of processes (see :func:`check_processes`)."""
    check_processes(state.get("processes", 1), trainer.processes)
    trainer.model.load_state_dict(state["model"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    if trainer.scaler is not None and state.get("scaler"):
        trainer.scaler.load_state_dict(state["scaler"])
    keyed = callback_keys(trainer.callbacks)
    for key, cb_state in state["callbacks"].items():
        if key not in keyed:
            raise ValueError(f"checkpoint has state for callback {key!r} but this Trainer has: {', '.join(keyed)}")
        keyed[key].load_state_dict(cb_state)
    trainer.state.load_state_dict(state["loop"], trainer.device)
    restore_rng_state(state["rng"])


def check_processes(saved: int, requested: int) -> None:
    """A ValueError unless a checkpoint written by ``saved`` data-parallel processes is resumed by as many.

    Exact resume needs each rank's own RNG states and the same shares of every global batch (the
    float sums of the gradient depend on them), so another number of processes is refused."""
    if saved != requested:
        raise ValueError(f"the run was saved by {saved} process{'es' if saved != 1 else ''} and this resume asks for "
                         f"{requested}: resume with --nproc {saved} (exact resume keeps the number of processes)")


def callback_keys(callbacks: list[Callback]) -> dict[str, Callback]:
    """``{"EarlyStopping#0": cb, ...}``: class name and index among callbacks of that class."""
    keys: dict[str, Callback] = {}
    for cb in callbacks:
        name = type(cb).__name__
        index = sum(1 for k in keys if k.rsplit("#", 1)[0] == name)
        keys[f"{name}#{index}"] = cb
    return keys
