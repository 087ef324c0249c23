"""Transformer (Vaswani et al. 2017) with pre-norm blocks (Xiong et al. 2020):

    x = x + Attention(LayerNorm(x)),   x = x + FeedForward(LayerNorm(x))
    Attention(q, k, v) = softmax(q k^T / sqrt(d_head) + mask) v      (scaled_dot_product_attention)

Two variants:
- ``encoder``: bidirectional attention with padding masked out; classification / regression pool the
  final states ([CLS] token or mean over real positions), sequence labelling gives one output per step.
- ``decoder``: causal mask (position t attends to positions <= t): a language model (GPT style) or a
  causal tagger; outputs ``(B, T, out)``.

Inputs become token vectors: embeddings (token ids), a Linear (real-valued steps), non-overlapping
patches (images and signals, ViT: Dosovitskiy et al. 2021), or one token per feature (tabular, as in
FT-Transformer: Gorishniy et al. 2021, token_f = x_f w_f + b_f). Positions are learned or sinusoidal:
PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepzen.info import DataInfo
from deepzen.nn import _options as opt
from deepzen.nn._common import (PER_STEP_TASKS, check_tokens, known_shape, masked_mean, output_size, refuse,
                                require_vocab, split, step_mask)
from deepzen.nn.activations import ACTIVATIONS, make_activation
from deepzen.nn.init import SCHEMES, initialize
from deepzen.structures import Sequences

OPTIONS: dict[str, opt.Option] = {
    "variant": opt.choice("auto", ("auto", "encoder", "decoder"),
                          "auto: decoder for language models, encoder otherwise"),
    "d_model": opt.integer(128, "token vector size", low=1),
    "heads": opt.integer(4, "attention heads (must divide d_model)", low=1),
    "layers": opt.integer(2, "transformer blocks", low=1),
    "ff_mult": opt.integer(4, "feed-forward width = ff_mult * d_model", low=1),
    "activation": opt.choice("gelu", tuple(ACTIVATIONS), "feed-forward nonlinearity"),
    "dropout": opt.real(0.1, "dropout on attention weights, residual branches and embeddings", 0.0, 1.0,
                        high_open=True),
    "positions": opt.choice("learned", ("learned", "sinusoidal"), "position encoding"),
    "pooling": opt.choice("mean", ("mean", "cls"), "encoder classification: mean of states or a [CLS] token"),
    "max_length": opt.integer(0, "longest input in tokens; 0: from data_info (else 512)", low=0),
    "patch_size": opt.integer(0, "image/signal patch side; 0: about 16 patches", low=0),
    "init": opt.choice("normal", SCHEMES, "weight initialization (normal: N(0, 0.02^2))"),
}


def sinusoidal(length: int, d: int) -> Tensor:
    """``(length, d)`` sinusoidal position table."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]  # (L, 1)
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d, 2, dtype=torch.float32) / d)  # (ceil(d/2),)
    table = torch.zeros(length, d)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq[: d // 2])
    return table


class SelfAttention(nn.Module):
    """Multi-head self-attention through ``F.scaled_dot_product_attention``."""

    def __init__(self, d: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)

    def forward(self, x: Tensor, mask: Tensor | None, causal: bool) -> Tensor:
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)  # (B, h, T, d)
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=causal and mask is None)
        return self.proj(y.transpose(1, 2).reshape(B, T, D))  # (B, T, D)


class Block(nn.Module):
    """Pre-norm transformer block."""

    def __init__(self, d: int, heads: int, ff: int, dropout: float, activation: str) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = SelfAttention(d, heads, dropout)
        self.ff = nn.Sequential(nn.Linear(d, ff), make_activation(activation), nn.Linear(ff, d))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor | None = None, causal: bool = False) -> Tensor:
        x = x + self.drop(self.attn(self.ln1(x), mask, causal))
        return x + self.drop(self.ff(self.ln2(x)))


class FeatureTokens(nn.Module):
    """Tabular features as tokens: ``(B, F)`` -> ``(B, F, d)``, token_f = x_f w_f + b_f."""

    def __init__(self, features: int, d: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features, d) * 0.02)
        self.bias = nn.Parameter(torch.zeros(features, d))

    def forward(self, x: Tensor) -> Tensor:
        return x[:, :, None] * self.weight + self.bias  # (B, F, d)


class Patches(nn.Module):
    """Non-overlapping patches of an image ``(B, C, H, W)`` or signal ``(B, C, L)`` -> ``(B, N, d)``."""

    def __init__(self, channels: int, d: int, patch: int, dims: int) -> None:
        super().__init__()
        self.conv = (nn.Conv2d if dims == 2 else nn.Conv1d)(channels, d, patch, stride=patch)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x).flatten(2).transpose(1, 2)  # (B, N, d)


