"""Recursive networks over trees, evaluated bottom-up one height level at a time: all nodes of equal
height across the batch are computed together (their children are all lower, hence already done).

Node j has token x_j (embedded: e_j = E[x_j]) and children C(j) (empty for leaves).

Plain recursive network (Socher et al. 2011, generalized to any arity by summing or averaging the
children first; a leaf sees an all-zero child summary):

    s_j = sum_{k in C(j)} h_k   (or the mean; 0 for a leaf)
    h_j = act(W [e_j ; s_j] + b)

Child-Sum Tree-LSTM (Tai, Socher & Manning 2015, eqs. 2-8):

    h~_j  = sum_{k in C(j)} h_k
    i_j   = sigmoid(W_i e_j + U_i h~_j + b_i)
    f_jk  = sigmoid(W_f e_j + U_f h_k + b_f)          one forget gate per child k
    o_j   = sigmoid(W_o e_j + U_o h~_j + b_o)
    u_j   = tanh(W_u e_j + U_u h~_j + b_u)
    c_j   = i_j * u_j + sum_{k in C(j)} f_jk * c_k
    h_j   = o_j * tanh(c_j)

Outputs: per-node tasks (``data_info.per_node``) -> ``(N, out)`` over every node of the batch;
otherwise ``(B, out)`` from each tree's root.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from deepzen.info import DataInfo
from deepzen.nn import _options as opt
from deepzen.nn._common import output_size, refuse, require_vocab
from deepzen.nn.activations import ACTIVATIONS, make_activation
from deepzen.nn.init import SCHEMES, initialize
from deepzen.structures import Trees

OPTIONS: dict[str, opt.Option] = {
    "cell": opt.choice("treelstm", ("treelstm", "recursive"),
                       "Child-Sum Tree-LSTM (Tai et al. 2015) or plain recursive network"),
    "embedding_dim": opt.integer(64, "token embedding size", low=1),
    "hidden_size": opt.integer(128, "node state size", low=1),
    "composition": opt.choice("sum", ("sum", "mean"), "recursive cell: how children are combined"),
    "activation": opt.choice("tanh", tuple(ACTIVATIONS), "recursive cell nonlinearity"),
    "dropout": opt.real(0.0, "dropout before the output layer", 0.0, 1.0, high_open=True),
    "init": opt.choice("default", SCHEMES, "weight initialization scheme"),
}


def _edges(children: Tensor, level: Tensor) -> tuple[Tensor, Tensor]:
    """(parent position within ``level``, child node index) for every real edge of the level's nodes."""
    kids = children[level]  # (n, K)
    parent_pos, slot = (kids >= 0).nonzero(as_tuple=True)
    return parent_pos, kids[parent_pos, slot]


class RecursiveCell(nn.Module):
    """h_j = act(W [e_j ; s_j] + b), s_j the sum (or mean) of the children's states."""

    def __init__(self, embedding_dim: int, hidden_size: int, activation: str = "tanh",
                 composition: str = "sum") -> None:
        super().__init__()
        self.hidden_size, self.composition = hidden_size, composition
        self.linear = nn.Linear(embedding_dim + hidden_size, hidden_size)
        self.act = make_activation(activation)

    def forward(self, e: Tensor, parent_pos: Tensor, child_h: Tensor) -> tuple[Tensor, Tensor]:
        n = e.shape[0]
        s = e.new_zeros(n, self.hidden_size).index_add(0, parent_pos, child_h)  # (n, H)
        if self.composition == "mean":
            count = e.new_zeros(n).index_add(0, parent_pos, torch.ones_like(parent_pos, dtype=e.dtype))
            s = s / count.clamp_min(1.0)[:, None]
        h = self.act(self.linear(torch.cat([e, s], dim=-1)))  # (n, H)
        return h, h


