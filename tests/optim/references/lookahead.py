"""Lookahead re-derived in plain Python floats (no torch, no deepzen), around any reference optimizer.

Zhang, Lucas, Hinton, Ba, NeurIPS 2019, Algorithm 1, counted per parameter: φ starts at the
parameter's value before its first step; after every k-th inner step of that parameter,
φ ← φ + α(θ − φ) and θ ← φ.
"""

from __future__ import annotations


class RefLookahead:
    def __init__(self, inner, k=5, alpha=0.5):
        self.inner, self.k, self.alpha = inner, k, alpha
        self.slow, self.count = {}, {}

    def begin_step(self, loss):
        self.inner.begin_step(loss)

    def step(self, key, theta, grad):
        if key not in self.slow:
            self.slow[key], self.count[key] = list(theta), 0
        theta = self.inner.step(key, theta, grad)
        self.count[key] += 1
        if self.count[key] % self.k == 0:
            self.slow[key] = [s + self.alpha * (x - s) for s, x in zip(self.slow[key], theta)]
            theta = list(self.slow[key])
        return theta


class RefSGD:
    """Momentum SGD in torch's form (buffer starts at the gradient), coupled L2."""

    def __init__(self, lr=1e-3, momentum=0.0, weight_decay=0.0, maximize=False):
        self.lr, self.mom, self.wd, self.maximize = lr, momentum, weight_decay, maximize
        self.buf = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        grad = [(-g if self.maximize else g) + self.wd * x for g, x in zip(grad, theta)]
        if key not in self.buf:
            self.buf[key] = list(grad)
        else:
            self.buf[key] = [self.mom * b + g for b, g in zip(self.buf[key], grad)]
        d = self.buf[key] if self.mom else grad
        return [x - self.lr * di for x, di in zip(theta, d)]
