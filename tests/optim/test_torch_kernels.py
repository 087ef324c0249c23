"""torch's fused kernels against the rules they stand in for: where deepzen uses torch's kernel (Adam
family, SGD family, Adagrad), the kernel must compute the algorithm's rule (``fused=False`` runs the
rule itself), step by step, for every config here."""

from __future__ import annotations

from typing import Any

import pytest
import torch

import deepzen.optim as dzo

#: registry name -> configs (extra hyperparameters) whose default path is torch's kernel.
CONFIGS: dict[str, list[dict[str, Any]]] = {
    "adam": [{}, {"weight_decay": 0.1, "betas": (0.8, 0.99)}, {"amsgrad": True, "decoupled": True, "weight_decay": 0.1}],
    "adamw": [{}, {"weight_decay": 0.3, "eps": 1e-3}],
    "amsgrad": [{}, {"weight_decay": 0.05}],
    "momentum": [{}, {"dampening": 0.3, "weight_decay": 0.1}],
    "nag": [{}, {"weight_decay": 0.1}],
    "sgd": [{"momentum": 0.9, "nesterov": True}],
    "adagrad": [{}, {"lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}],
}
CASES = [(name, hp) for name, configs in CONFIGS.items() for hp in configs]


@pytest.mark.parametrize(("name", "hp"), CASES, ids=[f"{n}-{i}" for n, c in CONFIGS.items() for i in range(len(c))])
def test_torch_kernel_computes_the_rule(name: str, hp: dict[str, Any]) -> None:
    torch.manual_seed(0)
    shapes = [(7, 5), (300,), ()]
    kernel_params = [torch.randn(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    rule_params = [p.detach().clone().requires_grad_() for p in kernel_params]
    kernel = dzo.create(name, kernel_params, lr=0.02, **hp)          # default: torch's fused kernel
    rule = dzo.create(name, rule_params, lr=0.02, fused=False, **hp)
    assert type(kernel)._fused_update is not dzo.Optimizer._fused_update, "not a torch-kernel algorithm"
    for t in range(12):
        for p, q in zip(kernel_params, rule_params):
            g = torch.randn_like(p)
            p.grad, q.grad = g, g.clone()
        kernel.step()
        rule.step()
        for i, (p, q) in enumerate(zip(kernel_params, rule_params)):
            torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14, msg=lambda m: f"{name} step {t + 1}, param {i}: {m}")
