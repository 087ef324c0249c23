"""Image folders: ``root/<class name>/<image files>``, read with Pillow.

Classes are the subfolder names in sorted order. Every image is converted to one mode (``"L"`` if all
are grayscale, else ``"RGB"``, or as given) and must share one size unless ``size=(height, width)``
resizes them. Pixels ``0..255`` become ``x / 255`` standardized per channel with training statistics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepzen.data.arrays import array_splits
from deepzen.data.errors import DataError
from deepzen.data.splits import Splits

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
MODES = {"L": 1, "RGB": 3}


def list_images(root: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    """Class names and ``(file, class index)`` pairs; a class folder without images is an error."""
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(f"{str(root)!r} has no class subfolders; expected root/<class>/<image files>")
    files = []
    for index, name in enumerate(classes):
        found = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise DataError(f"class folder {str(root / name)!r} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); "
                            "add images or remove the folder")
        files += [(p, index) for p in found]
    return classes, files


def load_image_folder(path: str | Path, val: float, test: float | None, seed: int,
                      size: tuple[int, int] | None = None, mode: str | None = None) -> Splits:
    """Classification splits of an image folder (see the module docstring)."""
    from PIL import Image

    root = Path(path)
    if not root.is_dir():
        raise DataError(f"image folder {str(root)!r} does not exist; check the path")
    if mode is not None and mode not in MODES:
        raise DataError(f"mode={mode!r}; allowed: 'L' (grayscale), 'RGB'")
    classes, files = list_images(root)
    images = []
    for file, _ in files:
        try:
            with Image.open(file) as img:
                img.load()
                images.append(img.copy())
        except OSError as err:
            raise DataError(f"cannot read image {str(file)!r} ({err}); remove or replace the file") from err
    if mode is None:
        mode = "L" if all(img.mode in ("L", "1", "I", "I;16") for img in images) else "RGB"
    arrays = []
    for (file, _), img in zip(files, images):
        img = img.convert(mode)
        if size is not None:
            img = img.resize((size[1], size[0]))
        arr = np.asarray(img, dtype=np.float64).reshape(img.height, img.width, MODES[mode])
        if arrays and arr.shape != arrays[0].shape:
            raise DataError(f"{str(file)!r} is {arr.shape[1]}x{arr.shape[0]} but {str(files[0][0])!r} is "
                            f"{arrays[0].shape[1]}x{arrays[0].shape[0]}; pass size=(height, width) to resize all")
        arrays.append(arr)
    x = np.stack(arrays).transpose(0, 3, 1, 2)  # (N, C, H, W)
    y = np.array([label for _, label in files])
    return array_splits(root.name, x, y, task="classification", input_kind="image", val=val, test=test,
                        seed=seed, scale="channel", prescale=1 / 255, num_classes=len(classes),
                        class_names=tuple(classes), extra={"mode": mode})
