"""Lookahead: slow weights that follow any optimizer's fast weights; and LADOPT, Lookahead around ADOPT.

The averaging step itself, :func:`lookahead_average_`, is written once: :class:`Lookahead` (around any
torch optimizer) calls it on its parameter lists, and :func:`with_lookahead` makes it the ``after`` step
of a rule (:class:`LADOPT`, :class:`deepzen.optim.ranger.Ranger`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from deepzen import _tensors as T
from deepzen.optim import _checks as C
from deepzen.optim._flat_pack import FlatPack
from deepzen.optim._rule import COPY_OF_PARAM, Rule
from deepzen.optim.adopt import ADOPT, ADOPT_RULE

_KEYS = ("k", "alpha")      # Lookahead's hyperparameters, added to every param group


def lookahead_average_(params: list[Tensor], slow: list[Tensor], alpha: float) -> None:
    """The Lookahead synchronization, in place: φ ← φ + α(θ − φ), then θ ← φ."""
    if params:
        T.lerp_(slow, params, alpha)                                     # φ ← φ + α(θ − φ)
        T.copy_(params, slow)                                            # θ ← φ


def lookahead_after(group: Mapping[str, Any], pack: FlatPack, t: float) -> None:
    """Lookahead as a rule's ``after`` step over a flat pack: the synchronization when ``t`` is a
    multiple of k (slow weights: the pack's ``slow_param`` buffer)."""
    if t % group["k"] == 0:
        lookahead_average_([pack.p], [pack.state["slow_param"]], group["alpha"])


def with_lookahead(rule: Rule) -> Rule:
    """``rule`` inside Lookahead: its step, then the synchronization every k steps of a parameter;
    slow weights φ (state ``slow_param``) start as a copy of the parameter."""
    return rule.with_hooks(after=lookahead_after, extra={"slow_param": COPY_OF_PARAM})


def check_lookahead_group(group: dict[str, Any]) -> None:
    """Validate ``k`` (an integer >= 1) and ``alpha`` (in [0, 1]) of a param group."""
    k = group["k"]
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"invalid k: {k!r}; expected an integer >= 1 (inner steps between synchronizations)")
    C.check_range("alpha", group["alpha"], 0.0, 1.0)


def _real(t: Tensor) -> Tensor:
    return torch.view_as_real(t) if t.is_complex() else t


