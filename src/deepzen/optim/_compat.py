"""State dicts written by older versions of deepzen, by torch's own optimizers, or by peers.

torch's optimizers keep old checkpoints loading by filling options added later with their defaults
(``__setstate__`` with ``setdefault``), and older torch saved each step count as a Python number.
deepzen does the same in one place, for every algorithm, before torch's own ``load_state_dict`` runs:

- a param group without an option (``maximize``, ``fused``, ``decoupled``, ...) takes the value the
  loading optimizer's group at the same position has (its constructor's value, the default unless
  the user chose another);
- torch's name for an option deepzen spells differently becomes deepzen's (``TORCH_NAMES``), so a
  ``torch.optim.Adam`` or ``AdamW`` checkpoint resumes in :class:`deepzen.optim.Adam`;
- a step count saved as a number becomes a 0-d float32 tensor, and a state saved without one
  (torch's SGD keeps none) counts from 1: it has been stepped, and SGD's momentum buffer is used as
  saved rather than restarted;
- after loading, each step count lives on its parameter's device (where torch's fused kernels want it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

#: torch.optim's names for options deepzen names differently: theirs -> ours.
TORCH_NAMES = {"decoupled_weight_decay": "decoupled"}


def upgrade_state_dict(state_dict: Mapping[str, Any], groups: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A copy of ``state_dict`` that loads into an optimizer whose param groups are ``groups`` (see the
    module docstring); ``state_dict`` itself is left as it was."""
    upgraded = []
    for i, saved in enumerate(state_dict["param_groups"]):
        group = dict(saved)
        current = groups[i] if i < len(groups) else {}          # torch reports a count mismatch itself
        for theirs, ours in TORCH_NAMES.items():
            if theirs in group and ours in current and ours not in group:
                group[ours] = group.pop(theirs)
        for key, value in current.items():
            if key != "params":
                group.setdefault(key, value)
        upgraded.append(group)
    state = {key: _with_step_tensor(value) for key, value in state_dict["state"].items()}
    return {**state_dict, "state": state, "param_groups": upgraded}


def _with_step_tensor(state: dict[str, Any]) -> dict[str, Any]:
    step = state.get("step")
    if isinstance(step, Tensor):
        return state
    if step is None:
        if not any(isinstance(v, Tensor) for v in state.values()):
            return state                                          # nothing saved: a fresh parameter
        step = 1
    return {**state, "step": torch.tensor(float(step), dtype=torch.float32)}


def settle_loaded_state(state: Mapping[Tensor, dict[str, Any]]) -> None:
    """After loading, in place: each parameter's ``step`` a float32 tensor on the parameter's device,
    and each buffer shaped like its parameter contiguous, as the optimizer makes them (torch's
    optimizers save buffers in their parameter's layout)."""
    for p, s in state.items():
        for key, value in s.items():
            if not isinstance(value, Tensor):
                continue
            if key == "step" and (value.dtype != torch.float32 or value.device != p.device):
                s[key] = value.to(device=p.device, dtype=torch.float32)
            elif value.shape == p.shape and not value.is_contiguous():
                s[key] = value.contiguous()
