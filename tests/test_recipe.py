"""cnn6.recipe: the reliability measurement chapter 12 and bench_training.py share."""

import numpy as np
import pytest

import cnn6
from cnn6.recipe import evaluate_recipe, summarize


def test_each_run_is_the_seeds_own_draw_and_training():
    results = evaluate_recipe([3, 5], n_train=60, n_test=40, epochs=6)
    assert [r["seed"] for r in results] == [3, 5]
    for r in results:
        rng = np.random.default_rng(r["seed"])
        X, y = cnn6.make_dataset(60, rng)
        X_test, y_test = cnn6.make_dataset(40, rng)
        params, history = cnn6.train(cnn6.init_params(rng), X, y, rng=rng, epochs=6)
        assert r["accuracy"] == cnn6.accuracy(params, X_test, y_test)
        assert r["train_accuracy"] == history.accuracy[-1]
        assert r["seconds"] > 0


def test_summarize_counts_the_runs_that_reach_the_target():
    results = [
        {"accuracy": 0.995, "seconds": 1.0},
        {"accuracy": 0.98, "seconds": 3.0},
        {"accuracy": 0.99, "seconds": 2.0},
    ]
    s = summarize(results)
    assert s == {
        "runs": 3,
        "reached": 2,
        "target": 0.99,
        "worst_accuracy": 0.98,
        "mean_seconds": 2.0,
        "max_seconds": 3.0,
    }
    assert summarize(results, target=0.97)["reached"] == 3


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        ({"seeds": 3}, TypeError, "seeds"),
        ({"seeds": []}, ValueError, "seeds"),
        ({"seeds": [-1]}, ValueError, "seeds"),
        ({"seeds": [0], "n_train": 0}, ValueError, "n_train"),
        ({"seeds": [0], "n_test": 1.5}, TypeError, "n_test"),
        ({"seeds": [0], "rng": np.random.default_rng(0)}, TypeError, "rng"),
    ],
)
def test_evaluate_recipe_names_a_bad_argument(kwargs, error, name):
    with pytest.raises(error, match=rf"^{name}: "):
        evaluate_recipe(**kwargs)


@pytest.mark.parametrize(
    "results, target, name",
    [
        ([], 0.99, "results"),
        ([{"accuracy": 1.0}], 0.99, "results"),
        ([{"accuracy": 1.0, "seconds": 1.0}], 1.5, "target"),
    ],
)
def test_summarize_names_a_bad_argument(results, target, name):
    with pytest.raises(ValueError, match=rf"^{name}: "):
        summarize(results, target=target)
