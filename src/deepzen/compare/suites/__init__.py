"""Bundled problem suites for ``deepzen compare --suite NAME``: a folder of experiment configs (one
problem each, run in file-name order) and a ``compare.toml`` holding the suite's ``[compare]``
defaults. Everything is offline: the data ship with deepzen or are generated.

``classic``: one small problem per model family (MLP on a tabular set, CNN on digits, CNN on
MNIST-1D, LSTM on adding, Transformer on sorting, Tree-LSTM on ListOps) and three stochastic test
problems (DeepOBS's noisy quadratic, Rosenbrock and Beale with gradient noise).
"""

from __future__ import annotations

from importlib import resources
from typing import Sequence

from deepzen._suggest import did_you_mean
from deepzen.config import ConfigError, ExperimentConfig, apply_overrides, parse_toml, validate

SUITES = ("classic",)
DEFAULTS = "compare.toml"


def suite_configs(name: str, overrides: Sequence[str] = ()) -> tuple[list[tuple[str, ExperimentConfig]], list[str]]:
    """``(problem name, config)`` for each config problem of suite ``name``, with ``overrides`` applied
    to each and the suite's ``[compare]`` defaults as each config's ``[compare]`` section; and the
    names of the suite's stochastic test problems (``noisy = [...]`` in its ``compare.toml``)."""
    if name not in SUITES:
        raise ConfigError(f"suite {name!r}: unknown{did_you_mean(name, SUITES)} Available: {', '.join(SUITES)}")
    folder = resources.files("deepzen.compare.suites").joinpath(name)
    defaults = parse_toml(folder.joinpath(DEFAULTS).read_text(encoding="utf-8"), f"suite {name} {DEFAULTS}")
    noisy = list(defaults.pop("noisy", []))
    problems = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml") or entry.name == DEFAULTS:
            continue
        source = f"suite {name}: {entry.name}"
        raw = parse_toml(entry.read_text(encoding="utf-8"), source)
        raw["compare"] = dict(defaults)
        config = validate(apply_overrides(raw, overrides), source)
        problems.append((config.run_name(), config))
    return problems, noisy


__all__ = ["SUITES", "suite_configs"]
