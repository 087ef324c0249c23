"""What a new user meets first: a line before torch loads, the stages of start-up, the whole wall time,
``--version``, ``--device``, a model family changed with ``--set``, formulas printed whole, help that
cites only files that exist, and messages that do not blame the config for what is not in it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest
import torch

import deepzen
from deepzen.cli import catalog
from deepzen.config import load_config
from tests.cli.conftest import REPO, call

#: Runs ``deepzen ARGS`` in a fresh interpreter and prints "<torch loads>" when torch is first imported.
WATCH_TORCH = textwrap.dedent("""
    import sys
    class Watch:
        def find_spec(self, name, path=None, target=None):
            if name == "torch":
                print("<torch loads>", flush=True)
                sys.meta_path.remove(self)
    sys.meta_path.insert(0, Watch())
    from deepzen.cli import main
    main(sys.argv[1:])
""")


def run_watched(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WATCH_TORCH, *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env={"COLUMNS": "200", "PATH": ""})


def test_train_speaks_before_torch_loads_then_names_each_stage(tmp_path):
    proc = run_watched("train", "--set", "model.kind=mlp", "--device", "cpu", "--set", "training.epochs=1",
                       "--set", "output.progress=line", "--set", f"output.dir={tmp_path}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    expected = ["checking the bundled default config ...", "<torch loads>",
                "note: model.kind is now 'mlp': left out the file's model.channels", "loading digits ...",
                "building mlp for ", "epoch 1/1", "test (best checkpoint)", "run saved in "]
    starts = [next((i for i, line in enumerate(lines) if line.startswith(e)), None) for e in expected]
    assert None not in starts and starts == sorted(starts), proc.stdout
    total, fit = re.search(r"\((\d+\.\d) s in all, (\d+\.\d) s of it training\)", lines[-1]).groups()
    assert 0 <= float(fit) <= float(total)  # a 1-epoch MLP can train in under 0.05 s: "0.0 s" is a valid print
    saved = load_config(tmp_path / "cnn-digits" / "config.toml")  # the default's run name is kept
    assert saved.training.device == "cpu" and saved.model.kind == "mlp" and "channels" not in saved.model.options()


@pytest.mark.parametrize("args", [["--help"], ["init", "{tmp}/exp.toml"], ["--version"]])
def test_commands_that_need_no_torch_do_not_load_it(tmp_path, args):
    proc = run_watched(*(a.format(tmp=tmp_path) for a in args))
    assert proc.returncode == 0, proc.stderr
    assert "<torch loads>" not in proc.stdout


def test_version(capsys):
    code, out, _ = call(capsys, "--version")
    assert code == 0 and out == f"deepzen {deepzen.__version__} (torch {torch.__version__})\n"


def test_device_flag_reaches_the_trainer(capsys, tmp_path):
    code, _, err = call(capsys, "train", "--device", "gpu0", "--set", f"output.dir={tmp_path}")
    assert code == 2 and "invalid device 'gpu0'; allowed: 'auto', 'cpu'" in err and "Traceback" not in err


def test_formulas_are_printed_whole(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    code, out, err = call(capsys, "list", "losses")
    assert code == 0, err
    for name, formula in deepzen.losses.available().items():
        assert formula in out, name  # "[y log σ(z) ...]" was once eaten as rich markup


@pytest.mark.parametrize("category", ["optimizer", "loss", "model"])
def test_explain_cites_only_files_that_exist(category):
    package = REPO / "src" / "deepzen"
    for name in [row[0] for row in catalog.table(category)[1]]:
        for _, text in catalog.explain(name, category):
            for cited in re.findall(r"[\w./-]+\.(?:md|rst|txt|py|toml)\b", text):
                assert (REPO / cited).exists() or (package / cited).exists(), f"{name} cites {cited}"


@pytest.mark.parametrize("args, fragment", [
    (["init", "{tmp}/exists.toml"], "exists; use --force"),
    (["train", "{tmp}/exists.toml", "--resume", "{tmp}"], "give either a CONFIG or --resume RUN_DIR"),
    (["evaluate", "{tmp}/no_run"], "no run folder at"),
])
def test_errors_that_are_not_about_the_config_do_not_say_so(tmp_path, capsys, args, fragment):
    (tmp_path / "exists.toml").write_text("")
    code, _, err = call(capsys, *(a.format(tmp=tmp_path) for a in args))
    assert code == 2 and fragment in err and "Traceback" not in err, err
    assert "invalid config" not in err
