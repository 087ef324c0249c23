"""The ``deepzen`` commands (Typer). Each command is a thin layer over ``deepzen.train.experiment``
(train) or ``deepzen.train.inference`` (evaluate, predict); user errors (bad configs, bad data, bad paths,
unknown names) are reported by :func:`deepzen.cli.main`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, List, Optional

import typer

from deepzen.cli import compare_cmd, export_cmd, tune_cmd
from deepzen.cli.common import DEVICE_HELP, IMPORTED_AT, SET_HELP, UNSET_HELP, console

app = typer.Typer(
    name="deepzen", add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Build, train, compare and tune the classic deep networks on PyTorch.",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if not value:
        return
    from importlib import metadata

    import deepzen

    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:  # pragma: no cover - torch is a dependency
        torch_version = "not installed"
    typer.echo(f"deepzen {deepzen.__version__} (torch {torch_version})")
    raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_show_version,
                                 help="Print the version of deepzen and torch, and exit."),
) -> None:
    """Build, train, compare and tune the classic deep networks on PyTorch."""


def _overrides(set_: List[str], device: Optional[str]) -> List[str]:
    """``--set`` items, with ``--device`` as the last ``training.device=...`` (it wins)."""
    return [*set_, *([f"training.device={device}"] if device is not None else [])]


def _say(out: Any) -> Any:
    """Start-up lines on ``out``, printed as they are (no markup)."""
    return lambda line: out.print(line, markup=False)


@app.command()
def train(
    config: Optional[Path] = typer.Argument(None, help="Experiment TOML; none: the bundled default (CNN on digits)."),
    set_: List[str] = typer.Option([], "--set", "-s", help=SET_HELP, metavar="KEY=VALUE"),
    unset: List[str] = typer.Option([], "--unset", help=UNSET_HELP, metavar="KEY"),
    device: Optional[str] = typer.Option(None, "--device", help=DEVICE_HELP),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue the run in this folder exactly."),
    nproc: Optional[int] = typer.Option(None, "--nproc", help="Train in this many processes on this machine "
                                        "(torchrun, DistributedDataParallel; training.batch_size stays the global batch)."),
) -> None:
    """Train an experiment into runs/<name>/ and evaluate it once on the test split.

    Ctrl-C stops it; the run folder keeps its last checkpoint, and the command printed then
    (deepzen train --resume RUN_DIR) continues it.
    """
    if resume is not None and config is not None:
        raise typer.BadParameter("give either a CONFIG or --resume RUN_DIR (a run uses its saved config.toml), "
                                 "not both", param_hint="'--resume'")
    launching = False
    if nproc is not None:  # (imports torch: only then)
        from deepzen.train.distributed import launcher

        try:
            launcher.check_nproc(nproc)
        except ValueError as err:
            raise typer.BadParameter(str(err), param_hint="'--nproc'") from None
        launching = nproc > 1 and not launcher.under_launcher()
    out = console()
    source = f"{resume}/config.toml" if resume is not None else (config or "the bundled default config")
    if not launching:  # the ranks print it
        out.print(f"checking {source} ...", markup=False)  # at once: loading torch takes seconds
    from deepzen.config import load_config
    from deepzen.train import experiment, run_files, run_status
    from deepzen.train.checkpoint import check_processes
    from deepzen.train.distributed import launcher

    notes: list[str] = []
    overrides = _overrides(set_, device)
    if resume is not None:
        cfg = run_files.read_run_config(resume, overrides, unset, notes)
        check_processes(run_files.saved_processes(resume), launcher.processes(nproc))
        folder = resume
    else:
        cfg = load_config(config, overrides, unset=unset, notes=notes)
        experiment.check_training(cfg)  # before new_run_dir, which clears the old run with output.overwrite
    if launching:  # checked here: inside the ranks every one of them would fail, under torchrun's report
        launcher.preflight(cfg.training.device)
        args = [*([str(config)] if config is not None else []), *(a for v in set_ for a in ("--set", v)),
                *(a for v in unset for a in ("--unset", v)), *(["--device", device] if device else []),
                *(["--resume", str(resume)] if resume is not None else [])]
        raise typer.Exit(launcher.launch(args, nproc))  # type: ignore[arg-type]
    from deepzen.train import distributed

    if distributed.join(cfg.training.device) is not None and not distributed.is_main():
        out.quiet = True  # rank 0 prints
    if resume is None:
        folder = distributed.agree(lambda: run_files.new_run_dir(cfg))
    for note in notes:
        out.print(f"note: {note}", markup=False)
    if resume is not None:
        out.print(run_status.resume_note(resume, cfg.training.epochs), markup=False)
    try:
        result = experiment.run(cfg, run_dir=folder, resume=resume is not None, say=_say(out))
    except KeyboardInterrupt:
        note = run_status.interrupt_note(folder, cfg.training.epochs, f"deepzen train --resume {folder}")
        console(stderr=True).print(note, markup=False)
        raise typer.Exit(130) from None
    if result.history.failed:
        console(stderr=True).print(f"training failed: {result.history.stop_reason}", markup=False)
        raise typer.Exit(1)
    if result.test is not None:
        values = "  ".join(f"{k} {v:.4f}" for k, v in result.test.items())
        out.print(f"test ({result.summary.get('test_checkpoint')} checkpoint): {values}")
    fit = result.summary.get("timings", {}).get("fit_seconds") or 0.0
    out.print(f"run saved in {result.run_dir}  ({_seconds_since_start():.1f} s in all, {fit:.1f} s of it training)",
              markup=False)


def _seconds_since_start() -> float:
    """Wall time since this process started (Linux: from /proc; elsewhere since deepzen.cli was imported)."""
    import os

    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            start_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
        return max(uptime - start_ticks / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - IMPORTED_AT


@app.command()
def evaluate(
    run_dir: Path = typer.Argument(..., help="A run folder written by deepzen train."),
    data: Optional[Path] = typer.Option(None, "--data", help="A .csv/.npz file with features and targets."),
    split: str = typer.Option("test", "--split", help="Split of the run's own data: train, val or test."),
    checkpoint: str = typer.Option("best", "--checkpoint", help="best or last."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Loss and metrics of a trained run on its test split (or --split, or a --data file)."""
    from deepzen.train import inference

    metrics = inference.evaluate_run(run_dir, data, split=split, checkpoint=checkpoint)
    if as_json:
        print(json.dumps(metrics))
        return
    where = str(data) if data is not None else f"{split} split"
    _print_table(f"{run_dir} ({checkpoint} checkpoint) on {where}", ["metric", "value"],
                 [[k, f"{v:.6g}"] for k, v in metrics.items()])


