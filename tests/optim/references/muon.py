"""Muon re-derived in float64 with numpy (no torch, no deepzen).

Jordan et al. 2024 ("Muon: An optimizer for hidden layers"), with Liu et al. 2025 ("Muon is Scalable for
LLM Training") for the decoupled decay and the update-RMS scaling. For a 2-D parameter (n × m):
    B ← μB + (1 − μ)g;   U = (1 − μ)g + μB (nesterov) or B
    O = NS₅(U): X = U/max(‖U‖_F, ε) (transposed when n > m); 5 times: A = XXᵀ; X ← aX + (bA + cA²)X
    θ ← θ(1 − ηλ) − η·s·O,   s = 0.2·√max(n, m) ("match_rms_adamw") or √max(1, n/m) ("original")
Every other parameter takes AdamW (bias-corrected, decay θ(1 − ηλ)) with adamw_betas and adamw_eps.
``shapes`` maps a parameter key to its shape.
"""

from __future__ import annotations

import math

import numpy as np

from tests.optim.references.adam import RefAdam


def newton_schulz(u, coefficients=(3.4445, -4.7750, 2.0315), steps=5, eps=1e-7):
    a, b, c = coefficients
    x = np.array(u, dtype=np.float64)
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    x = x / max(np.linalg.norm(x), eps)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


class RefMuon:
    def __init__(self, shapes, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5,
                 ns_coefficients=(3.4445, -4.7750, 2.0315), eps=1e-7, adjust_lr="match_rms_adamw",
                 adamw_betas=(0.9, 0.95), adamw_eps=1e-8, maximize=False, fused=None):
        self.shapes, self.lr, self.wd, self.mu, self.nesterov = shapes, lr, weight_decay, momentum, nesterov
        self.ns = (ns_coefficients, ns_steps, eps)
        self.adjust, self.maximize = adjust_lr, maximize
        self.adamw = RefAdam(lr=lr, betas=adamw_betas, eps=adamw_eps, weight_decay=weight_decay, decoupled=True,
                             maximize=maximize)
        self.buf = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        shape = tuple(self.shapes[key])
        if len(shape) != 2:
            return self.adamw.step(key, theta, grad)
        g = np.array(grad, dtype=np.float64).reshape(shape) * (-1 if self.maximize else 1)
        b = self.buf.setdefault(key, np.zeros(shape))
        b[...] = self.mu * b + (1 - self.mu) * g
        u = (1 - self.mu) * g + self.mu * b if self.nesterov else b
        o = newton_schulz(u, *self.ns)
        n, m = shape
        scale = 0.2 * math.sqrt(max(n, m)) if self.adjust == "match_rms_adamw" else math.sqrt(max(1.0, n / m))
        x = np.array(theta, dtype=np.float64).reshape(shape)
        return list((x * (1 - self.lr * self.wd) - self.lr * scale * o).reshape(-1))
