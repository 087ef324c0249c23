"""Matplotlib plumbing shared by the comparison's plots: the headless backend, colours, saving."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def colours(optimizers: tuple[str, ...]) -> dict[str, Any]:
    """One colour per optimizer, stable for a given tuple of names."""
    plt = _pyplot()
    cmap = plt.get_cmap("tab10" if len(optimizers) <= 10 else "tab20")
    return {name: cmap(i % cmap.N) for i, name in enumerate(optimizers)}


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path
