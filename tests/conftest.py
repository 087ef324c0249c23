"""Suite-wide settings.

Every test runs with one intra-op torch thread, restored afterwards: the tensors here are tiny, so
threads only add OpenMP barriers (far slower on a busy machine), CI runs two pytest workers on two
cores, and one thread gives the same float summation order on every run.
"""

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
