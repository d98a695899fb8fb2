"""The three benchmark scripts still run: a smoke test, not a measurement.

Each script is run as a subprocess with the shortest settings it accepts. What is checked is
what the scripts themselves assert (bench_engine: the naive loop's and, when installed,
PyTorch's gradients and steps equal the engine's) and the shape of what they print; the
figures are not asserted, because a test must not time anything (see the README's
Performance section for the measured figures).
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

# Each test starts a Python process: `make check` leaves them out.
pytestmark = pytest.mark.bench

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run_script(name, *args):
    """Run benchmarks/``name`` with ``args``; the finished process (stdout, returncode)."""
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def output_of(name, *args):
    """What the script prints, once it has exited with status 0."""
    result = run_script(name, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_bench_engine_checks_agreement_and_prints_every_batch_size():
    out = output_of("bench_engine.py", "--repeats", "1", "--seconds", "0.01")
    assert "gradients and steps agree: naive loop and engine, public loop and engine" in out
    figures = r" \| ([\d,]+)" * 4  # public loop, engine SGD, engine Adam, naive loop
    rows = re.findall(rf"^\| (\d+){figures} \| (\S+) \| (\S+) \| (\S+) \|$", out, re.MULTILINE)
    assert [int(r[0]) for r in rows] == [1, 32, 1024], out
    for row in rows:
        for cell in row[1:5]:  # public loop, engine SGD and Adam, naive loop: samples per second
            assert int(cell.replace(",", "")) > 0, row


def test_bench_training_reports_each_seed_and_a_summary():
    out = output_of("bench_training.py", "--seeds", "2", "--n-train", "200", "--n-test", "100")
    rows = re.findall(r"^\| (\d+) \| ([01]\.\d{4}) \| \d+\.\d\d \|$", out, flags=re.MULTILINE)
    assert [int(seed) for seed, _ in rows] == [0, 1], out
    assert re.search(
        r"^\d of 2 runs reach >= 99% test accuracy; worst [01]\.\d{4}", out, flags=re.MULTILINE
    ), out


def test_bench_widgets_times_every_explorer():
    result = run_script("bench_widgets.py", "4")
    out = result.stdout
    for name in (
        "explore_data",
        "explore_convolution",
        "explore_maxpool",
        "explore_network (square moves)",
        "explore_network (learning rate)",
    ):
        assert re.search(rf"^  {re.escape(name)} +median +\d+\.\d ms", out, re.MULTILINE), out
    verdict = re.search(
        r"^slowest median redraw: .* (within|OVER) the 100 ms budget$", out, re.MULTILINE
    )
    assert verdict, out + result.stderr
    # the exit status follows the script's own verdict (which is a figure, not this test's)
    assert result.returncode == (0 if verdict.group(1) == "within" else 1), result.stderr


@pytest.mark.parametrize(
    "name, args, argument, expected",
    [
        ("bench_engine.py", ["--repeats", "0"], "--repeats", "expected a number > 0, got 0"),
        ("bench_engine.py", ["--seconds", "-1"], "--seconds", "expected a number > 0, got -1"),
        ("bench_engine.py", ["--repeats", "many"], "--repeats", "expected int, got 'many'"),
        ("bench_training.py", ["--seeds", "0"], "--seeds", "expected a number > 0, got 0"),
        ("bench_training.py", ["--n-train", "1.5"], "--n-train", "expected int, got '1.5'"),
        ("bench_widgets.py", ["0"], "n", "expected a number > 0, got 0"),
        ("bench_class.py", ["--students", "0"], "--students", "expected a number > 0, got 0"),
        ("bench_class.py", ["--students", "many"], "--students", "expected int, got 'many'"),
    ],
)
def test_bad_arguments_are_named_and_refused(name, args, argument, expected):
    result = run_script(name, *args)
    assert result.returncode == 2, result.stdout
    assert f"argument {argument}: {expected}" in result.stderr, result.stderr
