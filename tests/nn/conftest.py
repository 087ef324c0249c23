"""Model tests use tiny tensors: one intra-op thread is faster than several (and far faster on a
shared, busy machine), so each test runs with one thread and restores the setting afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