class Lookahead(torch.optim.Optimizer):
    r"""Lookahead (Zhang, Lucas, Hinton, Ba, NeurIPS 2019, arXiv:1907.08610) around any optimizer.

    Algorithm (Alg. 1), per parameter: the inner optimizer updates the fast weights θ every step;
    every k steps of that parameter the slow weights φ move toward them and the fast weights restart
    from there::

        φ₀ = θ₀                                 (the value before the parameter's first step)
        θ  ← inner_step(θ)                      (every step)
        if the parameter's step count % k == 0:
            φ ← φ + α(θ − φ);  θ ← φ

    Defaults: k = 5, α = 0.5 (the setting used throughout the paper's experiments).

    The wrapper shares ``param_groups`` with the inner optimizer (the same group dicts, each with
    ``k`` and ``alpha`` added), so LR schedulers, ``GradScaler`` and ``add_param_group`` work on the
    wrapper as on the inner optimizer. ``state`` holds the slow weights (``slow_param``) and each
    parameter's step count (``step``, a Python int, so checking it never waits for a GPU; it counts
    the steps where the parameter had a gradient);
    ``state_dict()`` carries the inner optimizer's state dict too, and ``load_state_dict`` restores
    both. ``step(closure)`` passes the closure to the inner optimizer and returns its loss.

    Arguments:
        optimizer: the inner optimizer (deepzen's or torch's), already built over the parameters.
        k: inner steps between synchronizations (per parameter).
        alpha: α in [0, 1], the slow weights' step toward the fast weights.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, k: int = 5, alpha: float = 0.5) -> None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise ValueError(f"invalid optimizer: {optimizer!r}; expected a torch.optim.Optimizer to wrap")
        self.optimizer = optimizer
        super().__init__(optimizer.param_groups, {"k": k, "alpha": alpha})
        self.param_groups = optimizer.param_groups                      # the very same list
        # The inner optimizer's defaults too, so tools that inspect them (OneCycleLR's momentum
        # cycling checks for 'momentum' or 'betas') see the wrapped algorithm's hyperparameters.
        self.defaults = {**optimizer.defaults, **self.defaults}

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group to the inner optimizer (with its defaults) and Lookahead's ``k`` and ``alpha``."""
        inner = self.optimizer.param_groups
        added = not any(param_group is g for g in inner)
        if added:                                    # a new group, not one of the inner optimizer's own
            self.optimizer.add_param_group(param_group)
            param_group = inner[-1]
        for key in _KEYS:
            param_group.setdefault(key, self.defaults[key])
        try:
            check_lookahead_group(param_group)
        except ValueError:
            if added:
                inner.pop()
            raise
        if self.param_groups is not inner:           # during __init__ only
            self.param_groups.append(param_group)

    # ------------------------------------------------------------------ the step
    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One inner step, then the Lookahead synchronization of parameters at a multiple of k."""
        if closure is None:
            self._start_slow_weights()
            loss = self.optimizer.step()
        else:
            def closure_then_start() -> Any:
                loss = closure()
                with torch.no_grad():
                    self._start_slow_weights()       # params whose first gradient came from closure
                return loss

            loss = self.optimizer.step(closure_then_start)
        for group in self.param_groups:
            fast, slow = [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                state["step"] += 1
                if state["step"] % group["k"] == 0:
                    fast.append(_real(p))
                    slow.append(state["slow_param"])
            for part in T.group_by_device_dtype(range(len(fast)), fast).values():
                lookahead_average_([fast[i] for i in part], [slow[i] for i in part], group["alpha"])
        return loss

    def _start_slow_weights(self) -> None:
        """φ₀ = θ for every parameter that has a gradient and no slow weights yet."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None and "slow_param" not in self.state[p]:
                    self.state[p].update(step=0, slow_param=_real(p).detach().clone())

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Lookahead's state (slow weights, step counts), the shared groups, and ``inner``: the inner
        optimizer's own state dict."""
        saved = super().state_dict()
        saved["inner"] = self.optimizer.state_dict()
        return saved

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore Lookahead's and the inner optimizer's state, keeping the groups shared."""
        self.optimizer.load_state_dict(state_dict["inner"])
        super().load_state_dict({"state": state_dict["state"], "param_groups": state_dict["param_groups"]})
        for mine, inner in zip(self.param_groups, self.optimizer.param_groups):
            for key in _KEYS:
                inner[key] = mine[key]
        self.param_groups = self.optimizer.param_groups

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "optimizer": self.optimizer}

    def __repr__(self) -> str:
        ks = sorted({g["k"] for g in self.param_groups})
        alphas = sorted({g["alpha"] for g in self.param_groups})
        return f"Lookahead(k={ks[0] if len(ks) == 1 else ks}, alpha={alphas[0] if len(alphas) == 1 else alphas}, " \
               f"optimizer={self.optimizer!r})"


class LADOPT(ADOPT):
    r"""LADOPT: Lookahead (Zhang et al., NeurIPS 2019) around ADOPT (Taniguchi et al., NeurIPS 2024).

    **No paper or library uses the name LADOPT.** deepzen reads it as Lookahead wrapped around ADOPT:
    the name contains ADOPT exactly, and it sits next to Ranger, which is Lookahead around RAdam. This
    is an interpretation; plain ``adopt`` and the general :class:`Lookahead` ship beside it. It is
    exactly ``Lookahead(ADOPT(params, ...), k, alpha)``, written as one optimizer so the slow weights
    share ADOPT's state and its multi-tensor, chunked update::

        θ ← ADOPT step (see :class:`deepzen.optim.adopt.ADOPT`; a parameter's first step only
            initializes v)
        every k steps of the parameter (the initializing step counted):
            φ ← φ + α(θ − φ);  θ ← φ             (φ₀ = θ before the first step)

    Defaults: ADOPT's (η = 1e-3, (0.9, 0.9999), ε = 1e-6, clip exponent 1/4) and Lookahead's (k = 5,
    α = 0.5).

    Arguments: those of :class:`ADOPT`, plus ``k`` (steps between synchronizations) and ``alpha``.

    State: ``exp_avg``, ``exp_avg_sq``, ``slow_param``.
    """

    rule = with_lookahead(ADOPT_RULE)

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.9999),
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        k: int = 5,
        alpha: float = 0.5,
        decoupled: bool = False,
        clip_exponent: float | None = 0.25,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled,
                        clip_exponent=clip_exponent, maximize=maximize, k=k, alpha=alpha, fused=fused)
        super(ADOPT, self).__init__(params, defaults)           # ADOPT's groups plus k and alpha

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        check_lookahead_group(group)
