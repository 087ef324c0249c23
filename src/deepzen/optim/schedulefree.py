"""Schedule-Free SGD and AdamW: interpolation between an SGD/Adam sequence and its running average."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Batch, Optimizer
from deepzen.optim._flat_pack import FlatPack
from deepzen.optim._rule import Rule, run_rule


def schedulefree_math(p: Tensor, g: Tensor, z: Tensor, x: Tensor, v: Tensor | None, s: Any) -> None:
    """One Schedule-Free step of a flat slice in place (``v`` for AdamW, ``None`` for SGD); ``p`` holds
    y (see :class:`ScheduleFreeSGD`).

    s = (γ_t, λ, c_t, β2, 1 − β2, 1/√(1 − β2ᵗ), ε, β). Eagerly y is written here, slice by slice
    while the slice is in cache; compiled, after the kernel (``_set_y_after``), so that y is always
    the separately rounded operations of :func:`_set_y` (a compiler may fuse them).
    """
    lr, wd, c, b2, a2, bc2, eps, beta = s
    if v is not None:
        O.addcmul_(v.mul_(b2), a2, g, g)                     # v ← β2 v + (1 − β2) g²
        g = O.over_(g, O.sqrt_denominator(v, bc2, eps))      # u = g / (√v̂ + ε)
    O.axpy_(z, -lr, g)                                       # z ← z − γ_t u ...
    if not O.is_zero(wd):
        O.axpy_(z, -lr * wd, p)                              # ... − γ_t λ y
    x.lerp_(z, c)                                            # x ← (1 − c_t) x + c_t z
    if not torch.compiler.is_compiling():
        _write_y(p, z, x, beta)                              # y = z + β(x − z)


def _set_y_after(group: Mapping[str, Any], pack: FlatPack, t: float) -> None:
    """The rule's ``after`` step: y = z + β(x − z) over the whole pack (see :func:`_set_y`)."""
    _set_y(group, pack.p, pack.state["z"], pack.state["x"])


