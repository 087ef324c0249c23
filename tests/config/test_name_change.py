"""Changing a name from the command line: ``--set model.kind=mlp`` on the CNN default, a new optimizer or
loss on a file that has options of the old one, and ``--unset`` to remove a key."""

from __future__ import annotations

import pytest

from deepzen.config import ConfigError, load_config


def test_new_model_kind_leaves_out_the_old_kinds_options():
    notes: list[str] = []
    config = load_config(None, ["model.kind=mlp"], notes=notes)
    # the default's cnn table: channels (cnn only), hidden, dropout, batch_norm (both families take these)
    assert config.model.kind == "mlp"
    assert config.model.options() == {"hidden": [128], "dropout": 0.2, "batch_norm": True}
    assert notes == ["model.kind is now 'mlp': left out the file's model.channels (options of 'cnn', not of 'mlp')"]


def test_an_option_given_with_the_new_kind_is_still_checked():
    with pytest.raises(ConfigError, match="model.channels: unknown option of model 'mlp'"):
        load_config(None, ["model.kind=mlp", "model.channels=[8]"])


def test_new_optimizer_and_loss_leave_out_options_they_do_not_take(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text('[optimizer]\nname = "adabound"\nlr = 0.01\nfinal_lr = 0.2\n'
                    '[loss]\nname = "cross_entropy"\nlabel_smoothing = 0.1\n')
    notes: list[str] = []
    config = load_config(path, ["optimizer.name=sgd", "loss.name=nll"], notes=notes)
    assert config.optimizer.options() == {"lr": 0.01}
    assert config.loss.options() == {}
    assert len(notes) == 2 and "optimizer.final_lr" in notes[0] and "loss.label_smoothing" in notes[1]
    same = load_config(path, ["optimizer.lr=0.1", "optimizer.name=adabound"])  # the same name: all stay
    assert same.optimizer.options() == {"lr": 0.1, "final_lr": 0.2}


def test_the_same_name_keeps_everything():
    notes: list[str] = []
    config = load_config(None, ["model.kind=cnn"], notes=notes)
    assert "channels" in config.model.options() and notes == []


def test_unset_removes_keys_and_defaults_apply():
    config = load_config(None, unset=["model.hidden", "training.schedule", "training.epochs"])
    assert "hidden" not in config.model.options()
    assert config.training.schedule is None and config.training.epochs == 20  # TrainingConfig's default


def test_unset_a_missing_key_names_the_keys_there():
    with pytest.raises(ConfigError) as info:
        load_config(None, unset=["model.chanels"])
    assert "did you mean 'channels'?" in str(info.value) and "Keys in [model]: batch_norm, channels" in str(info.value)
