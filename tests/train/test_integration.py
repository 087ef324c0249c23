"""The Trainer with deepzen's own models, losses (by name) and data: Sequences and Trees batches."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset

from deepzen.info import DataInfo
from deepzen.structures import Trees
from deepzen.train import Trainer
from tests.train.test_trainer import TokenTagging, collate

nn_build = pytest.importorskip("deepzen.nn").build


def test_rnn_tagger_with_loss_by_name():
    info = DataInfo(name="tag", task="sequence_labeling", input_kind="tokens", vocab_size=10, num_classes=2)
    torch.manual_seed(0)
    model = nn_build("rnn", info, hidden_size=16, embedding_dim=8)
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=1e-2), "cross_entropy", metrics=["accuracy"],
                      collate_fn=collate, seed=0, progress="none")
    history = trainer.fit(TokenTagging(), epochs=4, batch_size=8)
    assert history["accuracy"][-1] > 0.95


class PairTrees(Dataset):
    """Three-node trees (two leaves, one root); label = parity of the two leaf tokens."""

    def __init__(self, n=64):
        g = torch.Generator().manual_seed(0)
        self.leaves = torch.randint(1, 9, (n, 2), generator=g)

    def __len__(self):
        return len(self.leaves)

    def __getitem__(self, i):
        return self.leaves[i], (self.leaves[i].sum() % 2).long()


def tree_collate(items):
    leaves = torch.stack([leaf for leaf, _ in items])  # (B, 2)
    b = len(items)
    base = torch.arange(b) * 3
    tokens = torch.stack([leaves[:, 0], leaves[:, 1], torch.full((b,), 9)], 1).reshape(-1)  # (3B,)
    children = torch.full((3 * b, 2), -1)
    children[base + 2] = torch.stack([base, base + 1], 1)
    levels = [torch.cat([base, base + 1]).sort().values, base + 2]
    trees = Trees(tokens, children, levels, base + 2, torch.arange(b).repeat_interleave(3))
    return trees, torch.stack([y for _, y in items])


def test_tree_network_on_trees_batches():
    info = DataInfo(name="pairs", task="classification", input_kind="tree", vocab_size=10, num_classes=2)
    torch.manual_seed(0)
    model = nn_build("tree", info, hidden_size=32, embedding_dim=16)
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=2e-2), "cross_entropy", metrics=["accuracy"],
                      collate_fn=tree_collate, seed=0, progress="none")
    trainer.fit(PairTrees(), epochs=15, batch_size=16)
    assert trainer.evaluate(PairTrees(), batch_size=16)["accuracy"] > 0.9
    assert trainer.predict(PairTrees(8), batch_size=4).shape == (8, 2)


def test_bundled_data_and_model():
    data_module = pytest.importorskip("deepzen.data")
    if not hasattr(data_module, "load"):
        pytest.skip("deepzen.data.load not available yet")
    data = data_module.load("digits", val=0.1, test=0.2, seed=0)
    torch.manual_seed(0)
    model = nn_build("mlp", data.info)
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=1e-3), "cross_entropy",
                      metrics=["accuracy", "f1"], seed=0, progress="none")
    trainer.fit(data.train, val=data.val, epochs=5, batch_size=64)
    assert trainer.evaluate(data.test)["accuracy"] > 0.85
