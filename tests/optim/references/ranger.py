"""Ranger re-derived in plain Python floats (no torch, no deepzen): its own RAdam and Lookahead.

RAdam (Liu et al., ICLR 2020, Alg. 2, in the form of the authors' and Ranger's code: ε added to the
raw √v, decoupled decay θ(1 − ηλ) before the step, plain momentum step θ −= η·m/(1 − β1ᵗ) while
ρ_t <= threshold), then Lookahead (Zhang et al. 2019) every k steps of the parameter; optional
gradient centralization (Yong et al. 2020) over all axes but the first.
"""

from __future__ import annotations

import math

HARNESS_SHAPES = {0: (3, 4), 1: (5,), 2: ()}   # tests/optim/harness.py's parameters, by key


def centralize(grad, shape):
    if len(shape) <= 1:
        return list(grad)
    rows, cols = shape[0], len(grad) // shape[0]
    out = []
    for r in range(rows):
        row = grad[r * cols:(r + 1) * cols]
        mean = sum(row) / cols
        out.extend(g - mean for g in row)
    return out


class RefRanger:
    def __init__(self, lr=1e-3, betas=(0.95, 0.999), eps=1e-5, weight_decay=0.0, alpha=0.5, k=6,
                 threshold=5.0, use_gc=False, decoupled=True, maximize=False, shapes=None):
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, betas[0], betas[1], eps, weight_decay
        self.alpha, self.k, self.threshold = alpha, k, threshold
        self.use_gc, self.decoupled, self.maximize = use_gc, decoupled, maximize
        self.shapes = shapes or HARNESS_SHAPES
        self.state = {}
        self.rectified_steps = 0    # coverage: how many parameter-steps used r_t

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        n = len(theta)
        s = self.state.setdefault(key, {"t": 0, "m": [0.0] * n, "v": [0.0] * n, "slow": list(theta)})
        s["t"] += 1
        t = s["t"]
        grad = [-g for g in grad] if self.maximize else list(grad)
        if self.use_gc:
            grad = centralize(grad, self.shapes[key])
        if self.decoupled:
            theta = [x * (1 - self.lr * self.wd) for x in theta]
        else:
            grad = [g + self.wd * x for g, x in zip(grad, theta)]
        rho_inf = 2 / (1 - self.b2) - 1
        rho_t = rho_inf - 2 * t * self.b2**t / (1 - self.b2**t)
        out = []
        for j, (x, g) in enumerate(zip(theta, grad)):
            s["m"][j] = self.b1 * s["m"][j] + (1 - self.b1) * g
            s["v"][j] = self.b2 * s["v"][j] + (1 - self.b2) * g * g
            m_hat = s["m"][j] / (1 - self.b1**t)
            if rho_t > self.threshold:
                r_t = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                v_hat_sqrt = math.sqrt(s["v"][j]) / math.sqrt(1 - self.b2**t)
                eps_hat = self.eps / math.sqrt(1 - self.b2**t)     # ε on the raw √v
                out.append(x - self.lr * r_t * m_hat / (v_hat_sqrt + eps_hat))
            else:
                out.append(x - self.lr * m_hat)
        if rho_t > self.threshold:
            self.rectified_steps += 1
        if t % self.k == 0:
            s["slow"] = [p + self.alpha * (x - p) for p, x in zip(s["slow"], out)]
            out = list(s["slow"])
        return out
