"""The defaults give a good model out of the box: the default CNN on scikit-learn's 8x8 digits."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import deepzen.nn as dn
from tests.nn.helpers import DIGITS


def test_default_cnn_reaches_97_percent_on_digits() -> None:
    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32).reshape(-1, 1, 8, 8)
    y = torch.tensor(y)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    model = dn.build("cnn", DIGITS)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(8):
        model.train()
        for idx in torch.randperm(len(x_tr)).split(64):
            loss = F.cross_entropy(model(x_tr[idx]), y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x_te).argmax(1) == y_te).float().mean().item()
    assert accuracy >= 0.97, accuracy
