"""deepzen.compare: which optimizer on my problem, and how much does tuning matter?

    >>> result = deepzen.compare.run("examples/default.toml", optimizers="adam,sgd,yogi", budget=4, seeds=2)
    >>> result.summary[0]["test_final_mean"], result.root / "report.md"

The protocol (DeepOBS, Schneider et al. 2019; "Descending through a Crowded Valley", Schmidt et al.
2021): every optimizer gets the same lr search on the validation split (``budget`` trials, Optuna TPE
with the same sampler seed, log-uniform over ``lr_range``; ``grid``: DeepOBS's log grid over
1e-5..1e2; ``budget = 0``: the paper defaults, Crowded Valley's "one-shot"); the chosen lr is rerun
with ``seeds`` seeds shared by all optimizers (same initial weights, batch order and split), with
one schedule policy for all; the test split is evaluated only in those reruns, after tuning. A run
that turns NaN/inf is recorded as diverged, a search without a converging lr as such.

Output, ``<output.dir>/<name>-compare/``: ``results.csv``, ``summary.csv``, ``report.md`` and
``plots/`` (curves, lr sensitivity, time to target, performance profile); see
:mod:`deepzen.compare.runner` for the run folders, resume and workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from deepzen.compare.plan import (
    Problem, Protocol, check_runnable, noisy_problem, resolve_problem, resolve_protocol,
)
from deepzen.compare.folder import claim, compare_dir, default_dir
from deepzen.compare.results import Row, collect, summarize, write_tables
from deepzen.compare.runner import run_all
from deepzen.compare.suites import SUITES, suite_configs
from deepzen.config import ConfigError, ExperimentConfig, load_config


@dataclass
class Comparison:
    """What :func:`run` returns: the folder, the protocol, the problems, one :class:`Row` per
    (problem, optimizer, seed) and one summary dict per (problem, optimizer) (``summary.csv``)."""

    root: Path
    protocol: Protocol
    problems: list[Problem]
    rows: list[Row]
    summary: list[dict[str, Any]]


def run(config: ExperimentConfig | str | Path | None = None, *, suite: str | None = None,
        overrides: Sequence[str] = (), optimizers: str | Sequence[str] | None = None, budget: int | None = None,
        seeds: int | None = None, workers: int | None = None, grid: bool | None = None,
        schedule: str | None = None, noisy: Sequence[str] = (), out: str | Path | None = None,
        verbose: bool = True, report: bool = True) -> Comparison:
    """Compare optimizers on ``config`` (an experiment config or its path; ``None``: the bundled
    default) or on the bundled ``suite`` (``"classic"``), under the protocol of the module doc.

    Arguments:
        overrides: ``--set key=value`` strings applied to the config (to every config of a suite).
        optimizers, budget, seeds, workers, grid, schedule: the ``[compare]`` choices (``None``: the
            config's ``[compare]`` section, else its defaults).
        noisy: stochastic test problems to add (:mod:`deepzen.compare.noisy`: ``quadratic_deep``,
            ``noisy_rosenbrock``, ``noisy_beale``); a suite brings its own.
        out: the comparison folder (default ``<output.dir>/<compare.name or '<run name>-compare'>``, ``-grid`` or
            ``-defaults`` appended for those searches; see :mod:`deepzen.compare.folder`).
        report: write ``report.md`` and the plots.

    Every check (names, ranges, validation split, metric) runs before the first run starts; running
    the same call again continues a comparison without redoing finished runs.
    """
    if suite is not None and config is not None:
        raise ConfigError("give either a CONFIG or a suite, not both")
    if suite is not None:
        configs, extra = suite_configs(suite, overrides)
        noisy = [*extra, *noisy]
    else:
        if not isinstance(config, ExperimentConfig):
            config = load_config(config, overrides)
        elif overrides:
            raise ConfigError("overrides need a config path (apply them before passing a config object)")
        configs = [(None, config)]
    given = {"optimizers": optimizers, "budget": budget, "seeds": seeds, "workers": workers, "grid": grid,
             "schedule": schedule}
    protocol = resolve_protocol(configs[0][1], **given)
    problems = [resolve_problem(c, name) for name, c in configs] + [noisy_problem(n) for n in noisy]
    for problem in problems:
        check_runnable(problem, protocol.optimizers)
    if out is not None:
        root = Path(out)
    elif suite is not None:
        root = default_dir(configs[0][1].output.dir, suite, protocol)
    else:
        root = compare_dir(configs[0][1], protocol)
    claim(root, protocol, problems)
    run_all(problems, protocol, root, verbose)
    rows = collect(root, problems, protocol)
    table = summarize(rows, problems, protocol, root)
    write_tables(root, rows, table)
    if report:
        from deepzen.compare.report import write_report

        write_report(root, problems, protocol, rows, table)
    return Comparison(root, protocol, problems, rows, table)


__all__ = ["SUITES", "Comparison", "Problem", "Protocol", "Row", "run"]
