"""The table of optimizers by registry name: where each class lives and a one-line description.

Classes are imported on first use, so listing names stays cheap. ``OPTIMIZERS`` is the table as a
:class:`deepzen.registry.Registry` (the type every named kind uses); add an optimizer with one row of
``REGISTRY``.
"""

from __future__ import annotations

from typing import Any

import torch

from deepzen.registry import Entry, Registry

#: name -> (module under deepzen.optim, class name, one-line description)
REGISTRY: dict[str, tuple[str, str, str]] = {
    "sgd": ("sgd", "SGD", "stochastic gradient descent, optional coupled L2 decay (Robbins & Monro 1951)"),
    "momentum": ("sgd", "Momentum", "SGD with heavy-ball momentum (Polyak 1964)"),
    "nag": ("sgd", "NAG", "SGD with Nesterov accelerated gradient (Nesterov 1983; Sutskever et al. 2013)"),
    "adagrad": ("adagrad", "Adagrad", "per-coordinate lr from the sum of squared gradients (Duchi et al. 2011)"),
    "adadelta": ("adadelta", "Adadelta", "unit-corrected running averages, no global lr (Zeiler 2012)"),
    "rmsprop": ("rmsprop", "RMSProp", "lr divided by a running RMS of gradients (Tieleman & Hinton 2012)"),
    "adam": ("adam", "Adam", "bias-corrected first and second moments (Kingma & Ba 2015)"),
    "adamw": ("adam", "AdamW", "Adam with decoupled weight decay (Loshchilov & Hutter 2019)"),
    "amsgrad": ("adam", "AMSGrad", "Adam with a non-decreasing second moment (Reddi et al. 2018)"),
    "nadam": ("nadam", "NAdam", "Adam with Nesterov momentum and a momentum schedule (Dozat 2016)"),
    "adamax": ("adamax", "AdaMax", "Adam with an infinity-norm second moment (Kingma & Ba 2015, sec. 7.1)"),
    "radam": ("radam", "RAdam", "Adam with a rectified variance warm-up (Liu et al. 2020)"),
    "adabound": ("adabound", "AdaBound", "Adam with step sizes clipped to bounds converging to SGD (Luo et al. 2019)"),
    "amsbound": ("adabound", "AMSBound", "AMSGrad with AdaBound's dynamic bounds (Luo et al. 2019)"),
    "ranger": ("ranger", "Ranger", "RAdam inside Lookahead, optional gradient centralization (Wright 2019)"),
    "lamb": ("lamb", "LAMB", "Adam step scaled by a layer-wise trust ratio (You et al. 2020)"),
    "lars": ("lars", "LARS", "momentum SGD with a layer-wise trust ratio (You et al. 2017)"),
    "yogi": ("yogi", "Yogi", "Adam with an additive, sign-controlled second moment (Zaheer et al. 2018)"),
    "qhadam": ("qhadam", "QHAdam", "quasi-hyperbolic Adam: averages of plain and momentum steps (Ma & Yarats 2019)"),
    "eve": ("eve", "Eve", "Adam scaled by the relative change of the loss (Hayashi et al. 2016)"),
    "adopt": ("adopt", "ADOPT", "Adam-like with the second moment taken before the current gradient (Taniguchi et al. 2024)"),
    "ladopt": ("lookahead", "LADOPT", "Lookahead around ADOPT (deepzen's reading of the name LADOPT)"),
    "lion": ("lion", "Lion", "sign of an interpolated momentum, decoupled decay (Chen et al. 2023)"),
    "adafactor": ("adafactor", "Adafactor", "factored second moment, relative step size, update clipping (Shazeer & Stern 2018)"),
    "muon": ("muon", "Muon", "orthogonalized momentum for 2-D weights, AdamW for the rest (Jordan et al. 2024; Liu et al. 2025)"),
    "schedulefree_adamw": ("schedulefree", "ScheduleFreeAdamW", "AdamW without a schedule: interpolation and averaging (Defazio et al. 2024)"),
    "schedulefree_sgd": ("schedulefree", "ScheduleFreeSGD", "SGD without a schedule: interpolation and averaging (Defazio et al. 2024)"),
    "prodigy": ("prodigy", "Prodigy", "Adam with a learning rate estimated from the distance to the solution (Mishchenko & Defazio 2023)"),
    "adan": ("adan", "Adan", "adaptive Nesterov momentum with a gradient-difference moment (Xie et al. 2022)"),
    "madgrad": ("madgrad", "MADGRAD", "momentumized dual averaging with a cube-root denominator (Defazio & Jelassi 2021)"),
    "ademamix": ("ademamix", "AdEMAMix", "Adam with a second, slow momentum mixed in (Pagliardini et al. 2024)"),
    "soap": ("soap", "SOAP", "Adam in the eigenbasis of Shampoo's preconditioner (Vyas et al. 2024)"),
    "sophia": ("sophia", "Sophia", "clipped momentum over a diagonal Gauss-Newton estimate (Liu et al. 2023)"),
}


OPTIMIZERS = Registry("optimizer", [Entry(name, f"deepzen.optim.{module}:{cls}", desc)
                                     for name, (module, cls, desc) in REGISTRY.items()])


def available() -> dict[str, str]:
    """Registry names with their one-line descriptions."""
    return OPTIMIZERS.available()


def get_class(name: str) -> type[torch.optim.Optimizer]:
    """The optimizer class registered under ``name`` (case-insensitive)."""
    return OPTIMIZERS.load(name)


def create(name: str, params: Any, **hparams: Any) -> torch.optim.Optimizer:
    """Build the optimizer registered under ``name`` over ``params`` with hyperparameters ``hparams``."""
    return get_class(name)(params, **hparams)
