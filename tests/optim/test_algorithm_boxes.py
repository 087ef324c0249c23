"""Every modern optimizer's docstring is its algorithm box (what ``deepzen explain`` prints)."""

from __future__ import annotations

import pytest

import deepzen.optim as dzo

MODERN = ("lion", "adafactor", "muon", "schedulefree_adamw", "schedulefree_sgd", "prodigy", "adan", "madgrad",
          "ademamix", "soap", "sophia")


@pytest.mark.parametrize("name", MODERN)
def test_docstring_states_the_algorithm_defaults_differences_and_arguments(name: str) -> None:
    doc = dzo.get_class(name).__doc__ or ""
    for part in ("Algorithm", "Defaults", "Arguments", "differ"):
        assert part in doc, f"{name}: the docstring has no {part!r} section"
