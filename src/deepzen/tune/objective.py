"""One trial: sample values, build the experiment config, train it like ``deepzen train`` into
``<study>/trials/<number>/``, report the validation metric to Optuna after every epoch, and stop
early when the pruner says so.

A trial's value is the best validation value over its epochs (the epoch ``best.pt`` holds, since
``training.monitor`` defaults to the tuned metric). The test split plays no part.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import optuna
from optuna.trial import TrialState

from deepzen.config import ConfigError
from deepzen.config.tune import SearchParam
from deepzen.train.callbacks import Callback
from deepzen.tune.space import suggest, trial_config

TRIALS = "trials"


def trial_folder(study_dir: Path, number: int) -> Path:
    return Path(study_dir) / TRIALS / f"{number:04d}"


class ReportToTrial(Callback):
    """After each epoch: ``trial.report(logs[metric], epoch)``; stops training when the trial should be pruned."""

    def __init__(self, trial: optuna.Trial, metric: str) -> None:
        self.trial, self.metric = trial, metric
        self.values: list[float] = []
        self.pruned_at: int | None = None

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        if self.metric not in logs:
            raise ConfigError(f"tune.metric = {self.metric!r} is not logged; logged: "
                              f"{', '.join(k for k in logs if k.startswith('val_'))}")
        value = float(logs[self.metric])
        step = int(logs.get("epoch", epoch + 1))
        self.values.append(value)
        if math.isfinite(value):
            self.trial.report(value, step)
        if self.trial.should_prune():
            self.pruned_at = step
            trainer.stop(f"trial {self.trial.number} pruned after epoch {step}")


@dataclass
class TrialOutcome:
    """What happened in one trial (for the progress line)."""

    number: int
    state: TrialState
    value: float | None
    values: dict[str, Any]
    seconds: float
    note: str = ""
    epochs: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def best_of(values: Sequence[float], direction: str) -> float | None:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    return max(finite) if direction == "maximize" else min(finite)


def run_trial(study: optuna.Study, trial: optuna.Trial, params: Sequence[SearchParam], base: dict[str, Any],
              metric: str, study_dir: Path, train: Callable[..., Any]) -> TrialOutcome:
    """Run ``trial`` and tell the study its result. ``train(config, run_dir, callbacks)`` trains one
    experiment (``deepzen.train.experiment.run``) and returns its result (``.history``).

    A sampled config that is invalid, or a training run whose loss turned non-finite, is a FAIL
    (counted; the study goes on). Any other error marks the trial FAIL and is raised.
    """
    started = time.perf_counter()
    values: dict[str, Any] = {}
    folder = trial_folder(study_dir, trial.number)
    trial.set_user_attr("run_dir", str(folder.relative_to(study_dir)))

    def finish(state: TrialState, value: float | None = None, note: str = "", epochs: int = 0) -> TrialOutcome:
        if note:
            trial.set_user_attr("note", note)
        study.tell(trial, value if state == TrialState.COMPLETE else None, state=state)
        return TrialOutcome(trial.number, state, value, values, time.perf_counter() - started, note, epochs)

    try:
        values = suggest(trial, params)
        config = trial_config(base, values)
    except ConfigError as err:
        return finish(TrialState.FAIL, note=f"invalid config: {err}")
    reporter = ReportToTrial(trial, metric)
    try:
        result = train(config, folder, [reporter])
    except ConfigError as err:
        return finish(TrialState.FAIL, note=str(err))
    except KeyboardInterrupt:
        raise  # left RUNNING: the next run finds its worker gone and repeats the trial
    except Exception:
        study.tell(trial, state=TrialState.FAIL)
        raise
    history = result.history
    epochs = len(reporter.values)
    if history.failed:
        return finish(TrialState.FAIL, note=f"training failed: {history.stop_reason}", epochs=epochs)
    if reporter.pruned_at is not None:
        return finish(TrialState.PRUNED, note=f"pruned after epoch {reporter.pruned_at}", epochs=epochs)
    value = best_of(reporter.values, study.direction.name.lower())
    if value is None:
        return finish(TrialState.FAIL, note=f"{metric} was never finite", epochs=epochs)
    return finish(TrialState.COMPLETE, value, epochs=epochs)


__all__ = ["ReportToTrial", "TrialOutcome", "best_of", "run_trial", "trial_folder"]
