"""Convolution stacks over images (2-D) and signals or fixed-length real sequences (1-D), then a
dense head.

Block l: conv(k_l, stride s_l, padding p_l) -> [BatchNorm] -> act, repeated ``convs_per_block`` times,
then [pool(size q)]. Output length per spatial dim: L' = floor((L + 2p - k) / s) + 1, then floor(L'/q).
Head: flatten / global average / global max -> dense layers -> Linear(out).
"""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor, nn

from deepzen.info import DataInfo
from deepzen.nn import _options as opt
from deepzen.nn._common import check_tokens, dense_stack, known_shape, output_size, refuse
from deepzen.nn.activations import ACTIVATIONS, make_activation
from deepzen.nn.init import SCHEMES, initialize


def _padding(v: Any) -> str | int:
    if isinstance(v, str) and v.lower() in ("same", "valid"):
        return v.lower()
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        return v
    raise ValueError("'same', 'valid' or an integer >= 0")


OPTIONS: dict[str, opt.Option] = {
    "channels": opt.int_tuple((32, 64), "output channels of each conv block", allow_empty=False),
    "kernel_size": opt.int_tuple((3,), "kernel size per block (one value: all blocks)", allow_empty=False),
    "stride": opt.int_tuple((1,), "conv stride per block (one value: all blocks)", allow_empty=False),
    "padding": opt.Option("same", "'same', 'valid' or an integer >= 0",
                          "'same' keeps the size (odd kernels, stride 1), 'valid' pads nothing", _padding),
    "convs_per_block": opt.integer(1, "conv layers in each block before its pooling", low=1),
    "pool": opt.choice("max", ("max", "avg", "none"), "pooling at the end of each block"),
    "pool_size": opt.integer(2, "pooling window and stride", low=1),
    "global_pool": opt.choice("auto", ("auto", "flatten", "avg", "max"),
                              "how the last feature map becomes a vector; auto: flatten if <= 4096 values "
                              "else avg"),
    "hidden": opt.int_tuple((128,), "widths of the dense head's hidden layers"),
    "activation": opt.choice("relu", tuple(ACTIVATIONS), "nonlinearity after convs and dense layers"),
    "dropout": opt.real(0.2, "dropout in the dense head", 0.0, 1.0, high_open=True),
    "batch_norm": opt.boolean(True, "BatchNorm after each conv layer"),
    "init": opt.choice("default", SCHEMES, "weight initialization scheme"),
}


def _per_block(name: str, values: tuple[int, ...], blocks: int) -> tuple[int, ...]:
    if len(values) == 1:
        return values * blocks
    if len(values) != blocks:
        raise ValueError(f"cnn: {name} has {len(values)} entries but there are {blocks} blocks; "
                         "give one value or one per block")
    return values


class CNN(nn.Module):
    """Convolution stack + dense head.

    Arguments:
        features: the conv blocks (``nn.Sequential``) mapping ``(B, C, *spatial)`` to feature maps.
        head: flattening/pooling plus dense layers ending in the output Linear.
        channels_last: input is ``(B, T, F)`` (a real-valued sequence): transposed to ``(B, F, T)``.
    """

    def __init__(self, features: nn.Sequential, head: nn.Sequential, channels_last: bool = False) -> None:
        super().__init__()
        self.features, self.head, self.channels_last = features, head, channels_last

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise ValueError(f"cnn takes a dense tensor, got {type(x).__name__}")
        check_tokens("cnn", x, expect_tokens=False)
        if self.channels_last:
            x = x.transpose(1, 2)  # (B, T, F) -> (B, F, T)
        return self.head(self.features(x))  # (B, out)


def build(info: DataInfo, **o: Any) -> CNN:
    """A :class:`CNN` for image (2-D), signal or fixed-length sequence (1-D) inputs."""
    kinds = {"image": 3, "signal": 2, "sequence": 2}
    if info.input_kind not in kinds:
        raise refuse("cnn", f"{info.input_kind} data has no spatial or time axis to convolve over",
                     "cnn needs image (C, H, W), signal (C, L) or fixed-length sequence (T, F) input; "
                     "use mlp for tabular data")
    if info.task not in ("classification", "regression"):
        raise refuse("cnn", f"task {info.task!r} needs per-step outputs", "Use rnn or transformer")
    shape = known_shape("cnn", info, kinds[info.input_kind], "fixed spatial size")
    channels_last = info.input_kind == "sequence"
    in_ch, size = (shape[1], [shape[0]]) if channels_last else (shape[0], list(shape[1:]))
    dims = len(size)
    Conv = nn.Conv2d if dims == 2 else nn.Conv1d
    Norm = nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d
    Pool = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d} if dims == 2 else {"max": nn.MaxPool1d, "avg": nn.AvgPool1d}

    blocks = len(o["channels"])
    kernels = _per_block("kernel_size", o["kernel_size"], blocks)
    strides = _per_block("stride", o["stride"], blocks)
    layers: list[nn.Module] = []
    for b, (ch, k, s) in enumerate(zip(o["channels"], kernels, strides)):
        for _ in range(o["convs_per_block"]):
            pad = _pad_amount(o["padding"], k, s)
            for d, n in enumerate(size):
                if n + 2 * pad < k:
                    raise refuse("cnn", f"kernel size {k} in block {b} is larger than its input "
                                        f"(size {n} + padding {2 * pad} along axis {d})",
                                 "Use a smaller kernel, fewer blocks, padding, or less pooling")
            size = [(n + 2 * pad - k) // s + 1 for n in size]
            layers += [Conv(in_ch, ch, k, stride=s, padding=pad, bias=not o["batch_norm"])]
            layers += [Norm(ch)] if o["batch_norm"] else []
            layers += [make_activation(o["activation"])]
            in_ch = ch
        if o["pool"] != "none" and o["pool_size"] > 1:
            q = o["pool_size"]
            if min(size) < q:
                raise refuse("cnn", f"pooling window {q} after block {b} is larger than its input "
                                    f"{tuple(size)}", "Use pool='none', a smaller pool_size or fewer blocks")
            layers.append(Pool[o["pool"]](q))
            size = [n // q for n in size]

    flat = in_ch * math.prod(size)
    mode = o["global_pool"]
    if mode == "auto":
        mode = "flatten" if flat <= 4096 else "avg"
    reduce: nn.Module = nn.Flatten(1)
    if mode != "flatten":
        pool = nn.AdaptiveAvgPool2d if mode == "avg" else nn.AdaptiveMaxPool2d
        if dims == 1:
            pool = nn.AdaptiveAvgPool1d if mode == "avg" else nn.AdaptiveMaxPool1d
        reduce, flat = nn.Sequential(pool(1), nn.Flatten(1)), in_ch
    # no BatchNorm in the head: it would fail on a last batch of one sample
    dense, width = dense_stack(flat, o["hidden"], o["activation"], o["dropout"])
    head = nn.Sequential(reduce, *([nn.Dropout(o["dropout"])] if o["dropout"] and not o["hidden"] else []),
                         *dense, nn.Linear(width, output_size("cnn", info)))
    model = CNN(nn.Sequential(*layers), head, channels_last)
    return initialize(model, o["init"], o["activation"])


def _pad_amount(padding: str | int, k: int, stride: int) -> int:
    if padding == "valid":
        return 0
    if padding == "same":
        if k % 2 == 0:
            raise ValueError(f"cnn: padding='same' needs an odd kernel size, got {k}; give an integer padding")
        return (k - 1) // 2  # exact 'same' for stride 1; ceil(L / s) outputs otherwise
    return int(padding)
