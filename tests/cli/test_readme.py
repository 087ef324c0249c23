"""The README's command lines run as printed: each line of its ``bash`` blocks is one command (no shell
pipe or redirection hiding in it), every ``deepzen`` line parses, and the cheap ones run in a fresh folder
in README order, with fewer epochs, steps and trials appended where the line takes such options."""

from __future__ import annotations

import re
import shlex
import shutil

import numpy as np
import pytest
import typer
from sklearn.datasets import load_digits

from deepzen.cli.app import app
from tests.cli.conftest import REPO, call

README = (REPO / "README.md").read_text(encoding="utf-8")
PROGRAMS = ("make", "deepzen", ".venv/bin/deepzen", ".venv/bin/python", ".venv/bin/tensorboard", ".venv/bin/mlflow")
SHELL_OPERATORS = ("|", "||", "&", "&&", ";", ">", ">>", "<")
#: Appended to a command so it costs seconds, not minutes (the line's own values come first, these win).
SHORTER = {"train": ["--set", "training.epochs=1", "--set", "output.progress=none"],
           "lr-find": ["--steps", "20"],
           "tune": ["--n-trials", "2", "--set", "training.epochs=1"],
           "compare": ["--budget", "2", "--seeds", "1", "--set", "training.epochs=1"]}
#: Lines parsed but not run: worker processes each load torch (tens of seconds on 2 cores); a whole
#: suite or all optimizers are minutes even when shortened (tests/compare runs a short suite).
PARSE_ONLY = ("--workers", "--suite", "all")


def command_lines() -> list[list[str]]:
    """Every line of the README's ``bash`` blocks, split as a POSIX shell would (comments dropped)."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split, lexer.commenters = True, "#"
            tokens = list(lexer)
            if tokens:
                lines.append(tokens)
    return lines


LINES = command_lines()
DEEPZEN = [tokens[1:] for tokens in LINES if tokens[0].endswith("deepzen")]


@pytest.mark.parametrize("tokens", LINES, ids=[" ".join(t)[:60] for t in LINES])
def test_each_line_is_one_command(tokens):
    assert tokens[0] in PROGRAMS, tokens
    assert not set(tokens) & set(SHELL_OPERATORS), f"a shell operator in: {' '.join(tokens)}"


@pytest.mark.parametrize("args", DEEPZEN, ids=[" ".join(a)[:60] for a in DEEPZEN])
def test_each_deepzen_line_parses(args):
    group = typer.main.get_command(app)
    if args == ["--version"]:
        return  # an eager flag: it runs (and exits) while parsing; test_lines_run_in_order runs it
    context = group.make_context("deepzen", [args[0]])
    command = group.get_command(context, args[0])
    assert command is not None, f"no command {args[0]!r}"
    command.make_context(args[0], list(args[1:]), parent=context)  # raises on an unknown option or argument


def test_lines_run_in_order(tmp_path, monkeypatch, capsys):
    """In a fresh folder holding the examples and the new.csv the predict line reads (digits rows:
    64 pixel values 0..16, as the README describes)."""
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    x, _ = load_digits(return_X_y=True)
    np.savetxt(tmp_path / "new.csv", x[:10], delimiter=",", fmt="%d")
    monkeypatch.chdir(tmp_path)
    ran = []
    for args in DEEPZEN:
        if any(flag in args for flag in PARSE_ONLY):
            continue
        code, out, err = call(capsys, *args, *SHORTER.get(args[0], []))
        assert code == 0, f"deepzen {' '.join(args)}\n{out}\n{err}"
        ran.append(args[0])
    assert {"train", "evaluate", "predict", "list", "explain", "init", "lr-find", "tune"} <= set(ran)
    assert (tmp_path / "predictions.csv").read_text().splitlines()[0].startswith("id,prediction,")
