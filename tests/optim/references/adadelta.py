"""Adadelta in plain Python floats (no torch, no deepzen).

Zeiler 2012 (arXiv:1212.5701), Algorithm 1: E[g²] ← ρE[g²] + (1 − ρ)g²;
Δ = −√(E[Δ²] + ε)/√(E[g²] + ε)·g; E[Δ²] ← ρE[Δ²] + (1 − ρ)Δ²; θ ← θ + ηΔ (η = 1 in the paper; η scales
only the applied step, as in torch). Coupled L2 decay g + λθ.
"""

from __future__ import annotations

import math


class RefAdadelta:
    def __init__(self, lr=1.0, rho=0.95, eps=1e-6, weight_decay=0.0, maximize=False):
        self.lr, self.rho, self.eps, self.wd, self.maximize = lr, rho, eps, weight_decay, maximize
        self.state = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        s = self.state.setdefault(key, {"Eg2": [0.0] * len(theta), "Ed2": [0.0] * len(theta)})
        rho, eps = self.rho, self.eps
        out = []
        for j, (x, g) in enumerate(zip(theta, grad)):
            g = (-g if self.maximize else g) + self.wd * x
            s["Eg2"][j] = rho * s["Eg2"][j] + (1 - rho) * g * g
            delta = -math.sqrt(s["Ed2"][j] + eps) / math.sqrt(s["Eg2"][j] + eps) * g
            s["Ed2"][j] = rho * s["Ed2"][j] + (1 - rho) * delta * delta
            out.append(x + self.lr * delta)
        return out
