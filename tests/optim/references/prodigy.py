"""Prodigy re-derived in plain Python floats (no torch, no deepzen).

Mishchenko & Defazio 2023, "Prodigy: An Expeditiously Adaptive Parameter-Free Learner"
(arXiv:2306.06101), Algorithm 4 (the Adam form), as its official code orders it. One global estimate d,
one global step k (the estimate mixes every parameter, so it is global by construction):
    η̂ = d·η·(√(1 − β2^{k+1})/(1 − β1^{k+1}) if bias correction else 1)
    per parameter (g + λθ when decay is coupled):
        r_num += (d/d₀)·η̂·⟨g, θ₀ − θ⟩;  m ← β1 m + d(1 − β1) g;  v ← β2 v + d²(1 − β2) g²
        s ← β3 s + (d/d₀)·η̂·g   (safeguard_warmup: (d/d₀)·d·g);   denominator += ‖s‖₁
    if the denominator is 0: no parameter moves this step.
    r ← β3 r + r_num;  d̂ = d_coef·r/denominator;  d_max ← max(d_max, d̂);  d ← min(d_max, d·growth_rate)
    (on the first growth, while d = d₀: d ← max(d, d̂) first)
    θ ← θ − λη̂θ (decoupled) − η̂·m / (√v + d_new·ε)
"""

from __future__ import annotations

import math


class RefProdigy:
    def __init__(self, lr=1.0, betas=(0.9, 0.999), beta3=None, eps=1e-8, weight_decay=0.0, decouple=True,
                 use_bias_correction=False, safeguard_warmup=False, d0=1e-6, d_coef=1.0,
                 growth_rate=math.inf, maximize=False, fused=None):
        self.lr, self.b1, self.b2 = lr, betas[0], betas[1]
        self.b3 = math.sqrt(self.b2) if beta3 is None else beta3
        self.eps, self.wd, self.decouple, self.bias_correction = eps, weight_decay, decouple, use_bias_correction
        self.safeguard, self.d0, self.d_coef, self.growth, self.maximize = (
            safeguard_warmup, d0, d_coef, growth_rate, maximize)
        self.d = self.d_max = d0
        self.numerator = 0.0
        self.k = 0
        self.state = {}

    def step_all(self, thetas, grads):
        """One global step over the parameters that have a gradient: {key: theta} -> {key: new theta}."""
        k, d = self.k, self.d
        bc = math.sqrt(1 - self.b2 ** (k + 1)) / (1 - self.b1 ** (k + 1)) if self.bias_correction else 1.0
        dlr = d * self.lr * bc
        numerator = self.numerator * self.b3
        delta, denominator = 0.0, 0.0
        gs = {}
        for key, theta in thetas.items():
            g = [-x for x in grads[key]] if self.maximize else list(grads[key])
            if self.wd and not self.decouple:
                g = [gi + self.wd * x for gi, x in zip(g, theta)]
            gs[key] = g
            n = len(theta)
            s = self.state.setdefault(key, {"p0": list(theta), "m": [0.0] * n, "v": [0.0] * n, "s": [0.0] * n})
            delta += (d / self.d0) * dlr * sum(gi * (p0 - x) for gi, p0, x in zip(g, s["p0"], theta))
            for j in range(n):
                s["m"][j] = self.b1 * s["m"][j] + d * (1 - self.b1) * g[j]
                s["v"][j] = self.b2 * s["v"][j] + d * d * (1 - self.b2) * g[j] ** 2
                s["s"][j] = self.b3 * s["s"][j] + (d / self.d0) * (d if self.safeguard else dlr) * g[j]
            denominator += sum(abs(x) for x in s["s"])
        if denominator == 0:
            return {key: list(theta) for key, theta in thetas.items()}
        numerator += delta
        d_hat = self.d_coef * numerator / denominator
        if d == self.d0:
            d = max(d, d_hat)
        self.d_max = max(self.d_max, d_hat)
        self.d = min(self.d_max, d * self.growth)
        self.numerator = numerator
        self.k += 1
        out = {}
        for key, theta in thetas.items():
            s = self.state[key]
            new = []
            for j, x in enumerate(theta):
                denom = math.sqrt(s["v"][j]) + self.d * self.eps
                y = x - self.wd * dlr * x if self.decouple else x
                new.append(y - dlr * s["m"][j] / denom)
            out[key] = new
        return out
