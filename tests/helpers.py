"""Helpers shared by the test modules (imported as ``from helpers import ...``).

- What a copy of the repository for a test build leaves out (``COPY_PATTERNS``).
- For the display tests: the book's animations of the running example, drawn once per test
  process (``animations``), as drawing them is most of the fast path's time.
- For the engine tests: a finite-difference gradient, the relative error, and the naive
  implementation of the whole network (``cnn6.naive``) in the form they use. These are the
  independent references the engine is compared against; only the helpers that pick safe
  cases (no kink or max-pool tie within reach of eps) call the engine, to measure margins.
"""

import functools

import numpy as np

import cnn6
from cnn6 import naive

# What a copy of the repository for a test build leaves out: version control, virtual
# environments, build outputs and caches.
COPY_PATTERNS = (
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


# The relative error the brief allows between an analytic gradient and central differences.
TOLERANCE = 1e-7


def rel_error(a, b) -> float:
    """max|a - b| / max(1e-8, max(|a| + |b|)), as in CS231n's gradient check."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b)) / max(1e-8, float(np.max(np.abs(a) + np.abs(b)))))


# Central differences with eps = 1e-6 carry a rounding error of about 1e-16 * |f| / 1e-6 per
# entry, some 1e-10 for losses of order one: a gradient entry near 1e-3 (which random inputs
# give) cannot be matched to TOLERANCE relatively. A wrong formula misses by far more.
FD_ATOL = 1e-9


def agrees_with_differences(analytic, numeric) -> bool:
    """True when an analytic gradient matches central differences (``finite_diff``): a
    relative error of at most TOLERANCE, or every entry within FD_ATOL, the differences' own
    rounding error."""
    gap = np.max(np.abs(np.asarray(analytic, dtype=np.float64) - numeric))
    return rel_error(analytic, numeric) <= TOLERANCE or bool(gap <= FD_ATOL)


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
def naive_network(params, X, y, activation="relu"):
    """cnn6.naive's forward and backward, in one dict of the book's names: the independent
    reference (plain loops from the book's formulas) that the engine is compared with."""
    values = naive.forward(params, X, y, activation)
    return values | naive.backward(params, values, y)


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


@functools.cache
def animations():
    """The four animations the book shows, on the running example, with small frames (dpi 30):
    {"convolution", "kernel gradient", "max-pool", "max-pool backward": JSAnimation}. Drawn
    once per test process; the modules that use them are kept on one pytest-xdist worker
    (``xdist_group("animations")``) so that they are drawn once in all."""
    from cnn6.view import animation

    x, y, params = cnn6.running_example()
    trace = cnn6.forward(params, x, y)
    grads = cnn6.backward(params, trace, y)
    return {
        "convolution": animation.animate_convolution(x, params.kernel, params.conv_bias, dpi=30),
        "kernel gradient": animation.animate_kernel_gradient(x, grads.dz1, dpi=30),
        "max-pool": animation.animate_maxpool(trace.a1, dpi=30),
        "max-pool backward": animation.animate_maxpool(trace.a1, grads.da2, dpi=30),
    }
