"""Clip gradients before each optimizer step."""

from __future__ import annotations

import torch
from torch import Tensor

from deepzen.train.callbacks.base import Callback, TrainerView


class GradientClipping(Callback):
    """Clip gradients before each optimizer step (after AMP unscaling).

    ``max_norm``: rescale all gradients by ``min(1, max_norm / ||g||)``, ``||g||`` the ``norm_type``
    norm of all gradients together (Pascanu et al., 2013). ``max_value``: clamp each element to
    ``[-max_value, max_value]``. Give one or both.
    """

    def __init__(self, max_norm: float | None = None, max_value: float | None = None, norm_type: float = 2.0) -> None:
        if max_norm is None and max_value is None:
            raise ValueError("GradientClipping needs max_norm or max_value")
        for name, value in (("max_norm", max_norm), ("max_value", max_value)):
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        self.max_norm, self.max_value, self.norm_type = max_norm, max_value, norm_type
        self.last_norm: Tensor | None = None  # total norm before clipping (device tensor, no sync)

    def on_before_optimizer_step(self, trainer: TrainerView) -> None:
        params = [p for p in trainer.model.parameters() if p.grad is not None]
        if self.max_value is not None:
            torch.nn.utils.clip_grad_value_(params, self.max_value)
        if self.max_norm is not None:
            self.last_norm = torch.nn.utils.clip_grad_norm_(params, self.max_norm, norm_type=self.norm_type)
