"""``fused`` everywhere: every registry optimizer takes the argument; the four without a compiled step
(SOAP, Adafactor, Muon: matrix work per tensor; Prodigy: a global estimate) take only False, and True
is a ValueError that says why and names alternatives that do take fused=True."""

from __future__ import annotations

import inspect
import re

import pytest
import torch

import deepzen.optim as dzo
from deepzen.config import ConfigError, load_config
from deepzen.optim._registry import REGISTRY

WITHOUT_COMPILED_STEP = {"soap": "SOAP", "adafactor": "Adafactor", "muon": "Muon", "prodigy": "Prodigy"}


def test_every_optimizer_takes_fused() -> None:
    lacking = [n for n in REGISTRY if "fused" not in inspect.signature(dzo.get_class(n).__init__).parameters]
    assert lacking == []


@pytest.mark.parametrize("name", sorted(WITHOUT_COMPILED_STEP))
def test_fused_true_is_refused_naming_why_and_the_alternatives(name: str) -> None:
    matrix = torch.zeros(3, 4, requires_grad=True)
    with pytest.raises(ValueError) as err:
        dzo.create(name, [matrix], fused=True)
    text = str(err.value)
    assert text.startswith(f"invalid fused: True; {WITHOUT_COMPILED_STEP[name]} has no fused=True path (")
    assert "Use fused=False, or " in text
    alternatives = [n for n in re.findall(r"[a-z_]+", text.split("Use fused=False, or ")[1]) if n in REGISTRY]
    assert alternatives, text
    for alternative in alternatives:                 # each named alternative really takes fused=True
        assert dzo.create(alternative, [matrix], fused=True).param_groups[0]["fused"] is True
    dzo.create(name, [torch.zeros(3, 4, requires_grad=True)], fused=False)


def test_config_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"optimizer\.fused = true: invalid fused: True; SOAP has no fused=True"):
        load_config(None, ["optimizer.name=soap", "optimizer.fused=true"])
