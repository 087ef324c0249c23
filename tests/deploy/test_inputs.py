"""What ``LoadedRun.predict`` accepts, turned into model batches (no training needed: hand-made DataInfo)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepzen.data import DataError
from deepzen.deploy.inputs import model_inputs
from deepzen.info import DataInfo
from deepzen.structures import Sequences

TEXT = DataInfo(name="t", task="language_model", input_kind="tokens", vocab_size=5, num_classes=5,
                extra={"vocab": ["<pad>", "<unk>", "a", "b", "c"], "unit": "char"})
STEPS = DataInfo(name="s", task="regression", input_kind="sequence", input_shape=(None, 2), num_outputs=1,
                 stats={"mean": [1.0, 2.0], "std": [2.0, 4.0], "prescale": 1.0})


def test_strings_are_tokenized_with_the_training_vocabulary_and_padded():
    batch = model_inputs(["abz", "c"], TEXT)  # z was never seen in training: id 1
    assert isinstance(batch, Sequences)
    assert batch.values.tolist() == [[2, 3, 1], [4, 0, 0]] and batch.lengths.tolist() == [3, 1]


def test_equal_length_rows_need_no_lengths():
    assert torch.equal(model_inputs([[2, 3], [4, 4]], TEXT), torch.tensor([[2, 3], [4, 4]]))


def test_real_valued_steps_are_standardized_with_the_training_statistics():
    rows = [np.array([[3.0, 6.0], [1.0, 2.0]]), np.array([[5.0, 10.0]])]
    batch = model_inputs(rows, STEPS)
    assert batch.values.tolist() == [[[1.0, 1.0], [0.0, 0.0]], [[2.0, 2.0], [0.0, 0.0]]]
    assert batch.lengths.tolist() == [2, 1]
    with pytest.raises(DataError, match=r"\(T, 2\) per sample; got \(2, 3\)"):
        model_inputs([np.zeros((2, 3))], STEPS)
