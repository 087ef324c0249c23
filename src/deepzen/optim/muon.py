"""Muon: momentum orthogonalized by a Newton-Schulz iteration for 2-D weights, AdamW for the rest."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from deepzen.optim import _checks as C
from deepzen.optim._base import Batch, Optimizer
from deepzen.optim._rule import run_rule
from deepzen.optim.adam import ADAM

ADJUSTMENTS = ("match_rms_adamw", "original", "none")
#: names that mark a parameter as an embedding or an output head (for ``named_parameters()`` input)
ADAMW_NAME_PARTS = ("embed", "head", "classifier", "fc_out", "output", "lm_head")


def newton_schulz(u: Tensor, coefficients: tuple[float, float, float], steps: int, eps: float) -> Tensor:
    """Approximately U·Vᵀ of u = U·S·Vᵀ (the quintic iteration of Jordan et al.): X = u/‖u‖_F, then
    ``steps`` times X ← aX + (bA + cA²)X with A = XXᵀ, on the wide orientation of u (n ≤ m)."""
    a, b, c = coefficients
    x = u.T if u.size(0) > u.size(1) else u                        # (n, m), n ≤ m
    x = x / x.norm().clamp(min=eps)
    for _ in range(steps):
        gram = x @ x.T                                             # (n, n)
        x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return x.T if u.size(0) > u.size(1) else x


def split_parameters(model: nn.Module | Iterable[tuple[str, Tensor]],
                     use_muon: bool | None = None) -> list[dict[str, Any]]:
    """Parameter groups for Muon: ``use_muon=True`` for hidden 2-D weights, ``False`` for the rest.

    From a module: every 2-D parameter except those of ``nn.Embedding`` layers and the weight of the
    output head (the last ``nn.Linear`` in registration order). From ``named_parameters()``: every 2-D
    parameter whose name contains none of ``ADAMW_NAME_PARTS``. Biases, norm weights and convolution
    kernels (4-D) go to AdamW either way.

    ``use_muon`` replaces that rule: True sends every parameter of two or more dimensions to Muon
    (embeddings, the head and conv kernels included; the others to AdamW), False sends everything to
    AdamW.
    """
    if use_muon not in (None, True, False):
        raise ValueError(f"invalid use_muon: {use_muon!r}; expected True, False or None")
    if use_muon is not None:
        named = list(model.named_parameters()) if isinstance(model, nn.Module) else list(model)
        muon = [p for _, p in named if p.ndim >= 2] if use_muon else []
    elif isinstance(model, nn.Module):
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        excluded = {id(p) for m in model.modules() if isinstance(m, nn.Embedding) for p in m.parameters()}
        if linears:
            excluded.add(id(linears[-1].weight))
        named = list(model.named_parameters())
        muon = [p for _, p in named if p.ndim == 2 and id(p) not in excluded]
    else:
        named = list(model)
        muon = [p for name, p in named if p.ndim == 2 and not any(s in name.lower() for s in ADAMW_NAME_PARTS)]
    chosen = {id(p) for p in muon}
    rest = [p for _, p in named if id(p) not in chosen]
    return [g for g in ({"params": muon, "use_muon": True}, {"params": rest, "use_muon": False}) if g["params"]]


def _is_named(params: list[Any]) -> bool:
    """Whether ``params`` is all (name, tensor) pairs (a mix is left to torch's own error)."""
    return bool(params) and all(isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) for x in params)