class ChildSumTreeLSTMCell(nn.Module):
    """One level of the Child-Sum Tree-LSTM (equations in the module docstring)."""

    def __init__(self, embedding_dim: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.W_iou = nn.Linear(embedding_dim, 3 * hidden_size)  # W_i, W_o, W_u and biases
        self.U_iou = nn.Linear(hidden_size, 3 * hidden_size, bias=False)
        self.W_f = nn.Linear(embedding_dim, hidden_size)
        self.U_f = nn.Linear(hidden_size, hidden_size, bias=False)

    def forward(self, e: Tensor, parent_pos: Tensor, child_h: Tensor, child_c: Tensor) -> tuple[Tensor, Tensor]:
        n, H = e.shape[0], self.hidden_size
        h_sum = e.new_zeros(n, H).index_add(0, parent_pos, child_h)  # h~_j  (n, H)
        i, o, u = (self.W_iou(e) + self.U_iou(h_sum)).split(H, dim=-1)  # (n, H) each
        f = torch.sigmoid(self.W_f(e)[parent_pos] + self.U_f(child_h))  # f_jk per edge  (E, H)
        fc = e.new_zeros(n, H).index_add(0, parent_pos, f * child_c)  # sum_k f_jk * c_k
        c = torch.sigmoid(i) * torch.tanh(u) + fc
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class TreeNet(nn.Module):
    """Token embedding + a tree cell applied level by level + output layer.

    Input ``Trees``; output ``(N, out)`` (``per_node``) or ``(B, out)`` at the roots.
    """

    def __init__(self, vocab_size: int, out_features: int, *, cell: str = "treelstm", embedding_dim: int = 64,
                 hidden_size: int = 128, composition: str = "sum", activation: str = "tanh",
                 dropout: float = 0.0, per_node: bool = False, padding_index: int = 0) -> None:
        super().__init__()
        self.per_node, self.hidden_size = per_node, hidden_size
        self.embed = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_index)
        self.cell: nn.Module = (ChildSumTreeLSTMCell(embedding_dim, hidden_size) if cell == "treelstm"
                                else RecursiveCell(embedding_dim, hidden_size, activation, composition))
        self.lstm = cell == "treelstm"
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, out_features)

    def states(self, trees: Trees) -> Tensor:
        """``(N, H)`` hidden state of every node."""
        e = self.embed(trees.tokens)  # (N, E)
        h = e.new_zeros(trees.num_nodes, self.hidden_size)
        c = h
        for level in trees.levels:
            parent_pos, child = _edges(trees.children, level)
            args = (e[level], parent_pos, h[child]) + ((c[child],) if self.lstm else ())
            h_new, c_new = self.cell(*args)
            # out-of-place: earlier levels' values stay intact for autograd
            h = h.index_copy(0, level, h_new)
            c = c.index_copy(0, level, c_new) if self.lstm else h
        return h

    def forward(self, trees: Trees) -> Tensor:
        if not isinstance(trees, Trees):
            raise ValueError(f"tree models take a Trees batch, got {type(trees).__name__}")
        h = self.states(trees)  # (N, H)
        if not self.per_node:
            h = h[trees.roots]  # (B, H)
        return self.head(self.dropout(h))


def build(info: DataInfo, **o: Any) -> TreeNet:
    """A :class:`TreeNet` for tree data (root or per-node tasks)."""
    if info.input_kind != "tree":
        raise refuse("tree", f"{info.input_kind} data has no trees",
                     "tree models need input_kind 'tree' (Trees batches); use mlp, cnn, rnn or transformer")
    if info.task == "language_model":
        raise refuse("tree", "language models are not defined over trees")
    model = TreeNet(require_vocab("tree", info), output_size("tree", info), cell=o["cell"],
                    embedding_dim=o["embedding_dim"], hidden_size=o["hidden_size"],
                    composition=o["composition"], activation=o["activation"], dropout=o["dropout"],
                    per_node=info.per_node, padding_index=info.padding_index)
    return initialize(model, o["init"], o["activation"])
