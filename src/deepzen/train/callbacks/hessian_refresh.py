"""Sophia's Hessian estimate, refreshed by the Trainer every ``hessian_interval`` optimizer steps."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from deepzen.train.callbacks.base import Callback, TrainerView


def sampled_label_loss(output: Tensor, generator: torch.Generator) -> Tensor:
    """The loss on labels sampled from the model's own output (Gauss-Newton-Bartlett, Liu et al. 2023):
    class logits (N, C): cross-entropy against ŷ ~ softmax(output); any other output: ½·mean((f − ŷ)²)
    with ŷ ~ N(f, 1) (the Gaussian likelihood's form)."""
    output = output.float()
    if output.dim() == 2 and output.shape[1] > 1:
        probs = torch.softmax(output.detach(), dim=1)
        sampled = torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(1).to(output.device)
        return F.cross_entropy(output, sampled)
    noise = torch.randn(output.shape, generator=generator, dtype=output.dtype).to(output.device)
    return 0.5 * (output - (output.detach() + noise)).square().mean()


class HessianRefresh(Callback):
    """For an optimizer with ``update_hessian`` (Sophia): after every ``hessian_interval``-th optimizer
    step, one more forward and backward pass on the step's last batch with sampled labels, then
    ``optimizer.update_hessian(batch_size)``. The sampling generator is seeded from the run's seed and
    the step, so a resumed run draws the same labels."""

    def on_optimizer_step(self, trainer: TrainerView) -> None:
        optimizer = trainer.optimizer
        update = getattr(optimizer, "update_hessian", None)
        inputs = getattr(trainer, "batch_inputs", None)
        if update is None or inputs is None:
            return
        interval = optimizer.param_groups[0].get("hessian_interval", 10)
        if (trainer.global_step - 1) % interval != 0:               # steps 1, 1 + k, 1 + 2k, ...
            return
        generator = torch.Generator().manual_seed((trainer.seed or 0) * 1_000_003 + trainer.global_step)
        with torch.enable_grad(), trainer.precision.autocast():
            output = trainer.model(inputs)
        loss = sampled_label_loss(output, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        update(len(output))
        optimizer.zero_grad(set_to_none=True)
