"""Yogi re-derived from Zaheer et al., NeurIPS 2018 (Algorithm 2), in plain Python floats, with the
implementations' options: accumulators starting at ``initial_accumulator_value`` and Adam's bias
correction (both on by default; off is the paper's box)."""

from __future__ import annotations

import math


def _sign(x):
    return (x > 0) - (x < 0)


class RefYogi:
    def __init__(self, lr=1e-2, betas=(0.9, 0.999), eps=1e-3, weight_decay=0.0, initial_accumulator_value=1e-6,
                 bias_correction=True, decoupled=False, maximize=False):
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, betas[0], betas[1], eps, weight_decay
        self.init, self.bias_correction = initial_accumulator_value, bias_correction
        self.decoupled, self.maximize = decoupled, maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        n = len(theta)
        s = self.state.setdefault(key, {"t": 0, "m": [self.init] * n, "v": [self.init] * n})
        s["t"] += 1
        t = s["t"]
        bc1 = 1 - self.b1**t if self.bias_correction else 1.0
        bc2 = 1 - self.b2**t if self.bias_correction else 1.0
        out = []
        for j, (x, g) in enumerate(zip(theta, grad)):
            if self.maximize:
                g = -g
            if self.decoupled:
                x = x * (1 - self.lr * self.wd)
            else:
                g = g + self.wd * x
            s["m"][j] = self.b1 * s["m"][j] + (1 - self.b1) * g
            v = s["v"][j]
            s["v"][j] = v - (1 - self.b2) * _sign(v - g * g) * g * g
            out.append(x - self.lr * (s["m"][j] / bc1) / (math.sqrt(s["v"][j] / bc2) + self.eps))
        return out
