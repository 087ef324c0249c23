"""``deepzen export``: the exported program, reloaded in a process that cannot import deepzen, reproduces
the run's predictions on its test split from raw inputs (the standardization is inside the program)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pad_sequence

import deepzen as dz
from deepzen.structures import Sequences
from deepzen.train import experiment
from tests.cli.conftest import call

HERE = Path(__file__).parent
FAMILIES = ["mlp-iris", "mlp-diabetes", "cnn-digits", "rnn-parity", "birnn-parity", "transformer-parity"]


def raw_test_split(run: dz.deploy.LoadedRun) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Raw inputs of the run's test split (the standardization undone: what a user would have), the
    probabilities / original-unit values the trained model gives for them, and the targets."""
    test = experiment.load_data(run.config).test
    info, stats = run.info, run.info.stats or {}
    with torch.no_grad():
        if isinstance(test.x, torch.Tensor):  # tabular, image: standardized features
            x = test.x.numpy().astype(np.float64)
            if "mean" in stats:
                x = (x * np.asarray(stats["std"]) + np.asarray(stats["mean"])) / stats.get("prescale", 1.0)
            inputs, z = {"x": x.astype(np.float32)}, run.model(test.x)
        else:  # token sequences: padded to the longest training sequence, with their lengths
            rows, lengths = test.x, torch.tensor([len(r) for r in test.x])
            values = pad_sequence(rows + [torch.zeros(info.max_length, dtype=torch.long)], batch_first=True)[:-1]
            z = run.model(Sequences(values, lengths))  # the packed path used in training
            inputs = {"x": values.numpy(), "lengths": lengths.numpy()}
            if getattr(run.model.rnn, "bidirectional", False) if hasattr(run.model, "rnn") else False:
                full = (lengths == info.max_length).numpy()  # a bidirectional export takes full rows only
                inputs, z = {"x": values.numpy()[full]}, z[torch.from_numpy(full)]
    if info.task == "regression":
        target_std, target_mean = np.asarray(stats["target_std"]), np.asarray(stats["target_mean"])
        expected = z.numpy() * target_std + target_mean
        targets = test.y.numpy() * target_std + target_mean
    else:
        expected, targets = torch.softmax(z, -1).numpy(), test.y.numpy()
    return inputs, expected, targets


