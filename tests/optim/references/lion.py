"""Lion re-derived in plain Python floats (no torch, no deepzen).

Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2:
c = β1·m + (1 − β1)·g;  θ ← θ − η·(sign(c) + λθ);  m ← β2·m + (1 − β2)·g.  sign(0) = 0.
"""

from __future__ import annotations


def sign(x):
    return (x > 0) - (x < 0)


class RefLion:
    def __init__(self, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False, fused=None):
        self.lr, self.b1, self.b2, self.wd, self.maximize = lr, betas[0], betas[1], weight_decay, maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        m = self.state.setdefault(key, [0.0] * len(theta))
        out = []
        for j, (x, g) in enumerate(zip(theta, grad)):
            if self.maximize:
                g = -g
            c = self.b1 * m[j] + (1 - self.b1) * g
            out.append(x - self.lr * (sign(c) + self.wd * x))
            m[j] = self.b2 * m[j] + (1 - self.b2) * g
        return out