class Transformer(nn.Module):
    """Input tokenizer + positions + pre-norm blocks + final LayerNorm + output layer.

    Arguments:
        tokenizer: module turning the input values into ``(B, T, d)``.
        out_features, max_length, causal, per_step, pooling, ...: see ``OPTIONS``.
        tokens: the input is token ids (checked at call time).
    """

    def __init__(self, tokenizer: nn.Module, out_features: int, *, tokens: bool, d_model: int = 128,
                 heads: int = 4, layers: int = 2, ff_mult: int = 4, activation: str = "gelu",
                 dropout: float = 0.1, positions: str = "learned", pooling: str = "mean",
                 max_length: int = 512, causal: bool = False, per_step: bool = False) -> None:
        super().__init__()
        self.tokenizer, self.tokens = tokenizer, tokens
        self.causal, self.per_step, self.max_length = causal, per_step, max_length
        self.use_cls = pooling == "cls" and not per_step
        self.cls = nn.Parameter(torch.zeros(1, 1, d_model)) if self.use_cls else None
        n_pos = max_length + int(self.use_cls)
        if positions == "learned":
            self.pos = nn.Parameter(torch.randn(n_pos, d_model) * 0.02)
        else:
            self.register_buffer("pos", sinusoidal(n_pos, d_model), persistent=False)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(Block(d_model, heads, ff_mult * d_model, dropout, activation)
                                    for _ in range(layers))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, out_features)

    def forward(self, x: Tensor | Sequences) -> Tensor:
        values, lengths = split(x)
        check_tokens("transformer", values, expect_tokens=self.tokens)
        h = self.tokenizer(values)  # (B, T, d)
        B, T, _ = h.shape
        if T > self.max_length:
            raise ValueError(f"transformer: input of {T} tokens is longer than max_length={self.max_length}; "
                             "build the model with a larger max_length")
        real = step_mask(lengths, B, T, h.device)  # (B, T) or None
        if self.cls is not None:
            h = torch.cat([self.cls.expand(B, 1, -1), h], dim=1)  # (B, 1+T, d)
            if real is not None:
                real = torch.cat([real.new_ones(B, 1), real], dim=1)
        h = self.drop(h + self.pos[: h.shape[1]])
        mask = None
        if real is not None:
            mask = real[:, None, None, :]  # (B, 1, 1, T'): keys that may be attended to
            if self.causal:
                L = h.shape[1]
                mask = mask & torch.ones(L, L, dtype=torch.bool, device=h.device).tril()
        for block in self.blocks:
            h = block(h, mask, self.causal)
        h = self.ln_f(h)
        if self.per_step:
            return self.head(h)  # (B, T, out)
        pooled = h[:, 0] if self.cls is not None else masked_mean(h, real)  # (B, d)
        return self.head(pooled)  # (B, out)


def _auto_patch(size: int) -> int:
    return max(1, size // 4)


def _tokenizer(info: DataInfo, d: int, patch: int) -> tuple[nn.Module, int | None, bool]:
    """(module, number of tokens if fixed, input is token ids)."""
    kind = info.input_kind
    if kind == "tokens":
        vocab = require_vocab("transformer", info)
        fixed = info.input_shape[0] if info.input_shape and len(info.input_shape) == 1 else None
        return nn.Embedding(vocab, d, padding_idx=info.padding_index), fixed, True
    if info.task == "language_model":
        raise refuse("transformer", f"a language model predicts token ids, but {kind} data holds real features",
                     "Use token data with a vocabulary")
    if kind == "sequence":
        shape = info.input_shape
        if not shape or len(shape) != 2 or shape[1] is None:
            raise refuse("transformer", f"sequence data with input_shape {shape} has no known feature size")
        return nn.Linear(int(shape[1]), d), shape[0], False
    if kind == "tabular":
        (features,) = known_shape("transformer", info, 1, "feature count")
        return FeatureTokens(features, d), features, False
    if kind in ("image", "signal"):
        shape = known_shape("transformer", info, 3 if kind == "image" else 2, "fixed size")
        spatial = shape[1:]
        p = patch or _auto_patch(min(spatial))
        if p > min(spatial):
            raise refuse("transformer", f"patch_size {p} is larger than the input {spatial}")
        return Patches(shape[0], d, p, len(spatial)), math.prod(s // p for s in spatial), False
    raise refuse("transformer", f"{kind} data is not supported", "Use the tree model for trees")


def build(info: DataInfo, **o: Any) -> Transformer:
    """A :class:`Transformer` encoder or decoder for ``info``."""
    variant = o["variant"]
    if variant == "auto":
        variant = "decoder" if info.task == "language_model" else "encoder"
    if variant == "encoder" and info.task == "language_model":
        raise refuse("transformer", "an encoder attends to the tokens it should predict",
                     "Use variant='decoder' for language models")
    if variant == "decoder" and info.task not in PER_STEP_TASKS:
        raise refuse("transformer", f"the decoder variant gives per-step outputs, not task {info.task!r}",
                     "Use variant='encoder'")
    if o["d_model"] % o["heads"]:
        raise ValueError(f"transformer: heads={o['heads']} must divide d_model={o['d_model']}")
    tokenizer, fixed, tokens = _tokenizer(info, o["d_model"], o["patch_size"])
    needed = fixed or info.max_length
    max_length = o["max_length"] or needed or 512
    if needed and needed > max_length:
        raise refuse("transformer", f"the data has sequences of {needed} tokens, longer than max_length="
                                    f"{max_length}", "Raise max_length")
    per_step = info.task in PER_STEP_TASKS
    if per_step and info.input_kind not in ("tokens", "sequence"):
        raise refuse("transformer", f"task {info.task!r} needs one output per step, but {info.input_kind} "
                                    "data has no steps", "Use token or sequence data")
    model = Transformer(tokenizer, output_size("transformer", info), tokens=tokens, d_model=o["d_model"],
                        heads=o["heads"], layers=o["layers"], ff_mult=o["ff_mult"], activation=o["activation"],
                        dropout=o["dropout"], positions=o["positions"], pooling=o["pooling"],
                        max_length=max_length, causal=variant == "decoder", per_step=per_step)
    return initialize(model, o["init"], o["activation"])