class _ScheduleFree(Optimizer):
    """The schedule-free iteration shared by SGD and AdamW; subclasses say whether it is adaptive."""

    adaptive: bool = False

    def _check_common(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_weight_decay(group["weight_decay"])
        C.check_range("warmup_steps", group["warmup_steps"], 0.0)
        C.check_range("r", group["r"], 0.0)
        C.check_range("weight_lr_power", group["weight_lr_power"], 0.0)
        C.check_flags(group, "maximize", "fused", "train_mode")

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state: dict[str, Any] = {"z": p.detach().clone(memory_format=torch.contiguous_format),
                                 "x": p.detach().clone(memory_format=torch.contiguous_format)}
        if self.adaptive:
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.contiguous_format)
        state.update(lr_max=-1.0, weight_sum=0.0, weight_step=0.0, ckp=0.0)
        return state

    # ------------------------------------------------------------------ modes
    @torch.no_grad()
    def eval(self) -> None:
        """Put the parameters at x, the averaged sequence (evaluate, save or predict from here)."""
        for group in self.param_groups:
            if group["train_mode"]:
                for p in group["params"]:
                    if "x" in self.state[p]:
                        _real(p).copy_(self.state[p]["x"])
                group["train_mode"] = False

    @torch.no_grad()
    def train(self) -> None:
        """Put the parameters back at y, where gradients are taken (before training steps)."""
        for group in self.param_groups:
            if not group["train_mode"]:
                for p in group["params"]:
                    if "x" in self.state[p]:
                        _set_y(group, _real(p), self.state[p]["z"], self.state[p]["x"])
                group["train_mode"] = True

    def step(self, closure: Any = None) -> Any:  # type: ignore[override]
        """One step (the parameters must be at y: call ``train()`` after ``eval()``)."""
        for group in self.param_groups:
            if not group["train_mode"]:
                raise RuntimeError(
                    f"{type(self).__name__} is in eval mode (the parameters hold the average x): call "
                    "optimizer.train() before optimizer.step(), and optimizer.eval() before evaluating or saving")
        return super().step(closure)

    # ------------------------------------------------------------------ the averaging weights
    def _advance(self, group: dict[str, Any], batch: Batch) -> tuple[list[float], list[float]]:
        """Each parameter's γ_t and c_t; its running sums advance once per step."""
        lrs, cs = [], []
        warmup, lr = group["warmup_steps"], group["lr"]
        for state, t in zip(batch.states, batch.steps):
            lr_t = lr * min(1.0, t / warmup) if warmup else lr          # linear warm-up
            if state["weight_step"] != t:
                state["weight_step"] = t
                state["lr_max"] = max(state["lr_max"], lr_t)
                weight = t ** group["r"] * state["lr_max"] ** group["weight_lr_power"]
                state["weight_sum"] += weight
                state["ckp"] = weight / state["weight_sum"] if state["weight_sum"] else 0.0
            lrs.append(lr_t)
            cs.append(state["ckp"])
        return lrs, cs

    def _dispatch(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        """The rule over flat packs of the parameters that share (γ_t, c_t) (each parameter has its own
        averaging weight), eagerly or compiled; y is written by the operations ``train()`` uses (bit for
        bit): eagerly inside the math, slice by slice; compiled, over each pack after the kernel."""
        lrs, cs = self._advance(group, batch)
        beta2 = group["betas"][1] if self.adaptive else 0.0
        beta = _beta(group)
        compiled = bool(group["fused"])
        keys = ("z", "x", "exp_avg_sq") if self.adaptive else ("z", "x")
        by_weights: dict[tuple[float, float], list[int]] = {}
        for i, key in enumerate(zip(lrs, cs)):
            by_weights.setdefault(key, []).append(i)
        for (lr_t, c), positions in by_weights.items():
            part = (batch if len(positions) == len(batch) else batch.select(positions)).with_buffers(keys)
            rule = Rule(("z", "x", "exp_avg_sq"), schedulefree_math, lambda group, t, lr_t=lr_t, c=c: (
                lr_t, group["weight_decay"], c, beta2, 1 - beta2, (1 - beta2**t) ** -0.5 if self.adaptive else 1.0,
                group.get("eps", 0.0), beta), after=_set_y_after if compiled else None)
            run_rule(self, rule, group, part, compiled=compiled)


def _set_y(group: Mapping[str, Any], y: Tensor, z: Tensor, x: Tensor) -> None:
    """y = z + β(x − z) with the group's β (see :func:`_write_y`)."""
    _write_y(y, z, x, _beta(group))


def _beta(group: Mapping[str, Any]) -> float:
    """β, the interpolation weight of x in y: AdamW's β1, SGD's momentum."""
    return group["betas"][0] if "betas" in group else group["momentum"]


def _write_y(y: Tensor, z: Tensor, x: Tensor, beta: float) -> None:
    """y = z + β(x − z), as separate correctly rounded operations, so that recomputing y (``train()``)
    gives the same bits however the tensors are split (a fused multiply-add would not)."""
    torch.sub(x, z, out=y).mul_(beta).add_(z)


def _real(p: Tensor) -> Tensor:
    return torch.view_as_real(p) if p.is_complex() else p


_DOC_COMMON = """
    The optimizer has two modes. In train mode (the start) the parameters hold y, where gradients are
    taken; ``eval()`` puts them at x, the average, which is what to evaluate, save and predict with, and
    ``train()`` puts them back at y (recomputed from x and z exactly as each step writes it, so a
    checkpoint saved in eval mode resumes bit for bit). deepzen's Trainer switches the modes around
    evaluation, checkpointing and prediction. ``step`` in eval mode is an error.

    Where the code and the paper differ, and what we follow: the official code (facebookresearch/
    schedule_free) keeps one step count, one weight sum and one γmax per parameter group; we keep them
    per parameter (a parameter that starts late averages from its own first step). Its classes start in
    eval mode and need a ``train()`` first; ours start in train mode (y = x = z at the start, so the
    two are the same point). Weight decay is taken at y, as in the code's default.

    State: ``z``, ``x``{extra}, the averaging sums ``lr_max``, ``weight_sum``, ``weight_step``, ``ckp``
    (numbers), ``step``. The mode is the group option ``train_mode`` (saved in ``state_dict``).
"""


class ScheduleFreeSGD(_ScheduleFree):
    __doc__ = r"""Schedule-Free SGD (Defazio, Yang, Mehta, Mishchenko, Khaled, Cutkosky, "The Road Less Scheduled",
    NeurIPS 2024, arXiv:2405.15682).

    Algorithm (Alg. 1; t counted per parameter; the parameter holds y)::

        γ_t = η·min(1, t/warmup_steps)                     (linear warm-up; none when warmup_steps = 0)
        γmax ← max(γmax, γ_t);  w_t = t^r·γmax^p;  c_t = w_t / Σ_{i≤t} w_i   (p = weight_lr_power)
        z  ← z − γ_t·(g + λy)                              (the SGD sequence, gradient at y)
        x  ← (1 − c_t)·x + c_t·z                           (its weighted running average)
        y  = (1 − β)·z + β·x                               (β = momentum: the interpolation)

    z₀ = x₀ = y₀ = θ₀. Defaults: η = 1.0, β = 0.9, λ = 0, warm-up 0, r = 0, p = 2 (the official code's;
    its README recommends an η 1-10x larger than a tuned SGD's, and a warm-up).
""" + _DOC_COMMON.format(extra="") + """
    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        momentum: β, the interpolation weight of x in y, in [0, 1).
        weight_decay: λ (added to the gradient, at y).
        warmup_steps: linear warm-up length in steps (0 = none).
        r: power of t in the averaging weights.
        weight_lr_power: power of γmax in the averaging weights.
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (see ``deepzen.optim._flat_pack``).
    """

    def __init__(self, params: Any, lr: float = 1.0, momentum: float = 0.9, weight_decay: float = 0.0,
                 warmup_steps: int = 0, r: float = 0.0, weight_lr_power: float = 2.0, *, maximize: bool = False,
                 fused: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                                      warmup_steps=warmup_steps, r=r, weight_lr_power=weight_lr_power,
                                      maximize=maximize, fused=fused, train_mode=True))

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_common(group)
        C.check_beta(group["momentum"], "momentum")


