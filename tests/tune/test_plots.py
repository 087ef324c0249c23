"""The study's figures: axes name the tuned metric, and no two tick labels overlap, on a study shaped
like ``examples/tune_digits.toml`` (a log-scale lr, a conditional key, list-valued and text choices)."""

from __future__ import annotations

import math

import matplotlib
import optuna
import pytest

from deepzen.tune.report import PLOTS, draw_plot

matplotlib.use("Agg")


#: The trials of a real 5-trial run of examples/tune_digits.toml: one adabound trial only, so final_lr's
#: log axis spans little and matplotlib labels its minor ticks too.
TRIALS = [
    {"optimizer.lr": 1.2e-4, "optimizer.name": "adabound", "optimizer.final_lr": 0.8, "model.hidden": "[32]",
     "model.dropout": 0.05},
    {"optimizer.lr": 0.21, "optimizer.name": "yogi", "model.hidden": "[64]", "model.dropout": 0.03},
    {"optimizer.lr": 8e-3, "optimizer.name": "adam", "model.hidden": "[64]", "model.dropout": 0.45},
    {"optimizer.lr": 1.7e-2, "optimizer.name": "yogi", "model.hidden": "[128, 64]", "model.dropout": 0.23},
    {"optimizer.lr": 9.5e-3, "optimizer.name": "adam", "model.hidden": "[64]", "model.dropout": 0.34},
]


@pytest.fixture(scope="module")
def study() -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("optimizer.lr", 1e-4, 3e-1, log=True)
        if trial.suggest_categorical("optimizer.name", ["adam", "yogi", "adabound"]) == "adabound":
            trial.suggest_float("optimizer.final_lr", 1e-2, 1.0, log=True)
        trial.suggest_categorical("model.hidden", ["[32]", "[64]", "[128, 64]"])
        dropout = trial.suggest_float("model.dropout", 0.0, 0.5)
        for epoch in range(3):
            trial.report(0.8 + 0.01 * epoch - 0.1 * dropout, epoch)
        return 0.97 - 0.03 * abs(math.log10(lr) + 2) - 0.02 * dropout

    study = optuna.create_study(direction="maximize")
    for params in TRIALS:
        study.enqueue_trial(params)
    study.optimize(objective, n_trials=len(TRIALS))
    return study


def _tick_labels(figure):
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    for axes in figure.axes:
        for labels, limits, coordinate in (
                ([*axes.get_xticklabels(), *axes.get_xticklabels(minor=True)], axes.get_xlim(), 0),
                ([*axes.get_yticklabels(), *axes.get_yticklabels(minor=True)], axes.get_ylim(), 1)):
            low, high = sorted(limits)
            for label in labels:  # labels of ticks outside the axis range are not drawn
                if label.get_visible() and label.get_text().strip() and low <= label.get_position()[coordinate] <= high:
                    yield label.get_text(), label.get_window_extent(renderer).padded(-1)  # touching is fine


@pytest.mark.parametrize("function", ["plot_slice", "plot_parallel_coordinate"])
def test_tick_labels_do_not_overlap(study, function):
    figure = draw_plot(study, function, "val_accuracy")
    labels = list(_tick_labels(figure))
    # twin axes (one per parallel coordinate) draw the shared x labels again in the same place: a label
    # over its own copy reads as one
    clashes = [(a, b) for i, (a, box_a) in enumerate(labels) for b, box_b in labels[i + 1:]
               if a != b and box_a.overlaps(box_b)]
    assert not clashes, clashes


@pytest.mark.parametrize("function", ["plot_slice", "plot_parallel_coordinate", "plot_optimization_history"])
def test_axes_name_the_metric(study, function):
    figure = draw_plot(study, function, "val_accuracy")
    texts = [t for axes in figure.axes for t in (axes.get_xlabel(), axes.get_ylabel(),
                                                 *(label.get_text() for label in axes.get_xticklabels()))]
    assert "val_accuracy" in texts
    assert not any("Objective Value" in t for t in texts), texts


def test_every_plot_is_drawn(study, tmp_path):
    from deepzen.tune.report import save_plots

    assert save_plots(study, tmp_path, "val_accuracy") == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(PLOTS)
