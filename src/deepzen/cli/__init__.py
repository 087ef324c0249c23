"""The ``deepzen`` command line: ``deepzen train | evaluate | predict | tune | export | list | explain | init |
lr-find``.

User errors (a bad config, bad data, a missing file, an unknown name) print one message on stderr and
exit with code 2, without a traceback; set ``DEEPZEN_DEBUG=1`` to see the traceback anyway.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from deepzen.cli.common import IMPORTED_AT  # first: typer's import is start-up too
from deepzen.cli.app import app  # noqa: I001

#: Exit codes: 0 done, 1 training failed (non-finite loss), 2 user error, 130 interrupted.
USER_ERROR = 2
INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``deepzen`` script and ``python -m deepzen`` (``argv`` ``None``: the process's
    own arguments; then, once torch is loaded, the process ends without tearing the interpreter down)."""
    try:
        _main(argv)
    except SystemExit as stop:
        if argv is None and "torch" in sys.modules:
            _leave(stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1)
        raise


def _leave(code: int) -> None:
    """End the process now: exit handlers run and output is flushed, but the interpreter's teardown,
    which frees the objects of every loaded module one by one (about a second with torch loaded on 2
    cores, several on a busy machine), is skipped. Every file a command writes is closed by then."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be shown
            pass
    os._exit(code)


def _main(argv: Sequence[str] | None) -> None:
    import typer

    command = typer.main.get_command(app)
    debug = os.environ.get("DEEPZEN_DEBUG", "") not in ("", "0")
    try:
        result = command.main(args=list(argv) if argv is not None else None, prog_name="deepzen",
                              standalone_mode=False)
    except typer.Exit as stop:
        sys.exit(stop.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        sys.exit(INTERRUPTED)
    except typer.TyperException as err:  # usage errors: bad options, missing arguments
        show = getattr(err, "show", None)
        if callable(show):
            show()
        else:
            print(f"error: {err}", file=sys.stderr)
        sys.exit(getattr(err, "exit_code", USER_ERROR))
    except (ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as err:
        if debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        sys.exit(USER_ERROR)
    sys.exit(result if isinstance(result, int) else 0)


__all__ = ["IMPORTED_AT", "app", "main"]
