"""``summary(model, data_info)``: a layer table (output shape, parameters) from one forward pass on a
small example batch built from the data description (tensors, ``Sequences`` or ``Trees``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from deepzen.info import DataInfo
from deepzen.structures import Sequences, Trees


def example_trees() -> Trees:
    """Two trees: ``(a b)`` (a root over two leaves) and a single leaf."""
    return Trees(tokens=torch.tensor([1, 2, 1, 2]), children=torch.tensor([[-1, -1], [-1, -1], [0, 1], [-1, -1]]),
                 levels=[torch.tensor([0, 1, 3]), torch.tensor([2])], roots=torch.tensor([2, 3]),
                 tree_index=torch.tensor([0, 0, 0, 1]))


def example_input(info: DataInfo, batch: int = 2, length: int = 8) -> Tensor | Sequences | Trees:
    """A random batch shaped like the collated data ``info`` describes.

    Variable-length inputs become a ``Sequences`` batch (lengths ``length`` and ``length - 1``).
    """
    g = torch.Generator().manual_seed(0)
    if info.input_kind == "tree":
        return example_trees()
    if info.input_kind == "tokens":
        T = min(length, info.max_length or length)
        values = torch.randint(1, max(2, info.vocab_size or 2), (batch, T), generator=g)
        lengths = torch.full((batch,), T).clamp_min(1)
        lengths[-1] = max(1, T - 1)
        return Sequences(values, lengths)
    shape = tuple(info.input_shape or ())
    if None in shape:
        T = min(length, info.max_length or length)
        dims = tuple(T if s is None else s for s in shape)
        lengths = torch.full((batch,), T)
        lengths[-1] = max(1, T - 1)
        return Sequences(torch.randn((batch, *dims), generator=g), lengths)
    return torch.randn((batch, *shape), generator=g)  # type: ignore[arg-type]


def _shape(out: Any) -> str:
    if isinstance(out, Tensor):
        return str(tuple(out.shape))
    if isinstance(out, PackedSequence):
        return f"packed {tuple(out.data.shape)}"
    if isinstance(out, (tuple, list)) and out:
        return _shape(out[0])
    return type(out).__name__


@dataclass
class ModelSummary:
    """Rows ``(name, type, output shape, own parameters, calls)`` and parameter totals."""

    rows: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    output_shape: str = ""

    def __str__(self) -> str:
        head = ("layer", "type", "output shape", "params")
        body = [(n, t, s + (f" x{c}" if c > 1 else ""), f"{p:,}") for n, t, s, p, c in self.rows]
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(4)]
        line = "  ".join("{:<%d}" % w for w in widths[:3]) + "  {:>%d}" % widths[3]
        out = [line.format(*head), "-" * (sum(widths) + 6)] + [line.format(*r) for r in body]
        out += ["-" * (sum(widths) + 6), f"output {self.output_shape}",
                f"total params {self.total_params:,} (trainable {self.trainable_params:,})"]
        return "\n".join(out)


def summary(model: nn.Module, data_info: DataInfo, batch: int = 2) -> ModelSummary:
    """Run ``model`` once (eval mode, no grad) on an example batch and tabulate its layers.

    Lists modules without children or with parameters of their own; a module called several times
    (tree cells per level) shows its first output shape and the number of calls.
    """
    records: dict[str, list[Any]] = {}
    handles = []
    for name, module in model.named_modules():
        own = sum(p.numel() for p in module.parameters(recurse=False))
        if name and (not any(True for _ in module.children()) or own):
            def hook(mod: nn.Module, args: Any, out: Any, name: str = name, own: int = own) -> None:
                if name in records:
                    records[name][4] += 1
                else:
                    records[name] = [name, type(mod).__name__, _shape(out), own, 1]
            handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(example_input(data_info, batch))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    rows = []
    for name, module in model.named_modules():
        own = sum(p.numel() for p in module.parameters(recurse=False))
        if name in records:
            rows.append(tuple(records[name]))
        elif own:  # the model's own parameters (positions, [CLS]) or a module never called
            rows.append((name or "(model)", type(module).__name__, "-", own, 0))
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return ModelSummary(rows, total, trainable, _shape(out))  # type: ignore[arg-type]
