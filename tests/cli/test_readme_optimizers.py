"""The README's optimizer tables stay truthful: one row per registry name, its class, its defaults as the
constructor has them (every defaulted argument but ``maximize`` and ``fused``), and for the modern
generation a "proved against" cell that names the reference."""

from __future__ import annotations

import inspect
import re

import pytest

import deepzen.optim as dzo
from deepzen.optim._registry import REGISTRY
from tests.cli.conftest import REPO

MODERN = ("lion", "adafactor", "muon", "schedulefree_adamw", "schedulefree_sgd", "prodigy", "adan", "madgrad",
          "ademamix", "soap", "sophia")
ROWS = {m.group(1): [c.strip() for c in m.group(0).strip().strip("|").split("|")]
        for m in re.finditer(r"^\| `(\w+)` \|.*$", (REPO / "README.md").read_text("utf-8"), re.M)}


def defaults(name: str) -> str:
    """``lr=0.001, betas=(0.9, 0.999), ...`` from the constructor's signature."""
    params = list(inspect.signature(dzo.get_class(name).__init__).parameters.values())[2:]
    return ", ".join(f"{p.name}={p.default!r}" for p in params
                     if p.default is not inspect.Parameter.empty and p.name not in ("maximize", "fused"))


@pytest.mark.parametrize("name", list(REGISTRY))
def test_row_has_the_class_and_its_defaults(name: str) -> None:
    assert name in ROWS, f"README has no row for {name!r}"
    cells = ROWS[name]
    assert cells[1].startswith(f"`{REGISTRY[name][1]}` — ")
    assert cells[2] == defaults(name)


@pytest.mark.parametrize("name", MODERN)
def test_modern_rows_say_what_proves_them(name: str) -> None:
    assert len(ROWS[name]) == 4 and "reference" in ROWS[name][3], ROWS[name]
