"""How reliably the default recipe trains, and how long it takes: one run per seed.

For each seed: ``rng = np.random.default_rng(seed)``, a training set of ``n_train`` images and a
test set of ``n_test`` images drawn from that ``rng`` (in that order), ``cnn6.init_params(rng)``,
``cnn6.train(params, X, y, rng=rng)`` with the book's default recipe, then the accuracy on the
test set. Prints one line per seed and a summary.

    .venv/bin/python benchmarks/bench_training.py            # seeds 0..19
    .venv/bin/python benchmarks/bench_training.py --seeds 5  # seeds 0..4

A notebook can reuse the measurement without the printing::

    import sys; sys.path.insert(0, "../benchmarks")
    from bench_training import evaluate_recipe, summarize
    results = evaluate_recipe(range(5), epochs=20)
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    # One core, one BLAS thread, as in bench_engine.py: set before numpy is imported, and only
    # when run as a script (a notebook that imports this module keeps its own settings).
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = "1"
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        except OSError:
            pass

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from _cli import positive  # noqa: E402

import cnn6  # noqa: E402

TARGET_ACCURACY = 0.99


def evaluate_recipe(seeds, n_train=4000, n_test=2000, **train_kwargs) -> list[dict]:
    """Train once per seed and measure; ``train_kwargs`` go to :func:`cnn6.train`.

    Returns one dict per seed: ``seed``, ``accuracy`` (on the test set), ``train_accuracy``
    (last epoch, on the training set) and ``seconds`` (wall-clock time of ``cnn6.train``).
    """
    results = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        X, y = cnn6.make_dataset(n_train, rng)
        X_test, y_test = cnn6.make_dataset(n_test, rng)
        params = cnn6.init_params(rng)
        start = time.perf_counter()
        params, history = cnn6.train(params, X, y, rng=rng, **train_kwargs)
        seconds = time.perf_counter() - start
        results.append(
            {
                "seed": int(seed),
                "accuracy": cnn6.accuracy(params, X_test, y_test),
                "train_accuracy": history.accuracy[-1],
                "seconds": seconds,
            }
        )
    return results


def summarize(results, target=TARGET_ACCURACY) -> dict:
    """How many runs reach ``target`` test accuracy, the worst accuracy, mean and max time."""
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=positive(int), default=20, help="run seeds 0 .. SEEDS-1")
    parser.add_argument("--n-train", type=positive(int), default=4000)
    parser.add_argument("--n-test", type=positive(int), default=2000)
    args = parser.parse_args(argv)

    print(f"cnn6 {cnn6.__version__}, numpy {np.__version__}; default recipe of cnn6.train")
    print(f"{args.n_train} training and {args.n_test} test images per seed\n")
    print("| seed | test accuracy | seconds |")
    print("|---:|---:|---:|")
    results = []
    for seed in range(args.seeds):
        (result,) = evaluate_recipe([seed], args.n_train, args.n_test)
        results.append(result)
        print(f"| {seed} | {result['accuracy']:.4f} | {result['seconds']:.2f} |", flush=True)
    s = summarize(results)
    print(
        f"\n{s['reached']} of {s['runs']} runs reach >= {s['target']:.0%} test accuracy; "
        f"worst {s['worst_accuracy']:.4f}; time per run: mean {s['mean_seconds']:.2f} s, "
        f"max {s['max_seconds']:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
