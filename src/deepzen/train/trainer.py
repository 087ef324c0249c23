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
from deepzen.train.batches import BatchSource
from deepzen.train.callbacks import Callback, LRSchedule, ModelCheckpoint, overrides
from deepzen.train.checkpoint import FORMAT, atomic_save, capture_rng_state, load_checkpoint, restore_rng_state
from deepzen.train.device import resolve_device, resolve_precision
from deepzen.train.guards import GradientAccumulation, NaNGuard
from deepzen.train.metrics import Metric, get_metric
from deepzen.train.progress import make_progress
from deepzen.train.run_dir import RunDir, versions
from deepzen.train.schedules import make_scheduler, schedule_interval
from deepzen.train.seeding import epoch_generator, seed_everything, set_deterministic

FOLD_EVERY = 256  # batch losses kept by reference before they are summed on the device
PER_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_before_optimizer_step", "on_optimizer_step")


class History(dict):
    """``{"epoch": [...], "loss": [...], "val_loss": [...], ...}`` one entry per finished epoch, plus
    ``stop_reason`` (``None`` when all epochs ran) and ``failed`` (True after a non-finite loss)."""

    stop_reason: str | None = None
    failed: bool = False


def resolve_loss(loss: str | Callable[[Any, Any], Tensor], **options: Any) -> Callable[[Any, Any], Tensor]:
    """A loss callable; names are looked up with ``deepzen.losses.get``."""
    if callable(loss):
        return loss
    if not isinstance(loss, str):
        raise ValueError(f"loss must be a name or a callable(pred, target) -> scalar, got {type(loss).__name__}")
    try:
        from deepzen.losses import get
    except ImportError as err:
        raise ValueError(f"loss {loss!r} given by name but deepzen.losses is not available") from err
    return get(loss, **options)


