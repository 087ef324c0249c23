"""``deepzen train CONFIG --nproc N``: start torchrun's elastic launcher (``torch.distributed.run``) on
``deepzen train CONFIG ...`` with N processes, as Lightning's subprocess launcher does. On several
machines, call ``torchrun --nnodes ... --rdzv-*  -m deepzen train CONFIG`` directly: the ranks read the
same environment.

The rendezvous port: torchrun's ``--standalone`` picks a free one; with ``MASTER_PORT`` set, that port
is used (``--master-port``) and checked first. :func:`preflight` turns the mistakes that would otherwise
fail inside every rank (a taken port, CUDA asked for where there is none) into one clear error before
any process starts.

When a rank dies, the launcher stops the others and exits non-zero, naming the failed rank.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

#: Most processes ``--nproc`` starts on one machine.
MAX_NPROC = 1024


def check_nproc(nproc: int) -> int:
    if not 1 <= nproc <= MAX_NPROC:
        raise ValueError(f"--nproc {nproc}: give a number of processes from 1 to {MAX_NPROC}")
    return nproc


def under_launcher() -> bool:
    """True inside a process that a launcher started (``WORLD_SIZE`` set)."""
    return "WORLD_SIZE" in os.environ


def master_port(environ: dict[str, str] | None = None) -> int | None:
    """``MASTER_PORT`` as an int (``None`` when unset), or a ValueError naming the bad value."""
    value = (os.environ if environ is None else environ).get("MASTER_PORT")
    if value is None or value == "":
        return None
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ValueError(f"MASTER_PORT {value!r}: give a port number from 1 to 65535, or unset it (a free port is "
                         "picked)")
    return int(value)


def check_port_free(port: int, host: str = "127.0.0.1") -> None:
    """A ValueError when nothing can listen on ``host:port`` (another process holds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as err:
            raise ValueError(f"MASTER_PORT {port}: the port is already in use on this machine ({err.strerror}); "
                             "choose a free port, or unset MASTER_PORT and a free one is picked") from None


def preflight(device: str) -> None:
    """Checks before starting the processes: ``MASTER_PORT`` (when set) is free, and ``device`` (the
    config's ``training.device``) exists: ``cuda`` means NCCL, one GPU per process."""
    from deepzen.train.distributed.env import DistEnv, device_for

    port = master_port()
    if port is not None:
        check_port_free(port)
    device_for(DistEnv(0, 1, 0), device)


def processes(nproc: int | None) -> int:
    """How many processes this run trains in: the launcher's ``WORLD_SIZE`` inside one, else ``nproc`` (1)."""
    world = os.environ.get("WORLD_SIZE", "")
    return int(world) if world.isdigit() else nproc or 1


def launch(train_args: list[str], nproc: int) -> int:
    """Run ``deepzen train *train_args`` in ``nproc`` processes under torchrun; returns its exit code."""
    check_nproc(nproc)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    port = master_port()
    rendezvous = ["--standalone"] if port is None else ["--nnodes=1", "--master-addr=127.0.0.1", f"--master-port={port}"]
    command = [sys.executable, "-m", "torch.distributed.run", *rendezvous, f"--nproc_per_node={nproc}",
               "-m", "deepzen", "train", *train_args]
    return subprocess.run(command, env=env).returncode


__all__ = ["MAX_NPROC", "check_nproc", "check_port_free", "launch", "master_port", "preflight", "processes",
           "under_launcher"]
