"""The comparison folder: its default name, and the protocol it was run under.

A comparison continues where it stopped by reusing the runs its folder already holds, so those runs
must have been made under the same protocol. The folder keeps ``protocol.json`` (what decides a run:
the lr search, the schedule and each problem's experiment settings); running again in the same folder
under another protocol stops with a message instead of mixing, say, tuned runs into a "paper
defaults" report. Adding optimizers or seeds is allowed: each is a folder of its own.

Default names keep the three kinds of search apart: ``<name>-compare`` (lr search with Optuna),
``<name>-compare-grid`` (``--grid``) and ``<name>-compare-defaults`` (``--budget 0``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deepzen.compare.plan import Problem, Protocol
from deepzen.config import ConfigError, ExperimentConfig

PROTOCOL_FILE = "protocol.json"

#: The experiment settings a run depends on (output and the [tune]/[compare] sections do not change it).
RUN_SECTIONS = ("seed", "data", "model", "optimizer", "loss", "regularization", "training")


def search_kind(protocol: Protocol) -> str:
    """``"defaults"`` (budget 0), ``"grid"`` or ``"search"``: how each optimizer's lr is chosen."""
    return "defaults" if protocol.budget == 0 else "grid" if protocol.grid else "search"


def default_dir(output_dir: str | Path, name: str, protocol: Protocol) -> Path:
    """``<output_dir>/<name>-compare``, with ``-grid`` or ``-defaults`` after it for those searches."""
    kind = search_kind(protocol)
    return Path(output_dir) / (f"{name}-compare" + ("" if kind == "search" else f"-{kind}"))


def compare_dir(config: ExperimentConfig, protocol: Protocol) -> Path:
    """The folder of a comparison on ``config``: ``<output.dir>/<compare.name>`` when the config names
    one, else :func:`default_dir` of the run name."""
    if config.compare and config.compare.name:
        return Path(config.output.dir) / config.compare.name
    return default_dir(config.output.dir, config.run_name(), protocol)


def protocol_record(protocol: Protocol, problems: list[Problem]) -> dict[str, Any]:
    """What the runs in a comparison folder depend on (JSON-ready)."""
    settings = {}
    for problem in problems:
        if problem.config is not None:
            raw = problem.config.to_toml_dict()
            settings[problem.name] = {k: raw[k] for k in RUN_SECTIONS if k in raw}
        else:
            settings[problem.name] = {"noisy": problem.noisy}
    return {"search": search_kind(protocol), "budget": protocol.budget, "lr_range": list(protocol.lr_range),
            "schedule": protocol.schedule, "problems": settings}


def claim(root: Path, protocol: Protocol, problems: list[Problem]) -> None:
    """Record the protocol in a new folder, or check that an existing folder was run under the same one
    (raises :class:`ConfigError` naming what changed)."""
    wanted = json.loads(json.dumps(protocol_record(protocol, problems)))  # tuples -> lists, as read back
    path = root / PROTOCOL_FILE
    if path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))
        changed = [key for key in ("search", "budget", "lr_range", "schedule") if saved.get(key) != wanted[key]]
        changed += [f"problem {name}" for name, value in wanted["problems"].items()
                    if name in saved.get("problems", {}) and saved["problems"][name] != value]
        if changed:
            raise ConfigError(
                f"{root} holds a comparison made under another protocol (changed: {', '.join(changed)}); "
                f"its runs would be reused as they are: give another folder (--out DIR, or [compare] name)")
        wanted["problems"] = {**saved.get("problems", {}), **wanted["problems"]}
    root.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(wanted, indent=2) + "\n", encoding="utf-8")


__all__ = ["PROTOCOL_FILE", "claim", "compare_dir", "default_dir", "protocol_record", "search_kind"]
