"""Character- or word-level language modelling on text shipped in the package or given by the user.

The text is cut into consecutive blocks (train, then validation, then test; no shuffling, so no window
crosses from one split into another) and each block into windows of ``block + 1`` tokens:
``x = w[:-1]``, ``y = w[1:]`` (predict the next token at every step). Training windows start every
``stride`` tokens; validation and test windows do not overlap. The vocabulary is built from the training
block only: id 0 is padding, id 1 stands for tokens never seen in training; ``info.extra["vocab"]``
lists the tokens by id.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import torch

from deepzen._suggest import did_you_mean
from deepzen.data.datasets import SequenceDataset
from deepzen.data.errors import DataError
from deepzen.data.splits import Splits, split_counts
from deepzen.info import DataInfo

PAD, UNK = "<pad>", "<unk>"
UNITS = ("char", "word")


def shipped_corpora() -> list[str]:
    """Names of the text files shipped in ``deepzen/data/text/``."""
    folder = resources.files("deepzen.data") / "text"
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt"))


def read_corpus(name: str) -> str:
    names = shipped_corpora()
    if name not in names:
        raise DataError(f"unknown corpus {name!r}{did_you_mean(name, names)} Shipped: {', '.join(names)}; "
                        "or pass path='your.txt'")
    return (resources.files("deepzen.data") / "text" / f"{name}.txt").read_text(encoding="utf-8")


def tokenize(text: str, unit: str = "char", lowercase: bool = False) -> list[str]:
    """Characters, or words and punctuation marks (``\\w+`` runs and single other symbols)."""
    if unit not in UNITS:
        raise DataError(f"unit={unit!r}{did_you_mean(unit, UNITS)} Allowed: 'char', 'word'")
    if lowercase:
        text = text.lower()
    return list(text) if unit == "char" else re.findall(r"\w+|[^\w\s]", text)


def encode(tokens: list[str], vocab: list[str]) -> torch.Tensor:
    """Token strings -> ids ``(T,)``, unknown tokens -> 1."""
    index = {tok: i for i, tok in enumerate(vocab)}
    return torch.tensor([index.get(t, 1) for t in tokens], dtype=torch.long)


def decode(ids: torch.Tensor | list[int], info: DataInfo) -> str:
    """Ids -> text (characters joined directly, words with spaces)."""
    vocab = info.extra["vocab"]
    sep = "" if info.extra.get("unit", "char") == "char" else " "
    return sep.join(vocab[int(i)] for i in ids)


def _windows(ids: torch.Tensor, block: int, stride: int, what: str) -> SequenceDataset:
    if len(ids) < block + 1:
        raise DataError(f"the {what} part of the text has {len(ids)} tokens, fewer than one window of "
                        f"block+1={block + 1}; use a smaller block or a longer text")
    starts = range(0, len(ids) - block, stride)
    return SequenceDataset([ids[s : s + block] for s in starts], [ids[s + 1 : s + block + 1] for s in starts])


def text_splits(name: str, text: str, val: float, test: float | None, unit: str = "char", block: int = 64,
                stride: int | None = None, lowercase: bool = False) -> Splits:
    """Language-model splits of ``text`` (see the module docstring)."""
    if block < 1:
        raise DataError(f"block={block}: must be a positive number of tokens")
    stride = stride or max(1, block // 4)
    tokens = tokenize(text, unit, lowercase)
    if not tokens:
        raise DataError(f"{name}: the text is empty")
    n_train, n_val, _ = split_counts(len(tokens), val, 0.1 if test is None else test, f"{name} ({unit}s)")
    parts = tokens[:n_train], tokens[n_train : n_train + n_val], tokens[n_train + n_val :]
    vocab = [PAD, UNK, *sorted(set(parts[0]))]
    sets = [_windows(encode(parts[0], vocab), block, stride, "training")]
    sets += [_windows(encode(p, vocab), block, block, what) if p else None
             for p, what in ((parts[1], "validation"), (parts[2], "test"))]
    sizes = {k: (len(s) if s is not None else 0) for k, s in zip(("train", "val", "test"), sets)}
    info = DataInfo(name=name, task="language_model", input_kind="tokens", vocab_size=len(vocab),
                    num_classes=len(vocab), max_length=block,
                    extra={"vocab": vocab, "unit": unit, "lowercase": lowercase, "sizes": sizes,
                           "tokens": {"train": len(parts[0]), "val": len(parts[1]), "test": len(parts[2])}})
    return Splits(*sets, info)


def load_text(val: float, test: float | None, seed: int, corpus: str = "garden", path: str | None = None,
              unit: str = "char", block: int = 64, stride: int | None = None, lowercase: bool = False) -> Splits:
    """A shipped corpus (``corpus``) or a user's UTF-8 text file (``path``). ``seed`` is unused: the text
    is split in order, which is already deterministic."""
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise DataError(f"text file {str(file)!r} does not exist; check the path")
        return text_splits(file.stem, file.read_text(encoding="utf-8"), val, test, unit, block, stride, lowercase)
    return text_splits(corpus, read_corpus(corpus), val, test, unit, block, stride, lowercase)
