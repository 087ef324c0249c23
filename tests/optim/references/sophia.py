"""SophiaG re-derived in plain Python floats (no torch, no deepzen).

Liu et al. 2023, "Sophia: A Scalable Stochastic Second-order Optimizer for Language Model Pre-training"
(arXiv:2305.14342), Algorithm 3 with the Gauss–Newton–Bartlett estimator:
    every k steps, from the gradient ĝ of the loss on labels sampled from the model over a batch of B:
        h ← β2 h + (1 − β2)·B·ĝ⊙ĝ
    every step:  θ ← θ(1 − ηλ);  m ← β1 m + (1 − β1) g;  θ ← θ − η·clip(m / (γh + ε), 1)
clip(x, 1) = sign(x)·min(|x|, 1); ε = 1e-15 added to γh as in the official code (the paper takes max(γh, ε)).
"""

from __future__ import annotations


def clip1(x):
    return max(-1.0, min(1.0, x))


class RefSophia:
    def __init__(self, lr=1e-4, betas=(0.965, 0.99), gamma=0.04, weight_decay=0.1, eps=1e-15, maximize=False,
                 fused=None):
        self.lr, self.b1, self.b2, self.gamma, self.wd, self.eps = lr, betas[0], betas[1], gamma, weight_decay, eps
        self.maximize = maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def _state(self, key, n):
        return self.state.setdefault(key, {"m": [0.0] * n, "h": [0.0] * n})

    def update_hessian(self, key, sampled_grad, batch_size):
        s = self._state(key, len(sampled_grad))
        s["h"] = [self.b2 * h + (1 - self.b2) * batch_size * g * g for h, g in zip(s["h"], sampled_grad)]

    def step(self, key, theta, grad):
        s = self._state(key, len(theta))
        out = []
        for j, (x, g) in enumerate(zip(theta, grad)):
            if self.maximize:
                g = -g
            x = x * (1 - self.lr * self.wd)
            s["m"][j] = self.b1 * s["m"][j] + (1 - self.b1) * g
            out.append(x - self.lr * clip1(s["m"][j] / (self.gamma * s["h"][j] + self.eps)))
        return out
