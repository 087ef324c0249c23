"""RAdam re-derived from Liu et al., ICLR 2020 (arXiv:1908.03265), Algorithm 2, in plain Python floats.

ε enters l_t = √(1 − β2ᵗ)/(√v + ε) (the authors' code); rectify when ρ_t > threshold.
"""

from __future__ import annotations

import math


class RefRAdam:
    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, threshold=5.0,
                 decoupled=False, maximize=False):
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, betas[0], betas[1], eps, weight_decay
        self.threshold, self.decoupled, self.maximize = threshold, decoupled, maximize
        self.rho_inf = 2 / (1 - self.b2) - 1
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        n = len(theta)
        s = self.state.setdefault(key, {"t": 0, "m": [0.0] * n, "v": [0.0] * n})
        s["t"] += 1
        t = s["t"]
        rho_inf = self.rho_inf
        rho_t = rho_inf - 2 * t * self.b2**t / (1 - self.b2**t)
        out = []
        for j, (x, g) in enumerate(zip(theta, grad)):
            if self.maximize:
                g = -g
            if self.decoupled:
                x = x * (1 - self.lr * self.wd)
            else:
                g = g + self.wd * x
            s["m"][j] = self.b1 * s["m"][j] + (1 - self.b1) * g
            s["v"][j] = self.b2 * s["v"][j] + (1 - self.b2) * g * g
            m_hat = s["m"][j] / (1 - self.b1**t)
            if rho_t > self.threshold:
                l_t = math.sqrt(1 - self.b2**t) / (math.sqrt(s["v"][j]) + self.eps)
                r_t = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                out.append(x - self.lr * r_t * m_hat * l_t)
            else:
                out.append(x - self.lr * m_hat)
        return out
