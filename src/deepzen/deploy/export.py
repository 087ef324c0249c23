"""``deepzen export``: a trained run as a file that runs without deepzen.

    export("runs/mlp-iris", "pt2")            # runs/mlp-iris/export/model.pt2        + model.pt2.json
    export("runs/mlp-iris", "onnx")           # runs/mlp-iris/export/model.onnx       + model.onnx.json
    export("runs/mlp-iris", "safetensors")    # runs/mlp-iris/export/model.safetensors + model.safetensors.json

``pt2`` and ``onnx`` hold a :class:`~deepzen.deploy.predictor.Predictor`: raw inputs in (the training
standardization is inside the program), probabilities or values in original units out; reload with
``torch.export.load(path).module()`` or ``onnxruntime.InferenceSession(path)``. ``safetensors`` holds the
weights only, for ``deepzen.load(path)``. The JSON beside each file (``<file>.json``) says what goes in
and comes out, and holds what is not tensor math: the class names, a user CSV's column encoding
(categories, imputation), a text model's vocabulary, plus the resolved config and the data description.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch

import deepzen
from deepzen.config import ConfigError, to_toml
from deepzen.deploy.loaded import EXPORT_FORMAT, LoadedRun, export_json_path, load, require
from deepzen.deploy.predictor import PROBABILITY_TASKS, Predictor, example_inputs
from deepzen.info import DataInfo

FORMATS = {"pt2": ".pt2", "onnx": ".onnx", "safetensors": ".safetensors"}
#: Extra to install for a format's library (``pip install 'deepzen[NAME]'``).
EXTRAS = {"onnx": ("onnx", "onnxscript"), "safetensors": ("safetensors",)}


def export(run_dir: str | Path, format: str = "pt2", path: str | Path | None = None, *,
           which: str = "best") -> Path:
    """Write run ``run_dir``'s ``which`` weights as ``format`` to ``path`` (default
    ``<run_dir>/export/model.<ext>``) and the JSON beside it; returns the model file's path."""
    if format not in FORMATS:
        raise ConfigError(f"export format {format!r}: allowed: {', '.join(repr(f) for f in FORMATS)}")
    for module in EXTRAS.get(format, ()):
        require(module, format)
    run = load(run_dir, which)
    out = Path(path) if path is not None else Path(run_dir) / "export" / f"model{FORMATS[format]}"
    out.parent.mkdir(parents=True, exist_ok=True)
    if format == "safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in run.model.state_dict().items()}, str(out))
        inputs: list[dict[str, Any]] = []
    else:
        predictor = Predictor(run.model, run.info).eval()
        program = _export_program(predictor, run)
        if format == "pt2":
            torch.export.save(program, str(out))
        else:
            _save_onnx(program, out)
        inputs = input_spec(program, run.info)
    meta = describe(run, format, inputs, which)
    export_json_path(out).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out


def _export_program(predictor: Predictor, run: LoadedRun) -> torch.export.ExportedProgram:
    """``torch.export`` with a dynamic batch size and, for token/step inputs of variable length, a
    sequence length left to the tracer (``Dim.AUTO``: PyTorch's LSTM/GRU kernels fix it to the longest
    training sequence, so those programs take batches padded to that length, with ``lengths``)."""
    args = example_inputs(run.info, run.model)
    dims: dict[int, Any] = {0: torch.export.Dim("batch", min=1)}
    if run.info.input_kind in ("tokens", "sequence") and not run.info.input_shape:
        dims[1] = torch.export.Dim.AUTO
    shapes: tuple[Any, ...] = (dims, {0: dims[0]}) if len(args) == 2 else (dims,)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*were assigned during export.*")  # RNN weight views
        return torch.export.export(predictor, args, dynamic_shapes=shapes)


def _save_onnx(program: torch.export.ExportedProgram, out: Path) -> None:
    onnx_program = torch.onnx.export(program, dynamo=True, verbose=False)
    onnx_program.save(str(out))


def input_spec(program: torch.export.ExportedProgram, info: DataInfo) -> list[dict[str, Any]]:
    """Name, dtype and shape of each input the program takes, read from the program itself (symbolic
    sizes appear as ``"batch"`` / ``"steps"``)."""
    nodes = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
    spec = []
    for i, name in enumerate(program.graph_signature.user_inputs):
        value = nodes[name].meta["val"]
        shape = [int(d) if isinstance(d, int) else ("batch" if k == 0 else "steps") for k, d in enumerate(value.shape)]
        entry: dict[str, Any] = {"name": "x" if i == 0 else "lengths", "dtype": str(value.dtype).removeprefix("torch."),
                                 "shape": shape}
        if i == 1:
            entry["meaning"] = "real steps of each row; rows are padded (with id 0 / zeros) after their end"
        spec.append(entry)
    if info.input_kind == "image" and spec:
        spec[0]["layout"] = "channels first (C, H, W)"
    return spec


def describe(run: LoadedRun, format: str, inputs: list[dict[str, Any]], which: str) -> dict[str, Any]:
    """The JSON written beside an export (see the module docstring)."""
    info = run.info
    stats = dict(info.stats or {})
    in_program = format != "safetensors" and "mean" in stats
    if info.task in PROBABILITY_TASKS:
        output = {"kind": "probabilities", "softmax_over": "last dimension",
                  "classes": list(info.class_names) if info.class_names else list(range(info.num_classes or 0))}
    else:
        output = {"kind": "values", "units": "original (training standardization undone in the program)"
                  if format != "safetensors" else "standardized (multiply by target_std, add target_mean)"}
    before: dict[str, Any] = {}
    if "csv" in stats:
        before["csv"] = stats["csv"]
    if "vocab" in info.extra:
        before["vocab"] = {"tokens": info.extra["vocab"], "unit": info.extra.get("unit"),
                           "lowercase": info.extra.get("lowercase", False), "unknown_id": 1}
    return {
        "format": EXPORT_FORMAT, "export_format": format, "deepzen_version": deepzen.__version__,
        "torch_version": torch.__version__, "run": str(run.source), "checkpoint": which,
        "inputs": inputs, "output": output,
        "preprocessing": {
            "in_program": ["x' = (x * prescale - mean) / std"] if in_program else [],
            "before_program": before,
            "statistics": {k: v for k, v in stats.items() if k != "csv"},
        },
        "config": to_toml(run.config), "data_info": info.to_dict(),
    }
