"""LAMB re-derived in plain Python floats (no torch, no deepzen).

You et al., ICLR 2020 (arXiv:1904.00962 v5), Algorithm 2: bias-corrected Adam direction
r = m̂/(√v̂ + ε), u = r + λθ, θ ← θ − η·φ(‖θ‖)/‖u‖·u, ratio 1 where a norm is 0;
φ(z) = min(z, clamp).
"""

from __future__ import annotations

import math


def norm(xs):
    return math.sqrt(sum(x * x for x in xs))


class RefLAMB:
    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01, clamp_value=None,
                 bias_correction=True, maximize=False):
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, betas[0], betas[1], eps, weight_decay
        self.clamp, self.bias_correction, self.maximize = clamp_value, bias_correction, maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        n = len(theta)
        s = self.state.setdefault(key, {"t": 0, "m": [0.0] * n, "v": [0.0] * n})
        s["t"] += 1
        t = s["t"]
        bc1 = 1 - self.b1**t if self.bias_correction else 1.0
        bc2 = 1 - self.b2**t if self.bias_correction else 1.0
        u = []
        for j, (x, g) in enumerate(zip(theta, grad)):
            if self.maximize:
                g = -g
            s["m"][j] = self.b1 * s["m"][j] + (1 - self.b1) * g
            s["v"][j] = self.b2 * s["v"][j] + (1 - self.b2) * g * g
            r = (s["m"][j] / bc1) / (math.sqrt(s["v"][j] / bc2) + self.eps)
            u.append(r + self.wd * x)
        wn, un = norm(theta), norm(u)
        phi = wn if self.clamp is None else min(wn, self.clamp)
        ratio = phi / un if wn > 0 and un > 0 else 1.0
        return [x - self.lr * ratio * ui for x, ui in zip(theta, u)]
