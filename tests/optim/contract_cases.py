"""The one table behind ``test_contract.py``: every registry name, with what the contract tests need.

Each :class:`Spec` says how to build the optimizer (registry name + extra keyword arguments), which
learning rates make it converge on the test problems, and whether it needs the loss (a closure) every
step. Helpers here drive optimizers the same way in every test: seeded gradients, a closure when
needed, state snapshots, and the two test problems (a quadratic and Rosenbrock's function).
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

import deepzen.optim as dzo

#: The 22 names the spec asks for, written out here independently of the registry.
EXPECTED_NAMES = (
    "sgd", "momentum", "nag", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "amsgrad", "nadam",
    "adamax", "radam", "adabound", "amsbound", "ranger", "lamb", "lars", "yogi", "qhadam", "eve",
    "adopt", "ladopt",
    # the modern generation (issue 11)
    "lion", "adafactor", "muon", "schedulefree_adamw", "schedulefree_sgd", "prodigy", "adan", "madgrad",
    "ademamix", "soap", "sophia",
)


@dataclass(frozen=True)
class Spec:
    """One optimizer under contract test.

    Attributes:
        name: registry name (or a label for a non-registry optimizer, with ``build``).
        kwargs: extra hyperparameters used in every test.
        lr: a learning rate that converges on the quadratic in ``QUAD_STEPS`` steps.
        rosen_lr: a learning rate for Rosenbrock's function; ``rosen_kwargs`` adds hyperparameters there.
        rosen_steps: steps allowed on Rosenbrock's function (from (0, 0)).
        maximize_kwargs: extra hyperparameters for the ``maximize=True`` test.
        needs_closure: ``step`` must get a closure returning the loss (Eve).
        loss_state: keeps global state driven by the loss history (Eve's d̃), so a fresh optimizer is not
            comparable step by step; those tests then check the per-parameter step count only.
        build: builds the optimizer from (params, **hparams) instead of ``deepzen.optim.create``.
        label: the test id (default: ``name``).
    """

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    lr: float = 0.05
    rosen_lr: float = 0.02
    rosen_kwargs: dict[str, Any] = field(default_factory=dict)
    rosen_steps: int = 1000
    maximize_kwargs: dict[str, Any] = field(default_factory=dict)
    needs_closure: bool = False
    loss_state: bool = False
    build: Callable[..., torch.optim.Optimizer] | None = None
    label: str = ""

    def __str__(self) -> str:
        return self.label or self.name

    def make(self, params: Any, **hparams: Any) -> torch.optim.Optimizer:
        """The optimizer over ``params``: the table's kwargs, overridden by ``hparams``."""
        kw = {**self.kwargs, **hparams}
        if self.build is not None:
            return self.build(params, **kw)
        return dzo.create(self.name, params, **kw)

    def accepts(self, hparam: str) -> bool:
        """Whether the constructor takes a keyword argument ``hparam``."""
        return hparam in constructor_parameters(self)


SPECS: dict[str, Spec] = {s.name: s for s in [
    Spec("sgd", lr=0.1, rosen_lr=2e-3, rosen_steps=3000),
    Spec("momentum", lr=0.05, rosen_lr=1e-3),
    Spec("nag", lr=0.05, rosen_lr=1e-3),
    Spec("adagrad", lr=0.5, rosen_lr=0.05, rosen_steps=3000),
    Spec("adadelta", lr=5.0, rosen_lr=3e-3, rosen_kwargs={"eps": 1e-3}, rosen_steps=4000),
    Spec("rmsprop", lr=0.05, rosen_lr=3e-3, rosen_steps=3000),
    Spec("adam", lr=0.05, rosen_lr=0.01),
    Spec("adamw", lr=0.05, rosen_lr=0.01, rosen_kwargs={"weight_decay": 0.0}),
    Spec("amsgrad", lr=0.05, rosen_lr=0.01),
    Spec("nadam", lr=0.05, rosen_lr=0.01, rosen_steps=2000),
    Spec("adamax", lr=0.05, rosen_lr=0.03),
    Spec("radam", lr=0.2, rosen_lr=0.01),
    Spec("adabound", lr=0.05, rosen_lr=0.05, rosen_kwargs={"final_lr": 1e-3}, rosen_steps=3000),
    Spec("amsbound", lr=0.05, rosen_lr=0.05, rosen_kwargs={"final_lr": 1e-3}, rosen_steps=3000),
    Spec("ranger", lr=0.5, rosen_lr=0.02),
    Spec("lamb", lr=0.05, rosen_lr=3e-3, rosen_kwargs={"weight_decay": 0.0}, rosen_steps=3000),
    Spec("lars", lr=20.0, rosen_lr=1.0),
    Spec("yogi", lr=0.05, rosen_lr=0.01),
    Spec("qhadam", lr=0.2, rosen_lr=0.03),
    Spec("eve", lr=0.05, rosen_lr=0.01, needs_closure=True, loss_state=True,
         maximize_kwargs={"f_star": 1e3}),     # maximizing, f* is an upper bound of the objective
    Spec("adopt", lr=0.05, rosen_lr=0.03),
    Spec("ladopt", lr=0.2, rosen_lr=0.05),
    Spec("lion", lr=0.05, rosen_lr=2e-3, rosen_steps=3000),
    Spec("adafactor", lr=0.2, rosen_lr=0.2, rosen_steps=6000),     # ρ_t = min(η, 1/√t): slow at the end
    Spec("muon", lr=0.1, rosen_lr=0.01),
    # weight decay (taken at y) makes the interpolation weight β reach z: with gradients set by hand
    # and no decay, β only moves y, and OneCycleLR's β cycle ends where it started
    Spec("schedulefree_adamw", kwargs={"weight_decay": 0.01}, lr=0.05, rosen_lr=0.01,
         rosen_kwargs={"weight_decay": 0.0}),
    Spec("schedulefree_sgd", kwargs={"weight_decay": 0.01}, lr=0.1, rosen_lr=2e-3,
         rosen_kwargs={"weight_decay": 0.0}, rosen_steps=3000),
    # d is global (like Eve's d̃): a fresh optimizer over fewer parameters is not comparable step by step;
    # d₀ = 1e-2 so that the short contract runs move the weights beyond float tolerance
    Spec("prodigy", kwargs={"d0": 1e-2}, lr=1.0, rosen_lr=1.0, rosen_kwargs={"d0": 1e-6}, loss_state=True),
    Spec("adan", lr=0.05, rosen_lr=0.01),
    Spec("madgrad", lr=0.05, rosen_lr=0.01),
    Spec("ademamix", lr=0.05, rosen_lr=0.01),
    Spec("soap", lr=0.1, rosen_lr=0.02),
    Spec("sophia", lr=0.02, rosen_lr=3e-3),
]}


#: The algorithms whose ``fused=True`` runs a kernel compiled by torch.compile (written out here, not
#: read from the classes), and their contract specs with ``fused=True``.
COMPILED_FUSED_NAMES = ("radam", "adabound", "amsbound", "ranger", "lamb", "lars", "yogi", "qhadam", "eve",
                        "adopt", "ladopt", "nadam", "adamax", "rmsprop", "adadelta", "lion", "adan", "madgrad",
                        "ademamix", "schedulefree_adamw", "schedulefree_sgd", "sophia")
FUSED_SPECS = [dataclasses.replace(SPECS[n], kwargs={**SPECS[n].kwargs, "fused": True}, label=f"{n}-fused")
               for n in COMPILED_FUSED_NAMES]


#: Each algorithm as the registry builds it (torch's kernels where they apply), and the compiled
#: ``fused=True`` kernels: the list most contract tests run over.
ALL = [SPECS[name] for name in dzo.available()] + FUSED_SPECS


def each(specs: list[Spec]):  # type: ignore[no-untyped-def]
    """``pytest.mark.parametrize`` over ``specs`` as ``spec``, with readable ids."""
    return pytest.mark.parametrize("spec", specs, ids=[str(s) for s in specs])


#: The algorithms that have one of torch's own fused kernels (written out here, not read from the
#: classes): ``fused=None`` (their default) takes it wherever torch supports the device and dtype.
TORCH_KERNEL_NAMES = ("sgd", "momentum", "nag", "adagrad", "adam", "adamw", "amsgrad")


def code_paths(spec: Spec) -> list[dict[str, Any]]:
    """Hyperparameters that select each code path of ``spec``: as built; for an algorithm with a torch
    kernel also ``fused=False`` (the multi-tensor loop) and ``fused=True`` (the kernel, which plain
    SGD's default skips). The compiled kernels have specs of their own (``FUSED_SPECS``)."""
    return [{}, {"fused": False}, {"fused": True}] if spec.name in TORCH_KERNEL_NAMES and not spec.kwargs else [{}]


def _lookahead_sgd(params: Any, lr: float = 0.05, k: int = 5, alpha: float = 0.5, **sgd: Any) -> Any:
    from deepzen.optim.lookahead import Lookahead

    return Lookahead(torch.optim.SGD(params, lr=lr, momentum=0.9, **sgd), k=k, alpha=alpha)


#: deepzen's generic Lookahead wrapped around torch.optim.SGD (not a registry name).
LOOKAHEAD_SGD = Spec("lookahead(torch-sgd)", lr=0.05, build=_lookahead_sgd)
WITH_LOOKAHEAD = [*ALL, LOOKAHEAD_SGD]


def optimizer_class(spec: Spec) -> type:
    """The class under test (for a ``build`` function that is not a class: the class it returns)."""
    if spec.build is _lookahead_sgd:
        from deepzen.optim.lookahead import Lookahead

        return Lookahead
    if isinstance(spec.build, type):
        return spec.build
    return dzo.get_class(spec.name)


def constructor_parameters(spec: Spec) -> set[str]:
    """Names of the keyword arguments the optimizer's constructor takes."""
    if spec.build is _lookahead_sgd:
        return {"lr", "k", "alpha", "momentum", "weight_decay", "maximize"}
    return set(inspect.signature(optimizer_class(spec).__init__).parameters) - {"self", "params"}


# ----------------------------------------------------------------------------- driving a run
SHAPES: list[tuple[int, ...]] = [(3, 4), (5,), ()]


def make_params(seed: int = 0, shapes: list[tuple[int, ...]] = SHAPES,
                dtype: torch.dtype = torch.float64) -> list[torch.Tensor]:
    """Seeded leaf parameters of the given shapes."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=gen, dtype=torch.float64).to(dtype).requires_grad_() for s in shapes]


def clone_params(params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [p.detach().clone().requires_grad_() for p in params]


def grad_stream(seed: int, shapes: list[tuple[int, ...]], steps: int,
                dtype: torch.dtype = torch.float64) -> list[list[torch.Tensor]]:
    """``steps`` lists of seeded gradients, one per shape."""
    gen = torch.Generator().manual_seed(1000 + seed)
    return [[torch.randn(s, generator=gen, dtype=torch.float64).to(dtype) for s in shapes]
            for _ in range(steps)]


def loss_at(t: int) -> float:
    """A positive, varying loss (what Eve's closure reports when gradients are set by hand)."""
    return 2.0 + math.sin(0.7 * t) + 0.5 / (t + 1)


def closure_for(spec: Spec, t: int) -> Callable[[], torch.Tensor] | None:
    """The closure step ``t`` passes: one reporting ``loss_at(t)`` where the optimizer needs the loss."""
    return (lambda: torch.tensor(loss_at(t), dtype=torch.float64)) if spec.needs_closure else None


def step(opt: torch.optim.Optimizer, spec: Spec, t: int = 0) -> Any:
    """One ``opt.step``; with a closure reporting ``loss_at(t)`` where the optimizer needs the loss."""
    return opt.step(closure_for(spec, t))


def lockstep(spec: Spec, opts: list[torch.optim.Optimizer], param_lists: list[list[torch.Tensor]],
             stream: list[list[torch.Tensor]], start: int = 0) -> Iterator[int]:
    """Step every optimizer of ``opts`` (over its list in ``param_lists``) on the same gradients from
    ``stream``; yields each step's t (counted from ``start``) once all have stepped."""
    for t, grads in enumerate(stream, start=start):
        for opt, params in zip(opts, param_lists):
            set_grads(params, grads)
            step(opt, spec, t)
        yield t


def set_grads(params: list[torch.Tensor], grads: list[torch.Tensor | None]) -> None:
    """Give each parameter a fresh copy of its gradient (``None`` = no gradient this step)."""
    for p, g in zip(params, grads):
        p.grad = None if g is None else g.clone()


def saved_state_dict(opt: torch.optim.Optimizer) -> dict[str, Any]:
    """``opt.state_dict()`` as a checkpoint file gives it back: saved, then loaded with
    ``weights_only=True`` (checkpoints must load without arbitrary pickle), so nothing is shared."""
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def snapshot(state: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of one parameter's state."""
    return {k: (v.detach().clone() if isinstance(v, torch.Tensor) else copy.deepcopy(v)) for k, v in state.items()}


def same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Bitwise equality of two parameter states."""
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, torch.Tensor) or isinstance(y, torch.Tensor):
            if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)):
                return False
            if x.shape != y.shape or x.dtype != y.dtype or not torch.equal(x, y):
                return False
        elif x != y:
            return False
    return True


# ----------------------------------------------------------------------------- test problems
def quadratic(params: list[torch.Tensor]) -> torch.Tensor:
    """f(x) = ½ Σ a_i (x_i − c_i)² with fixed curvatures a_i in [0.5, 2] and centres c_i in [−1, 1]."""
    total = torch.zeros((), dtype=torch.float64)
    for k, p in enumerate(params):
        n = p.numel()
        idx = torch.arange(n, dtype=torch.float64)
        a = 0.5 + 1.5 * ((idx * 0.37 + k * 0.11) % 1.0)
        c = torch.cos(idx * 1.3 + k)
        total = total + 0.5 * (a * (p.reshape(-1).double() - c) ** 2).sum()
    return total


def rosenbrock(xy: torch.Tensor) -> torch.Tensor:
    """Rosenbrock's function (1 − x)² + 100 (y − x²)², minimum 0 at (1, 1)."""
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def minimize(opt: torch.optim.Optimizer, spec: Spec, params: list[torch.Tensor],
             f: Callable[[], torch.Tensor], steps: int) -> list[float]:
    """Run ``steps`` steps of ``opt`` on the loss ``f``; return the loss before each step and at the end."""
    losses: list[float] = []

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = f()
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(float(opt.step(closure).detach()))
    losses.append(float(f().detach()))
    return losses