class Muon(Optimizer):
    r"""Muon (Jordan et al. 2024, "Muon: An optimizer for hidden layers in neural networks"), with the
    decoupled decay and update-RMS scaling of Liu et al. 2025 ("Muon is Scalable for LLM Training",
    arXiv:2502.16982); every parameter Muon does not take goes to AdamW inside the same optimizer.

    Algorithm for a 2-D parameter (n × m; t counted per parameter)::

        B ← μ·B + (1 − μ)·g                                     (momentum)
        U = (1 − μ)·g + μ·B  (nesterov)  or  B
        O = NS₅(U)                                             (≈ U's orthogonal factor, see newton_schulz)
        θ ← θ(1 − ηλ) − η·s·O
        s = 0.2·√max(n, m)  ("match_rms_adamw", Liu et al.: the update's RMS matches AdamW's, so η and λ
                              carry over from AdamW)
          = √max(1, n/m)   ("original", Jordan et al.), or 1 ("none")

    Every other parameter: AdamW (bias-corrected, θ(1 − ηλ)) with ``adamw_betas``, ``adamw_eps`` and the
    same η and λ.

    Which parameters take Muon (the routing rule): the group option ``use_muon`` — True, False, or None
    (the default: 2-D parameters take Muon, others AdamW). Built from a module (``Muon(model)``,
    ``create("muon", model)``) or from ``model.named_parameters()``, :func:`split_parameters` decides:
    hidden 2-D weights take Muon; embeddings, the output head (the last ``nn.Linear``), biases, norms
    and convolution kernels take AdamW; ``use_muon=True`` or ``False`` given with a module replaces
    that rule (every tensor of two or more dimensions on Muon, or none). To choose per parameter, pass
    your own groups with ``use_muon``. A tensor
    of more than two dimensions forced to Muon (``use_muon=True``, e.g. a conv kernel) is
    orthogonalized as its (shape[0], rest) matrix.

    Defaults: η = 1e-3, λ = 0.1, μ = 0.95, nesterov, NS coefficients (3.4445, −4.7750, 2.0315), 5 NS steps,
    ε = 1e-7 (torch.optim.Muon's), scaling "match_rms_adamw" (Liu et al.; torch's default is "original"),
    AdamW betas (0.9, 0.95) and ε = 1e-8 (Liu et al.'s).

    Where implementations differ: torch.optim.Muon and Jordan's code run the Newton-Schulz iteration in
    bfloat16 (fast on GPUs); we run it in the parameter's precision (float32 at least), so the result is
    the same up to bfloat16 rounding (the tests compare against torch within that tolerance and against a
    float64 numpy re-derivation exactly). torch's Muon takes only 2-D parameters and leaves the AdamW
    part to the user.

    Arguments:
        params: parameters, parameter groups, a module, or ``named_parameters()``.
        lr: learning rate η (both parts).
        weight_decay: λ, decoupled (both parts).
        momentum: μ in [0, 1).
        nesterov: use the Nesterov form U = (1 − μ)g + μB.
        ns_coefficients: (a, b, c) of the quintic Newton-Schulz iteration.
        ns_steps: iterations of Newton-Schulz (1-99).
        eps: ε in the normalization X = U / max(‖U‖_F, ε).
        adjust_lr: "match_rms_adamw", "original" or "none" (the scale s).
        adamw_betas: (β1, β2) of the AdamW part.
        adamw_eps: ε of the AdamW part.
        use_muon: the routing rule for the groups that do not set it (None: by dimension; with a module,
            None: :func:`split_parameters`'s rule, True / False: every tensor of 2+ dimensions / none).
        maximize: ascend instead of descend.
        fused: only False (Muon has no compiled step); True is a ValueError that names the
            alternatives: adamw with fused=True (torch's fused kernel).

    State: Muon parameters ``momentum_buffer`` (B); AdamW parameters ``exp_avg``, ``exp_avg_sq``; ``step``.
    """

    routes_modules = True           # built from a module, it splits the parameters (split_parameters)

    per_tensor = True               # the step reads whole tensors (each weight is one matrix)

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = (3.4445, -4.7750, 2.0315),
        ns_steps: int = 5,
        eps: float = 1e-7,
        adjust_lr: str = "match_rms_adamw",
        adamw_betas: tuple[float, float] = (0.9, 0.95),
        adamw_eps: float = 1e-8,
        *,
        use_muon: bool | None = None,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        if isinstance(params, nn.Module):
            params = split_parameters(params, use_muon)
        elif not isinstance(params, (Tensor, dict)):
            params = list(params)
            if _is_named(params):                                       # model.named_parameters()
                params = split_parameters(params, use_muon)
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                                      ns_coefficients=tuple(ns_coefficients), ns_steps=ns_steps, eps=eps,
                                      adjust_lr=adjust_lr, adamw_betas=adamw_betas, adamw_eps=adamw_eps,
                                      use_muon=use_muon, maximize=maximize, fused=fused))

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_lr(group["lr"])
        C.check_weight_decay(group["weight_decay"])
        C.check_beta(group["momentum"], "momentum")
        C.check_range("ns_steps", group["ns_steps"], 1, 99)
        if len(group["ns_coefficients"]) != 3:
            raise ValueError(f"invalid ns_coefficients: {group['ns_coefficients']!r}; "
                             "expected three numbers (a, b, c)")
        C.check_eps(group["eps"])
        C.check_choice("adjust_lr", group["adjust_lr"], ADJUSTMENTS)
        C.check_betas(group["adamw_betas"], name="adamw_betas")
        C.check_eps(group["adamw_eps"], "adamw_eps")
        C.check_flags(group, "nesterov", "maximize")
        C.check_not_fused(group, "Muon", "its Newton-Schulz iteration works on whole matrices",
                          "adamw with fused=True (torch's fused kernel)")
        if group["use_muon"] not in (None, True, False):
            raise ValueError(f"invalid use_muon: {group['use_muon']!r}; expected True, False or None")
        if group["use_muon"] is True:
            flat = [tuple(p.shape) for p in group["params"] if p.ndim < 2]
            if flat:
                raise ValueError(f"invalid use_muon: True for parameters of shapes {flat}; Muon takes tensors of "
                                 "two or more dimensions (put the others in a group with use_muon=False)")

    def _takes_muon(self, p: Tensor, group: dict[str, Any]) -> bool:
        choice = group["use_muon"]
        return p.ndim == 2 if choice is None else bool(choice) and p.ndim >= 2

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        if self._takes_muon(p, group):
            return {"momentum_buffer": torch.zeros_like(p, memory_format=torch.contiguous_format)}
        return {k: torch.zeros_like(p, memory_format=torch.contiguous_format) for k in ("exp_avg", "exp_avg_sq")}

    def _dispatch(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        """Per tensor (its matrices are not elementwise): no flat packs, no rule."""
        self._step_tensors(group, batch)

    def _step_tensors(self, group: dict[str, Any], batch: Batch) -> None:
        muon = [i for i, s in enumerate(batch.states) if "momentum_buffer" in s]
        adamw = [i for i, s in enumerate(batch.states) if "momentum_buffer" not in s]
        for i in muon:
            self._muon_step(group, batch.params[i], batch.grads[i], batch.states[i]["momentum_buffer"])
        adam_group = {"lr": group["lr"], "eps": group["adamw_eps"], "betas": group["adamw_betas"],
                      "weight_decay": group["weight_decay"], "decoupled": True}
        if adamw:                                                        # AdamW: Adam's own rule, over flat packs
            rest = batch if len(adamw) == len(batch) else batch.select(adamw)
            run_rule(self, ADAM, adam_group, rest.with_buffers(("exp_avg", "exp_avg_sq")), compiled=False)

    def _muon_step(self, group: dict[str, Any], p: Tensor, g: Tensor, buf: Tensor) -> None:
        mu, lr = group["momentum"], group["lr"]
        buf.lerp_(g, 1 - mu)                                            # B ← μB + (1 − μ)g
        u = g.lerp(buf, mu) if group["nesterov"] else buf               # U
        matrix = u.reshape(u.shape[0], -1)                              # (n, m)
        work = matrix if matrix.dtype in (torch.float32, torch.float64) else matrix.float()
        o = newton_schulz(work, group["ns_coefficients"], group["ns_steps"], group["eps"]).to(p.dtype)
        n, m = matrix.shape
        scale = {"match_rms_adamw": 0.2 * math.sqrt(max(n, m)), "original": math.sqrt(max(1.0, n / m)),
                 "none": 1.0}[group["adjust_lr"]]
        if group["weight_decay"]:
            p.mul_(1 - lr * group["weight_decay"])                      # θ ← θ(1 − ηλ)
        p.add_(o.view_as(p), alpha=-lr * scale)                         # θ ← θ − η s O
