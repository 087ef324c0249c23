"""ADOPT re-derived in plain Python floats (no torch, no deepzen).

Taniguchi et al., NeurIPS 2024 (arXiv:2411.02853, clipped version): per parameter, the first step
sets v₀ = g₀² and does nothing else; update n = 1, 2, ... then uses
ĝ = clip(g / max(√v, ε), n^p), m ← β1 m + (1 − β1) ĝ, θ ← θ − η m, and only afterwards
v ← β2 v + (1 − β2) g². Coupled L2 (g + λθ, also at the first step) or decoupled θ(1 − ηλ).
"""

from __future__ import annotations

import math


class RefADOPT:
    def __init__(self, lr=1e-3, betas=(0.9, 0.9999), eps=1e-6, weight_decay=0.0, decoupled=False,
                 clip_exponent=0.25, maximize=False):
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, betas[0], betas[1], eps, weight_decay
        self.decoupled, self.p, self.maximize = decoupled, clip_exponent, maximize
        self.state = {}
        self.clipped = 0    # how many elements were clipped (coverage check)

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        n = len(theta)
        grad = [-g for g in grad] if self.maximize else list(grad)
        if not self.decoupled:
            grad = [g + self.wd * x for g, x in zip(grad, theta)]
        if key not in self.state:
            self.state[key] = {"updates": 0, "m": [0.0] * n, "v": [g * g for g in grad]}
            return list(theta)
        s = self.state[key]
        s["updates"] += 1
        out = []
        for j, (x, g) in enumerate(zip(theta, grad)):
            normed = g / max(math.sqrt(s["v"][j]), self.eps)
            if self.p is not None:
                c = s["updates"] ** self.p
                if abs(normed) > c:
                    normed, self.clipped = math.copysign(c, normed), self.clipped + 1
            s["m"][j] = self.b1 * s["m"][j] + (1 - self.b1) * normed
            if self.decoupled:
                x = x * (1 - self.lr * self.wd)
            out.append(x - self.lr * s["m"][j])
            s["v"][j] = self.b2 * s["v"][j] + (1 - self.b2) * g * g
        return out
