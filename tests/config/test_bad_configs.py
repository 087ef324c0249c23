"""The corpus of bad configs in ``tests/config/bad/``: each file's first line says the message fragment
its error must contain. Through ``deepzen train`` (in-process ``main``) each gives exit code 2, the
fragment on stderr, and no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deepzen.cli import main

BAD = sorted((Path(__file__).parent / "bad").glob("*.toml"))


def expected_fragment(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line must be '# expect: <fragment>'"
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_config_exits_2_with_its_message(path, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", str(path), "--set", f"output.dir={tmp_path}", "--set", "output.progress=none"])
    err = capsys.readouterr().err
    assert stop.value.code == 2, err
    assert expected_fragment(path) in err
    assert err.startswith("error: ")
    assert "Traceback" not in err
    assert not any(tmp_path.iterdir()), "a rejected config must not start a run"


def test_bad_config_through_the_installed_command(tmp_path):
    """The real entry point: exit status 2 and one message, no traceback."""
    path = Path(__file__).parent / "bad" / "unknown_key.toml"
    proc = subprocess.run([sys.executable, "-m", "deepzen", "train", str(path), "--set", f"output.dir={tmp_path}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert expected_fragment(path) in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
