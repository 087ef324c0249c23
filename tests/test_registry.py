"""One registry type for every named kind: the same lookup, aliases, message, listing and explanation."""

from __future__ import annotations

import re
import sys

import pytest

from deepzen.cli import catalog
from deepzen.registry import Entry, Registry


@pytest.mark.parametrize("category", catalog.CATEGORIES)
def test_every_kind_is_one_registry_with_one_unknown_message(category):
    registry = catalog.registry(category)
    assert isinstance(registry, Registry) and len(registry) > 0
    first = next(iter(registry))
    assert registry.key(first.upper()) == first
    with pytest.raises(ValueError) as caught:
        registry.key(first + "x")
    message = str(caught.value)
    assert re.fullmatch(rf"unknown {registry.kind} '{first}x'; did you mean '{first}'.*\? Available: .+", message), message
    assert message.endswith(", ".join(registry))
    header, rows = catalog.table(category)
    assert [row[0] for row in rows] == list(registry) and len(header) == len(rows[0])


def test_aliases_resolve_and_are_shown():
    registry = catalog.registry("metrics")
    assert registry.key("ACC") == "accuracy" and "acc" in registry and "accu" not in registry
    assert "also: acc" in registry.explain("accuracy")


def test_an_entry_is_data_and_its_target_is_imported_only_when_loaded():
    registry = Registry("widget", [
        Entry("plain", "deepzen_not_a_module.widgets:Plain", "a widget that is not installed",
              formula="w = 1", options={"size": "default 3"}, aliases=("simple",), extra={"colour": "red"}),
        Entry("json", "json:dumps", "the standard library's dumps"),
    ], columns=(("name", "name"), ("colour", "colour"), ("what", "summary")))
    assert registry.rows() == (["name", "colour", "what"], [["plain", "red", "a widget that is not installed"],
                                                            ["json", "", "the standard library's dumps"]])
    assert registry.available()["json"] == "the standard library's dumps"
    assert "deepzen_not_a_module" not in sys.modules
    with pytest.raises(ModuleNotFoundError):
        registry.load("simple")
    import json

    assert registry.load("JSON") is json.dumps
    with pytest.raises(ValueError, match="registered twice"):
        Registry("widget", [Entry("a", "json:dumps", ""), Entry("a", "json:loads", "")])


def test_listing_and_explaining_read_the_entries():
    from deepzen.train.schedules import SCHEDULES

    text = "\n".join(t for _, t in catalog.explain("cosine", "schedule"))
    entry = SCHEDULES["cosine"]
    assert entry.formula in text and all(option in text for option in entry.options)
    header, rows = catalog.table("schedules")
    assert header == ["name", "stepped per", "lr at step/epoch t"]
    assert ["cosine", "step", entry.formula] in rows
