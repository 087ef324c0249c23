"""SGD / heavy-ball momentum / Nesterov momentum in plain Python floats (no torch, no deepzen).

Robbins & Monro 1951 (θ ← θ − η(g + λθ)); Polyak 1964 heavy ball; Nesterov momentum in the
gradient-at-current-point form of Sutskever et al. 2013 / Bengio et al. 2013. Two bookkeeping forms:
torch's (b ← μb + (1 − τ)g, θ ← θ − ηb, b = g on a parameter's first step) and the lr-in-buffer form
(v ← μv − η(1 − τ)g, θ ← θ + v, v = −ηg on the first step). ``lr`` may be changed between steps.
"""

from __future__ import annotations


class RefSGD:
    def __init__(self, lr=1e-2, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 lr_in_buffer=False, maximize=False, fused=None):
        self.lr, self.mu, self.tau, self.wd = lr, momentum, dampening, weight_decay
        self.nesterov, self.lr_in_buffer, self.maximize = nesterov, lr_in_buffer, maximize
        self.buffers = {}

    def begin_step(self, loss):
        pass

    def step(self, key, theta, grad):
        eta, mu = self.lr, self.mu
        g = [(-gi if self.maximize else gi) + self.wd * x for x, gi in zip(theta, grad)]
        if mu == 0:
            return [x - eta * gi for x, gi in zip(theta, g)]
        first = key not in self.buffers
        old = self.buffers.get(key, [0.0] * len(theta))
        if self.lr_in_buffer:
            v = [-eta * gi if first else mu * vi - eta * (1 - self.tau) * gi for vi, gi in zip(old, g)]
            self.buffers[key] = v
            if self.nesterov:
                return [x - eta * gi + mu * vi for x, gi, vi in zip(theta, g, v)]
            return [x + vi for x, vi in zip(theta, v)]
        b = [gi if first else mu * bi + (1 - self.tau) * gi for bi, gi in zip(old, g)]
        self.buffers[key] = b
        if self.nesterov:
            return [x - eta * (gi + mu * bi) for x, gi, bi in zip(theta, g, b)]
        return [x - eta * bi for x, bi in zip(theta, b)]


def RefMomentum(momentum=0.9, **kw):
    return RefSGD(momentum=momentum, **kw)


def RefNAG(momentum=0.9, **kw):
    return RefSGD(momentum=momentum, nesterov=True, **kw)
