"""kl_div: KL(target ‖ pred) against the formula recomputed in plain Python."""

from __future__ import annotations

import pytest
import torch

from deepzen.losses import kl_div
from tests.losses import reference as ref

torch.manual_seed(0)
LOGITS = torch.randn(3, 4, 5, dtype=torch.float64) * 2  # (B, T, C) predicted logits
TARGET = torch.softmax(torch.randn(3, 4, 5, dtype=torch.float64), -1)  # (B, T, C) probabilities q
TARGET[0, 0] = torch.tensor([0.0, 0.5, 0.5, 0.0, 0.0], dtype=torch.float64)  # zeros: 0 · log 0 = 0


def _expected() -> list[float]:
    p = torch.softmax(LOGITS, -1)
    return ref.kl_terms(TARGET.reshape(-1, 5).tolist(), p.reshape(-1, 5).tolist())


def test_kl_from_logits_per_distribution() -> None:
    expected = _expected()
    assert kl_div(LOGITS, TARGET).item() == pytest.approx(sum(expected) / len(expected), rel=1e-12)
    assert kl_div(LOGITS, TARGET, reduction="sum").item() == pytest.approx(sum(expected), rel=1e-12)
    per = kl_div(LOGITS, TARGET, reduction="none")
    assert per.shape == (3, 4)
    assert per.reshape(-1).tolist() == pytest.approx(expected, rel=1e-12)


def test_kl_from_probabilities_and_log_target() -> None:
    mean = sum(_expected()) / 12
    probs = torch.softmax(LOGITS, -1)
    assert kl_div(probs, TARGET, from_logits=False).item() == pytest.approx(mean, rel=1e-12)
    positive = TARGET[1:]  # no zeros, so log q is finite
    expected = ref.kl_terms(positive.reshape(-1, 5).tolist(), probs[1:].reshape(-1, 5).tolist())
    got = kl_div(LOGITS[1:], positive.log(), log_target=True)
    assert got.item() == pytest.approx(sum(expected) / len(expected), rel=1e-12)


def test_kl_direction_zero_and_sign() -> None:
    q = TARGET[1:]
    assert kl_div(q.log(), q).abs().max().item() < 1e-12  # KL(q ‖ q) = 0 (logits log q give p = q)
    assert (kl_div(LOGITS, TARGET, reduction="none") >= 0).all()
    # asymmetric: swapping the roles gives another number, so the direction above is really KL(target ‖ pred)
    p = torch.softmax(LOGITS[1:], -1)
    assert kl_div(q.log(), p).item() != pytest.approx(kl_div(LOGITS[1:], q).item(), rel=1e-3)


def test_kl_shape_checks() -> None:
    with pytest.raises(ValueError, match="same shape"):
        kl_div(torch.randn(4, 1), torch.rand(4))
    with pytest.raises(ValueError, match="as floats"):
        kl_div(torch.randn(4, 3), torch.zeros(4, 3, dtype=torch.long))
