"""Assignment a2: max-pool's forward pass, ``maxpool2d_forward(a, size, stride)``."""

from __future__ import annotations

import numpy as np

from .. import naive, network
from ..example import running_example
from .harness import (
    Case,
    Task,
    Variant,
    as_array,
    diagnose,
    diff_lines,
    each_image,
    entries,
    expect,
    fail,
    run,
    unpack,
    window_values,
)
from .hints import HINTS


def _pool(a, size, stride):
    """The reference: the book's loops (:func:`cnn6.naive.maxpool2d`), image by image."""
    return each_image(lambda image: naive.maxpool2d(image, size, stride), a)


def _pool_with(a, size, stride, reduce, step=None):
    values, _, shape = window_values(a, size, stride, step)
    return reduce(values).reshape(shape)


def last_argmax(values):
    """The position of the last maximum along the last axis."""
    return values.shape[-1] - 1 - values[..., ::-1].argmax(-1)


def _idx_with(a, size, stride, pick, convert=None):
    """pool_idx chosen by ``pick`` (window values -> position in window), converted by
    ``convert(flat, local, a)`` (default: the flat index of that position in the input)."""
    values, idx, shape = window_values(a, size, stride)
    local = pick(values)
    flat = idx[np.arange(idx.shape[0]), local]
    result = flat if convert is None else convert(flat, local, a)
    return np.asarray(result).reshape(shape)


