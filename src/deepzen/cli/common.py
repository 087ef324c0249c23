"""What every ``deepzen`` command module shares: option help texts, the console, the start time.

Command modules import this, never :mod:`deepzen.cli.app` (which imports them to register them), so
the imports of the CLI point one way.
"""

from __future__ import annotations

import time
from typing import Any

#: When the CLI was first imported: the start of a command's wall time where /proc cannot say.
IMPORTED_AT = time.perf_counter()

SET_HELP = ("Override a config key, e.g. --set optimizer.name=yogi --set training.epochs=5 (repeatable). "
            "A new model.kind / optimizer.name / loss.name / data.name leaves out the file's options the new "
            "name does not take.")
UNSET_HELP = "Remove a key of the config file (its default applies), e.g. --unset model.hidden (repeatable)."
DEVICE_HELP = "Where to train: auto, cpu, cuda, cuda:N, mps (short for --set training.device=...)."


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)
