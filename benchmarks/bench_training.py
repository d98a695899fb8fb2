"""How reliably the default recipe trains, and how long it takes: one run per seed.

For each seed: ``rng = np.random.default_rng(seed)``, a training set of ``n_train`` images and a
test set of ``n_test`` images drawn from that ``rng`` (in that order), ``cnn6.init_params(rng)``,
``cnn6.train(params, X, y, rng=rng)`` with the book's default recipe, then the accuracy on the
test set. Prints one line per seed and a summary.

    .venv/bin/python benchmarks/bench_training.py            # seeds 0..19
    .venv/bin/python benchmarks/bench_training.py --seeds 5  # seeds 0..4

The measurement itself is ``cnn6.recipe`` (chapter 12 calls it)::

    from cnn6.recipe import evaluate_recipe, summarize
    results = evaluate_recipe(range(5), epochs=20)
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    # One core, one BLAS thread, as in bench_engine.py: set before numpy is imported, and only
    # when run as a script (a program that imports this module keeps its own settings).
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = "1"
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        except OSError:
            pass

import argparse  # noqa: E402

import numpy as np  # noqa: E402
from _cli import positive  # noqa: E402

import cnn6  # noqa: E402

# The measurement lives in the package (chapter 12 runs it too); this script prints it.
from cnn6.recipe import evaluate_recipe, summarize  # noqa: E402


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
