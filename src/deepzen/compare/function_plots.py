"""Contour plots of 2-D test functions with optimizer paths: one PNG per function, and a grid of
small multiples (one row per function, one column per optimizer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from deepzen.compare.figures import _pyplot, _save, colours


def _contour(ax: Any, function: Any) -> None:
    """Log-spaced contour lines of ``f`` over the function's box."""
    x0, x1, y0, y1 = function.box
    xs, ys = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))  # (200, 200) each
    zs = function.f(torch.from_numpy(xs), torch.from_numpy(ys)).numpy()
    levels = np.logspace(np.log10(max(zs.min(), 1e-3)), np.log10(zs.max()), 25)
    ax.contour(xs, ys, zs, levels=levels, cmap="Greys", linewidths=0.6, alpha=0.7)
    ax.plot(*zip(*function.minima), marker="*", color="black", markersize=11, linestyle="none")
    ax.plot(*function.start, marker="o", color="black", markersize=5, linestyle="none")
    ax.set(xlim=(x0, x1), ylim=(y0, y1))


def _path(ax: Any, path: list[tuple[float, float]], colour: Any, label: str) -> None:
    xs, ys = zip(*path)
    ax.plot(xs, ys, color=colour, linewidth=1.4, label=label, marker=".", markersize=2)


def plot_function(path: Path, name: str, function: Any, paths: dict[str, list[tuple[float, float]]]) -> Path:
    """All optimizers' paths on one contour plot."""
    plt = _pyplot()
    colour = colours(tuple(paths))
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    _contour(ax, function)
    for optimizer, points in paths.items():
        _path(ax, points, colour[optimizer], optimizer)
    ax.set(title=f"{name}: each optimizer with its tuned lr (stars: minima, dot: start)", xlabel="x", ylabel="y")
    ax.legend(fontsize=8, loc="best")
    return _save(fig, path)


def plot_grid(path: Path, functions: dict[str, Any], optimizers: list[str], paths: dict[tuple[str, str], Any]) -> Path:
    """Small multiples: rows are ``functions`` (name -> test function), columns are optimizers."""
    plt = _pyplot()
    colour = colours(tuple(optimizers))
    fig, axes = plt.subplots(len(functions), len(optimizers),
                             figsize=(2.6 * len(optimizers), 2.4 * len(functions)), squeeze=False)
    for row, name in zip(axes, functions):
        for ax, optimizer in zip(row, optimizers):
            _contour(ax, functions[name])
            _path(ax, paths[name, optimizer], colour[optimizer], optimizer)
            ax.set_title(f"{name} / {optimizer}", fontsize=8)
            ax.tick_params(labelsize=6)
    return _save(fig, path)


__all__ = ["plot_function", "plot_grid"]
