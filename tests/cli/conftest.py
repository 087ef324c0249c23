"""Helpers for the command-line tests: the real command in a subprocess, or ``main`` in-process (faster,
same code path after argument parsing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from deepzen.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@pytest.fixture(autouse=True)
def keep_torch_threads():
    """Configs may set ``training.threads`` (process-wide); restore it for the other tests."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def deepzen(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m deepzen ARGS`` in a subprocess, output captured as text."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "deepzen", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env=env)


def call(capsys: Any, *args: str) -> tuple[int, str, str]:
    """``deepzen ARGS`` in-process: ``(exit code, stdout, stderr)``."""
    try:
        main(list(args))
        code = 0
    except SystemExit as stop:
        code = int(stop.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def summary(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text())
