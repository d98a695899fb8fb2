"""Helpers shared by the engine tests: a finite-difference gradient, the relative error,
and a second, deliberately naive implementation of the whole network.

These are the independent references the engine is compared against; only the helpers
that pick safe cases (no kink or max-pool tie within reach of eps) call the engine, to
measure margins. The test modules import them with ``from conftest import ...``.
"""

import fcntl
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import cnn6

ROOT = Path(__file__).resolve().parents[1]

# The relative error the brief allows between an analytic gradient and central differences.
TOLERANCE = 1e-7


def rel_error(a, b) -> float:
    """max|a - b| / max(1e-8, max(|a| + |b|)), as in CS231n's gradient check."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b)) / max(1e-8, float(np.max(np.abs(a) + np.abs(b)))))


def finite_diff(f, x, eps=1e-6):
    """Central differences of the scalar function ``f`` at the float64 array ``x``.

    df/dx[i] ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), one entry at a time; ``x`` is
    not modified (f receives a fresh copy each time).
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up = x.copy()
        up[i] += eps
        down = x.copy()
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2 * eps)
    return grad


def away_from_zero(rng, shape, margin=0.05, scale=2.0):
    """Random values with |v| >= margin (no kink of an activation within reach of eps)."""
    sign = rng.choice([-1.0, 1.0], size=shape)
    return sign * rng.uniform(margin, scale, size=shape)


def distinct_values(rng, shape, gap=0.1):
    """Random values, all different by at least ``gap`` (no max-pool ties, even nearly)."""
    count = int(np.prod(shape))
    return (rng.permutation(count) * gap + rng.uniform(0, gap / 10, size=count)).reshape(shape)


# --------------------------------------------------------------------------- naive network
SLOPE = 0.01  # leaky ReLU
ALPHA = 1.0  # ELU


def naive_act(z, activation):
    if activation == "relu":
        return z if z > 0 else 0.0
    if activation == "leaky_relu":
        return z if z > 0 else SLOPE * z
    if activation == "elu":
        return z if z > 0 else ALPHA * (np.exp(z) - 1.0)
    raise AssertionError(activation)


def naive_act_grad(z, activation):
    if z > 0:
        return 1.0
    if activation == "relu":
        return 0.0
    if activation == "leaky_relu":
        return SLOPE
    return ALPHA * np.exp(z)


def naive_one(kernel, conv_bias, weights, fc_bias, x, y, activation):
    """Forward and backward for ONE 6x6 image with explicit loops (per window, per pixel).

    Returns a dict of the trace fields and the gradients of this image's loss.
    """
    z1 = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            total = 0.0
            for u in range(3):
                for v in range(3):
                    total += x[i + u][j + v] * kernel[u][v]
            z1[i, j] = total + conv_bias
    a1 = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            a1[i, j] = naive_act(z1[i, j], activation)
    a2 = np.zeros((2, 2))
    where = {}
    for pi in range(2):
        for pj in range(2):
            best, best_at = None, None
            for u in range(2):
                for v in range(2):
                    r, c = 2 * pi + u, 2 * pj + v
                    if best is None or a1[r, c] > best:  # strict: the first maximum wins
                        best, best_at = a1[r, c], (r, c)
            a2[pi, pj] = best
            where[pi, pj] = best_at
    a3 = [a2[0, 0], a2[0, 1], a2[1, 0], a2[1, 1]]
    z4 = fc_bias
    for k in range(4):
        z4 += weights[k] * a3[k]
    a4 = 1.0 / (1.0 + np.exp(-z4))
    with np.errstate(divide="ignore", invalid="ignore"):  # the textbook formula: inf when saturated
        loss = -(y * np.log(a4) + (1 - y) * np.log(1.0 - a4))

    dz4 = a4 - y
    dweights = np.array([dz4 * a3[k] for k in range(4)])
    dfc_bias = dz4
    da3 = np.array([dz4 * weights[k] for k in range(4)])
    da2 = np.array([[da3[0], da3[1]], [da3[2], da3[3]]])
    da1 = np.zeros((4, 4))
    for pi in range(2):
        for pj in range(2):
            r, c = where[pi, pj]
            da1[r, c] += da2[pi, pj]
    dz1 = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            dz1[i, j] = da1[i, j] * naive_act_grad(z1[i, j], activation)
    dkernel = np.zeros((3, 3))
    dconv_bias = 0.0
    dx = np.zeros((6, 6))
    for i in range(4):
        for j in range(4):
            dconv_bias += dz1[i, j]
            for u in range(3):
                for v in range(3):
                    dkernel[u, v] += x[i + u][j + v] * dz1[i, j]
                    dx[i + u, j + v] += kernel[u][v] * dz1[i, j]
    pool_idx = np.array(
        [[where[pi, pj][0] * 4 + where[pi, pj][1] for pj in range(2)] for pi in range(2)]
    )
    return dict(
        z1=z1,
        a1=a1,
        a2=a2,
        a3=np.array(a3),
        z4=z4,
        a4=a4,
        loss=loss,
        pool_idx=pool_idx,
        dz4=dz4,
        da3=da3,
        da2=da2,
        da1=da1,
        dz1=dz1,
        dx=dx,
        kernel=dkernel,
        conv_bias=dconv_bias,
        weights=dweights,
        fc_bias=dfc_bias,
    )