class Trainer:
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
        callbacks: :class:`Callback` objects. A :class:`NaNGuard` is added unless ``nan_guard=False``
            and a :class:`ModelCheckpoint` (``best.pt``) when ``run_dir`` is set.
        device: ``"auto"`` (cuda, then mps, then cpu), or a device.
        precision: ``"32"``, ``"bf16"`` (autocast, CPU or GPU) or ``"fp16"`` (autocast + GradScaler, CUDA).
        compile: ``True`` or a dict of ``torch.compile`` options for the forward pass.
        seed: makes the run repeatable (see module doc); ``None`` draws the data-order seed from torch.
        deterministic: also request deterministic kernels (process-wide).
        run_dir: folder for metrics.csv, checkpoints, curves.png, summary.json (``None``: nothing written).
        checkpoint_every: also write ``last.pt`` every this many optimizer steps (besides each epoch end).
        progress: ``"auto"`` (bar on a TTY, else one line per epoch), ``"bar"``, ``"line"``, ``"none"``.
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
    ) -> None:
        if checkpoint_every is not None and (not isinstance(checkpoint_every, int) or checkpoint_every < 1):
            raise ValueError(f"checkpoint_every must be an int >= 1 or None, got {checkpoint_every!r}")
        self.device = resolve_device(device)
        self.precision = resolve_precision(precision, self.device)
        self.model = model.to(self.device)
        self.optimizer = optimizer
        self.loss_fn = resolve_loss(loss)
        self.metric_specs = list(metrics)
        self.train_metrics = self._new_metrics()
        self.regularizer = regularizer
        self.seed, self.deterministic = seed, deterministic
        self.run_dir = run_dir if isinstance(run_dir, RunDir) or run_dir is None else RunDir(run_dir)
        self.checkpoint_every = checkpoint_every
        self.progress = make_progress(progress, progress_stream)
        self.num_workers, self.collate_fn = num_workers, collate_fn
        self.scaler = self.precision.make_scaler()
        self._forward: Callable[[Any], Any] = self.model
        if compile:
            self._forward = torch.compile(self.model, **(compile if isinstance(compile, dict) else {}))

        self.callbacks: list[Callback] = list(callbacks)
        self._scheduler_spec: tuple[str, dict[str, Any], str | None] | None = None
        if isinstance(scheduler, str):
            self._scheduler_spec = (scheduler, dict(scheduler_options or {}), scheduler_interval)
        elif scheduler is not None:
            interval = scheduler_interval or (
                "step" if isinstance(scheduler, torch.optim.lr_scheduler.OneCycleLR) else "epoch")
            self.callbacks.append(LRSchedule(scheduler, interval))
        if nan_guard and not any(isinstance(c, NaNGuard) for c in self.callbacks):
            self.callbacks.append(NaNGuard())
        if self.run_dir is not None and not any(isinstance(c, ModelCheckpoint) for c in self.callbacks):
            self.callbacks.append(ModelCheckpoint())
        self.accumulate_steps = max([c.steps for c in self.callbacks if isinstance(c, GradientAccumulation)] or [1])

        # loop state (all of it goes into checkpoints)
        self.epoch = 0  # epochs finished
        self.batch_in_epoch = 0  # batches finished in the current epoch
        self.global_step = 0  # optimizer steps
        self.history = History()
        self.stop_training, self.stop_reason, self.failed = False, None, False
        self.last_checkpoint: tuple[str, int] | None = None
        self.batch_size: int | None = None
        self._elapsed = 0.0
        self._last_lr = float(optimizer.param_groups[0]["lr"])
        self._seeded = False
        self._loss_sum: Tensor | None = None
        self._pending_losses: list[Tensor] = []
        self._pending_counts: list[int] = []
        self._sample_count = 0
        self._step_loss: Tensor | None = None  # the last batch's loss, for optimizers that need a closure

    # ------------------------------------------------------------------ steps (override these)
    def compute_loss(self, pred: Any, target: Any) -> Tensor:
        """The data loss of one batch (mean over its samples)."""
        return self.loss_fn(pred, target)

    def train_step(self, x: Any, y: Any) -> tuple[Tensor, Any]:
        """Forward, loss and backward for one batch; returns the detached loss and predictions.

        The loss is divided by the accumulation steps and scaled by the GradScaler (fp16) for the
        backward pass; the optimizer step is :meth:`optimizer_step`.
        """
        with self.precision.autocast():
            pred = self._forward(x)
            loss = self.compute_loss(pred, y)
        total = loss + self.regularizer(self.model) if self.regularizer is not None else loss
        if self.accumulate_steps > 1:
            total = total / self.accumulate_steps
        (self.scaler.scale(total) if self.scaler is not None else total).backward()
        return loss.detach(), pred.detach()

    def optimizer_step(self) -> None:
        """Unscale (fp16), run ``on_before_optimizer_step`` (clipping), step, zero the gradients."""
        self._last_lr = self.optimizer.param_groups[0]["lr"]
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        for cb in self._hooks["on_before_optimizer_step"]:
            cb.on_before_optimizer_step(self)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        elif getattr(self.optimizer, "needs_loss", False):
            self._closure_step()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.global_step += 1
        for cb in self._hooks["on_optimizer_step"]:
            cb.on_optimizer_step(self)

    def _closure_step(self) -> None:
        """``step(closure)`` for an optimizer that needs the loss every step (Eve). The closure returns
        the batch's data loss already computed at the current weights (no second forward pass); a
        non-finite loss skips the step and the NaN guard stops the run at the end of the batch."""
        loss = self._step_loss
        if loss is None or not math.isfinite(float(loss)):
            return
        self.optimizer.step(lambda: loss)

    @torch.no_grad()
    def eval_step(self, x: Any, y: Any) -> tuple[Tensor, Any]:
        with self.precision.autocast():
            pred = self._forward(x)
            loss = self.compute_loss(pred, y)
        return loss, pred

    @torch.no_grad()
    def predict_step(self, x: Any) -> Any:
        with self.precision.autocast():
            return self._forward(x)

    # ------------------------------------------------------------------ public API
    @property
    def last_lr(self) -> float:
        """The learning rate (first parameter group) the latest optimizer step used."""
        return float(self._last_lr)

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
        self._build_scheduler(epochs, math.ceil(batches_per_epoch / self.accumulate_steps))
        if self.deterministic:
            set_deterministic(True)
        resume_path = self._resume_path(resume)
        if resume_path is not None:
            self.load_checkpoint(resume_path)
            if self.run_dir is not None:
                self.run_dir.write_metrics(self.history)
        elif not self._seeded:
            if self.seed is not None:
                seed_everything(self.seed)
            else:
                self.seed = int(torch.randint(0, 2**62, ()).item())
        self._seeded = True
        if self.run_dir is not None:
            self.run_dir.create()
        self.stop_training, self.stop_reason = False, None
        self._hooks = {h: [cb for cb in self.callbacks if overrides(cb, h)] for h in PER_BATCH_HOOKS}
        for cb in self.callbacks:
            cb.on_train_begin(self)
        started = time.perf_counter()
        try:
            while self.epoch < epochs and not self.stop_training:
                self._run_epoch(source, val_source, epochs, batch_size, val_batch_size, shuffle, drop_last)
        finally:
            self.progress.close()
            self._elapsed += time.perf_counter() - started
        if self.stop_reason:
            self.progress.message(self.stop_reason)
        for cb in self.callbacks:
            cb.on_train_end(self)
        self.history.stop_reason, self.history.failed = self.stop_reason, self.failed
        if self.run_dir is not None:
            self._write_run_outputs()
        return self.history

    def evaluate(self, data: Any, batch_size: int | None = None) -> dict[str, float]:
        """``{"loss": ..., <metric>: ...}`` over ``data`` (model in eval mode, no gradients)."""
        source = self._source(data)
        metrics = self._new_metrics()
        loss_sum = torch.zeros((), device=self.device)
        count = 0
        was_training = self.model.training
        self.model.eval()
        try:
            for x, y in source.batches(None, batch_size or self.batch_size or 64):
                if y is None:
                    raise ValueError("evaluate needs targets: data must yield (x, y)")
                x, y = to_device(x, self.device), to_device(y, self.device)
                loss, pred = self.eval_step(x, y)
                n = _batch_len(x, y)
                loss_sum += loss.float() * n
                count += n
                for m in metrics:
                    m.update(pred, y)
        finally:
            self.model.train(was_training)
        logs = {"loss": float(loss_sum) / max(count, 1)}
        logs.update({m.name: m.compute() for m in metrics})
        return logs

    def predict(self, data: Any, batch_size: int | None = None) -> Any:
        """Model outputs for every sample of ``data`` (inputs only, or ``(x, y)`` with ``y`` ignored),
        in order, on the CPU: one tensor, or a list of batch outputs when their shapes differ."""
        source = self._source(data)
        outputs = []
        was_training = self.model.training
        self.model.eval()
        try:
            for x, _ in source.batches(None, batch_size or self.batch_size or 64):
                outputs.append(to_device(self.predict_step(to_device(x, self.device)), "cpu"))
        finally:
            self.model.train(was_training)
        if all(isinstance(o, Tensor) for o in outputs) and len({o.shape[1:] for o in outputs}) <= 1:
            return torch.cat(outputs) if outputs else torch.empty(0)
        return outputs

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Full training state: tensors and plain containers only (``torch.load(weights_only=True)``)."""
        self._fold_losses()
        return {
            "format": FORMAT,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "callbacks": {key: state for key, cb in self._callback_keys().items() if (state := cb.state_dict())},
            "loop": {
                "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch, "global_step": self.global_step,
                "seed": self.seed, "history": dict(self.history), "elapsed": self._elapsed,
                "loss_sum": self._loss_sum.detach().cpu() if self._loss_sum is not None else None,
                "sample_count": self._sample_count,
                "train_metrics": [m.state_dict() for m in self.train_metrics],
            },
            "rng": capture_rng_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Inverse of :meth:`state_dict` (restores RNG states too)."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        keyed = self._callback_keys()
        for key, cb_state in state["callbacks"].items():
            if key not in keyed:
                raise ValueError(f"checkpoint has state for callback {key!r} but this Trainer has: {', '.join(keyed)}")
            keyed[key].load_state_dict(cb_state)
        loop = state["loop"]
        self.epoch, self.batch_in_epoch, self.global_step = loop["epoch"], loop["batch_in_epoch"], loop["global_step"]
        self.seed, self._elapsed = loop["seed"], loop["elapsed"]
        self.history = History(loop["history"])
        self._loss_sum = loop["loss_sum"].to(self.device) if loop["loss_sum"] is not None else None
        self._pending_losses.clear()
        self._pending_counts.clear()
        self._sample_count = loop["sample_count"]
        for metric, metric_state in zip(self.train_metrics, loop["train_metrics"]):
            metric.load_state_dict(metric_state, self.device)
        restore_rng_state(state["rng"])
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

    def _callback_keys(self) -> dict[str, Callback]:
        keys: dict[str, Callback] = {}
        for cb in self.callbacks:
            name = type(cb).__name__
            index = sum(1 for k in keys if k.rsplit("#", 1)[0] == name)
            keys[f"{name}#{index}"] = cb
        return keys

    def _build_scheduler(self, epochs: int, steps_per_epoch: int) -> None:
        if self._scheduler_spec is None:
            return
        name, options, interval = self._scheduler_spec
        scheduler = make_scheduler(name, self.optimizer, epochs=epochs, steps_per_epoch=steps_per_epoch, **options)
        self.callbacks.insert(0, LRSchedule(scheduler, interval or schedule_interval(name)))
        self._scheduler_spec = None

    def _resume_path(self, resume: bool | str | Path) -> Path | None:
        if resume is False or resume is None:
            return None
        if resume is True:
            if self.run_dir is None:
                raise ValueError("fit(resume=True) needs a Trainer with run_dir (or pass a checkpoint path)")
            path = self.run_dir.last_checkpoint
            return path if path.is_file() else None
        return Path(resume)

    def _fold_losses(self) -> None:
        """Add the pending batch losses, weighted by batch sizes, to the epoch's loss sum."""
        if self._pending_losses:
            losses = torch.stack(self._pending_losses).float()  # (P,)
            counts = torch.tensor(self._pending_counts, dtype=losses.dtype).to(losses.device, non_blocking=True)
            self._loss_sum += losses @ counts  # type: ignore[operator]
            self._pending_losses.clear()
            self._pending_counts.clear()

    def _live_logs(self) -> dict[str, float]:
        self._fold_losses()
        logs = {"loss": float(self._loss_sum) / max(self._sample_count, 1)}  # type: ignore[arg-type]
        logs.update({m.name: m.compute() for m in self.train_metrics})
        return logs

    def _run_epoch(self, source: BatchSource, val_source: BatchSource | None, epochs: int, batch_size: int,
                   val_batch_size: int | None, shuffle: bool, drop_last: bool) -> None:
        epoch, start = self.epoch, self.batch_in_epoch
        total = source.num_batches(batch_size, drop_last)
        if start == 0 or self._loss_sum is None:
            self._loss_sum, self._sample_count = torch.zeros((), device=self.device), 0
            self._pending_losses.clear()
            self._pending_counts.clear()
            for m in self.train_metrics:
                m.reset()
        generator = epoch_generator(self.seed, epoch)  # type: ignore[arg-type]
        order = torch.randperm(len(source), generator=generator) if shuffle else None
        for cb in self.callbacks:
            cb.on_epoch_begin(self, epoch)
        self.progress.epoch_begin(epoch, epochs, total, start)
        self.model.train()
        begin_hooks, end_hooks = self._hooks["on_batch_begin"], self._hooks["on_batch_end"]
        pending_losses, pending_counts = self._pending_losses, self._pending_counts
        k, device, metrics = self.accumulate_steps, self.device, self.train_metrics
        checkpointing = self.run_dir is not None and self.checkpoint_every is not None
        started = time.perf_counter()
        for b, (x, y) in enumerate(source.batches(order, batch_size, start, drop_last, generator), start):
            for cb in begin_hooks:
                cb.on_batch_begin(self, b)
            x, y = to_device(x, device), to_device(y, device)
            loss, pred = self.train_step(x, y)
            self._step_loss = loss
            n = _batch_len(x, y)
            pending_losses.append(loss)  # folded into the sum every FOLD_EVERY batches: no kernel here
            pending_counts.append(n)
            self._sample_count += n
            if len(pending_losses) == FOLD_EVERY:
                self._fold_losses()
            for m in metrics:
                m.update(pred, y)
            stepped = (b + 1) % k == 0 or b + 1 == total
            if stepped:
                self.optimizer_step()
            self.batch_in_epoch = b + 1
            for cb in end_hooks:
                cb.on_batch_end(self, b, loss)
            self.progress.batch_end(b + 1, self._live_logs)
            if self.stop_training:
                return
            if checkpointing and stepped and b + 1 < total and self.global_step % self.checkpoint_every == 0:
                self.save_checkpoint(self.run_dir.last_checkpoint)  # type: ignore[union-attr]
                if self.stop_training:
                    return
        logs: dict[str, float] = {"epoch": epoch + 1, **self._live_logs()}
        if val_source is not None:
            val_logs = self.evaluate(val_source, val_batch_size or batch_size)
            logs.update({f"val_{key}": value for key, value in val_logs.items()})
        logs["lr"] = float(self._last_lr)  # used by the epoch's last step
        logs["time"] = time.perf_counter() - started
        self.epoch, self.batch_in_epoch = epoch + 1, 0
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        for cb in self.callbacks:
            cb.on_epoch_end(self, epoch, logs)
        if self.failed:
            return
        self.progress.epoch_end(epoch, epochs, logs)
        if self.run_dir is not None:
            self.run_dir.append_metrics(logs)
            self.save_checkpoint(self.run_dir.last_checkpoint)

    def _write_run_outputs(self) -> None:
        run_dir = self.run_dir
        assert run_dir is not None
        run_dir.plot_curves(self.history)
        final = {k: v[-1] for k, v in self.history.items()} if self.history else {}
        best = None
        for cb in self.callbacks:
            if isinstance(cb, ModelCheckpoint):
                state = cb.state_dict()
                best = {"monitor": state["monitor"], "value": state["best"]}
        epochs_done = len(self.history.get("epoch", []))
        summary = {
            "epochs_completed": epochs_done,
            "global_step": self.global_step,
            "final": final,
            "best": best,
            "stop_reason": self.stop_reason,
            "failed": self.failed,
            "timings": {"fit_seconds": self._elapsed,
                        "seconds_per_epoch": self._elapsed / epochs_done if epochs_done else None},
            "device": str(self.device),
            "precision": self.precision.name,
            "seed": self.seed,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "last_checkpoint": self.last_checkpoint[0] if self.last_checkpoint else None,
            "versions": versions(),
        }
        run_dir.write_summary(summary)


def _batch_len(x: Any, y: Any) -> int:
    if isinstance(y, Tensor) and y.dim() > 0:
        return int(y.shape[0])
    return len(x)


def _fresh(metric: Metric) -> Metric:
    clone = copy.deepcopy(metric)
    clone.reset()
    return clone
