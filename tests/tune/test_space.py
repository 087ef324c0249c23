"""Search-space syntax and checks: every bad space is a clear error before any trial runs, and
conditional parameters are sampled only when their condition holds."""

from __future__ import annotations

import json

import optuna
import pytest

from deepzen.config import ConfigError, validate
from deepzen.tune.space import check_space, choice_label, choice_value, decode_params, suggest, with_values
from tests.tune.toy import toy_raw


def space_error(space: dict, **tune) -> str:
    with pytest.raises(ConfigError) as info:
        check_space(validate(toy_raw(space=space, **tune)))
    return str(info.value)


@pytest.mark.parametrize("spec, fragment", [
    ({"uniform": [0.5, 0.5]}, "empty range"),
    ({"uniform": [0.5, 0.1]}, "empty range"),
    ({"log_uniform": [0.0, 0.1]}, "bounds > 0"),
    ({"log_uniform": [-1e-3, 0.1]}, "bounds > 0"),
    ({"int_log": [0, 8]}, "bounds >= 1"),
    ({"int": [1.5, 8]}, "integer bounds"),
    ({"choice": []}, "non-empty list"),
    ({"choice": [1, 1]}, "twice"),
    ({"uniform": [0.1]}, "[low, high]"),
    ({"log_unform": [1e-3, 0.1]}, "did you mean 'log_uniform'"),
    ({"uniform": [0, 1], "log_uniform": [1e-3, 1]}, "exactly one"),
    ({"choice": ["adam"], "step": 1}, "step"),
])
def test_bad_distributions_are_named(spec: dict, fragment: str) -> None:
    message = space_error({"optimizer.lr": spec})
    assert "optimizer.lr" in message and fragment in message


def test_unknown_keys_get_did_you_mean() -> None:
    assert "did you mean 'optimizer'" in space_error({"optimzer.lr": {"uniform": [0.1, 0.2]}})
    assert "did you mean 'dropout'" in space_error({"model.dropuot": {"uniform": [0.1, 0.2]}})
    assert "unknown hyperparameter of 'sgd'" in space_error({"optimizer.betas2": {"uniform": [0.1, 0.2]}})
    assert "cannot be searched" in space_error({"tune.n_trials": {"int": [1, 5]}})


def test_values_outside_what_the_config_allows() -> None:
    message = space_error({"data.val": {"uniform": [0.1, 1.5]}})
    assert "data.val" in message and "high end" in message


def test_a_hyperparameter_of_one_choice_only_must_be_conditional() -> None:
    space = {"optimizer.name": {"choice": ["sgd", "adabound"]}, "optimizer.final_lr": {"log_uniform": [1e-2, 1.0]}}
    message = space_error(space)
    assert "optimizer.final_lr" in message and "optimizer.name = \"sgd\"" in message
    space["optimizer.final_lr"]["when"] = {"optimizer.name": "adabound"}
    assert [p.key for p in check_space(validate(toy_raw(space=space)))] == ["optimizer.name", "optimizer.final_lr"]


@pytest.mark.parametrize("when, fragment", [
    ({"optimizer.lr": 0.1}, "a log_uniform parameter"),
    ({"optimizer.nme": "adam"}, "did you mean 'optimizer.name'"),
    ({"optimizer.name": "adamm"}, "did you mean 'adam'"),
])
def test_bad_conditions(when: dict, fragment: str) -> None:
    space = {"optimizer.name": {"choice": ["adam", "sgd"]}, "optimizer.lr": {"log_uniform": [1e-3, 1.0]},
             "model.dropout": {"uniform": [0.0, 0.5], "when": when}}
    assert fragment in space_error(space)


def test_condition_cycles_are_errors() -> None:
    space = {"model.activation": {"choice": ["relu", "tanh"], "when": {"model.batch_norm": True}},
             "model.batch_norm": {"choice": [True, False], "when": {"model.activation": "relu"}}}
    assert "cycle" in space_error(space)


def test_dotted_keys_written_unquoted_are_flattened() -> None:
    """TOML reads ``optimizer.lr = {...}`` inside [tune.space] as nested tables."""
    raw = toy_raw(space={"optimizer": {"name": {"choice": ["sgd", "adabound"]},
                                       "final_lr": {"log_uniform": [0.01, 1.0], "when": {"optimizer": {"name": "adabound"}}}}})
    params = check_space(validate(raw))
    assert [(p.key, p.when) for p in params] == [("optimizer.name", ()),
                                                  ("optimizer.final_lr", (("optimizer.name", ("adabound",)),))]


def test_list_choices_round_trip_through_optuna_labels() -> None:
    config = validate(toy_raw(space={"model.hidden": {"choice": [[8], [16, 8]]}}))
    (param,) = check_space(config)
    assert [choice_label(c) for c in param.choices] == ["[8]", "[16, 8]"]
    assert choice_value(param, "[16, 8]") == [16, 8]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen = set()
    for _ in range(12):
        trial = study.ask()
        values = suggest(trial, [param])
        seen.add(json.dumps(values["model.hidden"]))
        assert isinstance(values["model.hidden"], list)
        assert decode_params([param], trial.params) == values
        study.tell(trial, 0.0)
    assert seen == {"[8]", "[16, 8]"}
    assert with_values({"model": {"kind": "mlp"}}, {"model.hidden": [16, 8]}) == {"model": {"kind": "mlp", "hidden": [16, 8]}}


def test_conditional_parameters_only_when_their_condition_holds() -> None:
    space = {"optimizer.name": {"choice": ["sgd", "adam", "adabound"]},
             "optimizer.final_lr": {"log_uniform": [0.01, 1.0], "when": {"optimizer.name": "adabound"}},
             "optimizer.betas": {"choice": [[0.9, 0.999], [0.8, 0.99]], "when": {"optimizer.name": ["adam", "adabound"]}},
             "optimizer.lr": {"log_uniform": [1e-3, 1.0]}}
    params = check_space(validate(toy_raw(space=space)))
    for sampler in (optuna.samplers.RandomSampler(seed=0), optuna.samplers.TPESampler(seed=0, n_startup_trials=5)):
        study = optuna.create_study(sampler=sampler)
        names = []
        for i in range(40):
            trial = study.ask()
            values = suggest(trial, params)
            name = values["optimizer.name"]
            names.append(name)
            assert ("optimizer.final_lr" in values) == (name == "adabound")
            assert ("optimizer.betas" in values) == (name in ("adam", "adabound"))
            assert set(trial.params) == set(values)  # Optuna never saw the inactive ones
            study.tell(trial, float(i % 7))
        assert set(names) == {"sgd", "adam", "adabound"}
