"""One experiment from one config: data, model, optimizer, loss, penalties, schedule, callbacks,
``Trainer.fit`` into a run directory, then one final evaluation on the test split.

    >>> result = run(load_config("examples/mlp_iris.toml"))
    >>> result.test["accuracy"], result.run_dir

Tuning reuses :func:`run` with ``on_epoch`` (report the validation metric each epoch) and ``callbacks``
(e.g. a pruner that stops). Evaluating and predicting with a finished run: :mod:`deepzen.train.inference`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import Tensor, nn

from deepzen.config import ConfigError, ExperimentConfig, optimizer_hparams, to_toml
from deepzen.info import DataInfo
from deepzen.train import distributed
from deepzen.train.callbacks import Callback, EarlyStopping, GradientClipping, ModelCheckpoint
from deepzen.train.metrics import get_metric
from deepzen.train.mlflow_log import MLflowLogger
from deepzen.train.run_dir import RunDir
from deepzen.train.run_files import DATA_INFO, load_weights, new_run_dir
from deepzen.train.schedules import make_scheduler
from deepzen.train.seeding import seed_everything
from deepzen.train.tracking import make_trackers
from deepzen.train.trainer import History, Trainer

#: Metrics and loss used when the config leaves them unset, by task.
DEFAULT_METRICS = {"classification": ["accuracy"], "sequence_labeling": ["accuracy"],
                   "regression": ["r2", "mse"], "language_model": ["perplexity"]}
DEFAULT_LOSS = {"classification": "cross_entropy", "sequence_labeling": "cross_entropy",
                "regression": "mse", "language_model": "cross_entropy"}
@dataclass
class ExperimentResult:
    """What :func:`run` returns: the run folder, the epoch history, the test metrics (``None``
    without a test split or after a failed run) and the ``summary.json`` contents."""

    run_dir: Path
    history: History
    test: dict[str, float] | None
    summary: dict[str, Any]
    config: ExperimentConfig


class EpochReport(Callback):
    """Calls ``report(epoch, logs)`` after every epoch (``logs`` has ``val_*`` when there is a
    validation split). A tuner reports the value and may call ``trainer.stop(...)`` to prune."""

    def __init__(self, report: Callable[[int, dict[str, float]], Any]) -> None:
        self.report = report

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        self.report(epoch, logs)


# ---------------------------------------------------------------------------------------------- pieces
def load_data(config: ExperimentConfig) -> Any:
    """``deepzen.data.load`` with the ``[data]`` section; its ``ValueError`` is a config error on ``data``."""
    from deepzen import data

    seed = config.seed if config.data.seed is None else config.data.seed
    try:
        return data.load(config.data.name, val=config.data.val, test=config.data.test, seed=seed,
                         **config.data.options())
    except (ValueError, TypeError, FileNotFoundError) as err:
        raise ConfigError(f"data (name = {config.data.name!r}): {err}") from None


def build_model(config: ExperimentConfig, info: DataInfo) -> nn.Module:
    """``deepzen.nn.build`` with the ``[model]`` section, for the data ``info`` describes."""
    from deepzen import nn as dznn

    try:
        return dznn.build(config.model.kind, info, **config.model.options())
    except ValueError as err:
        raise ConfigError(f"model (kind = {config.model.kind!r}) for data {info.name!r}: {err}") from None


def build_optimizer(config: ExperimentConfig, model: nn.Module) -> torch.optim.Optimizer:
    """The ``[optimizer]``; ``regularization.weight_decay`` goes to weights only (parameter groups)."""
    from deepzen import optim, regularizers

    hparams = optimizer_hparams(config)
    reg = config.regularization
    routes = getattr(optim.get_class(config.optimizer.name), "routes_modules", False)
    params: Any = model.parameters()
    try:
        if reg.weight_decay > 0 or reg.no_decay is not None:
            params = regularizers.param_groups(model, reg.weight_decay, reg.no_decay)
            if routes:
                params = cut_routes(optim.create(config.optimizer.name, model, **hparams), params)
        elif routes:
            params = model                   # Muon: hidden weights vs embeddings, head, biases (its rule)
        return optim.create(config.optimizer.name, params, **hparams)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"optimizer (name = {config.optimizer.name!r}): {err}") from None


def cut_routes(routed: torch.optim.Optimizer, decay_groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The groups of an optimizer built from the model (its own routing, Muon's hidden weights vs the
    rest), each cut along the weight-decay groups: every parameter keeps its route and its decay."""
    groups = []
    for route in routed.param_groups:
        members = {id(p) for p in route["params"]}
        for decay in decay_groups:
            params = [p for p in decay["params"] if id(p) in members]
            if params:
                groups.append({**route, **decay, "params": params})
    return groups


