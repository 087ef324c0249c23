"""Users' own data: CSV, NPZ, image folders, text files, torch Datasets, and their bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

import deepzen.data as dd


def _write_csv(path, rows, header="size,color,price,label"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


ROWS = [f"{i % 7 + 1},{['red', 'blue', 'green'][i % 3]},{10 + i},{['cheap', 'dear'][i % 2]}" for i in range(40)]


def test_csv_categorical_onehot_and_text_labels(tmp_path):
    s = dd.load(_write_csv(tmp_path / "shop.csv", ROWS), val=0.0, test=0.25, seed=0)
    info = s.info
    assert info.task == "classification" and info.class_names == ("cheap", "dear") and info.input_shape == (5,)
    cats = info.stats["csv"]["categorical"]["color"]
    assert cats == ["blue", "green", "red"]
    _, _, te = dd.split_indices(40, 0.0, 0.25, seed=0)
    std, mean = np.array(info.stats["std"]), np.array(info.stats["mean"])
    raw = s.test.x.double().numpy() * std + mean  # back to the encoded features
    for row, i in zip(raw, te.tolist()):
        size, color, price, label = ROWS[i].split(",")
        assert np.allclose(row, [float(size), *(float(color == c) for c in cats), float(price)], atol=1e-4)
    assert s.test.y.tolist() == [i % 2 for i in te.tolist()]
    new = dd.prepare_file(tmp_path / "shop.csv", info)  # prediction input uses the stored encoding
    assert torch.allclose(new[te], s.test.x, atol=1e-5)


def test_csv_target_column_and_regression(tmp_path):
    s = dd.load(_write_csv(tmp_path / "shop.csv", ROWS), target="price", test=0.2)
    assert s.info.task == "regression" and s.info.input_shape == (6,)  # size, 3 colors, 2 labels one-hot
    assert s.info.stats["csv"]["columns"] == ["size", "color", "label"]


def test_csv_unknown_column_suggests_a_name(tmp_path):
    with pytest.raises(ValueError, match="unknown target column 'prise'.*did you mean 'price'"):
        dd.load(_write_csv(tmp_path / "shop.csv", ROWS), target="prise")


def test_csv_missing_values_refused_or_imputed_from_train(tmp_path):
    rows = [f"{'' if i in (3, 11) else i},{i % 2}" for i in range(30)]
    path = _write_csv(tmp_path / "m.csv", rows, header="x,y")
    with pytest.raises(ValueError, match=r"column 'x' has 2 missing values \(lines 5, 13\).*missing='impute'"):
        dd.load(path)
    s = dd.load(path, missing="impute", seed=2)
    tr = dd.split_indices(30, 0.1, 0.2, seed=2)[0].tolist()
    train_mean = np.mean([i for i in tr if i not in (3, 11)])
    assert float(s.info.stats["csv"]["impute"]["x"]) == pytest.approx(train_mean)


def test_csv_categorical_refused_when_asked(tmp_path):
    with pytest.raises(ValueError, match="column 'color' holds text"):
        dd.load(_write_csv(tmp_path / "shop.csv", ROWS), categorical="error")


def test_csv_inf_in_features_and_missing_target(tmp_path):
    rows = [f"{'inf' if i == 4 else i},{i % 2}" for i in range(20)]
    with pytest.raises(ValueError, match="NaN/inf"):
        dd.load(_write_csv(tmp_path / "i.csv", rows, header="x,y"))
    rows = [f"{i},{'' if i == 4 else i % 2}" for i in range(20)]
    with pytest.raises(ValueError, match="targets are never imputed"):
        dd.load(_write_csv(tmp_path / "t.csv", rows, header="x,y"), missing="impute")


def test_npz_bad_inputs(tmp_path):
    np.savez(tmp_path / "len.npz", x=np.zeros((10, 2)), y=np.zeros(9, dtype=np.int64))
    with pytest.raises(ValueError, match="10 inputs but 9 targets"):
        dd.load(tmp_path / "len.npz")
    x = np.random.default_rng(0).normal(size=(20, 2))
    x[7, 1] = np.nan
    np.savez(tmp_path / "nan.npz", x=x, y=np.zeros(20, dtype=np.int64))
    with pytest.raises(ValueError, match=r"1 NaN/inf values \(first: NaN at index \(7, 1\)\)"):
        dd.load(tmp_path / "nan.npz")
    np.savez(tmp_path / "lab.npz", x=np.zeros((20, 2)), y=np.arange(20) % 5)
    with pytest.raises(ValueError, match="label 4 is outside the class range 0..2"):
        dd.load(tmp_path / "lab.npz", num_classes=3)
    np.savez(tmp_path / "neg.npz", x=np.zeros((20, 2)), y=np.arange(20) - 1)
    with pytest.raises(ValueError, match="label -1 is negative"):
        dd.load(tmp_path / "neg.npz")
    np.savez(tmp_path / "key.npz", features=np.zeros((4, 2)), y=np.zeros(4))
    with pytest.raises(ValueError, match="no array 'x'.*x_key"):
        dd.load(tmp_path / "key.npz")


def test_npz_images_standardized_per_channel(tmp_path):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 1, (40, 1, 4, 4)), rng.normal(50, 5, (40, 1, 4, 4))], axis=1)
    np.savez(tmp_path / "img.npz", x=x, y=np.arange(40) % 2)
    s = dd.load(tmp_path / "img.npz", val=0.0, test=0.25)
    assert s.info.input_kind == "image" and s.info.input_shape == (2, 4, 4)
    per_channel = s.train.x.double().transpose(0, 1).reshape(2, -1)
    assert torch.allclose(per_channel.mean(1), torch.zeros(2, dtype=torch.float64), atol=1e-5)
    assert torch.allclose(per_channel.std(1, unbiased=False), torch.ones(2, dtype=torch.float64), atol=1e-5)


def test_image_folder(tmp_path):
    from PIL import Image

    for label, shade in (("cat", 30), ("dog", 220)):
        (tmp_path / "pets" / label).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(np.full((5, 4), shade + i, dtype=np.uint8)).save(tmp_path / "pets" / label / f"{i}.png")
    s = dd.load(tmp_path / "pets", val=0.0, test=0.25, seed=0)
    assert s.info.class_names == ("cat", "dog") and s.info.input_shape == (1, 5, 4) and len(s.test) == 3
    mean, std = np.array(s.info.stats["mean"]), np.array(s.info.stats["std"])
    raw = (s.train.x.double().numpy() * std + mean) * 255  # back to pixel values
    assert np.allclose(raw[s.train.y.numpy() == 0], np.round(raw[s.train.y.numpy() == 0]), atol=1e-3)
    assert (raw[s.train.y.numpy() == 0] < 40).all() and (raw[s.train.y.numpy() == 1] > 200).all()
    Image.fromarray(np.zeros((7, 7), dtype=np.uint8)).save(tmp_path / "pets" / "dog" / "big.png")
    with pytest.raises(ValueError, match="size=\\(height, width\\)"):
        dd.load(tmp_path / "pets")
    assert dd.load(tmp_path / "pets", size=(3, 3)).info.input_shape == (1, 3, 3)


def test_text_file_word_tokens(tmp_path):
    (tmp_path / "story.txt").write_text("the cat sat on the mat . " * 40)
    s = dd.load(tmp_path / "story.txt", unit="word", block=6)
    assert s.info.task == "language_model"
    assert s.info.extra["vocab"][2:] == sorted({"the", "cat", "sat", "on", "mat", "."})
    x, y = s.train[0]
    assert dd.decode(x, s.info) == "the cat sat on the mat" and dd.decode(y, s.info) == "cat sat on the mat ."


class Squares(Dataset):
    def __init__(self, n, classes=3):
        self.n, self.classes = n, classes

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.tensor([float(i)]), i % self.classes


def test_torch_dataset_wrapped_and_checked():
    s = dd.load(Squares(30), val=0.1, test=0.2, seed=0)
    assert s.info.num_classes == 3 and s.info.input_kind == "tabular" and len(s.test) == 6
    ids = {int(s.train[i][0]) for i in range(len(s.train))} | {int(s.test[i][0]) for i in range(len(s.test))}
    assert len(ids) == 21 + 6 and not ({int(s.val[i][0]) for i in range(3)} & ids)
    with pytest.raises(ValueError, match="label 3 is outside the class range 0..1"):
        dd.load(Squares(30, classes=4), info=dd.load(Squares(30, classes=2)).info)


def test_missing_paths_and_unknown_names(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        dd.load(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="unknown dataset 'digit'.*did you mean 'digits'"):
        dd.load("digit")
    with pytest.raises(ValueError, match="unknown option 'lenght'.*did you mean 'length'"):
        dd.load("adding", lenght=5)
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ValueError, match="unsupported file type '.json'"):
        dd.load(tmp_path / "x.json")
