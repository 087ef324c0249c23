"""The exported form of a trained model: raw inputs in, predictions in the user's units out, with only
tensors crossing the boundary (no deepzen class), so ``torch.export.load`` can run it without deepzen.

    x' = (x * prescale - mean) / std          training-split standardization (when the data had one)
    z  = model(x')                            (B, C) / (B, T, C) logits, or (B, D) standardized values
    classification, labelling, LM:  p = softmax(z)                       -> probabilities
    regression:                     y = z * target_std + target_mean     -> original units

Token and variable-length inputs take ``(values, lengths)`` instead of deepzen's ``Sequences``
container: a container class in the exported program's signature would have to be importable wherever
the program is loaded. Recurrent networks run unpacked here (``pack_padded_sequence`` has a
data-dependent shape that ``torch.export`` cannot trace); for a left-to-right RNN the real steps'
results are the same as packed, and the final state is read at each sequence's last real step.
A bidirectional RNN's right-to-left pass would start in the padding, so its export has no ``lengths``:
it takes full-length batches (one sequence, or sequences of equal length).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from deepzen.info import DataInfo
from deepzen.nn.rnn import RNN
from deepzen.nn.tree import TreeNet
from deepzen.structures import Sequences

PROBABILITY_TASKS = ("classification", "sequence_labeling", "language_model")


class NotExportable(ValueError):
    """The model cannot be exported in this form (the message says why and what would be needed)."""


def takes_lengths(model: nn.Module, info: DataInfo) -> bool:
    """True when the exported program's inputs are ``(values, lengths)`` rather than ``x`` alone."""
    if isinstance(model, RNN) and model.rnn.bidirectional:
        return False
    return info.input_kind in ("tokens", "sequence")


class Predictor(nn.Module):
    """``model`` with the preprocessing and output transform of the module docstring around it.

    Input: ``x`` raw features ``(B, *input_shape)``, or token ids / steps ``(B, T[, F])`` plus
    ``lengths`` ``(B,)`` int64 when :func:`takes_lengths`. Output: probabilities ``(B, C)`` /
    ``(B, T, C)`` or values ``(B, D)`` in original units.
    """

    def __init__(self, model: nn.Module, info: DataInfo) -> None:
        super().__init__()
        if isinstance(model, TreeNet):
            raise NotExportable(
                "tree models do not export: a Trees batch is evaluated level by level in a Python loop whose "
                "length is the batch's tree height, which torch.export would freeze for one example; exporting "
                "them needs a tensor-only form (node tokens, children and heights, with a fixed maximum height "
                "looped over with masks), which deepzen does not have yet. Use deepzen.load to predict with them")
        self.model, self.task = model.eval(), info.task
        self.lengths = takes_lengths(model, info)
        stats = info.stats or {}
        scale = "mean" in stats and info.input_kind in ("tabular", "image", "signal", "sequence")
        self.register_buffer("prescale", torch.tensor(float(stats.get("prescale", 1.0)) if scale else 1.0))
        self.register_buffer("mean", torch.tensor(stats["mean"] if scale else 0.0, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(stats["std"] if scale else 1.0, dtype=torch.float32))
        unscale = info.task == "regression" and "target_mean" in stats
        self.register_buffer("target_mean", torch.tensor(stats["target_mean"] if unscale else 0.0,
                                                         dtype=torch.float32))
        self.register_buffer("target_std", torch.tensor(stats["target_std"] if unscale else 1.0,
                                                        dtype=torch.float32))

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        if torch.is_floating_point(x):
            x = (x * self.prescale - self.mean) / self.std  # (B, ...) standardized as in training
        z = self.model_outputs(x, lengths)
        if self.task in PROBABILITY_TASKS:
            return torch.softmax(z, dim=-1)  # (B, C) or (B, T, C)
        return z * self.target_std + self.target_mean  # (B, D) in the targets' units

    def model_outputs(self, x: Tensor, lengths: Tensor | None) -> Tensor:
        """The wrapped model's raw outputs, with an unpacked path for RNNs (module docstring)."""
        if lengths is None:
            return self.model(x)
        if isinstance(self.model, RNN):
            return unpacked_rnn(self.model, x, lengths)
        return self.model(Sequences(x, lengths))


def unpacked_rnn(model: RNN, values: Tensor, lengths: Tensor) -> Tensor:
    """A left-to-right :class:`~deepzen.nn.rnn.RNN` on a padded batch without packing: the same results
    at real steps as the packed forward (a step sees only earlier steps), padding steps zeroed before the
    head as ``pad_packed_sequence`` leaves them, and "last" pooling read at step ``lengths - 1``."""
    from deepzen.nn._common import masked_max, masked_mean, step_mask

    if model.channels_first:
        values = values.transpose(1, 2)  # (B, C, L) -> (B, L, C)
    B, T = values.shape[:2]
    h = model.embed(values) if model.embed is not None else values  # (B, T, E)
    out, _ = model.rnn(h)  # (B, T, H)
    mask = step_mask(lengths, B, T, out.device)  # (B, T) True at real steps
    assert mask is not None
    out = out * mask[..., None].to(out.dtype)  # zeros at padding, as after pad_packed_sequence
    if model.per_step:
        return model.head(model.dropout(out))  # (B, T, out)
    if model.pooling == "last":
        last = (lengths.to(out.device) - 1).clamp_min(0)  # (B,)
        pooled = out[torch.arange(B, device=out.device), last]  # (B, H): the last layer's state at the end
    else:
        pooled = masked_mean(out, mask) if model.pooling == "mean" else masked_max(out, mask)
    return model.head(model.dropout(pooled))  # (B, out)


def example_inputs(info: DataInfo, model: nn.Module, batch: int = 3) -> tuple[Any, ...]:
    """Inputs of the right kind for tracing (values do not matter, shapes and dtypes do)."""
    T = info.max_length or 8
    if info.input_kind == "tokens":
        x: Tensor = torch.ones(batch, T, dtype=torch.long)
    else:
        shape = [d if d is not None else T for d in (info.input_shape or ())]
        x = torch.zeros(batch, *shape)
    if takes_lengths(model, info):
        return x, torch.full((batch,), x.shape[1], dtype=torch.long)
    return (x,)
