"""QHAdam re-derived from Ma & Yarats, ICLR 2019 (arXiv:1810.06801), §4, in plain Python floats."""

from __future__ import annotations

import math


class RefQHAdam:
    def __init__(self, lr=1e-3, betas=(0.995, 0.999), nus=(0.7, 1.0), eps=1e-8, weight_decay=0.0,
                 decoupled=False, maximize=False):
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, betas[0], betas[1], eps, weight_decay
        self.nu1, self.nu2 = nus
        self.decoupled, self.maximize = decoupled, maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        n = len(theta)
        s = self.state.setdefault(key, {"t": 0, "m": [0.0] * n, "v": [0.0] * n})
        s["t"] += 1
        t = s["t"]
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
            v_hat = s["v"][j] / (1 - self.b2**t)
            numer = (1 - self.nu1) * g + self.nu1 * m_hat
            denom = math.sqrt((1 - self.nu2) * g * g + self.nu2 * v_hat) + self.eps
            out.append(x - self.lr * numer / denom)
        return out
