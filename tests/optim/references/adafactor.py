"""Adafactor re-derived in plain Python floats (no torch, no deepzen).

Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost", Algorithms 4 and 5
(β1 = 0), t per parameter:
    β̂2_t = 1 − t^c (c = beta2_decay = −0.8);  ρ_t = min(η, 1/√t);  α_t = max(ε2, RMS(θ_{t−1}))·ρ_t
    matrix (n × m):  R ← β̂ R + (1 − β̂)·mean_cols(G² + ε1);  C ← β̂ C + (1 − β̂)·mean_rows(G² + ε1)
                     V̂ = R Cᵀ / mean(R)          (the paper's sums, divided through by m and n)
    otherwise:       V̂ ← β̂ V̂ + (1 − β̂)(G² + ε1)
    U = G/√V̂;  Û = U / max(1, RMS(U)/d);  θ ← θ(1 − ηλ) − α_t Û
``shapes`` maps a parameter key to its shape; only 2-D parameters are factored here.
"""

from __future__ import annotations

import math


def rms(xs):
    return math.sqrt(sum(x * x for x in xs) / len(xs))


class RefAdafactor:
    def __init__(self, shapes, lr=1e-2, beta2_decay=-0.8, eps=(1e-30, 1e-3), d=1.0, weight_decay=0.0,
                 maximize=False, fused=None):
        self.shapes, self.lr, self.decay, self.d, self.wd = shapes, lr, beta2_decay, d, weight_decay
        self.eps1, self.eps2 = eps
        self.maximize = maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        shape = tuple(self.shapes[key])
        grad = [-g for g in grad] if self.maximize else list(grad)
        sq = [g * g + self.eps1 for g in grad]
        if len(shape) == 2:
            n, m = shape
            s = self.state.setdefault(key, {"t": 0, "R": [0.0] * n, "C": [0.0] * m})
        else:
            s = self.state.setdefault(key, {"t": 0, "V": [0.0] * len(theta)})
        s["t"] += 1
        t = s["t"]
        beta = 1 - t**self.decay
        rho = min(self.lr, 1 / math.sqrt(t))
        alpha = max(self.eps2, rms(theta)) * rho
        if len(shape) == 2:
            for i in range(n):
                s["R"][i] = beta * s["R"][i] + (1 - beta) * sum(sq[i * m:(i + 1) * m]) / m
            for j in range(m):
                s["C"][j] = beta * s["C"][j] + (1 - beta) * sum(sq[i * m + j] for i in range(n)) / n
            mean_r = sum(s["R"]) / n
            v_hat = [s["R"][i] * s["C"][j] / mean_r for i in range(n) for j in range(m)]
        else:
            s["V"] = [beta * v + (1 - beta) * q for v, q in zip(s["V"], sq)]
            v_hat = s["V"]
        u = [g / math.sqrt(v) for g, v in zip(grad, v_hat)]
        scale = max(1.0, rms(u) / self.d)
        return [x * (1 - self.lr * self.wd) - alpha * ui / scale for x, ui in zip(theta, u)]