def _flat_to(fn):
    def convert(flat, local, a):
        h, w = a.shape[-2:]
        return fn(flat // w, flat % w, h, w)

    return convert


def _batch_offset(flat, local, a):
    if a.ndim != 3:
        return flat
    n = a.shape[0]
    offset = (np.arange(n) * a.shape[-2] * a.shape[-1]).reshape((n,) + (1,) * (flat.ndim - 1))
    return flat.reshape((n,) + flat.shape[-1:]) + offset


def _first(values):
    return values.argmax(-1)


OUT_VARIANTS: list[Variant] = [
    ("pool_step_by_size", lambda a, s, t: _pool_with(a, s, t, lambda v: v.max(-1), step=s)),
    ("pool_step_by_size", lambda a, s, t: _pool_with(a, s, s, lambda v: v.max(-1))),
    ("pool_ignore_stride", lambda a, s, t: _pool(a, s, 1)[0]),
    ("pool_abs", lambda a, s, t: _pool(np.abs(a), s, t)[0]),
    ("pool_start_at_zero", lambda a, s, t: np.maximum(_pool(a, s, t)[0], 0.0)),
    ("pool_min", lambda a, s, t: -_pool(-a, s, t)[0]),
    ("pool_mean", lambda a, s, t: _pool_with(a, s, t, lambda v: v.mean(-1))),
    ("pool_transposed", lambda a, s, t: np.swapaxes(_pool(a, s, t)[0], -1, -2)),
]

IDX_VARIANTS: list[Variant] = [
    ("pool_idx_last_tie", lambda a, s, t: _idx_with(a, s, t, last_argmax)),
    ("pool_idx_local", lambda a, s, t: _idx_with(a, s, t, _first, lambda flat, local, a: local)),
    (
        "pool_idx_uses_h",
        lambda a, s, t: _idx_with(a, s, t, _first, _flat_to(lambda r, c, h, w: r * h + c)),
    ),
    (
        "pool_idx_column_major",
        lambda a, s, t: _idx_with(a, s, t, _first, _flat_to(lambda r, c, h, w: c * h + r)),
    ),
    ("pool_idx_batch_offset", lambda a, s, t: _idx_with(a, s, t, _first, _batch_offset)),
]


def _size_rule(got, expected, args):
    if args[0].ndim == 3 and got.shape != expected.shape and got.shape == expected.shape[1:]:
        return HINTS["pool_batch"]
    if got.ndim == expected.ndim and got.shape != expected.shape:
        oh, ow = expected.shape[-2:]
        return HINTS["pool_output_size"].format(
            got=entries(got.shape), oh=oh, ow=ow, want=entries(expected.shape)
        )
    return None


TASK = Task(
    "maxpool2d_forward",
    allowed=(),
    allowed_text="numpy (slices, np.max, np.argmax, np.unravel_index) is all it takes",
    batch_hint="pool_batch",
)

TIES = np.array(
    [[1.0, 3.0, 0.0, 2.0], [3.0, 0.0, 1.0, 1.0], [4.0, 0.0, 2.0, 5.0], [1.0, 4.0, 5.0, 0.0]]
)
TIES3 = np.array(
    [[2.0, 2.0, 1.0, 2.0], [0.0, 2.0, 2.0, 0.0], [2.0, 1.0, 2.0, 2.0], [1.0, 2.0, 0.0, 2.0]]
)


def cases(hidden: bool, seed: int):
    """(public cases, hidden cases); the hidden ones are drawn partly from ``seed``."""
    x, y, params = running_example()
    a1 = network.forward(params, x).a1
    gaps = np.array(
        [
            [3.0, 1.0, 0.0, 2.0, 6.0],
            [0.0, 2.0, 1.0, 7.0, 1.0],
            [4.0, 0.0, 9.0, 8.0, 0.0],
            [1.0, 5.0, 3.0, 0.0, 2.0],
            [2.0, 6.0, 1.0, 4.0, 3.0],
        ]
    )
    public = [
        ("a1 of the running example", a1, 2, 2),
        ("windows with tied maxima", TIES, 2, 2),
        ("size 2, stride 3: gaps between the windows", gaps, 2, 3),
    ]
    hidden_cases = []
    if hidden:
        rng = np.random.default_rng(seed)
        overlap = np.array([[1.0, 2.0, 0.0, 1.0], [0.0, 9.0, 3.0, 2.0], [4.0, 1.0, 2.0, 8.0]])
        negative = -rng.uniform(0.5, 3.0, (6, 6))
        negative[0, 0] = negative[0, 1] = -0.25  # a tie among negative values
        hidden_cases = [
            ("overlapping windows (size 2, stride 1)", overlap, 2, 1),
            ("overlapping windows with ties (size 3, stride 1)", TIES3, 3, 1),
            ("negative values only, with a tie", negative, 2, 2),
            ("a batch of 3", rng.normal(size=(3, 4, 4)), 2, 2),
            ("a non-square input, size 3, stride 2", rng.normal(size=(5, 8)), 3, 2),
            ("a batch of non-square inputs (size 2, stride 2)", rng.normal(size=(2, 4, 6)), 2, 2),
        ]
    out = []
    for i, (name, a, size, stride) in enumerate(public + hidden_cases):
        show = {"a": a, "size": size, "stride": stride}
        out.append(Case(name, (a, size, stride), show, hidden=i >= len(public), batch=a.ndim == 3))
    return out[: len(public)], out[len(public) :]


def judge(case, got):
    what = TASK.what
    out, idx = unpack(got, what, case, "(out, pool_idx)", "tuple_out_idx")
    expected_out, expected_idx = _pool(*case.args)
    expect(
        what,
        case,
        out,
        "out",
        expected_out,
        OUT_VARIANTS,
        "take np.max of each window a[r:r + size, c:c + size], with "
        "r = i * stride and c = j * stride.",
        [_size_rule],
    )
    idx = as_array(idx, what, case, "pool_idx", integer=True)
    if idx.shape != expected_idx.shape:
        hint = HINTS["pool_idx_shape"] if idx.ndim == expected_idx.ndim + 1 else None
        fail(what, case, diff_lines("pool_idx", expected_idx, idx), hint)
    if not np.array_equal(idx, expected_idx):
        hint = diagnose(idx, expected_idx, IDX_VARIANTS, case.args)
        fail(
            what,
            case,
            diff_lines("pool_idx", expected_idx, idx, digits=0),
            hint
            or "pool_idx[i, j] is r * W + c for the row r and column c of the "
            "maximum of window (i, j) in a.",
        )
    if idx.dtype.kind not in "iu":
        fail(what, case, [f"pool_idx has dtype {idx.dtype}."], HINTS["pool_idx_dtype"])


def check_maxpool2d_forward(student_fn, hidden=False, seed=None, part=None) -> None:
    """Check ``student_fn(a, size, stride)``, max-pool's forward pass, against the book's loops
    (:func:`cnn6.naive.maxpool2d`).

    The student's function takes a (H, W) or (n, H, W) and returns ``(out, pool_idx)``: out
    of shape (OH, OW) or (n, OH, OW), OH = (H - size) // stride + 1, the maximum of each
    window; pool_idx, integers of the same shape, the position of each maximum in ``a``
    flattened row-major over its last two axes (row * W + column), the first maximum in
    row-major order when several tie. hidden=True adds overlapping windows, ties, negative
    values, batches and non-square inputs. A function that calls the engine's max-pool (or
    the network's forward pass) fails.
    """
    run(TASK, student_fn, hidden, seed, cases, judge, part)
