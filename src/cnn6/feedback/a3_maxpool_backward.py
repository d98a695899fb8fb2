"""Assignment a3: max-pool's backward pass, ``maxpool2d_backward(dout, a, size, stride)``.

The student's function takes the forward input ``a`` (and finds the maxima itself), unlike the
engine's ``cnn6.maxpool2d_backward(dout, pool_idx, input_shape)``, which is handed them.
"""

from __future__ import annotations

import numpy as np

from .. import naive, network
from ..example import running_example
from .a2_maxpool_forward import TIES, TIES3, last_argmax
from .harness import Case, Task, Variant, each_image, entries, expect, run, window_values
from .hints import HINTS

BATCH_SECOND = np.array(  # no maximum where TIES has its first one
    [[0.0, 1.0, 2.0, 0.5], [3.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.5], [0.0, 2.5, 0.5, 0.0]]
)


def route(dout, a, size, stride, pick=None, mode="add", step=None):
    """Send each window's dout to the position ``pick`` chooses (default: the first max).

    mode "add" accumulates, "set" overwrites (later windows win), "spread" sends dout to
    every position of the window, "average" dout / size**2 to every position, "ones" 1.
    """
    values, idx, shape = window_values(a, size, stride, step)
    n = a.shape[0] if a.ndim == 3 else 1
    plane = a.shape[-2] * a.shape[-1]
    values = values.reshape((n,) + values.shape[-2:])
    d = np.asarray(dout, dtype=np.float64).reshape(n, -1)
    da = np.zeros((n, plane))
    local = values.argmax(-1) if pick is None else pick(values)  # (n, P)
    for s in range(n):
        for p in range(idx.shape[0]):
            if mode == "spread":
                da[s, idx[p]] += d[s, p]
            elif mode == "average":
                da[s, idx[p]] += d[s, p] / idx.shape[1]
            else:
                target = idx[p, local[s, p]]
                value = 1.0 if mode == "ones" else d[s, p]
                if mode == "set":
                    da[s, target] = value
                else:
                    da[s, target] += value
    return da.reshape(a.shape)


def route_mixed(dout, a, size, stride):
    """A batch routed with ``da[..., r + u, c + v] += dout[..., i, j]`` inside a loop over the
    images: image k receives its dout at the maxima of every image m of the batch."""
    if a.ndim != 3:
        raise ValueError("a batch only")
    return np.stack([sum(route(d, image, size, stride) for image in a) for d in dout])


VARIANTS: list[Variant] = [
    ("route_batch_mixed", route_mixed),
    ("route_last_tie", lambda d, a, s, t: route(d, a, s, t, pick=last_argmax)),
    ("route_overwrite", lambda d, a, s, t: route(d, a, s, t, mode="set")),
    ("route_spread", lambda d, a, s, t: route(d, a, s, t, mode="spread")),
    ("route_average", lambda d, a, s, t: route(d, a, s, t, mode="average")),
    ("route_ones", lambda d, a, s, t: route(d, a, s, t, mode="ones")),
    ("pool_step_by_size", lambda d, a, s, t: route(d, a, s, t, step=s)),
    ("route_top_left", lambda d, a, s, t: route(d, a, s, t, pick=lambda v: 0 * v.argmax(-1))),
]


def _shape(got, expected, args):
    if got.shape != expected.shape:
        if args[1].ndim == 3 and got.shape == expected.shape[1:]:
            return HINTS["pool_batch"]
        return HINTS["route_shape"].format(want=entries(expected.shape), got=entries(got.shape))
    return None


def _not_max(got, expected, args):
    stray = (got != 0) & (expected == 0)
    return HINTS["route_not_max"] if stray.any() else None


RULES = (_shape, _not_max)

TASK = Task(
    "maxpool2d_backward",
    allowed=("maxpool2d_forward",),
    allowed_text="numpy, and cnn6.maxpool2d_forward (or your own from assignment 2) to find "
    "the maxima; the routing of the gradient is yours to write",
    batch_hint="pool_batch",
    parts=("single", "batch", "overlap"),
)


