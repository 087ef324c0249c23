"""AdaMax re-derived from Kingma & Ba 2015, §7.1 (Algorithm 2), in plain Python floats.

The paper has no ε; ``eps_placement="max"`` puts it inside the maximum (u = max(β2u, |g| + ε), torch),
``"denominator"`` divides by u + ε (Keras).
"""

from __future__ import annotations


class RefAdaMax:
    def __init__(self, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, eps_placement="max",
                 decoupled=False, maximize=False):
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, betas[0], betas[1], eps, weight_decay
        self.in_max, self.decoupled, self.maximize = eps_placement == "max", decoupled, maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        n = len(theta)
        s = self.state.setdefault(key, {"t": 0, "m": [0.0] * n, "u": [0.0] * n})
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
            if self.in_max:
                s["u"][j] = max(self.b2 * s["u"][j], abs(g) + self.eps)
                denom = s["u"][j]
            else:
                s["u"][j] = max(self.b2 * s["u"][j], abs(g))
                denom = s["u"][j] + self.eps
            out.append(x - (self.lr / (1 - self.b1**t)) * s["m"][j] / denom)
        return out
