"""Adam's update over flat tensors with a scaled denominator: the ``fused=True`` kernel of RAdam,
Ranger and Eve (see ``_compiled``)."""

from __future__ import annotations

import torch
from torch import Tensor


def adam_kernel(p: Tensor, g: Tensor, m: Tensor, v: Tensor, s: Tensor) -> None:
    """One step in place::

        g ← g + λθ;  m ← m + (1 − β1)(g − m);  v ← β2·v + (1 − β2)·g²
        θ ← c·θ − a·m / (b·√v + e)

    s = (λ coupled, c = 1 − ηλ decoupled, 1 − β1, β2, 1 − β2, a, b, e). Adam: a = η/(1 − β1ᵗ),
    b = 1/√(1 − β2ᵗ), e = ε; RAdam's unrectified steps: b = 0, e = 1; Eve: b = d̃/√(1 − β2ᵗ).
    """
    g = g + s[0] * p
    m_new = m + s[2] * (g - m)
    v_new = v * s[3] + s[4] * g * g
    p.copy_(p * s[1] - s[5] * m_new / (torch.sqrt(v_new) * s[6] + s[7]))
    m.copy_(m_new)
    v.copy_(v_new)
