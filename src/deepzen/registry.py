"""One registry type for every named kind: optimizers, models, datasets, losses, schedules, metrics,
regularizers.

An :class:`Entry` is data: the name, where the implementation lives (``"module:attribute"``, imported on
first use, so listing names stays cheap), a one-line summary, the formula or options as text, aliases,
and the kind's extra columns. A :class:`Registry` answers every question about its entries the same
way: ``key`` (aliases, case, one "unknown ... did you mean" message), ``load``, ``available``, ``rows``
and ``explain``. ``deepzen list``, ``deepzen explain`` and config validation read these entries.
Adding a schedule or a metric is one entry.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping

from deepzen._suggest import did_you_mean


@dataclass(frozen=True)
class Entry:
    """One named thing.

    Attributes:
        name: the registry name (lower case).
        target: ``"package.module:attribute"`` of the implementation (class, function or module).
        summary: one line for ``deepzen list``.
        formula: the math, as text (``""`` when the summary says it all).
        options: option name -> what it means, for ``deepzen explain``.
        aliases: other accepted spellings.
        extra: the kind's own columns for ``deepzen list`` (a dataset's task and size, a schedule's interval).
    """

    name: str
    target: str
    summary: str
    formula: str = ""
    options: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)

    def load(self) -> Any:
        """The implementation (imports its module on first use)."""
        module, _, attribute = self.target.partition(":")
        loaded = importlib.import_module(module)
        return getattr(loaded, attribute) if attribute else loaded


class Registry:
    """Entries of one kind, by name.

    Arguments:
        kind: singular noun used in messages (``"optimizer"``, ``"model kind"``).
        entries: the entries, in listing order.
        normalize: maps a user's spelling to the lookup key (default: lower case).
        columns: header of ``deepzen list``: ``name``, then ``summary`` / ``formula`` / ``extra`` keys.
        docs: :meth:`explain` adds the implementation's own docstring (``False`` when the target is
            someone else's, e.g. a torch scheduler).
    """

    def __init__(self, kind: str, entries: Iterable[Entry], *, normalize: Callable[[str], str] = str.lower,
                 columns: tuple[tuple[str, str], ...] = (("name", "name"), ("description", "summary")),
                 docs: bool = True) -> None:
        self.kind, self.normalize, self.columns, self.docs = kind, normalize, columns, docs
        self.entries: dict[str, Entry] = {}
        self.aliases: dict[str, str] = {}
        for entry in entries:
            if entry.name in self.entries:
                raise ValueError(f"{kind} {entry.name!r} registered twice")
            self.entries[entry.name] = entry
            self.aliases.update({alias: entry.name for alias in entry.aliases})

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def find(self, name: str) -> str | None:
        """The registry name for ``name`` or one of its aliases, or ``None``."""
        key = self.normalize(name)
        key = self.aliases.get(key, key)
        return key if key in self.entries else None

    def key(self, name: str) -> str:
        """Like :meth:`find`, but an unknown name is a ValueError naming the closest names and all of them."""
        key = self.find(name) if isinstance(name, str) else None
        if key is None:
            hint = did_you_mean(self.normalize(str(name)), [*self.entries, *self.aliases])
            raise ValueError(f"unknown {self.kind} {name!r}{hint} Available: {', '.join(self.entries)}")
        return key

    def __getitem__(self, name: str) -> Entry:
        return self.entries[self.key(name)]

    def load(self, name: str) -> Any:
        """The implementation registered under ``name``."""
        return self[name].load()

    def available(self) -> dict[str, str]:
        """Names with their one-line summaries."""
        return {name: entry.summary for name, entry in self.entries.items()}

    def rows(self) -> tuple[list[str], list[list[str]]]:
        """Header and one row per entry, for ``deepzen list``."""
        header = [title for title, _ in self.columns]
        return header, [[_cell(entry, source) for _, source in self.columns] for entry in self.entries.values()]

    def explain(self, name: str) -> str:
        """Summary, formula, options, aliases and the implementation's own docstring (see ``docs``)."""
        entry = self[name]
        parts = [entry.summary]
        if entry.formula:
            parts.append(entry.formula)
        if entry.options:
            width = max(len(option) for option in entry.options)
            parts.append("options:\n" + "\n".join(f"  {o:<{width}}  {m}" for o, m in entry.options.items()))
        if entry.aliases:
            parts.append(f"also: {', '.join(entry.aliases)}")
        text = _own_doc(entry.load()) if self.docs else ""
        if text:
            parts.append(text)
        return "\n\n".join(parts)


def _own_doc(obj: Any) -> str:
    """The docstring ``obj`` itself defines (a class's, not one inherited from its base)."""
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


def _cell(entry: Entry, source: str) -> str:
    if source in ("name", "summary", "formula", "target"):
        return str(getattr(entry, source))
    return str(entry.extra.get(source, ""))
