"""SOAP: Adam run in the eigenbasis of Shampoo's preconditioner, refreshed every few steps."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from deepzen.optim import _checks as C
from deepzen.optim._base import Batch, Optimizer


def unfolded_outer(g: Tensor, dim: int) -> Tensor:
    """G_(i) G_(i)ᵀ: the gradient unfolded along ``dim`` times its transpose (n_i × n_i)."""
    moved = g.movedim(dim, 0).reshape(g.shape[dim], -1)
    return moved @ moved.T


def rotate(x: Tensor, bases: list[Tensor | None], back: bool) -> Tensor:
    """x ×_i Q_iᵀ over every dimension that has a basis (``back``: x ×_i Q_i, the inverse)."""
    for i, q in enumerate(bases):
        if q is not None:
            x = torch.tensordot(q if back else q.T, x.movedim(i, 0), dims=1).movedim(0, i)
    return x


class SOAP(Optimizer):
    r"""SOAP (Vyas, Morwani, Zhao, Kwun, Shapira, Brandfonbrener, Janson, Kakade, "SOAP: Improving and
    Stabilizing Shampoo using Adam", ICLR 2025, arXiv:2409.11321).

    Algorithm (Alg. 3, in the official code's order; Q_i, L_i for each preconditioned dimension i)::

        first gradient of a parameter: L_i = (1 − β_s)·G_(i)G_(i)ᵀ; Q_i = eigenvectors of L_i (largest
            eigenvalue first); the parameter does not move (the projection never uses the current G)
        then, with t counting the moving steps:
            G' = G ×_i Q_iᵀ                                    (into the eigenbasis)
            m' ← β1·m' + (1 − β1)·G';   v ← β2·v + (1 − β2)·G'²   (Adam in the eigenbasis)
            N  = (m' / (√v + ε)) ×_i Q_i                        (back)
            θ  ← θ − η·√(1 − β2ᵗ)/(1 − β1ᵗ)·N;   θ ← θ − ηλθ
            L_i ← β_s·L_i + (1 − β_s)·G_(i)G_(i)ᵀ
            every f steps: sort Q_i by diag(Q_iᵀL_iQ_i) (v follows), Q_i ← QR(L_i·Q_i).Q  (one power step)
            m' moves with the basis (it is M ×_i Q_iᵀ for the momentum M of the original space)

    Preconditioned dimensions: every dimension of a tensor of two or more dimensions of size up to
    ``max_precond_dim``; a vector only with ``precondition_1d``. The others stay as they are, so
    vectors and scalars take plain Adam (the paper's fallback for 1-D tensors).

    Defaults: η = 3e-3, (β1, β2) = (0.95, 0.95), β_s = β2, ε = 1e-8, λ = 0.01, f = 10, max_precond_dim =
    10000 (the official code's, nikhilvyas/SOAP).

    Where the paper and the code differ, and what we follow: the paper refreshes Q_i by a full
    eigendecomposition every f steps; the code (followed here) does one power-iteration step with a QR
    factorization, reordering v to follow the eigenvalue estimates. The paper keeps the momentum in the
    original space and projects it every step; the code keeps it in the eigenbasis and moves it only
    when the basis changes (the same values). The decay θ ← θ − ηλθ comes after the step, as in the
    code. The code's ``merge_dims`` (folding small dimensions together) and its channels-last option are
    not offered; the code keeps L and Q in float32, we keep them in the parameter's precision (float32
    at least). The official code is not packaged; the tests compare against a float64 re-derivation and
    against heavyball's SOAP, which follows the code except in documented ways (ε as a floor on the
    corrected √v̂, decay before the step, its own refresh schedule, a small lift of L before each refresh;
    tests/optim/test_soap_heavyball.py accounts for each one and then matches at every step).

    Arguments:
        params: parameters or parameter groups.
        lr: learning rate η.
        betas: (β1, β2) of Adam in the eigenbasis.
        shampoo_beta: β_s of L_i (None: β2).
        eps: ε added to √v.
        weight_decay: λ, decoupled.
        precondition_frequency: f, steps between basis refreshes.
        max_precond_dim: the largest dimension that gets a preconditioner.
        precondition_1d: precondition vectors too.
        normalize_grads: divide N by its RMS before the step.
        maximize: ascend instead of descend.
        fused: only False (SOAP has no compiled step); True is a ValueError that names the
            alternatives: adamw with fused=True (torch's fused kernel).

    State: ``exp_avg`` (m', in the eigenbasis), ``exp_avg_sq`` (v), ``precond_i`` (L_i) and ``basis_i``
    (Q_i) for each preconditioned dimension i, ``step``.
    """


    per_tensor = True               # the step reads whole tensors (each tensor has its own eigenbases)

    def __init__(
        self,
        params: Any,
        lr: float = 3e-3,
        betas: tuple[float, float] = (0.95, 0.95),
        shampoo_beta: float | None = None,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        precondition_frequency: int = 10,
        max_precond_dim: int = 10000,
        *,
        precondition_1d: bool = False,
        normalize_grads: bool = False,
        maximize: bool = False,
        fused: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, shampoo_beta=shampoo_beta, eps=eps,
                                      weight_decay=weight_decay, precondition_frequency=precondition_frequency,
                                      max_precond_dim=max_precond_dim, precondition_1d=precondition_1d,
                                      normalize_grads=normalize_grads, maximize=maximize, fused=fused))

    def _check_group(self, group: dict[str, Any]) -> None:
        C.check_moment_group(group)
        if group["shampoo_beta"] is not None:
            C.check_beta(group["shampoo_beta"], "shampoo_beta")
        C.check_range("precondition_frequency", group["precondition_frequency"], 1.0)
        C.check_range("max_precond_dim", group["max_precond_dim"], 1.0)
        C.check_flags(group, "precondition_1d", "normalize_grads", "maximize")
        C.check_not_fused(group, "SOAP", "its step is matrix work per tensor: eigenbasis projections, QR refreshes",
                          "adamw with fused=True (torch's fused kernel)")

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {k: torch.zeros_like(p, memory_format=torch.contiguous_format) for k in ("exp_avg", "exp_avg_sq")}

    def _dispatch(self, group: dict[str, Any], batch: Batch, loss: float | None) -> None:
        """Per tensor (its matrices are not elementwise): no flat packs, no rule."""
        self._step_tensors(group, batch)

    def _step_tensors(self, group: dict[str, Any], batch: Batch) -> None:
        for p, g, state, t in zip(batch.params, batch.grads, batch.states, batch.steps):
            if t == 1:
                self._start(group, g, state)
            else:
                self._step(group, p, g, state, int(t) - 1)

    def _work(self, g: Tensor) -> Tensor:
        return g if g.dtype in (torch.float32, torch.float64) else g.float()

    def _shampoo_beta(self, group: dict[str, Any]) -> float:
        return group["betas"][1] if group["shampoo_beta"] is None else group["shampoo_beta"]

    def _start(self, group: dict[str, Any], g: Tensor, state: dict[str, Any]) -> None:
        """The first gradient: L_i and their eigenbases; no step."""
        g = self._work(g)
        weight = 1 - self._shampoo_beta(group)
        for i, n in enumerate(g.shape):
            if n <= group["max_precond_dim"] and (g.dim() > 1 or group["precondition_1d"]):
                precond = unfolded_outer(g, i) * weight
                eye = torch.eye(n, dtype=precond.dtype, device=precond.device)
                state[f"precond_{i}"] = precond
                state[f"basis_{i}"] = torch.linalg.eigh(precond + 1e-30 * eye)[1].flip(1)   # largest first

    def _step(self, group: dict[str, Any], p: Tensor, g: Tensor, state: dict[str, Any], t: int) -> None:
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        bases = [state.get(f"basis_{i}") for i in range(p.dim())]
        work = self._work(g)
        projected = rotate(work, bases, back=False).to(p.dtype)         # G'
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(projected, 1 - beta1)                                   # m' ← β1 m' + (1 − β1) G'
        v.mul_(beta2).addcmul_(projected, projected, value=1 - beta2)   # v ← β2 v + (1 − β2) G'²
        update = rotate(self._work(m / (v.sqrt() + group["eps"])), bases, back=True).to(p.dtype)   # N
        if group["normalize_grads"]:
            update = update / (1e-30 + update.square().mean().sqrt())
        p.add_(update, alpha=-lr * math.sqrt(1 - beta2**t) / (1 - beta1**t))
        if group["weight_decay"]:
            p.mul_(1 - lr * group["weight_decay"])                      # θ ← θ − ηλθ, after the step
        momentum = rotate(self._work(m), bases, back=True)              # M, in the original space
        beta_s = self._shampoo_beta(group)
        refresh = t % group["precondition_frequency"] == 0
        for i, q in enumerate(bases):
            if q is None:
                continue
            precond = state[f"precond_{i}"]
            precond.lerp_(unfolded_outer(work, i), 1 - beta_s)           # L_i ← β_s L_i + (1 − β_s) G G ᵀ
            if refresh:
                order = torch.argsort(torch.diag(q.T @ precond @ q), descending=True, stable=True)
                v.copy_(v.index_select(i, order))                        # v follows the eigenvalue order
                bases[i] = state[f"basis_{i}"] = torch.linalg.qr(precond @ q[:, order])[0]
        m.copy_(rotate(momentum, bases, back=False))                    # m' in the (new) basis