@app.command()
def predict(
    run_dir: Path = typer.Argument(..., help="A run folder written by deepzen train."),
    input_file: Path = typer.Argument(..., help="A .csv or .npz file of raw features, one sample per row "
                                      "(see below)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="CSV to write; default <input>.predictions.csv."),
    checkpoint: str = typer.Option("best", "--checkpoint", help="best or last."),
) -> None:
    """Predict the samples in INPUT_FILE with a trained run; writes a CSV with an id column (the row's
    position in INPUT_FILE, from 0) and the predictions.

    What INPUT_FILE holds, in the raw units of the training data (the run's scaling is applied):
    tabular data: a CSV with the training feature columns (a header with their names picks them in any
    order; without one, the columns in training order; a target column is ignored), or an NPZ with x
    (N, F). Images: a CSV with one flattened image per row (C*H*W values, e.g. 64 pixels 0..16 for
    digits), or an NPZ with x (N, C, H, W). Signals: the same with (N, C, L). Sequences, tokens and
    trees have no file format here: predict them from Python with Trainer.predict.
    """
    from deepzen.train import inference

    path = inference.predict_run(run_dir, input_file, output, checkpoint=checkpoint)
    console().print(f"predictions written to {path}")


@app.command("list")
def list_(
    what: str = typer.Argument(..., help="optimizers | models | datasets | losses | schedules | metrics | regularizers"),
) -> None:
    """A table of what deepzen knows by name."""
    from deepzen.cli import catalog

    header, rows = catalog.table(what)
    _print_table(what.lower(), header, rows)


@app.command()
def explain(
    name: str = typer.Argument(..., help="An optimizer, loss, model, schedule, dataset, metric or regularizer."),
    kind: Optional[str] = typer.Option(None, "--kind", help="Only this category (optimizer, loss, model, ...)."),
) -> None:
    """The update rule / formula, paper, options and defaults of a named thing."""
    from deepzen.cli import catalog

    from rich.text import Text

    out = console()
    for title, text in catalog.explain(name, kind):
        out.rule(Text(title), align="left", characters="─")
        out.print(text, markup=False)
        out.print()


@app.command()
def init(
    path: Path = typer.Argument(Path("deepzen.toml"), help="Where to write the example config."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented example config (the bundled default) to edit."""
    from deepzen.config import default_text

    if path.exists() and not force:
        raise typer.BadParameter(f"{path} exists; use --force to overwrite it or give another path",
                                 param_hint="'PATH'")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(default_text(), encoding="utf-8")
    console().print(f"wrote {path}; train it with: deepzen train {path}")


@app.command("lr-find")
def lr_find(
    config: Optional[Path] = typer.Argument(None, help="Experiment TOML; none: the bundled default."),
    set_: List[str] = typer.Option([], "--set", "-s", help=SET_HELP, metavar="KEY=VALUE"),
    unset: List[str] = typer.Option([], "--unset", help=UNSET_HELP, metavar="KEY"),
    device: Optional[str] = typer.Option(None, "--device", help=DEVICE_HELP),
    start_lr: float = typer.Option(1e-7, help="First learning rate of the sweep."),
    end_lr: float = typer.Option(10.0, help="Last learning rate of the sweep."),
    steps: int = typer.Option(100, help="Batches in the sweep."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Save the loss-vs-lr curve as PNG."),
) -> None:
    """Learning-rate range test (Smith 2017) for a config's model and optimizer; suggests an lr."""
    from deepzen.config import load_config
    from deepzen.train import experiment, find_lr

    cfg = load_config(config, _overrides(set_, device), unset=unset)
    experiment.check_training(cfg)
    splits = experiment.load_data(cfg)
    trainer = experiment.make_trainer(cfg, splits.info, None)
    result = find_lr(trainer, experiment.tensors_of(splits.train), start_lr=start_lr, end_lr=end_lr,
                     num_steps=steps, batch_size=cfg.training.batch_size, seed=cfg.seed)
    out = console()
    how = "steepest descent of the smoothed loss" if result.method == "steepest" else "lr of the minimum / 10"
    out.print(f"suggested lr: {result.suggestion:.3g}  ({how}; {len(result.lrs)} steps)")
    if plot is not None:
        result.plot(plot)
        out.print(f"curve saved to {plot}")
    out.print(f"use it with: --set optimizer.lr={result.suggestion:.3g}")


def _print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    from rich.table import Table

    from rich.text import Text

    table = Table(title=Text(title), show_lines=False, title_justify="left")
    for column in header:
        table.add_column(Text(column), overflow="fold")
    for row in rows:  # cells as plain Text: "[y log σ(z) ...]" in a formula is not rich markup
        table.add_row(*(Text(cell) for cell in row))
    console().print(table)


app.command()(tune_cmd.tune)
app.command()(export_cmd.export)
app.command()(compare_cmd.compare)
