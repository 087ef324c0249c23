"""The comparison's PNG plots (matplotlib, Agg backend): curves with a band over seeds, lr
sensitivity, time to target, performance profile. One colour per optimizer, the same in every plot."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from deepzen.compare.figures import _pyplot, _save, colours
from deepzen.compare.plan import Problem, Protocol
from deepzen.compare.profiles import performance_profile, tau_grid
from deepzen.compare.results import Row, mean_curve, read_choice


def panels(count: int, width: float, height: float, columns: int = 3) -> tuple[Any, list[Any]]:
    """A figure with ``count`` axes, at most ``columns`` per row (unused ones hidden)."""
    plt = _pyplot()
    cols = min(columns, count)
    rows = -(-count // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat[:count]


def _band(ax: Any, curves: list[list[float]], colour: Any, label: str) -> None:
    """Mean over seeds as a line, min..max over seeds as a band; x is the epoch (1-based)."""
    curves = [c for c in curves if c]
    if not curves:
        return
    mean = mean_curve(curves)
    epochs = list(range(1, len(mean) + 1))
    low = [min(c[i] for c in curves if i < len(c)) for i in range(len(mean))]
    high = [max(c[i] for c in curves if i < len(c)) for i in range(len(mean))]
    ax.plot(epochs, mean, color=colour, label=label, linewidth=1.6)
    if len(curves) > 1:
        ax.fill_between(epochs, low, high, color=colour, alpha=0.18, linewidth=0)


def plot_curves(path: Path, problems: list[Problem], protocol: Protocol, rows: list[Row]) -> Path:
    """Per problem: training loss and the validation metric per epoch, every optimizer on one axis."""
    plt = _pyplot()
    colour = colours(protocol.optimizers)
    fig, axes = plt.subplots(len(problems), 2, figsize=(10, 3.2 * len(problems)), squeeze=False)
    for (ax_loss, ax_val), problem in zip(axes, problems):
        for optimizer in protocol.optimizers:
            ok = [r for r in rows if r.problem == problem.name and r.optimizer == optimizer and r.status == "ok"]
            _band(ax_loss, [r.train_loss for r in ok], colour[optimizer], optimizer)
            _band(ax_val, [r.val_curve for r in ok], colour[optimizer], optimizer)
        positive = all(v > 0 for r in rows if r.problem == problem.name for v in r.train_loss if math.isfinite(v))
        ax_loss.set(title=f"{problem.name}: training loss", xlabel="epoch", yscale="log" if positive else "linear")
        ax_val.set(title=f"{problem.name}: {problem.metric}", xlabel="epoch")
        if ax_val.get_legend_handles_labels()[0]:
            ax_val.legend(fontsize=7, loc="best")
    return _save(fig, path)


def plot_sensitivity(path: Path, problems: list[Problem], protocol: Protocol, root: Path) -> Path:
    """Per problem: final validation value of each tuning trial against its lr (x: diverged)."""
    colour = colours(protocol.optimizers)
    fig, axes = panels(len(problems), 5.0, 3.6)
    for ax, problem in zip(axes, problems):
        for optimizer in protocol.optimizers:
            trials = [t for t in read_choice(root, problem.name, optimizer).get("trials", []) if t.get("lr")]
            trials.sort(key=lambda t: t["lr"])
            good = [(t["lr"], t["final"]) for t in trials if t.get("final") is not None and math.isfinite(t["final"])]
            if good:
                ax.plot(*zip(*good), marker="o", markersize=3, color=colour[optimizer], label=optimizer)
            bad = [t["lr"] for t in trials if t.get("diverged")]
            if bad:
                ax.scatter(bad, [0.02] * len(bad), marker="x", color=colour[optimizer],
                           transform=ax.get_xaxis_transform())
        ax.set(xscale="log", xlabel="learning rate", ylabel=f"final {problem.metric}",
               title=f"{problem.name}: lr sensitivity (x: diverged)")
        ax.title.set_fontsize(9)
        ax.xaxis.set_minor_formatter(_pyplot().NullFormatter())
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="best")
    return _save(fig, path)


def plot_time_to_target(path: Path, problems: list[Problem], protocol: Protocol, summary: list[dict]) -> Path:
    """Per problem: optimizer steps to reach the target (missing bar: never reached)."""
    colour = colours(protocol.optimizers)
    fig, axes = panels(len(problems), 4.2, 3.4)
    for ax, problem in zip(axes, problems):
        entries = [e for e in summary if e["problem"] == problem.name]
        names = [e["optimizer"] for e in entries]
        steps = [e["steps_to_target"] if math.isfinite(e["steps_to_target"]) else 0 for e in entries]
        ax.bar(names, steps, color=[colour[n] for n in names])
        for i, e in enumerate(entries):
            if not math.isfinite(e["steps_to_target"]):
                ax.text(i, 0, "not\nreached", ha="center", va="bottom", fontsize=7)
        ax.set(title=f"{problem.name}: steps to target", ylabel="optimizer steps")
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    return _save(fig, path)


def plot_profile(path: Path, protocol: Protocol, summary: list[dict]) -> Path:
    """Performance profiles ρ_s(τ), τ in [1, 4], over steps and over seconds to target."""
    plt = _pyplot()
    colour = colours(protocol.optimizers)
    taus = tau_grid()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, cost in zip(axes, ("steps_to_target", "seconds_to_target")):
        costs: dict[str, dict[str, float]] = {}
        for e in summary:
            costs.setdefault(e["problem"], {})[e["optimizer"]] = e[cost]
        for optimizer, rho in performance_profile(costs, taus).items():
            ax.step(taus, rho, where="post", color=colour[optimizer], label=optimizer, linewidth=1.6)
        ax.set(xlabel="τ (cost / best cost)", ylabel="fraction of problems", ylim=(-0.03, 1.03),
               title=f"performance profile: {cost.replace('_', ' ')}")
        ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path)


__all__ = ["plot_curves", "plot_profile", "plot_sensitivity", "plot_time_to_target"]
