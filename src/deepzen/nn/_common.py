"""Pieces every family shares: output sizes from the task, input checks with clear messages,
dense blocks, and masked pooling over padded sequences."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from deepzen.info import DataInfo
from deepzen.nn.activations import make_activation
from deepzen.structures import Sequences

PER_STEP_TASKS = ("sequence_labeling", "language_model")


def refuse(model: str, problem: str, hint: str = "") -> ValueError:
    """The error for an impossible data/model combination, raised before any training."""
    return ValueError(f"cannot build {model!r}: {problem}" + (f". {hint}" if hint else ""))


def output_size(model: str, info: DataInfo) -> int:
    """Size of the last layer: classes (classification, labelling, language model) or regression outputs."""
    if info.task == "regression":
        if not info.num_outputs or info.num_outputs < 1:
            raise refuse(model, "a regression task needs data_info.num_outputs >= 1")
        return info.num_outputs
    if info.task == "language_model":
        if info.vocab_size is None:
            raise refuse(model, "a language model needs token data with data_info.vocab_size")
        if info.num_classes not in (None, info.vocab_size):
            raise refuse(model, f"a language model predicts tokens: num_classes ({info.num_classes}) must "
                                f"equal vocab_size ({info.vocab_size})")
        return info.vocab_size
    if not info.num_classes or info.num_classes < 1:
        raise refuse(model, f"task {info.task!r} needs data_info.num_classes >= 1")
    return info.num_classes


def require_vocab(model: str, info: DataInfo) -> int:
    """``vocab_size`` for token inputs, refusing token models on data without a vocabulary."""
    if not info.vocab_size or info.vocab_size < 1:
        raise refuse(model, f"{info.input_kind} input needs data_info.vocab_size (a vocabulary)")
    if not 0 <= info.padding_index < info.vocab_size:
        raise refuse(model, f"padding_index {info.padding_index} is not a token id in [0, {info.vocab_size})")
    return info.vocab_size


def known_shape(model: str, info: DataInfo, rank: int, what: str) -> tuple[int, ...]:
    """``info.input_shape`` as ``rank`` known sizes, or a clear refusal naming ``what`` is needed."""
    shape = info.input_shape
    if shape is None or len(shape) != rank or any(s is None or s < 1 for s in shape):
        raise refuse(model, f"{info.input_kind} data with input_shape {shape} has no {what}")
    return tuple(int(s) for s in shape)  # type: ignore[arg-type]


def check_tokens(model: str, values: Tensor, expect_tokens: bool) -> None:
    """Refuse float features for a vocabulary model and token ids for a model of real features."""
    is_int = not torch.is_floating_point(values)
    if expect_tokens and not is_int:
        raise ValueError(f"{model}: built for token ids (int64) but got {values.dtype} values; "
                         "a vocabulary model cannot read real-valued features")
    if not expect_tokens and is_int:
        raise ValueError(f"{model}: built for real-valued features but got {values.dtype} token ids; "
                         "build it from data_info with input_kind 'tokens' instead")


def split(x: Tensor | Sequences) -> tuple[Tensor, Tensor | None]:
    """``(values, lengths)`` from a padded batch, ``(x, None)`` from a plain tensor."""
    if isinstance(x, Sequences):
        return x.values, x.lengths
    return x, None


def step_mask(lengths: Tensor | None, batch: int, steps: int, device: torch.device) -> Tensor | None:
    """``(B, T)`` bool, True at real steps; ``None`` when every step is real."""
    if lengths is None:
        return None
    return torch.arange(steps, device=device)[None, :] < lengths.to(device)[:, None]


def masked_mean(h: Tensor, mask: Tensor | None) -> Tensor:
    """Mean of ``h`` (B, T, D) over real steps -> (B, D)."""
    if mask is None:
        return h.mean(dim=1)
    w = mask.unsqueeze(-1).to(h.dtype)  # (B, T, 1)
    return (h * w).sum(dim=1) / w.sum(dim=1).clamp_min(1.0)


def masked_max(h: Tensor, mask: Tensor | None) -> Tensor:
    """Max of ``h`` (B, T, D) over real steps -> (B, D)."""
    if mask is None:
        return h.amax(dim=1)
    return h.masked_fill(~mask.unsqueeze(-1), -math.inf).amax(dim=1)


def dense_stack(in_features: int, hidden: tuple[int, ...], activation: str, dropout: float,
                batch_norm: bool = False, layer_norm: bool = False) -> tuple[nn.Sequential, int]:
    """Linear -> [BatchNorm1d | LayerNorm] -> activation -> [Dropout] per hidden width.

    Returns the stack and its output width.
    """
    layers: list[nn.Module] = []
    width = in_features
    for size in hidden:
        layers.append(nn.Linear(width, size))
        if batch_norm:
            layers.append(nn.BatchNorm1d(size))
        elif layer_norm:
            layers.append(nn.LayerNorm(size))
        layers.append(make_activation(activation))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    return nn.Sequential(*layers), width


def one_norm(model: str, batch_norm: bool, layer_norm: bool) -> None:
    if batch_norm and layer_norm:
        raise ValueError(f"{model}: choose batch_norm or layer_norm, not both")
