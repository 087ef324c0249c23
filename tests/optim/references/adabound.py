"""AdaBound / AMSBound re-derived in plain Python floats (no torch, no deepzen).

Luo, Xiong, Liu, Sun, ICLR 2019, Algorithms 2 and 3 in the form of the authors' released code: Adam's
bias corrections folded into the step size, ε added to the raw √v, no 1/√t factor, bounds
final_lr·η/η₀·(1 − 1/(γt + 1)) and final_lr·η/η₀·(1 + 1/(γt)), coupled L2 weight decay.
"""

from __future__ import annotations

import math


class RefAdaBound:
    def __init__(self, lr=1e-3, betas=(0.9, 0.999), final_lr=0.1, gamma=1e-3, eps=1e-8,
                 weight_decay=0.0, amsbound=False, maximize=False, base_lr=None):
        self.lr, self.b1, self.b2 = lr, betas[0], betas[1]
        self.final_lr, self.gamma, self.eps, self.wd = final_lr, gamma, eps, weight_decay
        self.amsbound, self.maximize = amsbound, maximize
        self.base_lr = lr if base_lr is None else base_lr
        self.state = {}
        self.clipped = {"lower": 0, "upper": 0}   # how often each bound was active (coverage check)

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        n = len(theta)
        s = self.state.setdefault(key, {"t": 0, "m": [0.0] * n, "v": [0.0] * n, "vmax": [0.0] * n})
        s["t"] += 1
        t = s["t"]
        f = self.final_lr * self.lr / self.base_lr
        lower = f * (1 - 1 / (self.gamma * t + 1))
        upper = f * (1 + 1 / (self.gamma * t)) if self.gamma > 0 else math.inf
        alpha = self.lr * math.sqrt(1 - self.b2**t) / (1 - self.b1**t)
        out = []
        for j, (x, g) in enumerate(zip(theta, grad)):
            if self.maximize:
                g = -g
            g = g + self.wd * x
            s["m"][j] = self.b1 * s["m"][j] + (1 - self.b1) * g
            s["v"][j] = self.b2 * s["v"][j] + (1 - self.b2) * g * g
            v = s["v"][j]
            if self.amsbound:
                s["vmax"][j] = max(s["vmax"][j], v)
                v = s["vmax"][j]
            eta = alpha / (math.sqrt(v) + self.eps)
            if eta < lower:
                eta, self.clipped["lower"] = lower, self.clipped["lower"] + 1
            elif eta > upper:
                eta, self.clipped["upper"] = upper, self.clipped["upper"] + 1
            out.append(x - eta * s["m"][j])
        return out


def RefAMSBound(**kw):
    return RefAdaBound(amsbound=True, **kw)
