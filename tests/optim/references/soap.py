"""SOAP re-derived in float64 with numpy (no torch, no deepzen).

Vyas et al. 2024, "SOAP: Improving and Stabilizing Shampoo using Adam" (arXiv:2409.11321), Algorithm 3,
as the official code (nikhilvyas/SOAP) orders it. For a tensor with preconditioned dimensions
(every dimension of a ≥ 2-D tensor up to max_precond_dim; 1-D only with precondition_1d):
    first gradient:  L_i = (1 − β_s)·G_(i) G_(i)ᵀ (G unfolded along dimension i);  Q_i = eigenvectors of L_i
                     by decreasing eigenvalue; the parameter does not move.
    then (t = 1, 2, ...; t counts the moving steps):
        G' = G ×_i Q_iᵀ (project);  m' ← β1 m' + (1 − β1) G';  v ← β2 v + (1 − β2) G'²
        N = (m'/(√v + ε)) ×_i Q_i (project back);  θ ← θ − η·√(1 − β2ᵗ)/(1 − β1ᵗ)·N;  θ ← θ − ηλθ
        L_i ← β_s L_i + (1 − β_s) G_(i) G_(i)ᵀ
        every f moving steps: order Q_i's columns by the estimated eigenvalues diag(Q_iᵀ L_i Q_i), largest
        first (v's entries follow along dimension i), then Q_i ← Q of the QR factorization of L_i Q_i;
        m' is carried into the new basis (m' = M ×_i Q_iᵀ for the original-space momentum M).
Dimensions without a preconditioner are left as they are: a vector or scalar takes plain Adam.
``shapes`` maps a parameter key to its shape.
"""

from __future__ import annotations

import math

import numpy as np


def _unfold_outer(g, i):
    moved = np.moveaxis(g, i, 0).reshape(g.shape[i], -1)
    return moved @ moved.T


def _apply(x, qs, back):
    for i, q in enumerate(qs):
        if q is not None:
            x = np.moveaxis(np.tensordot(q if back else q.T, np.moveaxis(x, i, 0), axes=1), 0, i)
    return x


class RefSOAP:
    def __init__(self, shapes, lr=3e-3, betas=(0.95, 0.95), shampoo_beta=None, eps=1e-8, weight_decay=0.01,
                 precondition_frequency=10, max_precond_dim=10000, precondition_1d=False, normalize_grads=False,
                 maximize=False, fused=None):
        self.shapes, self.lr, self.b1, self.b2, self.eps, self.wd = shapes, lr, betas[0], betas[1], eps, weight_decay
        self.bs = betas[1] if shampoo_beta is None else shampoo_beta
        self.freq, self.max_dim, self.pre_1d = precondition_frequency, max_precond_dim, precondition_1d
        self.normalize, self.maximize = normalize_grads, maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def _dims(self, shape):
        if len(shape) == 1 and not self.pre_1d:
            return [False]
        return [n <= self.max_dim for n in shape]

    def step(self, key, theta, grad):
        shape = tuple(self.shapes[key])
        g = np.array(grad, dtype=np.float64).reshape(shape) * (-1 if self.maximize else 1)
        x = np.array(theta, dtype=np.float64).reshape(shape)
        s = self.state.get(key)
        if s is None:
            dims = self._dims(shape)
            ls = [(1 - self.bs) * _unfold_outer(g, i) if d else None for i, d in enumerate(dims)]
            qs = [np.flip(np.linalg.eigh(m + 1e-30 * np.eye(m.shape[0]))[1], axis=1) if m is not None else None
                  for m in ls]
            self.state[key] = {"t": 0, "L": ls, "Q": qs, "m": np.zeros(shape), "v": np.zeros(shape)}
            return list(theta)
        s["t"] += 1
        t = s["t"]
        gp = _apply(g, s["Q"], back=False)
        s["m"] = self.b1 * s["m"] + (1 - self.b1) * gp
        s["v"] = self.b2 * s["v"] + (1 - self.b2) * gp * gp
        n = _apply(s["m"] / (np.sqrt(s["v"]) + self.eps), s["Q"], back=True)
        if self.normalize:
            n = n / (1e-30 + math.sqrt(float(np.mean(n**2))))
        x = x - self.lr * math.sqrt(1 - self.b2**t) / (1 - self.b1**t) * n
        x = x - self.lr * self.wd * x
        momentum = _apply(s["m"], s["Q"], back=True)
        for i, m in enumerate(s["L"]):
            if m is not None:
                s["L"][i] = self.bs * m + (1 - self.bs) * _unfold_outer(g, i)
        if t % self.freq == 0:
            for i, (m, q) in enumerate(zip(s["L"], s["Q"])):
                if m is None:
                    continue
                order = np.argsort(-np.diag(q.T @ m @ q), kind="stable")
                s["v"] = np.take(s["v"], order, axis=i)
                s["Q"][i] = np.linalg.qr(m @ q[:, order])[0]
        s["m"] = _apply(momentum, s["Q"], back=False)
        return list(x.reshape(-1))
