"""The config loader: TOML literals in overrides, nested keys, round trips, and one clear message per
problem (key, value, what is allowed, did you mean)."""

from __future__ import annotations

import pytest

from deepzen.config import (
    ConfigError, ExperimentConfig, apply_overrides, default_text, load_config, parse_toml, parse_value, to_toml,
    validate,
)


@pytest.mark.parametrize("text, expected", [
    ("5", 5), ("1e-3", 1e-3), ("true", True), ("[32, 64]", [32, 64]), ('"quoted"', "quoted"),
    ("yogi", "yogi"), ("0.9,0.99", "0.9,0.99"), ("{patience = 3}", {"patience": 3}),
])
def test_override_values_are_toml_literals_else_strings(text, expected):
    value = parse_value(text)
    assert value == expected and type(value) is type(expected)


def test_overrides_create_nested_tables_and_leave_the_input_alone():
    raw = {"training": {"epochs": 3}}
    out = apply_overrides(raw, ["training.early_stopping.patience=2", "optimizer.name=yogi", "seed=7"])
    assert out == {"training": {"epochs": 3, "early_stopping": {"patience": 2}}, "optimizer": {"name": "yogi"},
                   "seed": 7}
    assert raw == {"training": {"epochs": 3}}


@pytest.mark.parametrize("item, fragment", [
    ("training.epochs", "expected KEY=VALUE"),
    ("=3", "expected KEY=VALUE"),
    ("training..epochs=3", "expected KEY=VALUE"),
    ("training.epochs.max=3", "training.epochs is a value, not a table"),
])
def test_malformed_overrides(item, fragment):
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")):
        apply_overrides({"training": {"epochs": 3}}, [item])


def test_default_config_is_the_documented_cnn_on_digits():
    config = load_config()
    assert (config.data.name, config.model.kind, config.optimizer.name) == ("digits", "cnn", "adam")
    assert config.model.options()["channels"] == [32, 64]
    assert config.training.schedule is not None and config.training.schedule.name == "cosine"


def test_resolved_config_round_trips_through_toml():
    config = load_config(None, ["optimizer.name=yogi", "optimizer.lr=0.01", "training.early_stopping.patience=2"])
    again = validate(parse_toml(to_toml(config)))
    assert again.model_dump() == config.model_dump()
    assert again.optimizer.options() == {"lr": 0.01}


def test_set_overrides_reach_the_config():
    config = load_config(None, ["training.epochs=3", "model.channels=[8]", "training.schedule=none"])
    assert config.training.epochs == 3 and config.model.options()["channels"] == [8]
    assert config.training.schedule is None


def test_early_stopping_flag_short_forms():
    assert validate({"training": {"early_stopping": True}}).training.early_stopping.patience == 5
    assert validate({"training": {"early_stopping": False}}).training.early_stopping is None


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as info:
        validate({"training": {"epoch": 3, "batch_size": 0}, "optimizer": {"name": "adam", "lr": -1.0}})
    problems = info.value.problems
    assert any(p.startswith("training.epoch: unknown key; did you mean 'epochs'?") for p in problems)
    assert any(p.startswith("training.batch_size = 0:") for p in problems)
    # the optimizer is checked only once the structure is valid: fix one layer at a time, all of its problems
    assert len(problems) == 2
    assert "(2 problems)" in str(info.value)


def test_unknown_key_lists_what_the_section_allows():
    with pytest.raises(ConfigError) as info:
        validate({"regularization": {"l3": 0.1}})
    message = str(info.value)
    assert "regularization.l3: unknown key" in message
    assert "Allowed keys in [regularization]: l1, l2, weight_decay, no_decay" in message


def test_missing_file_and_folder():
    with pytest.raises(ConfigError, match="no config file at"):
        load_config("/nonexistent/exp.toml")


def test_default_text_is_commented_and_valid():
    text = default_text()
    assert text.count("#") > 20
    assert validate(parse_toml(text)) == ExperimentConfig.model_validate(parse_toml(text))