def build_penalty(config: ExperimentConfig) -> Any:
    """``l1`` / ``l2`` as a penalty added to the loss (``None`` when both are 0)."""
    from deepzen import regularizers

    l1, l2 = config.regularization.l1, config.regularization.l2
    if l1 and l2:
        return regularizers.L1L2(l1=l1, l2=l2)
    if l1:
        return regularizers.L1(l1)
    if l2:
        return regularizers.L2(l2)
    return None


def loss_name(config: ExperimentConfig, info: DataInfo) -> str:
    return config.loss.name or DEFAULT_LOSS[info.task]


def build_loss(config: ExperimentConfig, info: DataInfo) -> Callable[[Any, Any], Tensor]:
    from deepzen import losses

    return losses.get(loss_name(config, info), **config.loss.options())


def metric_names(config: ExperimentConfig, info: DataInfo) -> list[str]:
    return list(config.training.metrics) if config.training.metrics is not None else DEFAULT_METRICS[info.task]


def check_training(config: ExperimentConfig, info: DataInfo | None = None, has_val: bool = True) -> None:
    """Checks of ``[training]`` that need the train package (metrics, schedule, monitor)."""
    problems = []
    names = config.training.metrics or []
    for name in names:
        try:
            get_metric(name)
        except ValueError as err:
            problems.append(f"training.metrics: {err}")
    schedule = config.training.schedule
    if schedule is not None:
        probe = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
        try:
            make_scheduler(schedule.name, probe, epochs=config.training.epochs, steps_per_epoch=1000,
                           **schedule.options())
        except (ValueError, TypeError) as err:
            problems.append(f"training.schedule: {err}")
    if info is not None and not problems:
        logged = ["loss", *(get_metric(m).name for m in metric_names(config, info))]
        allowed = logged + ([f"val_{m}" for m in logged] if has_val else [])
        es = config.training.early_stopping
        for key, value in (("training.monitor", config.training.monitor),
                           ("training.early_stopping.monitor", es.monitor if es else None)):
            if value is not None and value not in allowed:
                hint = "" if has_val or not value.startswith("val_") else " (data.val is 0: no validation split)"
                problems.append(f"{key} = {value!r}: not a logged quantity{hint}; allowed: {', '.join(allowed)}")
    if problems:
        raise ConfigError(problems)


def make_callbacks(config: ExperimentConfig) -> list[Callback]:
    """Best checkpoint, early stopping and clipping from ``[training]``."""
    t = config.training
    callbacks: list[Callback] = [ModelCheckpoint(monitor=t.monitor)]
    if t.early_stopping is not None:
        es = t.early_stopping
        callbacks.append(EarlyStopping(monitor=es.monitor or t.monitor, patience=es.patience,
                                       min_delta=es.min_delta, restore_best_weights=es.restore_best_weights))
    if t.clip_grad_norm is not None or t.clip_grad_value is not None:
        callbacks.append(GradientClipping(max_norm=t.clip_grad_norm, max_value=t.clip_grad_value))
    return callbacks


def tensors_of(dataset: Any) -> Any:
    """In-memory ``ArrayDataset`` -> ``(x, y)`` tensors, which the Trainer indexes directly (the same
    batches in the same order as through a DataLoader, without per-sample overhead)."""
    x, y = getattr(dataset, "x", None), getattr(dataset, "y", None)
    if type(dataset).__name__ == "ArrayDataset" and isinstance(x, Tensor) and isinstance(y, Tensor):
        return (x, y)
    return dataset


def make_trainer(config: ExperimentConfig, info: DataInfo, run_dir: Path | None,
                 callbacks: Sequence[Callback] = (), progress_stream: Any = None) -> Trainer:
    """Seeded model, optimizer, loss and callbacks in a :class:`Trainer` (nothing trained yet)."""
    seed_everything(config.seed)  # the same initial weights on every run of this config
    model = build_model(config, info)
    t = config.training
    schedule = t.schedule
    env = distributed.current()  # under torchrun: DDP, sharded batches, rank 0 writes
    make = (functools.partial(distributed.DistributedTrainer, env=env, sync_batch_norm=t.sync_batch_norm)
            if env is not None else Trainer)
    return make(
        model, build_optimizer(config, model), build_loss(config, info), metrics=metric_names(config, info),
        regularizer=build_penalty(config), scheduler=schedule.name if schedule else None,
        scheduler_options=schedule.options() if schedule else None,
        callbacks=[*make_callbacks(config), *callbacks], accumulate_steps=t.accumulate_steps,
        device=distributed.device_for(env, t.device) if env is not None else t.device, precision=t.precision,
        compile=t.compile, seed=config.seed, deterministic=t.deterministic, run_dir=run_dir,
        checkpoint_every=t.checkpoint_every, progress=config.output.progress, progress_stream=progress_stream,
        nan_guard=t.nan_guard, num_workers=t.num_workers, threads=t.threads,
    )


