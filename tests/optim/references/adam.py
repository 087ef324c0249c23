"""Adam / AdamW / AMSGrad re-derived from the papers in plain Python floats (no torch, no deepzen).

Kingma & Ba 2015, Algorithm 1; Loshchilov & Hutter 2019 (decoupled decay, multiplied by lr as in
torch); Reddi et al. 2018 (max of v), bias-corrected as in torch.
"""

from __future__ import annotations

import math


class RefAdam:
    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 decoupled=False, maximize=False, fused=None):
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, betas[0], betas[1], eps, weight_decay
        self.amsgrad, self.decoupled, self.maximize = amsgrad, decoupled, maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        s = self.state.setdefault(key, {"t": 0, "m": [0.0] * len(theta), "v": [0.0] * len(theta),
                                        "vmax": [0.0] * len(theta)})
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
            v = s["v"][j]
            if self.amsgrad:
                s["vmax"][j] = max(s["vmax"][j], v)
                v = s["vmax"][j]
            m_hat = s["m"][j] / (1 - self.b1**t)
            v_hat = v / (1 - self.b2**t)
            out.append(x - self.lr * m_hat / (math.sqrt(v_hat) + self.eps))
        return out


def RefAdamW(weight_decay=1e-2, **kw):
    return RefAdam(weight_decay=weight_decay, decoupled=True, **kw)


def RefAMSGrad(**kw):
    return RefAdam(amsgrad=True, **kw)
