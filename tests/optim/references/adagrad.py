"""Adagrad in plain Python floats (no torch, no deepzen).

Duchi, Hazan, Singer 2011, diagonal form: G ← G + g², θ ← θ − η g / (δ + √G), with torch's options:
coupled L2 decay (g + λθ), η_t = η / (1 + (t − 1)·lr_decay) with t counted per parameter, and the
accumulator starting at ``initial_accumulator_value``.
"""

from __future__ import annotations

import math


class RefAdagrad:
    def __init__(self, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 maximize=False, fused=None):
        self.lr, self.lr_decay, self.wd, self.g0, self.eps = lr, lr_decay, weight_decay, initial_accumulator_value, eps
        self.maximize = maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        s = self.state.setdefault(key, {"t": 0, "G": [self.g0] * len(theta)})
        s["t"] += 1
        eta_t = self.lr / (1 + (s["t"] - 1) * self.lr_decay)
        out = []
        for j, (x, g) in enumerate(zip(theta, grad)):
            g = (-g if self.maximize else g) + self.wd * x
            s["G"][j] += g * g
            out.append(x - eta_t * g / (math.sqrt(s["G"][j]) + self.eps))
        return out
