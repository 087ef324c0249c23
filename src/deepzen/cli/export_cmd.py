"""``deepzen export RUN_DIR --format pt2|onnx|safetensors [-o PATH]``: a trained run as a file that runs
without deepzen (``pt2``, ``onnx``) or loads with ``deepzen.load`` (``safetensors``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from deepzen.cli.common import console


def export(
    run_dir: Path = typer.Argument(..., help="A run folder written by deepzen train."),
    format: str = typer.Option("pt2", "--format", "-f", help="pt2 (torch.export), onnx or safetensors."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="File to write; default RUN_DIR/export/model.<format>."),
    checkpoint: str = typer.Option("best", "--checkpoint", help="best or last."),
) -> None:
    """Export a trained run's model (preprocessing included); a JSON beside it says how to call it."""
    from deepzen.deploy import export as export_run

    path = export_run(run_dir, format, output, which=checkpoint)
    console().print(f"exported to {path} (inputs, outputs and preprocessing: {path}.json)")
