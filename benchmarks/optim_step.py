"""Step time of every deepzen optimizer against torch.optim and pytorch_optimizer.

Two parameter sets: 296 small tensors (3.0M parameters, the shapes of a small CNN + MLP) and 4 big
tensors (16.8M parameters). Each implementation gets its own copy of the parameters, gradients and
state; runs are interleaved (round-robin over the implementations, order rotated every repeat) after
a warm-up, and the median over repeats of the mean step time is reported.

Ratios: deepzen / best torch.optim variant (loop, foreach, fused) where torch has the algorithm (target
<= 1.15x), else deepzen / best pytorch_optimizer (target: geometric mean <= 0.5x).

    python benchmarks/optim_step.py [--quick] [--only adam,yogi] [--repeats 7] [--markdown out.md]
"""

from __future__ import annotations

import argparse
import gc
import inspect
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

import deepzen.optim as dzo

try:
    import pytorch_optimizer as po
except ImportError:  # the optional 'bench' extra
    po = None

Make = Callable[[list[torch.Tensor]], torch.optim.Optimizer]
TORCH_TARGET, PEER_TARGET = 1.15, 0.5


@dataclass
class Algorithm:
    """One algorithm: deepzen's hyperparameters and its counterparts, configured to the same math."""

    deepzen: dict[str, Any] = field(default_factory=dict)
    torch: tuple[type, dict[str, Any], bool] | None = None      # (class, kwargs, has a fused kernel)
    peer: tuple[str, dict[str, Any]] | None = None               # (pytorch_optimizer class, kwargs)
    lookahead: dict[str, Any] | None = None                      # wrap the peer in po.Lookahead(**this)


def _po(cls: str, **kw: Any) -> tuple[str, dict[str, Any]]:
    return cls, kw


O = torch.optim
ALGORITHMS: dict[str, Algorithm] = {
    "sgd": Algorithm({"lr": 1e-2}, (O.SGD, {"lr": 1e-2}, True)),
    "momentum": Algorithm({"lr": 1e-2, "momentum": 0.9}, (O.SGD, {"lr": 1e-2, "momentum": 0.9}, True)),
    "nag": Algorithm({"lr": 1e-2, "momentum": 0.9}, (O.SGD, {"lr": 1e-2, "momentum": 0.9, "nesterov": True}, True)),
    "adagrad": Algorithm({"lr": 1e-2}, (O.Adagrad, {"lr": 1e-2}, True)),
    "adadelta": Algorithm({"rho": 0.9}, (O.Adadelta, {"rho": 0.9}, False), _po("AdaDelta", rho=0.9)),
    "rmsprop": Algorithm({"eps": 1e-8, "eps_inside_sqrt": False},
                         (O.RMSprop, {"lr": 1e-3, "alpha": 0.9}, False)),
    "adam": Algorithm({}, (O.Adam, {}, True)),
    "adamw": Algorithm({}, (O.AdamW, {}, True)),
    "amsgrad": Algorithm({}, (O.Adam, {"amsgrad": True}, True)),
    "nadam": Algorithm({}, (O.NAdam, {"lr": 2e-3}, False)),
    "adamax": Algorithm({}, (O.Adamax, {"lr": 2e-3}, False), _po("AdaMax", lr=2e-3)),
    "radam": Algorithm({}, (O.RAdam, {}, False), _po("RAdam")),
    "adabound": Algorithm({}, None, _po("AdaBound")),
    "amsbound": Algorithm({}, None, _po("AdaBound", ams_bound=True)),
    "ranger": Algorithm({}, None, _po("Ranger", use_gc=False)),
    "lamb": Algorithm({}, None, _po("Lamb", weight_decay=0.01)),
    "lars": Algorithm({}, None, _po("LARS", lr=1.0, weight_decay=5e-4, momentum=0.9)),
    "yogi": Algorithm({}, None, _po("Yogi")),
    "qhadam": Algorithm({}, None, _po("QHAdam", betas=(0.995, 0.999), nus=(0.7, 1.0))),
    "eve": Algorithm({}, None, None),
    "adopt": Algorithm({}, None, _po("ADOPT")),
    "ladopt": Algorithm({}, None, _po("ADOPT"), lookahead={"k": 5, "alpha": 0.5}),
}


