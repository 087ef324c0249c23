"""deepzen: build, train, compare and tune the classic deep networks on PyTorch."""

from __future__ import annotations

__version__ = "0.1.0"
