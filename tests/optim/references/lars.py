"""LARS re-derived in plain Python floats (no torch, no deepzen).

You, Gitman, Ginsburg 2017, Algorithm 1: local lr λ = η_tc‖w‖/(‖g‖ + β‖w‖) (1 where a norm is 0),
v ← m·v + γ·λ·(g + βw), w ← w − v. With exclude_1d, tensors of at most one dimension use λ = 1 and
no decay.
"""

from __future__ import annotations

import math


def norm(xs):
    return math.sqrt(sum(x * x for x in xs))


class RefLARS:
    def __init__(self, lr=1.0, momentum=0.9, weight_decay=5e-4, trust_coefficient=1e-3, eps=0.0,
                 exclude_1d=False, maximize=False, ndims=None):
        self.lr, self.mom, self.wd, self.tc, self.eps = lr, momentum, weight_decay, trust_coefficient, eps
        self.exclude_1d, self.maximize = exclude_1d, maximize
        self.ndims = ndims or {0: 2, 1: 1, 2: 0}   # the harness's parameters: matrix, vector, scalar
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        buf = self.state.setdefault(key, [0.0] * len(theta))
        if self.maximize:
            grad = [-g for g in grad]
        if self.exclude_1d and self.ndims[key] <= 1:
            local, wd = 1.0, 0.0
        else:
            wn, gn = norm(theta), norm(grad)
            local = self.tc * wn / (gn + self.wd * wn + self.eps) if wn > 0 and gn > 0 else 1.0
            wd = self.wd
        out = []
        for j, (x, g) in enumerate(zip(theta, grad)):
            buf[j] = self.mom * buf[j] + self.lr * local * (g + wd * x)
            out.append(x - buf[j])
        return out
