"""The Trainer: ``fit`` / ``evaluate`` / ``predict`` around any ``torch.nn.Module`` and optimizer.

Progressive disclosure (Keras 3): ``fit`` covers the common case; override :meth:`Trainer.train_step`
(forward + loss + backward), :meth:`Trainer.compute_loss` or :meth:`Trainer.optimizer_step` for a
custom one; or write your own loop around the same model and optimizer.

Repeatability: with ``seed`` the run seeds Python, NumPy and torch at the start of the first ``fit``,
and draws epoch ``e``'s data order from a ``torch.Generator`` seeded by ``(seed, e)``. A checkpoint
holds model, optimizer, scaler, callbacks (schedulers, early stopping), RNG states, history and the
position in the epoch, so ``fit(..., resume=True)`` after a kill ends bitwise-identical to an
uninterrupted run (CPU, ``num_workers=0``).
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import torch
from torch import Tensor, nn

from deepzen.structures import to_device
from deepzen.train import evaluation
from deepzen.train.batches import BatchSource
from deepzen.train.callbacks.base import Callback, Hooks
from deepzen.train.callbacks.defaults import standard_callbacks
from deepzen.train.checkpoint import atomic_save, full_state, load_checkpoint, restore_full_state
from deepzen.train.device import resolve_device, resolve_precision
from deepzen.train.loop import batch_len, train_batches
from deepzen.train.loop_state import History, LoopState
from deepzen.train.metrics import Metric, get_metric
from deepzen.train.progress import make_progress
from deepzen.train.run_dir import RunDir
from deepzen.train.seeding import epoch_generator, seed_everything, set_deterministic
from deepzen.train.steps import Steps, resolve_loss
from deepzen.train.threads import check_threads, set_threads

__all__ = ["History", "Trainer", "resolve_loss"]


def _from_state(field: str, doc: str) -> property:
    """A read-only trainer attribute backed by ``trainer.state.<field>``."""
    return property(lambda self: getattr(self.state, field), doc=doc)


class Trainer(Steps):
    """Train, evaluate and predict with one model.

    Arguments:
        model: any ``nn.Module`` taking the batch input ``x`` (Tensor, ``Sequences`` or ``Trees``).
        optimizer: any ``torch.optim.Optimizer`` over the model's parameters.
        loss: name for ``deepzen.losses.get`` or ``callable(pred, target) -> scalar`` (mean over the batch).
        metrics: names (``accuracy``, ``top5``, ``f1``, ``mse``, ``mae``, ``r2``, ``perplexity``) or
            :class:`Metric` objects; logged as ``name`` (train) and ``val_name``.
        regularizer: ``callable(model) -> penalty`` added to the loss for the gradient (not to the
            logged loss).
        scheduler: a torch LR scheduler, or a name for :func:`make_scheduler` built at ``fit`` with
            ``scheduler_options`` (``epochs`` and ``steps_per_epoch`` filled in).
        scheduler_interval: ``"step"`` or ``"epoch"``; default from the schedule (OneCycleLR: step).
        callbacks: :class:`Callback` objects; the defaults are added by
            :func:`~deepzen.train.callbacks.standard_callbacks` (a NaN guard unless ``nan_guard=False``;
            with ``run_dir`` the best checkpoint and the run outputs).
        accumulate_steps: sum the gradients of this many batches before each optimizer step (each
            batch's loss divided by it, so with a mean loss and equal batches the update equals one
            step on a batch this many times larger; an epoch's leftover batches still make one step).
        device: ``"auto"`` (cuda, then mps, then cpu), or a device.
        precision: ``"32"``, ``"bf16"`` (autocast, CPU or GPU) or ``"fp16"`` (autocast + GradScaler, CUDA).
        compile: ``True`` or a dict of ``torch.compile`` options for the forward pass.
        seed: makes the run repeatable (see module doc); ``None`` draws the data-order seed from torch.
        deterministic: also request deterministic kernels (process-wide).
        run_dir: folder for metrics.csv, checkpoints, curves.png, summary.json (``None``: nothing written).
        checkpoint_every: also write ``last.pt`` every this many optimizer steps (besides each epoch end).
        progress: ``"auto"`` (bar on a TTY, else one line per epoch), ``"bar"``, ``"line"``, ``"none"``.
        threads: CPU threads for torch (process-wide, set at ``fit``): ``"auto"`` one per 100 MFLOP of
            forward work per batch, up to the cores (:mod:`deepzen.train.threads`); an int; ``None``:
            leave torch's setting alone.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        loss: str | Callable[[Any, Any], Tensor],
        *,
        metrics: Sequence[str | Metric] = (),
        regularizer: Callable[[nn.Module], Tensor] | None = None,
        scheduler: Any = None,
        scheduler_options: dict[str, Any] | None = None,
        scheduler_interval: str | None = None,
        callbacks: Iterable[Callback] = (),
        accumulate_steps: int = 1,
        device: str | torch.device | None = "auto",
        precision: str = "32",
        compile: bool | dict[str, Any] = False,
        seed: int | None = None,
        deterministic: bool = False,
        run_dir: str | Path | RunDir | None = None,
        checkpoint_every: int | None = 500,
        progress: str = "auto",
        progress_stream: Any = None,
        nan_guard: bool = True,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        threads: int | str | None = "auto",
    ) -> None:
        if checkpoint_every is not None and (not isinstance(checkpoint_every, int) or checkpoint_every < 1):
            raise ValueError(f"checkpoint_every must be an int >= 1 or None, got {checkpoint_every!r}")
        if not isinstance(accumulate_steps, int) or accumulate_steps < 1:
            raise ValueError(f"accumulate_steps must be an int >= 1, got {accumulate_steps!r}")
        self.device = resolve_device(device)
        self.precision = resolve_precision(precision, self.device)
        self.model = model.to(self.device)
        self.optimizer = optimizer
        self.loss_fn = resolve_loss(loss)
        self.metric_specs = list(metrics)
        self.regularizer = regularizer
        self.accumulate_steps = accumulate_steps
        self.deterministic = deterministic
        self.run_dir = run_dir if isinstance(run_dir, RunDir) or run_dir is None else RunDir(run_dir)
        self.progress = make_progress(progress, progress_stream)
        self.num_workers, self.collate_fn = num_workers, collate_fn
        self.threads: int | str | None = check_threads(threads)  # an int once fit has applied the rule
        self.cores: int | None = None  # the most cores threads="auto" may use (None: all this process may)
        self.scaler = self.precision.make_scaler()
        self._forward: Callable[[Any], Any] = self.model
        if compile:
            self._forward = torch.compile(self.model, **(compile if isinstance(compile, dict) else {}))
        self.callbacks: list[Callback] = standard_callbacks(
            callbacks, scheduler=scheduler, scheduler_options=scheduler_options,
            scheduler_interval=scheduler_interval, nan_guard=nan_guard, run_dir=self.run_dir is not None,
            checkpoint_every=checkpoint_every)
        self.hooks = Hooks.of(self.callbacks)

        self.state = LoopState(metrics=self._new_metrics(), seed=seed)  # what checkpoints save as "loop"
        self.stop_training, self.stop_reason, self.failed = False, None, False
        self.last_checkpoint: tuple[str, int] | None = None
        self.resumed_from: Path | None = None
        self.batch_size: int | None = None
        self.epochs, self.batches_per_epoch, self.steps_per_epoch = 0, 0, 0
        self._last_lr = float(optimizer.param_groups[0]["lr"])
        self._seeded = False
        self.step_loss: Tensor | None = None  # the last batch's loss, for optimizers that need a closure

    # ------------------------------------------------------------------ loop state, read by callbacks
    epoch = _from_state("epoch", "Epochs finished.")
    batch_in_epoch = _from_state("batch_in_epoch", "Batches finished in the current epoch.")
    global_step = _from_state("global_step", "Optimizer steps taken.")
    seed = _from_state("seed", "Seed of the data order (drawn at the first fit when not given).")
    history = _from_state("history", "One entry per finished epoch (:class:`History`).")
    elapsed = _from_state("elapsed", "Seconds spent in ``fit``, over resumes too.")

    # ------------------------------------------------------------------ public API
    def stop(self, reason: str, failed: bool = False) -> None:
        """Ask the loop to stop after the current batch (callbacks call this)."""
        self.stop_training, self.stop_reason = True, reason
        self.failed = self.failed or failed

    def fit(self, train: Any, val: Any = None, *, epochs: int = 1, batch_size: int = 32,
            val_batch_size: int | None = None, shuffle: bool = True, drop_last: bool = False,
            resume: bool | str | Path = False) -> History:
        """Train until ``epochs`` epochs in total are done (or a callback stops); returns the history.

        ``resume``: ``True`` continues from ``<run_dir>/checkpoints/last.pt`` when it exists (else starts
        fresh); a path resumes from that checkpoint. ``train``/``val``: a Dataset of ``(x, y)``, a
        ``TensorDataset`` or an ``(x, y)`` tuple of tensors.
        """
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        source = self._source(train)
        val_source = self._source(val) if val is not None else None
        self.batch_size = batch_size
        batches_per_epoch = source.num_batches(batch_size, drop_last)
        if batches_per_epoch == 0:
            raise ValueError(f"no batches: {len(source)} samples, batch_size {batch_size}, drop_last={drop_last}")
        self.epochs, self.batches_per_epoch = epochs, batches_per_epoch
        self.threads = set_threads(self.threads, self.model, batch_size, lambda: to_device(
            next(iter(source.batches(None, batch_size)))[0], self.device), self.cores)
        self.steps_per_epoch = math.ceil(batches_per_epoch / self.accumulate_steps)
        for cb in self.callbacks:
            cb.setup(self)
        if self.deterministic:
            set_deterministic(True)
        self.resumed_from = self._resume_path(resume)
        if self.resumed_from is not None:
            self.load_checkpoint(self.resumed_from)
        elif not self._seeded:
            self._seed()
        self._seeded = True
        self.stop_training, self.stop_reason = False, None
        self.hooks = Hooks.of(self.callbacks)
        for cb in self.callbacks:
            cb.on_train_begin(self)
        started = time.perf_counter()
        try:
            while self.state.epoch < epochs and not self.stop_training:
                self._run_epoch(source, val_source, batch_size, val_batch_size, shuffle, drop_last)
        finally:
            self.progress.close()
            self.state.elapsed += time.perf_counter() - started
        if self.stop_reason:
            self.progress.message(self.stop_reason)
        self.history.stop_reason, self.history.failed = self.stop_reason, self.failed
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history

    def evaluate(self, data: Any, batch_size: int | None = None) -> dict[str, float]:
        """``{"loss": ..., <metric>: ...}`` over ``data`` (model in eval mode, no gradients)."""
        return evaluation.evaluate(self, self._source(data), batch_size or self.batch_size or 64,
                                   self._new_metrics())

    def predict(self, data: Any, batch_size: int | None = None) -> Any:
        """Model outputs for every sample of ``data`` (inputs only, or ``(x, y)`` with ``y`` ignored),
        in order, on the CPU: one tensor, or a list of batch outputs when their shapes differ."""
        return evaluation.predict(self, self._source(data), batch_size or self.batch_size or 64)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Full training state: tensors and plain containers only (``torch.load(weights_only=True)``)."""
        return full_state(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Inverse of :meth:`state_dict` (restores RNG states too)."""
        restore_full_state(self, state)
        self._seeded = True

    def save_checkpoint(self, path: str | Path) -> bool:
        """Write the full state atomically unless a callback vetoes it (NaN guard); returns whether written."""
        if not all(cb.can_checkpoint(self) for cb in self.callbacks):
            return False
        atomic_save(self.state_dict(), path)
        if self.run_dir is not None and Path(path) == self.run_dir.last_checkpoint:
            self.last_checkpoint = (str(path), self.global_step)
        return True

    def load_checkpoint(self, path: str | Path) -> None:
        self.load_state_dict(load_checkpoint(path, map_location="cpu"))
        self.last_checkpoint = (str(path), self.global_step)

    # ------------------------------------------------------------------ internals
    def _source(self, data: Any) -> BatchSource:
        return data if isinstance(data, BatchSource) else BatchSource(data, self.collate_fn, self.num_workers,
                                                                      pin_memory=self.device.type == "cuda")

    def _new_metrics(self) -> list[Metric]:
        return [_fresh(m) if isinstance(m, Metric) else get_metric(m) for m in self.metric_specs]

    def _seed(self) -> None:
        """At the first fit of a fresh run: seed the generators with ``seed``, or draw the data-order seed."""
        if self.state.seed is not None:
            seed_everything(self.state.seed)
        else:
            self.state.seed = int(torch.randint(0, 2**62, ()).item())

    def _resume_path(self, resume: bool | str | Path) -> Path | None:
        if resume is False or resume is None:
            return None
        if resume is True:
            if self.run_dir is None:
                raise ValueError("fit(resume=True) needs a Trainer with run_dir (or pass a checkpoint path)")
            path = self.run_dir.last_checkpoint
            return path if path.is_file() else None
        return Path(resume)

    def _run_epoch(self, source: BatchSource, val_source: BatchSource | None, batch_size: int,
                   val_batch_size: int | None, shuffle: bool, drop_last: bool) -> None:
        state = self.state
        epoch, start, total = state.epoch, state.batch_in_epoch, self.batches_per_epoch
        state.begin_epoch(self.device)
        generator = epoch_generator(state.seed, epoch)  # type: ignore[arg-type]
        order = torch.randperm(len(source), generator=generator) if shuffle else None
        for cb in self.callbacks:
            cb.on_epoch_begin(self, epoch)
        self.progress.epoch_begin(epoch, self.epochs, total, start)
        self.model.train()
        end_hooks, metrics = self.hooks.batch_end, state.metrics
        started = time.perf_counter()
        batches = source.batches(order, batch_size, start, drop_last, generator)
        for b, (x, y), loss, pred, _ in train_batches(self, batches, start, total):
            state.add_batch(loss, batch_len(x, y))  # no kernel here: folded every FOLD_EVERY batches
            for m in metrics:
                m.update(pred, y)
            state.batch_in_epoch = b + 1
            for cb in end_hooks:
                cb.on_batch_end(self, b, loss)
            self.progress.batch_end(b + 1, state.live_logs)
            if self.stop_training:
                return
        logs: dict[str, float] = {"epoch": epoch + 1, **state.live_logs()}
        if val_source is not None:
            val_logs = self.evaluate(val_source, val_batch_size or batch_size)
            logs.update({f"val_{key}": value for key, value in val_logs.items()})
        logs["lr"] = float(self._last_lr)  # used by the epoch's last step
        logs["time"] = time.perf_counter() - started
        state.end_epoch(logs)
        for cb in self.callbacks:
            cb.on_epoch_end(self, epoch, logs)
        if not self.failed:
            self.progress.epoch_end(epoch, self.epochs, logs)


def _fresh(metric: Metric) -> Metric:
    clone = copy.deepcopy(metric)
    clone.reset()
    return clone