# ----------------------------------------------------------------------------- parameter sets
def small_shapes() -> list[tuple[int, ...]]:
    """296 tensors, 3.0M parameters: 4 stages x 24 conv blocks (weight, BN scale, BN shift), an MLP head."""
    shapes: list[tuple[int, ...]] = []
    for c in (16, 32, 64, 88):
        for _ in range(24):
            shapes += [(c, c, 3, 3), (c,), (c,)]
    for fan_in, fan_out in ((88, 256), (256, 256), (256, 128), (128, 10)):
        shapes += [(fan_out, fan_in), (fan_out,)]
    return shapes


PARAM_SETS = {"small": small_shapes, "big": lambda: [(2048, 2048)] * 4}


def _tensors(shapes: list[tuple[int, ...]], seed: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=gen) * 0.1 for s in shapes]


# ----------------------------------------------------------------------------- timing
def implementations(name: str, algo: Algorithm) -> dict[str, Make]:
    """Label -> builder for every implementation of ``name`` available here."""
    impls: dict[str, Make] = {}
    try:
        dzo.get_class(name)
    except (ImportError, AttributeError, ValueError):
        return impls
    impls["deepzen"] = lambda ps: dzo.create(name, ps, **algo.deepzen)
    if algo.torch is not None:
        cls, kw, fused = algo.torch
        impls["torch loop"] = lambda ps: cls(ps, **kw, foreach=False)
        impls["torch foreach"] = lambda ps: cls(ps, **kw, foreach=True)
        if fused:
            impls["torch fused"] = lambda ps: cls(ps, **kw, fused=True)
    if algo.peer is not None and po is not None:
        cls, kw = getattr(po, algo.peer[0]), algo.peer[1]
        variants = {"po loop": {"foreach": False}, "po foreach": {"foreach": True}} \
            if "foreach" in inspect.signature(cls.__init__).parameters else {"po loop": {}}
        for label, extra in variants.items():
            impls[label] = _peer(cls, {**kw, **extra}, algo.lookahead)
    return impls


def _peer(cls: type, kw: dict[str, Any], lookahead: dict[str, Any] | None) -> Make:
    if lookahead is None:
        return lambda ps: cls(ps, **kw)
    return lambda ps: po.Lookahead(cls(ps, **kw), **lookahead)


def _closure() -> torch.Tensor:
    return torch.tensor(1.0)       # Eve reads the loss; a constant one keeps the cost comparable


def time_steps(impls: dict[str, Make], shapes: list[tuple[int, ...]], *, repeats: int, steps: int,
               warmup: int) -> dict[str, float]:
    """Median over ``repeats`` of the mean seconds per step, implementations interleaved."""
    init, grads = _tensors(shapes, 0), _tensors(shapes, 1)
    runs: dict[str, tuple[torch.optim.Optimizer, bool]] = {}
    for label, make in impls.items():
        params = [x.clone().requires_grad_() for x in init]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        opt = make(params)
        closure = getattr(opt, "needs_loss", False)
        for _ in range(warmup):
            opt.step(_closure) if closure else opt.step()
        runs[label] = (opt, closure)
    samples: dict[str, list[float]] = {label: [] for label in runs}
    labels = list(runs)
    for r in range(repeats):
        for label in labels[r % len(labels):] + labels[: r % len(labels)]:
            opt, closure = runs[label]
            start = time.perf_counter()
            for _ in range(steps):
                opt.step(_closure) if closure else opt.step()
            samples[label].append((time.perf_counter() - start) / steps)
    return {label: statistics.median(v) for label, v in samples.items()}


# ----------------------------------------------------------------------------- report
COLUMNS = ["deepzen", "torch loop", "torch foreach", "torch fused", "po loop", "po foreach"]


