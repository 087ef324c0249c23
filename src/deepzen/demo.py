"""A short demo: fit a small MLP on the digits data with several deepzen optimizers, print losses."""

from __future__ import annotations

import time

import torch
from sklearn.datasets import load_digits

import deepzen.optim as dzo

OPTIMIZERS = {"adam": {"lr": 1e-3}, "adamw": {"lr": 1e-3}, "amsgrad": {"lr": 1e-3}}


def main(epochs: int = 20, seed: int = 0) -> None:
    x_np, y_np = load_digits(return_X_y=True)
    x = torch.tensor(x_np / 16.0, dtype=torch.float32)
    y = torch.tensor(y_np)
    print(f"digits: {len(x)} images of 8x8, 10 classes; MLP 64-128-10, {epochs} epochs of batch 64")
    for name, hparams in OPTIMIZERS.items():
        torch.manual_seed(seed)
        model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
        opt = dzo.create(name, model.parameters(), **hparams)
        start = time.perf_counter()
        for _ in range(epochs):
            for idx in torch.randperm(len(x)).split(64):
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
        with torch.no_grad():
            logits = model(x)
            final = torch.nn.functional.cross_entropy(logits, y).item()
            acc = (logits.argmax(1) == y).float().mean().item()
        print(f"{name:>10}  loss {final:.4f}  train accuracy {acc:.3f}  ({time.perf_counter() - start:.1f}s)")


if __name__ == "__main__":
    main()