def naive_network(kernel, conv_bias, weights, fc_bias, X, y, activation="relu"):
    """The naive network on one image (6, 6) or a batch (n, 6, 6), loss = mean over the batch.

    Per-image results are stacked; every delta and parameter gradient of a batch carries
    the 1/n of the mean, and the parameter gradients are summed over the images.
    """
    X = np.asarray(X, dtype=np.float64)
    single = X.ndim == 2
    images = [X] if single else list(X)
    labels = [float(y)] if single else [float(v) for v in y]
    n = len(images)
    runs = [
        naive_one(kernel, conv_bias, weights, fc_bias, x, t, activation)
        for x, t in zip(images, labels, strict=True)
    ]
    out = {}
    for key in ("z1", "a1", "a2", "a3", "z4", "a4", "pool_idx"):
        out[key] = np.array(runs[0][key]) if single else np.array([r[key] for r in runs])
    out["loss"] = sum(r["loss"] for r in runs) / n
    for key in ("dz4", "da3", "da2", "da1", "dz1", "dx"):
        stacked = np.array([r[key] for r in runs]) / n
        out[key] = stacked[0] if single else stacked
    for key in ("kernel", "conv_bias", "weights", "fc_bias"):
        out[key] = sum(np.asarray(r[key]) for r in runs) / n
    return out


# --------------------------------------------------------------------------- safe cases
def random_params(rng):
    """Parameters with a kernel of mixed signs, so that some pre-activations are negative."""
    return cnn6.Params(
        rng.normal(0.0, 0.5, size=(3, 3)),
        float(rng.normal(0.0, 0.3)),
        rng.normal(0.0, 1.0, size=4),
        float(rng.normal(0.0, 0.3)),
    )


def margins(trace):
    """(min |z1|, min gap between a pooling window's largest and second largest a1).

    With relu, windows whose maximum is 0 (all pre-activations negative) are left out of
    the gap: their gradient is 0 whichever zero wins.
    """
    windows = trace.a1.reshape(-1, 2, 2, 2, 2).transpose(0, 1, 3, 2, 4).reshape(-1, 4)
    ordered = np.sort(windows, axis=1)
    top, gap = ordered[:, -1], ordered[:, -1] - ordered[:, -2]
    if trace.activation == "relu":
        gap = gap[top > 0]
    return float(np.min(np.abs(trace.z1))), float(np.min(gap, initial=np.inf))


def safe_case(activation, n, seed, margin=1e-3, every_window=False):
    """The first (params, X, y) from seeds ``seed, seed + 1, ...`` with every |z1| and every
    pooling gap above ``margin``; ``every_window`` also requires each window's maximum to be
    positive (so that a1 itself can be perturbed meaningfully with relu)."""
    for s in range(seed, seed + 500):
        rng = np.random.default_rng(s)
        X, y = cnn6.make_dataset(1 if n is None else n, rng)
        if n is None:
            X, y = X[0], int(y[0])
        params = random_params(rng)
        trace = cnn6.forward(params, X, y, activation)
        z_margin, gap_margin = margins(trace)
        positive = np.all(trace.a2 > margin) if every_window else True
        if z_margin > margin and gap_margin > margin and positive:
            return params, X, y
    raise AssertionError("no safe case found")


# --------------------------------------------------------------------------- the built book
# Built once per test run and shared by every test that needs it (book build, browser, PDF),
# across pytest-xdist workers too: the first worker to ask builds, under a lock, the others
# read what it left. Marked tests only (``book``), so `make check` never builds.
BOOK_COPY_IGNORE = (
    ".git",
    ".venv",
    ".venv-*",
    "_build",
    "dist",
    "node_modules",
    ".ipynb_checkpoints",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    "*.egg-info",
)


@dataclass(frozen=True)
class BuiltBook:
    """A copy of the repository (``source``) and its HTML build (``html``), made by
    ``jupyter-book build -W -n --keep-going``, with that command's return code and output."""

    source: Path
    html: Path
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def built_book(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> BuiltBook:
    """The book built from a copy of the repository, so that no test reads a stale
    ``_build`` or races ``make book``; once per run, whatever the number of workers."""
    base = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # the workers of one run share their parent folder
        base = base.parent
    shared = base / "built_book"
    shared.mkdir(exist_ok=True)
    record = shared / "build.json"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not record.is_file():
            record.write_text(json.dumps(_build_book(shared / "cnn6")), encoding="utf-8")
    done = json.loads(record.read_text(encoding="utf-8"))
    source = shared / "cnn6"
    return BuiltBook(source=source, html=source / "_build" / "html", **done)


def _build_book(source: Path) -> dict:
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    if not jupyter_book.is_file():
        pytest.fail(f"jupyter-book is not installed beside {sys.executable}")
    if not (ROOT / "_vendor" / ".installed").is_file():
        pytest.fail("_vendor is missing: run `make vendor` (the book's browser assets, from npm)")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*BOOK_COPY_IGNORE))
    result = subprocess.run(
        [str(jupyter_book), "build", str(source), "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    return {"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}
