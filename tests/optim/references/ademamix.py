"""AdEMAMix re-derived in plain Python floats (no torch, no deepzen).

Pagliardini, Ablin, Grangier 2024, "The AdEMAMix Optimizer: Better, Faster, Older" (arXiv:2409.03137),
Algorithm 1 with its warm-up schedules (t per parameter):
    α_t = α·t/T_α for t < T_α, else α (no warm-up: α)
    β3_t = f⁻¹((1 − t/T_β3)·f(β1) + (t/T_β3)·f(β3)) for t < T_β3, f(β) = ln(½)/ln(β + 1e-8) − 1, f⁻¹(h) = ½^{1/(h+1)}
    m1 ← β1 m1 + (1 − β1) g;  m2 ← β3_t m2 + (1 − β3_t) g;  ν ← β2 ν + (1 − β2) g²
    θ ← θ − η·[(m1/(1 − β1ᵗ) + α_t m2) / (√(ν/(1 − β2ᵗ)) + ε) + λθ]
"""

from __future__ import annotations

import math


def alpha_at(t, alpha, warmup):
    return alpha if warmup is None or t >= warmup else alpha * t / warmup


def beta3_at(t, beta1, beta3, warmup):
    if warmup is None or t >= warmup:
        return beta3

    def half_life(b):
        return math.log(0.5) / math.log(b + 1e-8) - 1

    a = t / warmup
    return 0.5 ** (1 / ((1 - a) * half_life(beta1) + a * half_life(beta3) + 1))


class RefAdEMAMix:
    def __init__(self, lr=1e-3, betas=(0.9, 0.999, 0.9999), alpha=2.0, beta3_warmup=None, alpha_warmup=None,
                 eps=1e-8, weight_decay=0.0, maximize=False, fused=None):
        self.lr, self.betas, self.alpha, self.eps, self.wd = lr, betas, alpha, eps, weight_decay
        self.beta3_warmup, self.alpha_warmup, self.maximize = beta3_warmup, alpha_warmup, maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        b1, b2, b3 = self.betas
        n = len(theta)
        s = self.state.setdefault(key, {"t": 0, "m1": [0.0] * n, "m2": [0.0] * n, "nu": [0.0] * n})
        s["t"] += 1
        t = s["t"]
        alpha = alpha_at(t, self.alpha, self.alpha_warmup)
        beta3 = beta3_at(t, b1, b3, self.beta3_warmup)
        out = []
        for j, (x, g) in enumerate(zip(theta, grad)):
            if self.maximize:
                g = -g
            s["m1"][j] = b1 * s["m1"][j] + (1 - b1) * g
            s["m2"][j] = beta3 * s["m2"][j] + (1 - beta3) * g
            s["nu"][j] = b2 * s["nu"][j] + (1 - b2) * g * g
            denom = math.sqrt(s["nu"][j] / (1 - b2**t)) + self.eps
            u = (s["m1"][j] / (1 - b1**t) + alpha * s["m2"][j]) / denom
            out.append(x - self.lr * (u + self.wd * x))
        return out
