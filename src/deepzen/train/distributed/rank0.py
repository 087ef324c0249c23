"""The rank-0 rule: one process (rank 0) chooses the run folder, writes every output and prints; the
others train the same replicas silently. Outside a launcher every process is rank 0 of one.
"""

from __future__ import annotations

from typing import Callable, TypeVar

import torch
import torch.distributed as dist

from deepzen.train.distributed.env import DistEnv, device_for, from_environ, start

T = TypeVar("T")
_joined: DistEnv | None = None


def join(device: str = "auto") -> DistEnv | None:
    """Under a launcher with several processes: start the process group (once) and return this rank's
    :class:`DistEnv`; otherwise ``None`` (a plain single-process run)."""
    global _joined
    env = from_environ()
    if env is None or env.world_size == 1:
        return None
    if _joined is None:
        start(env, device_for(env, device))
        _joined = env
    return _joined


def current() -> DistEnv | None:
    """This process's :class:`DistEnv` once :func:`join` started the group, else ``None``."""
    return _joined if _joined is not None and dist.is_initialized() else None


def is_main() -> bool:
    env = current()
    return env is None or env.is_main


def agree(make: Callable[[], T]) -> T:
    """``make()`` on rank 0, its result sent to every rank (a run folder, say)."""
    if current() is None:
        return make()
    box = [make() if is_main() else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]  # type: ignore[return-value]


def barrier() -> None:
    """Wait until every rank is here (rank 0's files are written)."""
    if current() is not None:
        dist.barrier(device_ids=[torch.cuda.current_device()] if dist.get_backend() == "nccl" else None)


__all__ = ["agree", "barrier", "current", "is_main", "join"]