def cases(hidden: bool, seed: int):
    """(public cases, hidden cases); the hidden ones are drawn partly from ``seed``."""
    x, y, params = running_example()
    trace = network.forward(params, x, y)
    grads = network.backward(params, trace, y)
    public = [
        ("the running example: da2 back through the max-pool of a1", grads.da2, trace.a1, 2, 2),
        ("windows with tied maxima", np.array([[1.0, -2.0], [0.5, 3.0]]), TIES, 2, 2),
        (
            "a batch of 2 images, their maxima in different places",
            np.array([[[1.0, -2.0], [0.5, 3.0]], [[-1.5, 2.5], [4.0, -0.5]]]),
            np.stack([TIES, BATCH_SECOND]),
            2,
            2,
        ),
    ]
    hidden_cases = []
    if hidden:
        rng = np.random.default_rng(seed + 1)
        shared = np.array([[1.0, 2.0, 0.0], [0.0, 9.0, 3.0], [4.0, 1.0, 2.0]])
        negative = -rng.uniform(0.5, 3.0, (4, 4))
        negative[2, 2] = negative[2, 3] = -0.25
        hidden_cases = [  # (part, name, dout, a, size, stride)
            (
                "overlap",
                "overlapping windows sharing one maximum (size 2, stride 1)",
                np.array([[1.0, 2.0], [3.0, -4.0]]),
                shared,
                2,
                1,
            ),
            (
                "overlap",
                "overlapping windows with ties (size 3, stride 1)",
                np.array([[1.0, 2.0], [-3.0, 0.5]]),
                TIES3,
                3,
                1,
            ),
            ("single", "negative values only, with a tie", rng.normal(size=(2, 2)), negative, 2, 2),
            ("batch", "a batch of 3", rng.normal(size=(3, 2, 2)), rng.normal(size=(3, 4, 4)), 2, 2),
            (
                "single",
                "a non-square input, size 2, stride 3",
                rng.normal(size=(1, 2)),
                rng.normal(size=(2, 6)),
                2,
                3,
            ),
            (
                "batch",
                "a batch of non-square inputs, size 3, stride 2",
                rng.normal(size=(2, 2, 3)),
                rng.normal(size=(2, 5, 7)),
                3,
                2,
            ),
        ]
    out = []
    for i, (part, name, dout, a, size, stride) in enumerate(
        [("", *c) for c in public] + hidden_cases
    ):
        show = {"dout": dout, "a": a, "size": size, "stride": stride}
        hidden_case = i >= len(public)
        out.append(
            Case(name, (dout, a, size, stride), show, hidden_case, a.ndim == 3, part or "public")
        )
    return out[: len(public)], out[len(public) :]


def _reference(dout, a, size, stride):
    """The book's loops (:mod:`cnn6.naive`), image by image: the maxima, then the routing."""

    def one(d, image):
        return naive.maxpool2d_backward(d, naive.maxpool2d(image, size, stride)[1], image.shape)

    return each_image(one, dout, a)


def judge(case, got):
    expect(
        TASK.what,
        case,
        got,
        "da",
        _reference(*case.args),
        VARIANTS,
        "da[r, c] is the sum of dout[i, j] over the windows (i, j) whose maximum "
        "is at (r, c); zero where no window's maximum is.",
        RULES,
    )


def check_maxpool2d_backward(student_fn, hidden=False, seed=None, part=None) -> None:
    """Check ``student_fn(dout, a, size, stride)``, max-pool's backward pass.

    The student's function takes dout (the gradient of the loss w.r.t. the pooled output,
    (OH, OW) or (n, OH, OW)) and the forward input a ((H, W) or (n, H, W)) with the window
    size and stride, and returns da of a's shape: each window's dout added at the position
    of its maximum (the first in row-major order on a tie), zeros elsewhere. The reference is
    the book's loops, :func:`cnn6.naive.maxpool2d_backward` fed with the pool_idx of
    :func:`cnn6.naive.maxpool2d` (the engine's :func:`cnn6.maxpool2d_backward` has another
    signature: it is handed the positions of the maxima).
    hidden=True adds overlapping windows (one position winning several windows), ties,
    negative values, batches and non-square inputs; ``part`` ("single", "batch" or "overlap",
    with hidden=True) runs only that group of hidden cases, as the graded notebook does. The
    student's function may call
    cnn6.maxpool2d_forward; one that calls the engine's max-pool backward (or the network's
    backward pass) fails.
    """
    run(TASK, student_fn, hidden, seed, cases, judge, part)
