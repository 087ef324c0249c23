"""deepzen.deploy: use a trained run outside training.

- :func:`load` (also ``deepzen.load``): a run folder or a safetensors export as a ready
  :class:`LoadedRun` (model in eval mode, its ``DataInfo``, the fitted preprocessing, ``predict``);
- :func:`export` (also ``deepzen.export`` and ``deepzen export``): ``pt2`` (``torch.export``), ``onnx``
  or ``safetensors``, with a JSON beside it describing inputs, outputs and preprocessing.

It sits above ``deepzen.train`` (it rebuilds models from a run's config) and below the CLI.
"""

from __future__ import annotations

from deepzen.deploy.export import FORMATS, export
from deepzen.deploy.loaded import LoadedRun, Predictions, load
from deepzen.deploy.predictor import NotExportable, Predictor

__all__ = ["FORMATS", "LoadedRun", "NotExportable", "Predictions", "Predictor", "export", "load"]
