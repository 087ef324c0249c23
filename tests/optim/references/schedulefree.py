"""Schedule-Free SGD and AdamW re-derived in plain Python floats (no torch, no deepzen).

Defazio et al. 2024, "The Road Less Scheduled" (arXiv:2405.15682), Algorithm 1 (t per parameter; the
parameter holds y, the point where gradients are taken):
    γ_t = η·min(1, t/warmup_steps);  γmax ← max(γmax, γ_t);  w_t = t^r·γmax^p;  c_t = w_t / Σ_{i≤t} w_i
    SGD:   z ← z − γ_t (g + λy)
    AdamW: v ← β2 v + (1 − β2) g²;  z ← z − γ_t (g / (√(v/(1 − β2ᵗ)) + ε) + λy)
    x ← (1 − c_t) x + c_t z;   y ← (1 − β) z + β x     (β = momentum / β1)
z₀ = x₀ = y₀ = θ₀.
"""

from __future__ import annotations

import math


class RefScheduleFree:
    def __init__(self, adaptive, lr, beta, beta2=0.999, eps=1e-8, weight_decay=0.0, warmup_steps=0, r=0.0,
                 weight_lr_power=2.0, maximize=False):
        self.adaptive, self.lr, self.beta, self.b2, self.eps = adaptive, lr, beta, beta2, eps
        self.wd, self.warmup, self.r, self.power, self.maximize = weight_decay, warmup_steps, r, weight_lr_power, maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        n = len(theta)
        s = self.state.setdefault(key, {"t": 0, "z": list(theta), "x": list(theta), "v": [0.0] * n,
                                        "lr_max": -1.0, "weight_sum": 0.0})
        s["t"] += 1
        t = s["t"]
        lr = self.lr * (min(1.0, t / self.warmup) if self.warmup else 1.0)
        s["lr_max"] = max(s["lr_max"], lr)
        weight = t**self.r * s["lr_max"] ** self.power
        s["weight_sum"] += weight
        c = weight / s["weight_sum"] if s["weight_sum"] else 0.0
        out = []
        for j, (y, g) in enumerate(zip(theta, grad)):
            if self.maximize:
                g = -g
            if self.adaptive:
                s["v"][j] = self.b2 * s["v"][j] + (1 - self.b2) * g * g
                g = g / (math.sqrt(s["v"][j] / (1 - self.b2**t)) + self.eps)
            s["z"][j] -= lr * (g + self.wd * y)
            s["x"][j] = (1 - c) * s["x"][j] + c * s["z"][j]
            out.append((1 - self.beta) * s["z"][j] + self.beta * s["x"][j])
        return out

    def eval_point(self, key):
        return list(self.state[key]["x"])


def RefScheduleFreeSGD(lr=1.0, momentum=0.9, weight_decay=0.0, warmup_steps=0, r=0.0, weight_lr_power=2.0,
                       maximize=False, fused=None):
    return RefScheduleFree(False, lr, momentum, weight_decay=weight_decay, warmup_steps=warmup_steps, r=r,
                           weight_lr_power=weight_lr_power, maximize=maximize)


def RefScheduleFreeAdamW(lr=0.0025, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, warmup_steps=0, r=0.0,
                         weight_lr_power=2.0, maximize=False, fused=None):
    return RefScheduleFree(True, lr, betas[0], betas[1], eps, weight_decay, warmup_steps, r, weight_lr_power,
                           maximize)
