"""How long an explorer takes to redraw after a control moves (the budget: 100 ms).

A redraw recomputes the forward pass, the loss, every delta and every parameter gradient (and,
in the network explorer, one step of gradient descent), then rebuilds the view's HTML and text
and writes them into the Output widget. It is timed here from the control's change to the end
of the redraw, outside a kernel (the comm to the browser is a no-op, so the time is the
Python side only), as the median of N changes cycling through the control's values.

Run: ``.venv/bin/python benchmarks/bench_widgets.py [N]``. Exits 1 when a median exceeds the
budget.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("MPLBACKEND", "Agg")

from _cli import positive  # noqa: E402

from cnn6.view import widgets  # noqa: E402

BUDGET_MS = 100.0


def time_changes(explorer, control, values, n):
    """Median and max (ms) of `n` changes of `control` through `values`."""
    widget = explorer.controls[control]
    times = []
    for k in range(n):
        before = explorer.view
        start = time.perf_counter()
        widget.value = values[k % len(values)]
        elapsed = (time.perf_counter() - start) * 1000.0
        if explorer.view is not before:  # a value equal to the current one redraws nothing
            times.append(elapsed)
    return statistics.median(times), max(times)


def main(n=50):
    cases = [
        ("explore_data", widgets.explore_data(), "row", [0, 1, 2, 3]),
        ("explore_convolution", widgets.explore_convolution(), "K00", [0.1, 0.2, 0.3, 0.4]),
        ("explore_maxpool", widgets.explore_maxpool(), "col", [0, 1, 2, 3]),
        ("explore_network (square moves)", widgets.explore_network(), "col", [0, 1, 2, 3]),
        (
            "explore_network (noise low)",
            widgets.explore_network(),
            "low",
            [0.0, -0.5, 0.2, 0.4],
        ),
        (
            "explore_network (square_value)",
            widgets.explore_network(),
            "square_value",
            [0.5, 1.0, 1.5, 2.0],
        ),
        (
            "explore_network (kernel weight)",
            widgets.explore_network(),
            "K11",
            [-0.5, 0.0, 0.5, 1.0],
        ),
        ("explore_network (learning rate)", widgets.explore_network(), "lr", [0.1, 0.5, 1.0, 2.0]),
    ]
    print(
        f"cnn6 explorer redraw, median of {n} changes ({platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()})"
    )
    worst = 0.0
    for name, explorer, control, values in cases:
        median, longest = time_changes(explorer, control, values, n)
        worst = max(worst, median)
        print(f"  {name:<36} median {median:6.1f} ms   max {longest:6.1f} ms")
    start = time.perf_counter()
    widgets.explore_training()
    print(
        f"  {'explore_training (first view)':<36} one run {time.perf_counter() - start:5.2f} s"
        " (the training chapter's run: 4000 images, 30 epochs; not a redraw)"
    )
    verdict = "within" if worst < BUDGET_MS else "OVER"
    print(f"slowest median redraw: {worst:.1f} ms, {verdict} the {BUDGET_MS:.0f} ms budget")
    return 0 if worst < BUDGET_MS else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "n", nargs="?", type=positive(int), default=50, help="changes per control (default 50)"
    )
    sys.exit(main(parser.parse_args().n))
