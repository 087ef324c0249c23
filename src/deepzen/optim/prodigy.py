"""Prodigy: Adam whose learning rate is an estimate d of the distance to the solution."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim import _inplace as O
from deepzen.optim._base import Batch, Optimizer
from deepzen.optim._decay import coupled

#: the global estimate, kept (the same) in every parameter group so ``state_dict`` saves it
GLOBAL_KEYS = ("d", "d_max", "d_numerator", "k")


class Prodigy(Optimizer):
    r"""Prodigy (Mishchenko & Defazio, "Prodigy: An Expeditiously Adaptive Parameter-Free Learner",
    ICML 2024, arXiv:2306.06101).

    Algorithm (Alg. 4, the Adam form, in the order of the official code; one global d and step k)::

        η̂ = d·η·(√(1 − β2^{k+1}) / (1 − β1^{k+1}) if use_bias_correction else 1)
        for every parameter with a gradient (g + λθ if decay is coupled):
            r_Δ += (d/d₀)·η̂·⟨g, θ₀ − θ⟩                       (θ₀: the parameter at its first step)
            m ← β1·m + d(1 − β1)·g;   v ← β2·v + d²(1 − β2)·g²
            s ← β3·s + (d/d₀)·η̂·g    (safeguard_warmup: (d/d₀)·d·g);   S += ‖s‖₁
        if S = 0: nothing moves this step
        r ← β3·r + r_Δ;  d̂ = d_coef·r/S;  d_max ← max(d_max, d̂);  d ← min(d_max, d·growth_rate)
        every parameter:  θ ← θ − λη̂θ (decoupled) − η̂·m / (√v + d·ε)   (d: the new estimate)

    β3 = √β2 unless given. Defaults: η = 1 (a multiplier on d: leave it at 1), (β1, β2) = (0.9, 0.999),
    ε = 1e-8, λ = 0 decoupled, d₀ = 1e-6, d_coef = 1, growth_rate = ∞, no bias correction, no
    safeguard (the official code's, prodigyopt). Use a schedule (cosine annealing) on η as usual.

    Where the code and the paper differ: the official code adds options that the paper's Algorithm 4 does
    not write out (weight decay, Adam's bias correction, growth_rate, d_coef), all neutral by default; we
    follow the code.

    d, d_max, r and k are global by construction (d mixes every parameter's distance), so k counts
    optimizer steps, not each parameter's (the one exception to deepzen's per-parameter counts; each
    parameter's own ``step`` is still kept). They live in every parameter group (``d``, ``d_max``,
    ``d_numerator``, ``k``), so ``state_dict`` saves them and a resumed run continues the estimate.
    The estimate uses the largest lr of the groups (as the official code, which allows only one lr
    besides 0); a group with a smaller lr steps with η̂ scaled by its lr over that one, and a group with
    lr 0 is frozen and left out of the estimate (the code leaves it out of the estimate too).

    Arguments:
        params: parameters or parameter groups.
        lr: η, a multiplier on the estimated step size.
        betas: (β1, β2).
        beta3: β3 for r and s (None: √β2).
        eps: ε, scaled by d in the denominator.
        weight_decay: λ.
        decouple: decay the weights (AdamW-style) instead of adding λθ to the gradient.
        use_bias_correction: Adam's bias corrections inside η̂.
        safeguard_warmup: leave η out of s (the paper's safeguard for warm-up schedules).
        d0: d₀, the initial estimate.
        d_coef: a multiplier on d̂.
        growth_rate: the most d may grow per step (a factor).
        maximize: ascend instead of descend.
        fused: only False (Prodigy has no compiled step); True is a ValueError that names the
            alternatives: schedulefree_adamw or adamw with fused=True.

    State: ``p0`` (θ₀), ``exp_avg`` (m), ``exp_avg_sq`` (v), ``s``, ``step``.
    """


    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        betas: tuple[float, float] = (0.9, 0.999),
        beta3: float | None = None,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        decouple: bool = True,
        use_bias_correction: bool = False,
        safeguard_warmup: bool = False,
        d0: float = 1e-6,
        d_coef: float = 1.0,
        growth_rate: float = math.inf,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, beta3=beta3, eps=eps, weight_decay=weight_decay,
                                      decouple=decouple, use_bias_correction=use_bias_correction,
                                      safeguard_warmup=safeguard_warmup, d0=d0, d_coef=d_coef,
                                      growth_rate=growth_rate, maximize=maximize, fused=fused))

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_moment_group(group)
        if group["beta3"] is not None:
            C.check_beta(group["beta3"], "beta3")
        C.check_range("d0", group["d0"], 0.0, low_open=True)
        C.check_range("d_coef", group["d_coef"], 0.0, low_open=True)
        C.check_range("growth_rate", group["growth_rate"], 1.0)
        C.check_flags(group, "decouple", "use_bias_correction", "safeguard_warmup", "maximize")
        C.check_not_fused(group, "Prodigy", "its estimate d sums over every parameter before the elementwise "
                          "step, and no compiled step is written for that", "schedulefree_adamw or adamw with fused=True")
        if "d" not in group:                        # the estimate (not an option): a new group joins it
            first = self.param_groups[0]
            start = {"d": group["d0"], "d_max": group["d0"], "d_numerator": 0.0, "k": 0}
            group.update({key: first.get(key, start[key]) for key in GLOBAL_KEYS})

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        zeros = {k: torch.zeros_like(p, memory_format=torch.contiguous_format) for k in ("exp_avg", "exp_avg_sq", "s")}
        return {"p0": p.detach().clone(memory_format=torch.contiguous_format), **zeros}

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One step of every group together (the estimate d needs every gradient first)."""
        loss = self._run_closure(closure)
        groups = [(g, b) for g in self.param_groups if (b := self._gather(g)) is not None]
        if not groups:
            return loss
        first = self.param_groups[0]
        lr = max(C.number(g["lr"]) for g in self.param_groups)         # the estimate's lr, as the code's
        beta1, beta2 = first["betas"]
        beta3 = math.sqrt(beta2) if first["beta3"] is None else first["beta3"]
        d, d0, k = first["d"], first["d0"], first["k"]
        correction = math.sqrt(1 - beta2 ** (k + 1)) / (1 - beta1 ** (k + 1)) if first["use_bias_correction"] else 1.0
        dlr = d * lr * correction                                        # η̂
        delta, total = 0.0, 0.0
        groups = [(g, b) for g, b in groups if C.number(g["lr"]) > 0]   # lr 0: frozen, out of the estimate
        for group, batch in groups:
            delta, total = _accumulate(group, batch, d, d0, dlr, beta1, beta2, beta3, delta, total)
        if total == 0:                                                  # no signal yet: nothing moves
            return loss
        numerator = first["d_numerator"] * beta3 + delta                 # r ← β3 r + r_Δ
        d_hat = first["d_coef"] * numerator / total                      # d̂ = d_coef r / S
        if d == d0:
            d = max(d, d_hat)
        d_max = max(first["d_max"], d_hat)
        d = min(d_max, d * first["growth_rate"])
        for group in self.param_groups:
            group.update(d=d, d_max=d_max, d_numerator=numerator, k=k + 1)
        for group, batch in groups:
            group_dlr = dlr * C.number(group["lr"]) / lr                 # η̂ with the group's own lr
            decay = 1 - group["weight_decay"] * group_dlr if group["decouple"] else 1.0
            for p, state in zip(batch.params, batch.states):
                denom = O.sqrt_denominator(state["exp_avg_sq"], 1.0, d * group["eps"])  # √v + dε
                if decay != 1.0:
                    p.mul_(decay)                                          # θ ← θ − λη̂θ
                p.addcdiv_(state["exp_avg"], denom, value=-group_dlr)      # θ ← θ − η̂ m/(√v + dε)
        return loss



def _accumulate(group: dict[str, Any], batch: Batch, d: float, d0: float, dlr: float, beta1: float, beta2: float,
                beta3: float, delta: float, total: float) -> tuple[float, float]:
    """The moments and s of one group's parameters; returns the running r_Δ and S with theirs added."""
    wd, is_coupled = group["weight_decay"], not group["decouple"]
    s_weight = (d / d0) * (d if group["safeguard_warmup"] else dlr)
    dots, norms = [], []
    for p, g, state in zip(batch.params, batch.grads, batch.states):
        if wd and is_coupled:
            g = coupled(g, p, wd)                                        # g + λθ
        moved = O.fresh(state["p0"]).sub_(p)                            # θ₀ − θ
        dots.append(torch.dot(g.reshape(-1), moved.reshape(-1)))        # ⟨g, θ₀ − θ⟩
        state["exp_avg"].mul_(beta1).add_(g, alpha=d * (1 - beta1))      # m ← β1 m + d(1 − β1) g
        state["exp_avg_sq"].mul_(beta2).addcmul_(g, g, value=d * d * (1 - beta2))   # v ← β2 v + d²(1 − β2) g²
        state["s"].mul_(beta3).add_(g, alpha=s_weight)                   # s ← β3 s + (d/d₀) η̂ g
        norms.append(torch.linalg.vector_norm(state["s"], 1))            # ‖s‖₁
    # one read-back per group, not two per parameter (the sums in float64, as Python's would be)
    values = [v.double() for v in dots + norms]
    if len({v.device for v in values}) > 1:
        values = [v.cpu() for v in values]
    sums = torch.stack(values).view(2, -1).sum(dim=1).tolist()
    return delta + (d / d0) * dlr * sums[0], total + sums[1]
