"""Run exported models in a process that cannot import deepzen, as a user without it would.

    python run_exported.py JOBS.json       # [{"model": "m.pt2" | "m.onnx", "inputs": "in.npz", "out": "out.npy"}]

Inputs are the ``.npz`` arrays ``x`` (and ``lengths``), passed in that order. Prints the loaded modules
that start with "deepzen" (none, or the caller fails the test).
"""

import importlib.abc
import json
import sys


class NoDeepzen(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "deepzen" or name.startswith("deepzen."):
            raise ImportError(f"{name} must not be imported here")
        return None


sys.meta_path.insert(0, NoDeepzen())

import numpy as np  # noqa: E402
import torch  # noqa: E402

for job in json.load(open(sys.argv[1])):
    with np.load(job["inputs"]) as arrays:
        args = [arrays[k] for k in ("x", "lengths") if k in arrays.files]
    if job["model"].endswith(".pt2"):
        program = torch.export.load(job["model"]).module()
        out = program(*[torch.from_numpy(a) for a in args]).detach().numpy()
    else:
        import onnxruntime

        session = onnxruntime.InferenceSession(job["model"], providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        out = session.run(None, dict(zip(names, args)))[0]
    np.save(job["out"], out)
print("deepzen modules:", sorted(m for m in sys.modules if m.startswith("deepzen")))
