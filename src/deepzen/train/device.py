"""Where training runs and in which precision: device auto-detection and mixed-precision settings.

Mixed precision (Micikevicius et al., 2018): the forward pass runs in a 16-bit float inside
``torch.autocast`` while weights stay float32. ``bf16`` keeps float32's exponent range, so it needs no
loss scaling and runs on CPU and GPU. ``fp16`` has a narrow range: gradients are multiplied by a scale
``S`` before backward and divided by it before the update (``torch.amp.GradScaler``), which lowers ``S``
whenever an inf/nan gradient appears; it is offered on CUDA only.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import ContextManager

import torch

from deepzen._suggest import did_you_mean

PRECISIONS: dict[str, torch.dtype | None] = {"32": None, "fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` (or ``None``) picks ``cuda`` if available, then ``mps``, else ``cpu``."""
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"invalid device {device!r}; allowed: 'auto', 'cpu', 'cuda', 'cuda:N', 'mps'") from err
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available; use 'cpu' or 'auto'")
    return resolved


@dataclass(frozen=True)
class Precision:
    """Autocast dtype (``None`` = full float32) and whether a GradScaler is needed."""

    name: str
    dtype: torch.dtype | None
    device_type: str

    @property
    def needs_scaler(self) -> bool:
        return self.dtype is torch.float16

    def autocast(self) -> ContextManager[object]:
        """The context the forward pass and loss run in."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)

    def make_scaler(self) -> torch.amp.GradScaler | None:
        return torch.amp.GradScaler(self.device_type) if self.needs_scaler else None


def resolve_precision(precision: str | int, device: torch.device) -> Precision:
    """Validate ``precision`` (``"32"``, ``"bf16"``, ``"fp16"``) for ``device``."""
    name = str(precision).lower()
    if name not in PRECISIONS:
        raise ValueError(
            f"invalid precision {precision!r}; allowed: {', '.join(PRECISIONS)}{did_you_mean(name, list(PRECISIONS))}"
        )
    dtype = PRECISIONS[name]
    if dtype is torch.float16 and device.type != "cuda":
        raise ValueError(
            f"precision 'fp16' needs a CUDA device (loss scaling with GradScaler), got {device.type!r}; "
            "use 'bf16' on CPU/MPS"
        )
    return Precision(name="32" if dtype is None else name, dtype=dtype, device_type=device.type)
