"""The launcher's environment: ``torchrun`` (or any launcher following its contract) sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` for every process it starts.

:func:`start` joins the process group: gloo on CPU, NCCL on CUDA (one device per local rank).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

#: Seconds a collective waits for a missing rank before it fails (a dead rank must not hang the others).
COLLECTIVE_TIMEOUT = 120


@dataclass(frozen=True)
class DistEnv:
    """Where this process stands among ``world_size`` processes (``rank`` 0 writes the outputs)."""

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int = 1  # processes of this run on this machine

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_environ(environ: dict[str, str] | None = None) -> DistEnv | None:
    """The launcher's ``DistEnv``, or ``None`` outside a launcher (``WORLD_SIZE`` unset)."""
    env = os.environ if environ is None else environ
    if "WORLD_SIZE" not in env:
        return None
    try:
        values = {name: int(env[name]) for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")
                  if name in env}
    except ValueError as err:
        raise ValueError(f"launcher environment: {err} (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE must be "
                         "integers)") from None
    world, rank = values["WORLD_SIZE"], values.get("RANK", 0)
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"launcher environment: RANK={rank}, WORLD_SIZE={world}: need 0 <= RANK < WORLD_SIZE")
    # without LOCAL_WORLD_SIZE (launchers other than torchrun), assume every rank is on this machine
    return DistEnv(rank, world, values.get("LOCAL_RANK", rank), max(1, values.get("LOCAL_WORLD_SIZE", world)))


def device_for(env: DistEnv, device: str = "auto") -> torch.device:
    """``cuda:<local_rank>`` when CUDA is asked for (or ``auto`` and present), else the CPU."""
    if device == "cpu" or (device == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError(f"device {device!r}: CUDA is not available on this machine (NCCL needs GPUs); "
                         "use device = 'cpu' (gloo)")
    return torch.device("cuda", env.local_rank)


def start(env: DistEnv, device: torch.device) -> None:
    """Join the process group (``env://``: the launcher's address and port): gloo on CPU, NCCL on CUDA."""
    if dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    try:
        dist.init_process_group(backend, rank=env.rank, world_size=env.world_size,
                                timeout=datetime.timedelta(seconds=COLLECTIVE_TIMEOUT))
    except dist.DistNetworkError as err:  # rank 0 hosts the store: its port is taken
        if "EADDRINUSE" not in str(err):
            raise
        where = f"{os.environ.get('MASTER_ADDR', 'localhost')}:{os.environ.get('MASTER_PORT', '?')}"
        raise ValueError(f"MASTER_PORT {os.environ.get('MASTER_PORT')!r}: the address {where} is already in use "
                         "(another run?); choose a free port, or use torchrun --standalone / deepzen train "
                         "--nproc N without MASTER_PORT, which pick one") from None


def stop() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


__all__ = ["COLLECTIVE_TIMEOUT", "DistEnv", "device_for", "from_environ", "start", "stop"]
