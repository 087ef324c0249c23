"""MADGRAD re-derived in plain Python floats (no torch, no deepzen).

Defazio & Jelassi 2021, "Adaptivity without Compromise" (arXiv:2101.11075), Algorithm 1, with t counted
per parameter (k = t − 1):
    λ_t = η·√t;  s ← s + λ_t g;  ν ← ν + λ_t g²;  z = x₀ − s / (∛ν + ε);  x ← (1 − c)·x + c·z,  c = 1 − momentum
Coupled L2 (g + λθ) by default; decoupled: x ← x − ηλ·x_old after the step.
"""

from __future__ import annotations

import math


class RefMADGRAD:
    def __init__(self, lr=1e-2, momentum=0.9, weight_decay=0.0, eps=1e-6, decoupled=False, maximize=False,
                 fused=None):
        self.lr, self.mom, self.wd, self.eps = lr, momentum, weight_decay, eps
        self.decoupled, self.maximize = decoupled, maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        n = len(theta)
        s = self.state.setdefault(key, {"t": 0, "s": [0.0] * n, "nu": [0.0] * n, "x0": list(theta)})
        s["t"] += 1
        lam = self.lr * math.sqrt(s["t"])
        c = 1 - self.mom
        out = []
        for j, (x, g) in enumerate(zip(theta, grad)):
            if self.maximize:
                g = -g
            if not self.decoupled:
                g = g + self.wd * x
            s["s"][j] += lam * g
            s["nu"][j] += lam * g * g
            z = s["x0"][j] - s["s"][j] / (s["nu"][j] ** (1 / 3) + self.eps)
            new = (1 - c) * x + c * z
            if self.decoupled:
                new -= self.lr * self.wd * x
            out.append(new)
        return out
