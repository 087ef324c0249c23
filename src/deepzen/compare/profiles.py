"""Targets, time to target and performance profiles: the arithmetic of the ranking.

Target (per problem): a fraction ``f`` of the best optimizer's final validation value,
``target = f · best`` for a metric to maximize (accuracy, R²) and ``target = best / f`` for one to
minimize (a loss), so ``f = 1`` asks for the best value itself and ``f < 1`` leaves the same relative
slack either way.

Performance profile (Dolan & Moré 2002, as AlgoPerf uses it): with ``t[p][s]`` the cost (steps or
seconds) optimizer ``s`` needs to reach the target on problem ``p`` (``inf`` if never), the ratio
``r[p][s] = t[p][s] / min_s' t[p][s']`` and

    ρ_s(τ) = |{p : r[p][s] <= τ}| / |P|

the fraction of problems on which ``s`` is within a factor ``τ`` of the fastest. ``ρ_s(1)`` is the
fraction of problems ``s`` wins; ``ρ_s(τ)`` for large ``τ`` the fraction it solves at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

INF = math.inf


def target_value(best: float, fraction: float, maximize: bool) -> float:
    """The value to reach: ``fraction · best`` (maximize) or ``best / fraction`` (minimize)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"target fraction {fraction!r}: must be in (0, 1]")
    return fraction * best if maximize else best / fraction


def reached(value: float, target: float, maximize: bool) -> bool:
    return math.isfinite(value) and (value >= target if maximize else value <= target)


def first_reaching(curve: Sequence[float], target: float, maximize: bool) -> int | None:
    """Index of the first value of ``curve`` that reaches ``target`` (``None``: never)."""
    for i, value in enumerate(curve):
        if reached(value, target, maximize):
            return i
    return None


def ratios(costs: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """``costs[problem][optimizer]`` -> ``r[problem][optimizer]``, each cost over the problem's best.

    A problem that no optimizer solved gives ``inf`` to all (it counts against every one of them).
    """
    result: dict[str, dict[str, float]] = {}
    for problem, row in costs.items():
        best = min(row.values(), default=INF)
        result[problem] = {s: (c / best if math.isfinite(c) and best > 0 else (1.0 if c == best == 0 else INF))
                           for s, c in row.items()}
    return result


def performance_profile(costs: Mapping[str, Mapping[str, float]], taus: Sequence[float]) -> dict[str, list[float]]:
    """ρ_s(τ) for every optimizer ``s`` at each ``τ`` in ``taus`` (see the module doc)."""
    r = ratios(costs)
    problems = list(r)
    optimizers = list(dict.fromkeys(s for row in r.values() for s in row))
    if not problems:
        return {s: [0.0] * len(taus) for s in optimizers}
    return {s: [sum(r[p].get(s, INF) <= tau for p in problems) / len(problems) for tau in taus]
            for s in optimizers}


def tau_grid(high: float = 4.0, points: int = 61) -> list[float]:
    """``points`` values of τ from 1 to ``high`` (AlgoPerf plots τ up to 4)."""
    return [1.0 + (high - 1.0) * i / (points - 1) for i in range(points)]


__all__ = ["first_reaching", "performance_profile", "ratios", "reached", "target_value", "tau_grid"]