def run_without_deepzen(tmp_path: Path, models: list[Path], inputs: list[dict[str, np.ndarray]]) -> list[np.ndarray]:
    """Each model on its inputs in one fresh process where ``import deepzen`` fails."""
    jobs = []
    for i, (model, arrays) in enumerate(zip(models, inputs)):
        np.savez(tmp_path / f"in{i}.npz", **arrays)
        jobs.append({"model": str(model), "inputs": str(tmp_path / f"in{i}.npz"), "out": str(tmp_path / f"out{i}.npy")})
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    proc = subprocess.run([sys.executable, str(HERE / "run_exported.py"), str(tmp_path / "jobs.json")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "deepzen modules: []" in proc.stdout
    return [np.load(job["out"]) for job in jobs]


@pytest.fixture(scope="module")
def pt2(runs, tmp_path_factory) -> dict[str, dict]:
    """Every family exported once and run once in a process without deepzen: per run, the export's path,
    what the trained model gives on the raw test split, what the program gave, and the targets."""
    folder = tmp_path_factory.mktemp("pt2")
    results = {}
    for name in FAMILIES:
        x, want, targets = raw_test_split(dz.load(runs[name]))
        results[name] = {"path": dz.export(runs[name], "pt2", folder / f"{name}.pt2"), "inputs": x,
                         "expected": want, "targets": targets}
    outputs = run_without_deepzen(folder, [r["path"] for r in results.values()], [r["inputs"] for r in results.values()])
    for result, got in zip(results.values(), outputs):
        result["got"] = got
    return results


@pytest.mark.parametrize("name", FAMILIES)
def test_pt2_reproduces_the_test_predictions_without_deepzen(pt2, name):
    got, want = pt2[name]["got"], pt2[name]["expected"]
    assert got.shape == want.shape and len(got) > 0
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["mlp-iris", "mlp-diabetes", "rnn-parity", "transformer-parity"])
def test_the_exported_program_scores_what_the_run_scored_on_its_test_split(runs, pt2, name):
    """From raw inputs, the program's test loss (cross-entropy) / R² equals summary.json's: an
    independent check that the baked-in preprocessing and output transform are the training ones."""
    got, targets = pt2[name]["got"], pt2[name]["targets"]
    recorded = json.loads((runs[name] / "summary.json").read_text())["test"]
    if recorded.get("r2") is not None:
        r2 = 1 - ((got - targets) ** 2).sum() / ((targets - targets.mean()) ** 2).sum()
        assert r2 == pytest.approx(recorded["r2"], abs=1e-4)
    else:
        loss = -np.log(got[np.arange(len(targets)), targets]).mean()
        assert loss == pytest.approx(recorded["loss"], abs=1e-4)


def test_onnx_export_runs_in_onnxruntime(runs, tmp_path):
    pytest.importorskip("onnxscript")
    pytest.importorskip("onnxruntime")
    names = ["mlp-iris", "transformer-parity"]
    models, inputs, expected = [], [], []
    for name in names:
        x, want, _ = raw_test_split(dz.load(runs[name]))
        models.append(dz.export(runs[name], "onnx", tmp_path / f"{name}.onnx"))
        inputs.append(x)
        expected.append(want)
    for name, got, want in zip(names, run_without_deepzen(tmp_path, models, inputs), expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=name)


def test_the_json_beside_an_export_says_what_goes_in_and_out(pt2):
    meta = json.loads(Path(f"{pt2['rnn-parity']['path']}.json").read_text())
    assert [i["name"] for i in meta["inputs"]] == ["x", "lengths"]
    assert meta["inputs"][0]["dtype"] == "int64" and meta["inputs"][0]["shape"] == ["batch", "steps"]
    assert meta["output"] == {"kind": "probabilities", "softmax_over": "last dimension", "classes": ["even", "odd"]}
    iris = json.loads(Path(f"{pt2['mlp-iris']['path']}.json").read_text())
    assert iris["output"]["classes"] == ["setosa", "versicolor", "virginica"]
    assert iris["inputs"] == [{"name": "x", "dtype": "float32", "shape": ["batch", 4]}]
    assert iris["preprocessing"]["in_program"] and len(iris["preprocessing"]["statistics"]["mean"]) == 4


def test_safetensors_export_loads_back_with_deepzen_load(runs, tmp_path):
    path = dz.export(runs["cnn-digits"], "safetensors", tmp_path / "m.safetensors")
    original, loaded = dz.load(runs["cnn-digits"]), dz.load(path)
    x = np.random.default_rng(0).uniform(0, 16, size=(5, 1, 8, 8))
    assert np.array_equal(original.predict(x).probabilities, loaded.predict(x).probabilities)
    assert loaded.info == original.info


def test_tree_models_refuse_to_export_and_say_why(runs, tmp_path, capsys):
    code, _, err = call(capsys, "export", str(runs["tree-listops"]), "--format", "pt2", "-o", str(tmp_path / "t.pt2"))
    assert code == 2 and "tree models do not export" in err and "Traceback" not in err


def test_an_unknown_format_is_a_user_error(runs, capsys):
    code, _, err = call(capsys, "export", str(runs["mlp-iris"]), "--format", "torchscript")
    assert code == 2 and "'torchscript'" in err and "'pt2', 'onnx', 'safetensors'" in err


def test_the_command_writes_the_default_path(runs, capsys):
    code, out, _ = call(capsys, "export", str(runs["mlp-iris"]), "--format", "safetensors")
    assert code == 0 and (runs["mlp-iris"] / "export" / "model.safetensors").is_file()
    assert (runs["mlp-iris"] / "export" / "model.safetensors.json").is_file()


def test_a_missing_optional_package_names_the_extra_to_install(runs, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # as if deepzen[onnx] were not installed
    code, _, err = call(capsys, "export", str(runs["mlp-iris"]), "--format", "onnx")
    assert code == 2 and "'onnxscript' is not installed: pip install 'deepzen[onnx]'" in err
