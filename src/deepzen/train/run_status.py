"""Where a run stands, in words: what ``deepzen train --resume`` continues from, and what an interrupted
run left behind, read from the run folder's ``checkpoints/last.pt`` (its ``loop`` entry).

    >>> print(resume_note("runs/cnn-digits", epochs=15))
    resuming runs/cnn-digits from checkpoints/last.pt: 3 of 15 epochs done and 20 batches of epoch 4 (step 140)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from deepzen.train.checkpoint import FORMAT
from deepzen.train.run_dir import RunDir


@dataclass(frozen=True)
class SavedPosition:
    """The training position a checkpoint holds: finished epochs, batches finished in the next epoch,
    optimizer steps."""

    path: Path
    epochs_done: int
    batches_done: int
    step: int

    def describe(self, epochs: int) -> str:
        """``3 of 15 epochs done and 20 batches of epoch 4 (step 140)``."""
        text = f"{self.epochs_done} of {epochs} epochs done"
        if self.batches_done:
            text += f" and {self.batches_done} batches of epoch {self.epochs_done + 1}"
        return f"{text} (step {self.step})"


def saved_position(run_dir: str | Path) -> SavedPosition | None:
    """The position in ``<run_dir>/checkpoints/last.pt``, ``None`` when there is none (or it is not a
    deepzen checkpoint). Memory-maps the file, so the weights are not read."""
    path = RunDir(run_dir).last_checkpoint
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except (RuntimeError, OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        return None
    loop = state["loop"]
    return SavedPosition(path, int(loop["epoch"]), int(loop["batch_in_epoch"]), int(loop["global_step"]))


def resume_note(run_dir: str | Path, epochs: int) -> str:
    """What ``--resume`` is about to do with ``run_dir`` (planned ``epochs`` in all)."""
    position = saved_position(run_dir)
    if position is None:
        return f"{run_dir} has no checkpoint yet: training it from the start"
    if position.epochs_done >= epochs and not position.batches_done:
        return f"{run_dir} finished its {epochs} epochs: evaluating it again"
    where = position.path.relative_to(Path(run_dir))
    return f"resuming {run_dir} from {where.as_posix()}: {position.describe(epochs)}"


def interrupt_note(run_dir: str | Path, epochs: int, command: str) -> str:
    """What an interrupted run left in ``run_dir``, and ``command``, which continues it."""
    position = saved_position(run_dir)
    if position is None:
        return "interrupted before the first checkpoint: nothing to resume yet; run the same command again"
    return (f"interrupted; saved {position.path}: {position.describe(epochs)}; the batches after it are "
            f"trained again.\ncontinue with: {command}")
