"""Trainer overhead: ``Trainer.fit`` against a hand-written PyTorch loop doing the same work.

Same model (MLP), same data (in-memory tensors), same optimizer (Adam), same batch order (a shuffled
permutation per epoch), same device. The hand loop is the minimal one: index, forward, loss, backward,
step. The Trainer runs with its defaults (NaN guard on, one progress line per epoch, here to
/dev/null) and no metrics. Runs alternate (hand, trainer, hand, ...) so drifts in machine load hit
both; the figure is the ratio of the medians.

    python benchmarks/trainer_overhead.py [--repeats 7] [--epochs 3] [--device cpu] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from deepzen.train import Trainer


def make_problem(n: int, features: int, classes: int, device: torch.device):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, features, generator=g)
    y = (x @ torch.randn(features, classes, generator=g)).argmax(1)
    return x.to(device), y.to(device)


def make_model(features: int, hidden: int, classes: int, device: torch.device) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, classes)).to(device)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def hand_loop(model, optimizer, x, y, epochs, batch_size, device) -> float:
    sync(device)
    start = time.perf_counter()
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch)).to(device)
        for idx in order.split(batch_size):
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
    sync(device)
    return time.perf_counter() - start


def trainer_loop(model, optimizer, x, y, epochs, batch_size, device, sink) -> float:
    trainer = Trainer(model, optimizer, F.cross_entropy, device=device, seed=0, progress="line", progress_stream=sink,
                      threads=None)  # --threads decides
    sync(device)
    start = time.perf_counter()
    trainer.fit((x, y), epochs=epochs, batch_size=batch_size)
    sync(device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=8192)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    x, y = make_problem(args.samples, args.features, args.classes, device)
    hand, trainer = [], []
    with open(os.devnull, "w") as sink:
        for repeat in range(args.repeats + 1):  # the first round warms up and is not counted
            model = make_model(args.features, args.hidden, args.classes, device)
            t_hand = hand_loop(model, torch.optim.Adam(model.parameters(), lr=1e-3), x, y, args.epochs,
                               args.batch_size, device)
            model = make_model(args.features, args.hidden, args.classes, device)
            t_trainer = trainer_loop(model, torch.optim.Adam(model.parameters(), lr=1e-3), x, y, args.epochs,
                                     args.batch_size, device, sink)
            if repeat:
                hand.append(t_hand)
                trainer.append(t_trainer)
    steps = args.epochs * -(-args.samples // args.batch_size)
    m_hand, m_trainer = statistics.median(hand), statistics.median(trainer)
    print(f"device {device} ({torch.get_num_threads()} threads), MLP {args.features}-{args.hidden}-{args.hidden}-"
          f"{args.classes}, Adam, batch {args.batch_size}, {steps} steps per run, {args.repeats} interleaved repeats")
    print(f"hand-written loop  median {m_hand:.3f} s  ({1e6 * m_hand / steps:.0f} us/step)")
    print(f"Trainer.fit        median {m_trainer:.3f} s  ({1e6 * m_trainer / steps:.0f} us/step)")
    print(f"Trainer / hand = {m_trainer / m_hand:.3f}  ({100 * (m_trainer / m_hand - 1):+.1f}%)")


if __name__ == "__main__":
    main()
