"""NAdam re-derived from Dozat (ICLR 2016 workshop), Algorithm 2 with the momentum schedule
μ_t = β1(1 − ½·0.96^(tψ)), in plain Python floats (no torch, no deepzen).

m decays with the constant β1 (Dozat's Keras implementation, torch); the schedule enters through
ĝ = g/(1 − Π_{i≤t} μ_i), m̂ = m/(1 − Π_{i≤t+1} μ_i) and m̄ = (1 − μ_t)ĝ + μ_{t+1}m̂.
"""

from __future__ import annotations

import math


class RefNAdam:
    def __init__(self, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled=False, maximize=False):
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, betas[0], betas[1], eps, weight_decay
        self.psi, self.decoupled, self.maximize = momentum_decay, decoupled, maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def mu(self, t):
        return self.b1 * (1 - 0.5 * 0.96 ** (t * self.psi))

    def step(self, key, theta, grad):
        n = len(theta)
        s = self.state.setdefault(key, {"t": 0, "m": [0.0] * n, "v": [0.0] * n, "mus": []})
        s["t"] += 1
        t = s["t"]
        s["mus"].append(self.mu(t))
        prod_t = math.prod(s["mus"])                 # Π_{i=1..t} μ_i, recomputed from the list
        prod_next = prod_t * self.mu(t + 1)          # Π_{i=1..t+1} μ_i
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
            g_hat = g / (1 - prod_t)
            m_hat = s["m"][j] / (1 - prod_next)
            m_bar = (1 - self.mu(t)) * g_hat + self.mu(t + 1) * m_hat
            v_hat = s["v"][j] / (1 - self.b2**t)
            out.append(x - self.lr * m_bar / (math.sqrt(v_hat) + self.eps))
        return out
