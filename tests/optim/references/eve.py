"""Eve re-derived from Hayashi, Koushik, Neubig (arXiv:1611.01505 v3), Algorithm 1, in plain Python
floats: Adam with the denominator d̃·√v̂ + ε, where d̃ tracks the clipped relative change of the loss."""

from __future__ import annotations

import math


class RefEve:
    def __init__(self, lr=1e-3, betas=(0.9, 0.999), beta3=0.999, c=10.0, f_star=0.0, eps=1e-8,
                 weight_decay=0.0, decoupled=False, maximize=False):
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, betas[0], betas[1], eps, weight_decay
        self.b3, self.c, self.f_star = beta3, c, f_star
        self.decoupled, self.maximize = decoupled, maximize
        self.d_tilde, self.prev = 1.0, None
        self.state = {}

    def begin_step(self, loss):
        if self.maximize:                    # maximizing f = minimizing −f, with f* an upper bound of f
            self._begin(-loss, -self.f_star)
        else:
            self._begin(loss, self.f_star)

    def _begin(self, loss, f_star):
        if self.prev is not None:
            d = abs(loss - self.prev) / (min(loss, self.prev) - f_star)
            d = min(max(d, 1 / self.c), self.c)
            self.d_tilde = self.b3 * self.d_tilde + (1 - self.b3) * d
        self.prev = loss

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
            out.append(x - self.lr * m_hat / (self.d_tilde * math.sqrt(v_hat) + self.eps))
        return out
