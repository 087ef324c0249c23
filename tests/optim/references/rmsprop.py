"""RMSProp in plain Python floats (no torch, no deepzen).

Tieleman & Hinton 2012 (lecture 6e): v ← αv + (1 − α)g², θ ← θ − ηg/√(v + ε) (ε inside the root, or
√v + ε as in torch); centered (Graves 2013): m ← αm + (1 − α)g and v − m² in place of v; momentum as in
torch: b ← μb + g/d, θ ← θ − ηb. Coupled L2 decay g + λθ.
"""

from __future__ import annotations

import math


class RefRMSProp:
    def __init__(self, lr=1e-3, alpha=0.9, eps=1e-7, weight_decay=0.0, momentum=0.0, centered=False,
                 eps_inside_sqrt=True, maximize=False):
        self.lr, self.alpha, self.eps, self.wd, self.mu = lr, alpha, eps, weight_decay, momentum
        self.centered, self.inside, self.maximize = centered, eps_inside_sqrt, maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        n = len(theta)
        s = self.state.setdefault(key, {"v": [0.0] * n, "m": [0.0] * n, "b": [0.0] * n})
        a = self.alpha
        out = []
        for j, (x, g) in enumerate(zip(theta, grad)):
            g = (-g if self.maximize else g) + self.wd * x
            s["v"][j] = a * s["v"][j] + (1 - a) * g * g
            s["m"][j] = a * s["m"][j] + (1 - a) * g
            ms = s["v"][j] - s["m"][j] ** 2 if self.centered else s["v"][j]
            d = math.sqrt(ms + self.eps) if self.inside else math.sqrt(ms) + self.eps
            if self.mu:
                s["b"][j] = self.mu * s["b"][j] + g / d
                out.append(x - self.lr * s["b"][j])
            else:
                out.append(x - self.lr * g / d)
        return out