# ---------------------------------------------------------------------------------------------- run folders
# ---------------------------------------------------------------------------------------------- run
def run(config: ExperimentConfig, run_dir: str | Path | None = None, resume: bool = False, *,
        callbacks: Sequence[Callback] = (), on_epoch: Callable[[int, dict[str, float]], Any] | None = None,
        progress_stream: Any = None, evaluate_test: bool = True,
        say: Callable[[str], Any] | None = None, mlflow_parent: str | None = None) -> ExperimentResult:
    """Train the experiment ``config`` describes and evaluate it once on the test split.

    Arguments:
        config: a validated :class:`ExperimentConfig`.
        run_dir: the run folder; default :func:`new_run_dir` (or, with ``resume``, required).
        resume: continue from ``<run_dir>/checkpoints/last.pt`` (exactly: same weights as an
            uninterrupted run); starts fresh if the run never wrote a checkpoint.
        callbacks: extra :class:`Callback` objects (after the config's own).
        on_epoch: ``on_epoch(epoch, logs)`` after each epoch (see :class:`EpochReport`).
        evaluate_test: ``False`` leaves the test split alone (tuning trials: the test split must not
            drive a search; ``test`` is then ``None``).
        say: ``say(line)`` is called as each start-up stage begins (``loading digits ...``), so a
            command shows what it is doing before the first epoch.
        mlflow_parent: MLflow run id to nest this run's MLflow run under (a study's trials).

    Returns:
        :class:`ExperimentResult`; ``summary.json`` holds the same numbers, plus ``test``.
    """
    check_training(config)
    if resume and run_dir is None:
        raise ConfigError("resume needs the run folder")
    folder = Path(run_dir) if run_dir is not None else new_run_dir(config)
    say = say or (lambda line: None)
    say(f"loading {config.data.name} ...")
    splits = load_data(config)
    info = splits.info
    check_training(config, info, has_val=splits.val is not None)
    samples = f" for {len(splits.train):,} training samples" if hasattr(splits.train, "__len__") else ""
    say(f"building {config.model.kind}{samples}, optimizer {config.optimizer.name}, "
        f"{config.training.epochs} epochs -> {folder}")
    trackers = make_trackers(config, folder, mlflow_parent) if distributed.is_main() else []
    extra = [*callbacks, *([EpochReport(on_epoch)] if on_epoch is not None else []), *trackers]
    trainer = make_trainer(config, info, folder, extra, progress_stream)
    rd = trainer.run_dir or RunDir(folder)  # None on ranks other than 0: rank 0 writes
    if distributed.is_main():
        rd.write_config(to_toml(config))
        (folder / DATA_INFO).write_text(json.dumps(info.to_dict(), indent=2) + "\n", encoding="utf-8")
    t = config.training
    history = trainer.fit(tensors_of(splits.train), val=tensors_of(splits.val) if splits.val is not None else None,
                          epochs=t.epochs, batch_size=t.batch_size, val_batch_size=t.eval_batch_size,
                          shuffle=t.shuffle, drop_last=t.drop_last, resume=_resume_from(rd, resume))
    test = None
    if evaluate_test and splits.test is not None and not history.failed:
        distributed.barrier()  # rank 0 has written best.pt
        load_weights(trainer.model, rd, "best")
        test = trainer.evaluate(tensors_of(splits.test), t.eval_batch_size or t.batch_size)
    summary = _finish_summary(rd, config, info, test) if distributed.is_main() else {}
    for tracker in trackers:
        if isinstance(tracker, MLflowLogger):
            tracker.finish(folder, test, failed=history.failed)
    return ExperimentResult(folder, history, test, summary, config)


def _resume_from(rd: RunDir, resume: bool) -> bool | Path:
    """``fit``'s ``resume``: ranks other than 0 have no run folder of their own and read rank 0's checkpoint."""
    if not resume or distributed.is_main():
        return resume
    return rd.last_checkpoint if rd.last_checkpoint.is_file() else False


def _finish_summary(rd: RunDir, config: ExperimentConfig, info: DataInfo, test: dict[str, float] | None) -> dict:
    summary = json.loads(rd.summary_json.read_text(encoding="utf-8")) if rd.summary_json.is_file() else {}
    summary.update({"name": rd.path.name, "data": info.name, "task": info.task, "model": config.model.kind,
                    "optimizer": config.optimizer.name, "test": test,
                    "test_checkpoint": "best" if rd.best_checkpoint.is_file() else "last"})
    rd.write_summary(summary)
    return summary
