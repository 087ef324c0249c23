"""What a dataset is, in the terms model building and training need: the contract between
``deepzen.data`` (which produces it) and ``deepzen.nn`` / ``deepzen.train`` (which read it).

It lives below both so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Task = Literal["classification", "regression", "sequence_labeling", "language_model"]
InputKind = Literal["tabular", "image", "signal", "sequence", "tokens", "tree"]

TASKS: tuple[str, ...] = ("classification", "regression", "sequence_labeling", "language_model")
INPUT_KINDS: tuple[str, ...] = ("tabular", "image", "signal", "sequence", "tokens", "tree")


@dataclass(frozen=True)
class DataInfo:
    """Description of a dataset's samples.

    Attributes:
        name: dataset name (``"digits"``, a file name, ...).
        task: ``classification`` (one label per sample, or per tree root), ``regression`` (real
            targets), ``sequence_labeling`` (a label per time step or per tree node) or
            ``language_model`` (next-token targets).
        input_kind: ``tabular`` (F features), ``image`` (C, H, W), ``signal`` (C, L), ``sequence``
            (T, F) real-valued steps, ``tokens`` (T,) integer ids, ``tree`` (trees of tokens).
        input_shape: shape of one sample's input, without the batch; ``None`` entries are variable
            (a sequence length); ``None`` for tokens and trees.
        vocab_size: number of token ids (tokens and trees), else ``None``.
        num_classes: classes for classification / labelling / language models, else ``None``.
        num_outputs: regression target size, else ``None``.
        class_names: optional names of the classes.
        max_length: longest sequence (tokens/sequence inputs), else ``None``.
        per_node: tree tasks: labels at every node (``True``) or only at the root.
        padding_index: token id used for padding (tokens/trees), label ``-100`` pads targets.
        stats: preprocessing fitted on the training split only (e.g. ``{"mean": [...], "std": [...]}``),
            JSON-serializable, applied again at evaluation and prediction.
        extra: anything else a dataset wants to record (JSON-serializable).
    """

    name: str
    task: Task
    input_kind: InputKind
    input_shape: tuple[int | None, ...] | None = None
    vocab_size: int | None = None
    num_classes: int | None = None
    num_outputs: int | None = None
    class_names: tuple[str, ...] | None = None
    max_length: int | None = None
    per_node: bool = False
    padding_index: int = 0
    stats: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"invalid task {self.task!r}; allowed: {', '.join(TASKS)}")
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(f"invalid input_kind {self.input_kind!r}; allowed: {', '.join(INPUT_KINDS)}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (tuples become lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataInfo:
        """Inverse of :meth:`to_dict`."""
        d = dict(data)
        for key in ("input_shape", "class_names"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        return cls(**d)
