"""How reliably a training recipe works: one fresh run per seed, scored on fresh test images.

Chapter 13 (Training) and ``benchmarks/bench_training.py`` both measure the default recipe of
:func:`cnn6.train` with these two functions, so that the chapter runs wherever the package is
installed (Colab, Binder, JupyterLab) and the benchmark prints the same measurement.
"""

from __future__ import annotations

import time

import numpy as np

from . import validation as check
from .data import make_dataset
from .network import accuracy, init_params
from .training import train

TARGET_ACCURACY = 0.99


def _check_runs(seeds, n_train, n_test, train_kwargs) -> tuple[list[int], int, int]:
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds: expected an iterable of integers, got {check._describe(seeds)}")
    seeds = [check.integer(seed, "seeds", low=0) for seed in seeds]
    if not seeds:
        raise ValueError("seeds: expected at least one seed, got none")
    if "rng" in train_kwargs:
        raise TypeError("rng: each run draws its own generator from its seed; do not pass rng")
    n_train = check.integer(n_train, "n_train", low=1)
    n_test = check.integer(n_test, "n_test", low=1)
    return seeds, n_train, n_test


def evaluate_recipe(seeds, n_train=4000, n_test=2000, **train_kwargs) -> list[dict]:
    """Train once per seed and measure; ``train_kwargs`` go to :func:`cnn6.train`.

    For each seed: ``rng = np.random.default_rng(seed)`` draws ``n_train`` training images,
    then ``n_test`` test images (each ``(n, 6, 6)``), then the start ``init_params(rng)``;
    ``train(params, X, y, rng=rng, **train_kwargs)`` trains. Returns one dict per seed:
    ``seed``, ``accuracy`` (on the test set), ``train_accuracy`` (last epoch, on the training
    set) and ``seconds`` (wall-clock time of ``train``).
    """
    seeds, n_train, n_test = _check_runs(seeds, n_train, n_test, train_kwargs)
    results = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        X, y = make_dataset(n_train, rng)
        X_test, y_test = make_dataset(n_test, rng)
        params = init_params(rng)
        start = time.perf_counter()
        params, history = train(params, X, y, rng=rng, **train_kwargs)
        seconds = time.perf_counter() - start
        results.append(
            {
                "seed": seed,
                "accuracy": accuracy(params, X_test, y_test),
                "train_accuracy": history.accuracy[-1],
                "seconds": seconds,
            }
        )
    return results


def summarize(results, target=TARGET_ACCURACY) -> dict:
    """How many runs reach ``target`` test accuracy, the worst accuracy, mean and max time.

    ``results`` is what :func:`evaluate_recipe` returns (a non-empty list of dicts).
    """
    if not isinstance(results, (list, tuple)) or not results:
        raise ValueError(
            f"results: expected the non-empty list evaluate_recipe returns, "
            f"got {check._describe(results)}"
        )
    for r in results:
        if not isinstance(r, dict) or not {"accuracy", "seconds"} <= r.keys():
            raise ValueError(
                f"results: expected dicts with 'accuracy' and 'seconds', got {check._describe(r)}"
            )
    target = check.real(target, "target", low=0.0, high=1.0)
    accuracies = [r["accuracy"] for r in results]
    seconds = [r["seconds"] for r in results]
    return {
        "runs": len(results),
        "reached": sum(a >= target for a in accuracies),
        "target": target,
        "worst_accuracy": min(accuracies),
        "mean_seconds": float(np.mean(seconds)),
        "max_seconds": max(seconds),
    }
