"""Adan re-derived in plain Python floats (no torch, no deepzen).

Xie et al., "Adan: Adaptive Nesterov Momentum Algorithm" (arXiv:2208.06677; TPAMI 2024), Algorithm 1,
written with the official code's β convention (β here = 1 − β of the paper) and its bias corrections:
    d = g − g_prev (0 at a parameter's first step)
    m ← β1 m + (1 − β1) g;  v ← β2 v + (1 − β2) d;  n ← β3 n + (1 − β3)(g + β2 d)²
    u = (m/(1 − β1ᵗ) + β2·v/(1 − β2ᵗ)) / (√(n/(1 − β3ᵗ)) + ε)
    prox (default):  θ ← (θ − ηu) / (1 + ηλ);   no_prox:  θ ← θ(1 − ηλ) − ηu
"""

from __future__ import annotations

import math


class RefAdan:
    def __init__(self, lr=1e-3, betas=(0.98, 0.92, 0.99), eps=1e-8, weight_decay=0.0, no_prox=False,
                 maximize=False, fused=None):
        self.lr, self.betas, self.eps, self.wd = lr, betas, eps, weight_decay
        self.no_prox, self.maximize = no_prox, maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        b1, b2, b3 = self.betas
        n_el = len(theta)
        s = self.state.setdefault(key, {"t": 0, "m": [0.0] * n_el, "v": [0.0] * n_el, "n": [0.0] * n_el,
                                        "prev": None})
        s["t"] += 1
        t = s["t"]
        grad = [-g for g in grad] if self.maximize else list(grad)
        prev = s["prev"] if s["prev"] is not None else grad
        out = []
        for j, (x, g) in enumerate(zip(theta, grad)):
            d = g - prev[j]
            s["m"][j] = b1 * s["m"][j] + (1 - b1) * g
            s["v"][j] = b2 * s["v"][j] + (1 - b2) * d
            s["n"][j] = b3 * s["n"][j] + (1 - b3) * (g + b2 * d) ** 2
            u = (s["m"][j] / (1 - b1**t) + b2 * s["v"][j] / (1 - b2**t)) / (
                math.sqrt(s["n"][j] / (1 - b3**t)) + self.eps)
            if self.no_prox:
                out.append(x * (1 - self.lr * self.wd) - self.lr * u)
            else:
                out.append((x - self.lr * u) / (1 + self.lr * self.wd))
        s["prev"] = grad
        return out