def ratio(name: str, times: dict[str, float]) -> tuple[float | None, str]:
    """deepzen / best torch.optim variant, else deepzen / best pytorch_optimizer; and the baseline's kind."""
    torch_times = [v for k, v in times.items() if k.startswith("torch")]
    peer_times = [v for k, v in times.items() if k.startswith("po ")]
    if "deepzen" not in times:
        return None, ""
    if torch_times:
        return times["deepzen"] / min(torch_times), "torch"
    if peer_times:
        return times["deepzen"] / min(peer_times), "po"
    return None, ""


def report(results: dict[str, dict[str, dict[str, float]]], args: argparse.Namespace, skipped: list[str]) -> str:
    numel = {k: sum(math.prod(s) for s in f()) for k, f in PARAM_SETS.items()}
    count = {k: len(f()) for k, f in PARAM_SETS.items()}
    lines = [
        f"# Optimizer step time (ms per step, median of {args.repeats})",
        "",
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; pytorch_optimizer "
        f"{'not installed' if po is None else 'installed'}. Sets: "
        + ", ".join(f"{k} = {count[k]} tensors / {numel[k] / 1e6:.1f}M params" for k in PARAM_SETS),
        "",
        "| algorithm | set | " + " | ".join(COLUMNS) + " | ratio | vs best | target |",
        "|---|---|" + "---:|" * len(COLUMNS) + "---:|---|---|",
    ]
    peer_ratios: dict[str, list[float]] = {k: [] for k in PARAM_SETS}
    misses = []
    for name, per_set in results.items():
        for set_name, times in per_set.items():
            r, kind = ratio(name, times)
            cells = [f"{times[c] * 1e3:.2f}" if c in times else "–" for c in COLUMNS]
            ok = ""
            if kind == "torch":
                ok = "ok" if r <= TORCH_TARGET else f"MISS (> {TORCH_TARGET})"
                if r > TORCH_TARGET:
                    misses.append(f"{name}/{set_name}")
            elif kind == "po":
                peer_ratios[set_name].append(r)
            shown = f"{r:.2f}x" if r is not None else "–"
            lines.append(f"| {name} | {set_name} | " + " | ".join(cells) + f" | {shown} | {kind or '–'} | {ok} |")
    lines.append("")
    for set_name, rs in peer_ratios.items():
        if rs:
            gm = math.exp(sum(map(math.log, rs)) / len(rs))
            verdict = "ok" if gm <= PEER_TARGET else f"MISS (> {PEER_TARGET})"
            lines.append(f"- geometric mean deepzen / pytorch_optimizer, {set_name} set ({len(rs)} algorithms): "
                         f"{gm:.2f}x {verdict}")
    lines.append(f"- torch.optim target (<= {TORCH_TARGET}x) missed: {', '.join(misses) or 'none'}")
    if skipped:
        lines.append(f"- skipped (not implemented yet): {', '.join(skipped)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and steps (a smoke run)")
    parser.add_argument("--only", default="", help="comma-separated registry names (default: all)")
    parser.add_argument("--sets", default="small,big", help="parameter sets: small, big")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per implementation")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--markdown", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.repeats = args.repeats or (3 if args.quick else 7)
    steps, warmup = (2, 1) if args.quick else (5, 3)
    names = [n.strip().lower() for n in args.only.split(",") if n.strip()] or list(ALGORITHMS)
    unknown = [n for n in names if n not in ALGORITHMS]
    if unknown:
        parser.error(f"unknown names {unknown}; choose from {', '.join(ALGORITHMS)}")
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    results: dict[str, dict[str, dict[str, float]]] = {}
    skipped = []
    for name in names:
        impls = implementations(name, ALGORITHMS[name])
        if not impls:
            skipped.append(name)
            continue
        for set_name in sets:
            times = time_steps(impls, PARAM_SETS[set_name](), repeats=args.repeats, steps=steps, warmup=warmup)
            results.setdefault(name, {})[set_name] = times
            r, kind = ratio(name, times)
            print(f"{name:9s} {set_name:5s} " + "  ".join(f"{k} {v * 1e3:.2f}ms" for k, v in times.items())
                  + (f"  -> {r:.2f}x vs {kind}" if r else ""), file=sys.stderr, flush=True)
            gc.collect()
    table = report(results, args, skipped)
    print(table)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