class ScheduleFreeAdamW(_ScheduleFree):
    __doc__ = r"""Schedule-Free AdamW (Defazio et al., "The Road Less Scheduled", NeurIPS 2024, arXiv:2405.15682).

    Algorithm (Alg. 1 with Adam's preconditioner; t counted per parameter; the parameter holds y)::

        γ_t, c_t as in ScheduleFreeSGD
        v  ← β2·v + (1 − β2)·g²
        z  ← z − γ_t·(g / (√(v/(1 − β2ᵗ)) + ε) + λy)
        x  ← (1 − c_t)·x + c_t·z
        y  = (1 − β1)·z + β1·x

    Defaults: η = 0.0025, (β1, β2) = (0.9, 0.999), ε = 1e-8, λ = 0, warm-up 0, r = 0, p = 2 (the official
    code's). The code's ``warmup_steps`` is recommended in practice (the paper warms up 5% of the run).
""" + _DOC_COMMON.format(extra=", ``exp_avg_sq`` (v)") + """
    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1 the interpolation weight, β2 the second-moment decay).
        eps: ε added to the denominator.
        weight_decay: λ (decoupled through z, at y).
        warmup_steps: linear warm-up length in steps (0 = none).
        r: power of t in the averaging weights.
        weight_lr_power: power of γmax in the averaging weights.
        maximize: ascend instead of descend.
        fused: run each step as one kernel compiled by ``torch.compile`` (see ``deepzen.optim._flat_pack``).
    """

    adaptive = True

    def __init__(self, params: Any, lr: float = 0.0025, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, warmup_steps: int = 0, r: float = 0.0,
                 weight_lr_power: float = 2.0, *, maximize: bool = False, fused: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      warmup_steps=warmup_steps, r=r, weight_lr_power=weight_lr_power,
                                      maximize=maximize, fused=fused, train_mode=True))

    def _check_group(self, group: dict[str, Any]) -> None:
        self._check_common(group)
        C.check_betas(group["betas"])
        C.check_eps(group["eps"])
