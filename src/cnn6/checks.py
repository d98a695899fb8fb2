"""Feedback checks for the coursework: run a student's function, compare it with the engine,
and say what went wrong in words a learner can act on.

Each ``check_*`` function takes the student's function, runs it on the public cases (and,
with ``hidden=True``, on cases the notebook does not show: batches, non-square shapes,
overlapping windows, ties, negative values, drawn partly from ``seed``), and compares every
result with the engine's. The first case that fails raises an ``AssertionError`` that names
the case and its inputs, the first entry that differs (expected vs got, printed with
:func:`cnn6.fmt`) and a hint. The hint comes from comparing the student's result with the
results of the usual mistakes (a window never summed, a flipped kernel, windows stepped by
their size, the gradient routed to the last of two tied maxima, the activation used instead
of its slope, ...): when one of them matches, the hint names it. A function that still
raises ``NotImplementedError`` gets a plain "not implemented yet". When every case passes,
the check prints one line, e.g. ``conv2d_forward: all 3 public checks passed.``

This is the coursework layer: it reads the numerical core and is never imported by it.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import layers, network
from .example import running_example
from .network import Params
from .view.display import fmt

__all__ = [
    "DEFAULT_SEED",
    "check_conv2d_forward",
    "check_conv2d_kernel_grad",
    "check_maxpool2d_backward",
    "check_maxpool2d_forward",
    "check_relu_backward",
    "check_training_step",
]

DEFAULT_SEED = 2026
RTOL, ATOL = 1e-6, 1e-9  # loose enough for any summation order, tight enough for any mistake

# The hints, named so that tests (and teachers) can refer to them.
HINTS = {
    # convolution forward
    "conv_no_sum": (
        "you multiply element-wise but never sum the window: each z[i, j] is ONE number, the "
        "sum of the kh * kw products x[i*stride + u, j*stride + v] * K[u, v] (np.sum(window * "
        "kernel)), plus the bias."
    ),
    "conv_flip": (
        "did you flip the kernel? The network uses cross-correlation: the kernel is laid on "
        "the window as it is, K[0, 0] on the window's top-left pixel, not rotated by 180 degrees."
    ),
    "conv_kernel_transposed": (
        "you used K[v, u] instead of K[u, v]: the kernel's rows go down the window and its "
        "columns across, like the image's."
    ),
    "conv_no_bias": "you forgot the bias: add it once to every window's sum.",
    "conv_bias_per_product": (
        "you added the bias to each of the kh * kw products; add it once per window, after the sum."
    ),
    "conv_mean": "you averaged the window (np.mean); the convolution sums the products.",
    "conv_ignore_stride": (
        "you ignored stride: window (i, j) starts at row i * stride and column j * stride, "
        "and there are (H - kh) // stride + 1 windows down and (W - kw) // stride + 1 across."
    ),
    "conv_no_stride_offset": (
        "your windows are one pixel apart: window (i, j) starts at row i * stride and column "
        "j * stride, not at (i, j)."
    ),
    "conv_transposed": (
        "rows and columns of your output are swapped: z[i, j] is the window starting at row "
        "i * stride and column j * stride."
    ),
    "conv_output_size": (
        "your output has shape {got}: the output size is (H - kh) // stride + 1 = {oh} rows by "
        "(W - kw) // stride + 1 = {ow} columns, so expected {want}."
    ),
    "batch": (
        "this case is a batch of images, shape (n, H, W), and should give (n, ...): work on the "
        "last two axes (x[..., r:r + kh, c:c + kw], sums over axis=(-2, -1)) so that one image "
        "and a batch both work."
    ),
    # max-pool forward
    "pool_step_by_size": (
        "you step windows by size, not stride: window (i, j) starts at row i * stride and "
        "column j * stride, and there are (H - size) // stride + 1 windows per column."
    ),
    "pool_ignore_stride": (
        "you ignored stride: your windows are one pixel apart (that is the 3x3 of the original "
        "notebook's table); with size 2 and stride 2 a 4x4 input gives 2x2."
    ),
    "pool_output_size": (
        "your output has shape {got}: the output size is (H - size) // stride + 1 = {oh} rows "
        "by (W - size) // stride + 1 = {ow} columns, so expected {want}."
    ),
    "pool_abs": (
        "you took the largest absolute value; max-pool keeps the largest value, and a negative "
        "maximum stays negative."
    ),
    "pool_start_at_zero": (
        "you started the running maximum at 0: when every value of a window is negative the "
        "maximum is negative too. Start from the window's first value, or use np.max."
    ),
    "pool_min": "you took the smallest value of each window; max-pool keeps the largest.",
    "pool_mean": "you averaged each window (average pooling); max-pool keeps the largest value.",
    "pool_transposed": (
        "rows and columns of your output are swapped: out[i, j] is the window starting at row "
        "i * stride and column j * stride."
    ),
    "pool_idx_last_tie": (
        "your pool_idx points to the last maximum of a tied window; the book's rule is the "
        "first in row-major order (np.argmax does that; in a loop, replace the best only on a "
        "strictly greater value)."
    ),
    "pool_idx_local": (
        "your pool_idx holds the position inside the window (0 to size * size - 1); the book's "
        "pool_idx is the position in the whole input flattened row-major: row * W + column."
    ),
    "pool_idx_uses_h": (
        "you computed row * H + column; the flat index is row * W + column, W being the number "
        "of columns (they differ when the input is not square)."
    ),
    "pool_idx_column_major": (
        "you flattened column by column (column * H + row); the book flattens row-major: "
        "row * W + column."
    ),
    "pool_idx_batch_offset": (
        "your pool_idx counts across the whole batch; it counts within each image, from 0 to "
        "H * W - 1: row * W + column."
    ),
    "pool_idx_shape": (
        "pool_idx holds ONE integer per window (the shape of out), the flat index "
        "row * W + column of the window's maximum, not a (row, column) pair."
    ),
    "pool_idx_dtype": (
        "pool_idx must hold integers (they index an array): create it with "
        "np.zeros(shape, dtype=int), or convert with .astype(int)."
    ),
    "tuple_out_idx": "return a tuple (out, pool_idx): the pooled values and where each came from.",
    # max-pool backward
    "route_last_tie": (
        "your gradient goes to the last maximum of a tied window; the book's rule is the first "
        "in row-major order (the one np.argmax picks)."
    ),
    "route_spread": (
        "you sent dout to every position of the window; max-pool sends each window's gradient "
        "only to the position of its maximum, and zeros elsewhere."
    ),
    "route_average": (
        "you spread dout / (size * size) over the window: that is average-pool's gradient. "
        "Max-pool sends all of it to the window's maximum."
    ),
    "route_ones": (
        "you put 1 at each maximum: put the window's incoming gradient dout[i, j] there "
        "(the max passes its input through with slope 1, times dout)."
    ),
    "route_overwrite": (
        "two overlapping windows chose the same position and you kept only one of their "
        "gradients: add them (da[r, c] += dout[i, j]), do not overwrite (=)."
    ),
    "route_top_left": (
        "the gradient went to the top-left of each window; it goes to the position of the "
        "window's maximum."
    ),
    "route_not_max": (
        "the gradient went to a position that is not the window's maximum: da is zero "
        "everywhere except at the position each window's maximum came from."
    ),
    "route_shape": "da has the shape of the forward input a, {want}; got {got}.",
    # ReLU backward
    "relu_times_activation": (
        "you multiplied by the activation a1 = max(0, z1) instead of the indicator [z1 > 0]: "
        "the ReLU's slope is 1 wherever z > 0, however large z is."
    ),
    "relu_indicator_only": "you returned the indicator [z > 0] alone: multiply it by dout.",
    "relu_at_zero": ("at z = 0 the book takes the ReLU's derivative as 0: test z > 0, not z >= 0."),
    "relu_gate_on_dout": (
        "you tested the sign of dout; the ReLU lets the gradient through where its forward "
        "input z was positive, whatever the sign of dout."
    ),
    "relu_pass_all": "the gradient passed everywhere: set it to zero where z <= 0.",
    "relu_forward": (
        "you returned max(0, z), the forward pass; the backward pass is dout * [z > 0]."
    ),
    "relu_sign": "the sign is wrong: dz = +dout * [z > 0].",
    "relu_inverted": (
        "the gate is inverted: the gradient passes where z > 0 and stops where z <= 0."
    ),
    # kernel gradient
    "kgrad_flip": (
        "did you flip dz? dK = x ⋆ dz is a cross-correlation, the same operation as the "
        "forward pass: dK[u, v] = sum over i, j of x[i + u, j + v] * dz[i, j]."
    ),
    "kgrad_transposed": (
        "rows and columns of dK are swapped: dK[u, v] pairs x[i + u, j + v] with dz[i, j]."
    ),
    "kgrad_no_batch_sum": (
        "the kernel is shared by every image of the batch: sum the per-image gradients, so that "
        "dK has the kernel's shape."
    ),
    "kgrad_batch_mean": (
        "you averaged over the batch; the deltas dz already carry the 1/n of the mean loss, "
        "so sum the per-image gradients."
    ),
    "kgrad_no_slide": (
        "you multiplied x by dz entry by entry but did not slide dz over x: dK has the kernel's "
        "shape (H - OH + 1, W - OW + 1), one entry per offset (u, v)."
    ),
    "kgrad_shape": ("dK has the kernel's shape (H - OH + 1, W - OW + 1) = {want}; got {got}."),
    "bgrad_sum_input": (
        "you summed the input instead of the delta (the original notebook's mistake): the "
        "bias is added to every window, so its gradient is the sum of dz."
    ),
    "bgrad_mean": "you averaged dz; the bias is added once per window, so its gradient is the sum.",
    "bgrad_no_batch_sum": "the bias is one number: sum dz over the whole batch too.",
    "bgrad_not_scalar": "the bias is one number: its gradient is dz summed over all its entries.",
    "tuple_dk_db": "return a tuple (dkernel, dbias): the kernel's gradient and the bias's.",
    # training step
    "step_ascent": (
        "the loss went up: you added the gradient (ascent). Gradient descent moves against it: "
        "new = params - lr * grad (or dz4 has the wrong sign: it is a4 - y)."
    ),
    "step_unchanged": "the parameters did not change: new = params - lr * grad.",
    "step_overwrite": (
        "you overwrote the parameters with the (scaled) gradient; the step changes them: "
        "new = params - lr * grad."
    ),
    "step_no_mean": (
        "your step is n times too large: the loss is the mean over the batch, so "
        "dz4 = (a4 - y) / n."
    ),
    "step_no_lr": "you forgot the learning rate: new = params - lr * grad.",
    "step_lr_twice": "you multiplied by the learning rate twice: new = params - lr * grad.",
    "dz4_bce": (
        "dz4 should be a4 - y (divided by n for a batch): the derivative of the loss through "
        "the sigmoid, not the loss times the sigmoid's slope."
    ),
    "dw_a4": "dw uses a4 instead of a3: dL/dw = dz4 * a3 (summed over the batch).",
    "dw_w": "dL/dw = dz4 * a3; dz4 * w is da3, the gradient passed down to the max-pool.",
    "dk_skip_gate": (
        "dK uses da1 instead of dz1: you skipped the ReLU's gate, dz1 = da1 * [z1 > 0], "
        "before correlating with x."
    ),
    "dk_times_activation": (
        "you multiplied da1 by the activation a1 instead of the indicator [z1 > 0] (the "
        "original notebook's mistake): dz1 = da1 * [z1 > 0]."
    ),
    "dk_with_a1": "you correlated x with a1 instead of dz1: dK = x ⋆ dz1.",
    "dk_flip": "dK = x ⋆ dz1 is a cross-correlation, as in the forward pass; you flipped dz1.",
    "dk_route_spread": (
        "max-pool's backward sends da2 only to the position of each window's maximum; you "
        "spread it over the whole window."
    ),
    "db_sum_input": (
        "the conv-bias gradient summed the input instead of the delta (the original notebook's "
        "mistake): dL/db_c = sum of dz1."
    ),
    "not_params": (
        "return a cnn6.Params with the new parameters, e.g. "
        "cnn6.Params(kernel, conv_bias, weights, fc_bias)."
    ),
}


# --------------------------------------------------------------------------- cases
@dataclass
class _Case:
    """One run of the student's function: its arguments and what to say about them."""

    name: str
    args: tuple
    show: dict  # argument name -> value, to describe the inputs in a failure message
    hidden: bool = False
    batch: bool = False


def _check_callable(fn, name: str) -> None:
    if not callable(fn):
        raise TypeError(
            f"{name}: expected a function (the one you wrote, passed without calling it, e.g. "
            f"check(conv2d_forward)), got {type(fn).__name__} {fn!r:.60}"
        )


def _check_options(hidden, seed) -> int:
    if not isinstance(hidden, (bool, np.bool_)):
        raise TypeError(f"hidden: expected True or False, got {type(hidden).__name__} {hidden!r}")
    if seed is None:
        return DEFAULT_SEED
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed: expected an integer or None, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed}")
    return int(seed)


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, Params):
        return Params(value.kernel.copy(), value.conv_bias, value.weights.copy(), value.fc_bias)
    return value


# --------------------------------------------------------------------------- messages
def _grid(a: np.ndarray, digits: int) -> list[str]:
    """A 0-, 1- or 2-d array as lines of right-aligned numbers."""
    a = np.atleast_2d(a)
    cells = [[fmt(v, digits) for v in row] for row in a]
    width = max(len(c) for row in cells for c in row)
    return ["  ".join(c.rjust(width) for c in row) for row in cells]


def _side_by_side(blocks: Sequence[tuple[str, list[str]]]) -> list[str]:
    widths = [max(len(title), *(len(line) for line in lines)) for title, lines in blocks]
    height = max(len(lines) for _, lines in blocks)
    out = ["    " + "      ".join(t.ljust(w) for (t, _), w in zip(blocks, widths, strict=True))]
    for r in range(height):
        row = [
            (lines[r] if r < len(lines) else "").ljust(w)
            for (_, lines), w in zip(blocks, widths, strict=True)
        ]
        out.append(("    " + "      ".join(row)).rstrip())
    return out


def _digits(a: np.ndarray) -> int:
    return 0 if a.dtype.kind in "iub" else 4


def _input_digits(a: np.ndarray) -> int:
    """Inputs: whole numbers with one decimal (they read as typed), others with four."""
    if a.dtype.kind in "iub":
        return 0
    return 1 if np.all(a == np.round(a)) else 4


def _describe_inputs(case: _Case) -> list[str]:
    lines = []
    for name, value in case.show.items():
        if isinstance(value, Params):
            lines.append(f"  {name}: {value!r}".replace("\n", " "))
        elif isinstance(value, np.ndarray) and value.ndim >= 1:
            if value.ndim <= 2 and value.size <= 36:
                lines.append(f"  {name} {value.shape}:")
                lines.extend("    " + line for line in _grid(value, _input_digits(value)))
            else:
                lines.append(f"  {name}: an array of shape {value.shape}")
        elif isinstance(value, (float, np.floating)):
            lines.append(f"  {name} = {fmt(value)}")
        else:
            lines.append(f"  {name} = {value!r}")
    return lines


def _message(what: str, case: _Case, lines: list[str], hint: str | None) -> str:
    kind = "hidden case" if case.hidden else "case"
    text = [f"{what}: the {kind} {case.name!r} fails.", "Inputs:", *_describe_inputs(case)]
    text += lines
    if hint:
        text.append(f"Hint: {hint}")
    return "\n".join(text)


def _raise(text: str, cause: BaseException | None = None) -> None:
    """The one place a failed check raises (the last frame a notebook's traceback shows)."""
    raise AssertionError(text) from cause


def _fail(what: str, case: _Case, lines: list[str], hint: str | None) -> None:
    __tracebackhide__ = True  # noqa: F841 (IPython and pytest hide this frame)
    _raise(_message(what, case, lines, hint))


def _index_text(index: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _diff_lines(label: str, expected: np.ndarray, got: np.ndarray, digits=None) -> list[str]:
    """Where ``got`` differs from ``expected``: the shape, or the first differing entry."""
    if got.shape != expected.shape:
        return [f"{label}: expected shape {expected.shape}, got shape {got.shape}."]
    if expected.ndim == 0:
        return [
            f"{label} differs: expected {fmt(expected, _digits(expected))}, "
            f"got {fmt(got, _digits(expected))}."
        ]
    bad = ~np.isclose(got, expected, rtol=RTOL, atol=ATOL)
    first = tuple(np.argwhere(bad)[0])
    if digits is None:
        digits = max(_digits(expected), 0 if got.dtype.kind in "iub" else 4)
    lines = [
        f"{label}{_index_text(first)} differs: expected {fmt(expected[first], digits)}, "
        f"got {fmt(got[first], digits)} ({int(bad.sum())} of {bad.size} entries differ)."
    ]
    exp, gt, where = expected, got, ""
    if expected.ndim == 3:  # show the image of the batch where the first difference is
        exp, gt, where = expected[first[0]], got[first[0]], f" (image {first[0]} of the batch)"
    if exp.ndim <= 2 and exp.size <= 36:
        lines.append(f"{label}{where}:")
        lines += _side_by_side([("expected", _grid(exp, digits)), ("got", _grid(gt, digits))])
    return lines


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


def _as_array(got, what: str, case: _Case, label: str, integer: bool = False) -> np.ndarray:
    __tracebackhide__ = True  # noqa: F841
    if got is None:
        _fail(
            what,
            case,
            [f"{label}: your function returned None."],
            "did you forget the `return` line at the end of the function?",
        )
    try:
        arr = np.asarray(got)
    except Exception:  # ragged lists and the like
        arr = np.asarray(None)
    if arr.dtype == bool:
        arr = arr.astype(np.float64)
    if arr.dtype.kind not in "iuf":
        _fail(
            what,
            case,
            [f"{label}: expected an array of numbers, got {type(got).__name__}."],
            "return a numpy array (np.zeros(shape) filled in, or the result of numpy operations).",
        )
    return arr if integer else arr.astype(np.float64)


Variant = tuple[str, Callable]


def _diagnose(got, expected, variants: Sequence[Variant], args, rules=()) -> str | None:
    """The hint of the first wrong variant that ``got`` matches, else of the first shape rule.

    A variant is (hint key, function of the case's arguments); it only counts when its result
    differs from the expected one on this case (otherwise the case cannot tell them apart).
    A rule is a function (got, expected, args) -> hint text or None.
    """
    for key, make in variants:
        try:
            value = np.asarray(make(*args), dtype=np.float64)
        except Exception:  # a variant that does not apply to this case (e.g. a shape)
            continue
        if _close(value, expected):
            continue
        if _close(got.astype(np.float64), value):
            return HINTS[key]
    for rule in rules:
        hint = rule(got, expected, args)
        if hint:
            return hint
    return None


def _expect(what, case, got, label, expected, variants, fallback, rules=()) -> np.ndarray:
    """``got`` as an array; unless it equals ``expected``, fail with the diff and a hint.

    The hint is the one :func:`_diagnose` finds, else ``fallback`` (how to get it right).
    """
    __tracebackhide__ = True  # noqa: F841
    got = _as_array(got, what, case, label)
    if not _close(got, expected):
        hint = _diagnose(got, expected, variants, case.args, rules)
        _fail(what, case, _diff_lines(label, expected, got), hint or fallback)
    return got


class _Forbidden(AssertionError):
    """Raised when the student's function calls the engine function it is compared with."""


@contextlib.contextmanager
def _switched_off(what: str, names: Sequence[str], why: str):
    """Replace ``cnn6.<name>`` for each name while the student's function runs."""
    import cnn6

    saved = {name: getattr(cnn6, name) for name in names}

    def blocked(name):
        def refuse(*args, **kwargs):
            raise _Forbidden(
                f"{what}: cnn6.{name} is switched off while this check runs your function: {why}"
            )

        return refuse

    try:
        for name in names:
            setattr(cnn6, name, blocked(name))
        yield
    finally:
        for name, value in saved.items():
            setattr(cnn6, name, value)


@dataclass
class _Rules:
    """How to run one check: its name, which engine functions to switch off and why, and a
    hint for the exceptions the student's function may raise."""

    what: str
    forbidden: tuple = ()
    why: str = "it is the reference your function is compared with; write the computation yourself."
    error_hint: Callable = lambda exc, case: None


def _call(fn, rules: _Rules, case: _Case):
    """Run the student's function on copies of the case's arguments."""
    __tracebackhide__ = True  # noqa: F841
    what = rules.what
    try:
        with _switched_off(what, rules.forbidden, rules.why):
            return fn(*(_copy(a) for a in case.args))
    except NotImplementedError:
        _raise(
            f"{what} is not implemented yet: replace the line `raise NotImplementedError()` "
            f"with your code, run that cell, then run this check again."
        )
    except _Forbidden:
        raise
    except Exception as exc:
        hint = rules.error_hint(exc, case)
        if hint is None and case.batch:
            hint = HINTS["batch"]
        lines = [f"Your function raised {type(exc).__name__}: {exc}"]
        _raise(_message(what, case, lines, hint), exc)


def _passed(what: str, public: int, hidden: int) -> None:
    if hidden:
        print(f"{what}: all {public} public and {hidden} hidden checks passed.")
    else:
        print(f"{what}: all {public} public checks passed.")


def _run(rules: _Rules, fn, public, hidden_cases, judge) -> None:
    __tracebackhide__ = True  # noqa: F841
    for case in [*public, *hidden_cases]:
        got = _call(fn, rules, case)
        judge(case, got)
    _passed(rules.what, len(public), len(hidden_cases))


def _entries(shape) -> str:
    return f"({', '.join(str(s) for s in shape)})"


# --------------------------------------------------------------------------- convolution
def _conv(x, kernel, bias, stride):
    return layers.conv2d_forward(x, kernel, bias, stride)


def _conv_out(x, kernel, stride):
    return (
        (x.shape[-2] - kernel.shape[0]) // stride + 1,
        (x.shape[-1] - kernel.shape[1]) // stride + 1,
    )


_CONV_VARIANTS: list[Variant] = [
    ("conv_flip", lambda x, k, b, s: _conv(x, k[::-1, ::-1], b, s)),
    ("conv_kernel_transposed", lambda x, k, b, s: _conv(x, k.T, b, s)),
    ("conv_no_bias", lambda x, k, b, s: _conv(x, k, 0.0, s)),
    ("conv_bias_per_product", lambda x, k, b, s: _conv(x, k, 0.0, s) + k.size * b),
    ("conv_mean", lambda x, k, b, s: _conv(x, k, 0.0, s) / k.size + b),
    ("conv_ignore_stride", lambda x, k, b, s: _conv(x, k, b, 1)),
    (
        "conv_no_stride_offset",
        lambda x, k, b, s: _conv(x, k, b, 1)[..., : _conv_out(x, k, s)[0], : _conv_out(x, k, s)[1]],
    ),
    ("conv_transposed", lambda x, k, b, s: np.swapaxes(_conv(x, k, b, s), -1, -2)),
]


def _conv_rules():
    def no_sum(got, expected, args):
        x, k, b, s = args
        if got.ndim > expected.ndim or (got.shape == x.shape and x.shape != expected.shape):
            return HINTS["conv_no_sum"]
        if got.shape == k.shape:  # one window's products, e.g. the last one computed
            values, _, _ = _pool_windows(x if x.ndim == 2 else x[0], k.shape, s)
            products = values * k.ravel()
            for candidate in (products, products + b):
                if any(np.allclose(got.ravel(), row) for row in candidate):
                    return HINTS["conv_no_sum"]
        return None

    def batch(got, expected, args):
        if args[0].ndim == 3 and got.shape != expected.shape:
            return HINTS["batch"]
        return None

    def size(got, expected, args):
        if got.ndim == expected.ndim and got.shape != expected.shape:
            oh, ow = expected.shape[-2:]
            return HINTS["conv_output_size"].format(
                got=_entries(got.shape), oh=oh, ow=ow, want=_entries(expected.shape)
            )
        return None

    return (batch, no_sum, size)


def _conv_error_hint(exc, case):
    text = str(exc)
    if "sequence" in text or "broadcast" in text:
        return HINTS["conv_no_sum"]
    return None


def _conv_cases(hidden: bool, seed: int):
    x, _, params = running_example()
    public = [
        _Case(
            "the running example: x, K and b_c of the book",
            (x, params.kernel, params.conv_bias, 1),
            {"x": x, "kernel": params.kernel, "bias": params.conv_bias, "stride": 1},
        ),
        _Case(
            "a 3x3 image and a 2x2 kernel",
            (
                np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 1.0, 1.0]]),
                np.array([[1.0, 0.0], [-1.0, 2.0]]),
                1.0,
                1,
            ),
            {},
        ),
        _Case(
            "stride 2 on a 5x5 image",
            (
                (np.arange(25.0).reshape(5, 5) % 7) - 3.0,
                np.array([[1.0, 0.0, -1.0], [2.0, 0.5, 1.0], [0.0, 1.0, 0.0]]),
                -0.5,
                2,
            ),
            {},
        ),
    ]
    for case in public[1:]:
        case.show = dict(zip(("x", "kernel", "bias", "stride"), case.args, strict=True))
    if not hidden:
        return public, []
    rng = np.random.default_rng(seed)
    hidden_cases = [
        ("a batch of 3 images", rng.uniform(0, 1, (3, 6, 6)), params.kernel, 0.3, 1),
        (
            "a non-square image and kernel",
            rng.normal(size=(5, 7)),
            rng.normal(size=(2, 3)),
            -0.25,
            1,
        ),
        (
            "stride 3, the last rows and columns unread",
            rng.normal(size=(7, 8)),
            rng.normal(size=(3, 2)),
            0.75,
            3,
        ),
        (
            "a batch of 2 non-square images, stride 2, negative values",
            rng.normal(size=(2, 6, 7)),
            rng.normal(size=(3, 3)),
            0.1,
            2,
        ),
        (
            "a kernel as large as the image",
            rng.normal(size=(4, 3)),
            rng.normal(size=(4, 3)),
            0.5,
            1,
        ),
    ]
    out = []
    for name, *args in hidden_cases:
        show = dict(zip(("x", "kernel", "bias", "stride"), args, strict=True))
        out.append(_Case(name, tuple(args), show, hidden=True, batch=args[0].ndim == 3))
    return public, out


def check_conv2d_forward(student_fn, hidden=False, seed=None) -> None:
    """Check ``student_fn(x, kernel, bias, stride)`` against :func:`cnn6.conv2d_forward`.

    The student's function takes x (H, W) or (n, H, W), kernel (kh, kw), bias (a float) and
    stride (an int >= 1) and returns z of shape (OH, OW) or (n, OH, OW), with
    OH = (H - kh) // stride + 1 and OW = (W - kw) // stride + 1.
    hidden=True adds the hidden cases (batches, non-square shapes, strides 2 and 3, negative
    values), some of them drawn from ``seed``.
    """
    __tracebackhide__ = True  # noqa: F841
    _check_callable(student_fn, "student_fn")
    seed = _check_options(hidden, seed)
    what = "conv2d_forward"
    rules = _conv_rules()

    def judge(case, got):
        __tracebackhide__ = True  # noqa: F841
        _expect(
            what,
            case,
            got,
            "z",
            _conv(*case.args),
            _CONV_VARIANTS,
            "work out one window by hand (chapter Convolution does z1[0, 0]) and "
            "compare it with your entry.",
            rules,
        )

    public, hidden_cases = _conv_cases(hidden, seed)
    run = _Rules(what, ("conv2d_forward", "conv_matrix"), error_hint=_conv_error_hint)
    _run(run, student_fn, public, hidden_cases, judge)


# --------------------------------------------------------------------------- max-pool forward
def _pool(a, size, stride):
    return layers.maxpool2d_forward(a, size, stride)


def _pool_windows(a, size, stride, step=None):
    """(values (..., P, kh*kw), flat indices (P, kh*kw), out shape) of every window.

    size: an int (square windows) or (kh, kw). Windows start every ``step`` pixels (``stride``
    when None) but are counted with ``stride``.
    """
    kh, kw = size if isinstance(size, tuple) else (size, size)
    h, w = a.shape[-2:]
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    step = stride if step is None else step
    rows, cols = np.arange(oh) * step, np.arange(ow) * step
    if rows[-1] + kh > h or cols[-1] + kw > w:
        raise ValueError("windows run off the input")
    top = (rows[:, None] * w + cols[None, :]).reshape(-1, 1)
    idx = top + (np.arange(kh)[:, None] * w + np.arange(kw)[None, :]).reshape(1, -1)
    values = a.reshape(a.shape[:-2] + (h * w,))[..., idx]
    return values, idx, a.shape[:-2] + (oh, ow)


def _pool_with(a, size, stride, reduce, step=None):
    values, _, shape = _pool_windows(a, size, stride, step)
    return reduce(values).reshape(shape)


def _last_argmax(values):
    flipped = values[..., ::-1]
    return values.shape[-1] - 1 - flipped.argmax(-1)


def _pool_idx_with(a, size, stride, pick, convert=None):
    """pool_idx chosen by ``pick`` (window values -> position in window), converted by
    ``convert(idx, local, a)`` (default: the flat index of that position in the input)."""
    values, idx, shape = _pool_windows(a, size, stride)
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
    n = a.shape[0] if a.ndim == 3 else 1
    offset = (np.arange(n) * a.shape[-2] * a.shape[-1]).reshape((n,) + (1,) * (flat.ndim - 1))
    return flat.reshape((n,) + flat.shape[-1:]) + offset if a.ndim == 3 else flat


_POOL_OUT_VARIANTS: list[Variant] = [
    ("pool_step_by_size", lambda a, s, t: _pool_with(a, s, t, lambda v: v.max(-1), step=s)),
    ("pool_step_by_size", lambda a, s, t: _pool_with(a, s, s, lambda v: v.max(-1))),
    ("pool_ignore_stride", lambda a, s, t: _pool(a, s, 1)[0]),
    ("pool_abs", lambda a, s, t: _pool(np.abs(a), s, t)[0]),
    ("pool_start_at_zero", lambda a, s, t: np.maximum(_pool(a, s, t)[0], 0.0)),
    ("pool_min", lambda a, s, t: -_pool(-a, s, t)[0]),
    ("pool_mean", lambda a, s, t: _pool_with(a, s, t, lambda v: v.mean(-1))),
    ("pool_transposed", lambda a, s, t: np.swapaxes(_pool(a, s, t)[0], -1, -2)),
]

_POOL_IDX_VARIANTS: list[Variant] = [
    ("pool_idx_last_tie", lambda a, s, t: _pool_idx_with(a, s, t, _last_argmax)),
    (
        "pool_idx_local",
        lambda a, s, t: _pool_idx_with(
            a, s, t, lambda v: v.argmax(-1), lambda flat, local, a: local
        ),
    ),
    (
        "pool_idx_uses_h",
        lambda a, s, t: _pool_idx_with(
            a, s, t, lambda v: v.argmax(-1), _flat_to(lambda r, c, h, w: r * h + c)
        ),
    ),
    (
        "pool_idx_column_major",
        lambda a, s, t: _pool_idx_with(
            a, s, t, lambda v: v.argmax(-1), _flat_to(lambda r, c, h, w: c * h + r)
        ),
    ),
    (
        "pool_idx_batch_offset",
        lambda a, s, t: _pool_idx_with(a, s, t, lambda v: v.argmax(-1), _batch_offset),
    ),
]


def _pool_size_rule(got, expected, args):
    if args[0].ndim == 3 and got.shape != expected.shape and got.shape == expected.shape[1:]:
        return HINTS["batch"]
    if got.ndim == expected.ndim and got.shape != expected.shape:
        oh, ow = expected.shape[-2:]
        return HINTS["pool_output_size"].format(
            got=_entries(got.shape), oh=oh, ow=ow, want=_entries(expected.shape)
        )
    return None


def _unpack(got, what, case, names: str, key: str):
    __tracebackhide__ = True  # noqa: F841
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        kind = type(got).__name__
        _fail(
            what, case, [f"Your function returned a {kind}; expected a tuple {names}."], HINTS[key]
        )
    return got


def _pool_cases(hidden: bool, seed: int):
    x, y, params = running_example()
    a1 = network.forward(params, x).a1
    tie = np.array(
        [[1.0, 3.0, 0.0, 2.0], [3.0, 0.0, 1.0, 1.0], [4.0, 0.0, 2.0, 5.0], [1.0, 4.0, 5.0, 0.0]]
    )
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
        ("windows with tied maxima", tie, 2, 2),
        ("size 2, stride 3: gaps between the windows", gaps, 2, 3),
    ]
    hidden_cases = []
    if hidden:
        rng = np.random.default_rng(seed)
        overlap = np.array([[1.0, 2.0, 0.0, 1.0], [0.0, 9.0, 3.0, 2.0], [4.0, 1.0, 2.0, 8.0]])
        ties3 = np.array(
            [[2.0, 2.0, 1.0, 2.0], [0.0, 2.0, 2.0, 0.0], [2.0, 1.0, 2.0, 2.0], [1.0, 2.0, 0.0, 2.0]]
        )
        negative = -rng.uniform(0.5, 3.0, (6, 6))
        negative[0, 0] = negative[0, 1] = -0.25  # a tie among negative values
        hidden_cases = [
            ("overlapping windows (size 2, stride 1)", overlap, 2, 1),
            ("overlapping windows with ties (size 3, stride 1)", ties3, 3, 1),
            ("negative values only, with a tie", negative, 2, 2),
            ("a batch of 3", rng.normal(size=(3, 4, 4)), 2, 2),
            ("a non-square input, size 3, stride 2", rng.normal(size=(5, 8)), 3, 2),
            ("a batch of non-square inputs (size 2, stride 2)", rng.normal(size=(2, 4, 6)), 2, 2),
        ]
    cases = []
    for i, (name, a, size, stride) in enumerate(public + hidden_cases):
        cases.append(
            _Case(
                name,
                (a, size, stride),
                {"a": a, "size": size, "stride": stride},
                hidden=i >= len(public),
                batch=a.ndim == 3,
            )
        )
    return cases[: len(public)], cases[len(public) :]


def check_maxpool2d_forward(student_fn, hidden=False, seed=None) -> None:
    """Check ``student_fn(a, size, stride)`` against :func:`cnn6.maxpool2d_forward`.

    The student's function takes a (H, W) or (n, H, W) and returns ``(out, pool_idx)``: out
    of shape (OH, OW) or (n, OH, OW), OH = (H - size) // stride + 1, the maximum of each
    window; pool_idx, integers of the same shape, the position of each maximum in ``a``
    flattened row-major over its last two axes (row * W + column), the first maximum in
    row-major order when several tie. hidden=True adds overlapping windows, ties, negative
    values, batches and non-square inputs.
    """
    __tracebackhide__ = True  # noqa: F841
    _check_callable(student_fn, "student_fn")
    seed = _check_options(hidden, seed)
    what = "maxpool2d_forward"

    def judge(case, got):
        __tracebackhide__ = True  # noqa: F841
        out, idx = _unpack(got, what, case, "(out, pool_idx)", "tuple_out_idx")
        expected_out, expected_idx = _pool(*case.args)
        _expect(
            what,
            case,
            out,
            "out",
            expected_out,
            _POOL_OUT_VARIANTS,
            "take np.max of each window a[r:r + size, c:c + size], with "
            "r = i * stride and c = j * stride.",
            [_pool_size_rule],
        )
        idx = _as_array(idx, what, case, "pool_idx", integer=True)
        if idx.shape != expected_idx.shape:
            hint = HINTS["pool_idx_shape"] if idx.ndim == expected_idx.ndim + 1 else None
            _fail(what, case, _diff_lines("pool_idx", expected_idx, idx), hint)
        if not np.array_equal(idx, expected_idx):
            hint = _diagnose(idx, expected_idx, _POOL_IDX_VARIANTS, case.args)
            _fail(
                what,
                case,
                _diff_lines("pool_idx", expected_idx, idx, digits=0),
                hint
                or "pool_idx[i, j] is r * W + c for the row r and column c of the "
                "maximum of window (i, j) in a.",
            )
        if idx.dtype.kind not in "iu":
            _fail(what, case, [f"pool_idx has dtype {idx.dtype}."], HINTS["pool_idx_dtype"])

    public, hidden_cases = _pool_cases(hidden, seed)
    _run(_Rules(what, ("maxpool2d_forward",)), student_fn, public, hidden_cases, judge)


# --------------------------------------------------------------------------- max-pool backward
def _route(dout, a, size, stride, pick=None, mode="add", step=None):
    """Send each window's dout to the position ``pick`` chooses (default: the first max).

    mode "add" accumulates, "set" overwrites (later windows win), "spread" sends dout to
    every position of the window, "average" dout / size**2 to every position, "ones" 1.
    """
    values, idx, shape = _pool_windows(a, size, stride, step)
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


_ROUTE_VARIANTS: list[Variant] = [
    ("route_last_tie", lambda d, a, s, t: _route(d, a, s, t, pick=_last_argmax)),
    ("route_overwrite", lambda d, a, s, t: _route(d, a, s, t, mode="set")),
    ("route_spread", lambda d, a, s, t: _route(d, a, s, t, mode="spread")),
    ("route_average", lambda d, a, s, t: _route(d, a, s, t, mode="average")),
    ("route_ones", lambda d, a, s, t: _route(d, a, s, t, mode="ones")),
    ("pool_step_by_size", lambda d, a, s, t: _route(d, a, s, t, step=s)),
    ("route_top_left", lambda d, a, s, t: _route(d, a, s, t, pick=lambda v: 0 * v.argmax(-1))),
]


def _route_rules():
    def shape(got, expected, args):
        if got.shape != expected.shape:
            if args[1].ndim == 3 and got.shape == expected.shape[1:]:
                return HINTS["batch"]
            return HINTS["route_shape"].format(
                want=_entries(expected.shape), got=_entries(got.shape)
            )
        return None

    def not_max(got, expected, args):
        winners = expected != 0
        stray = (got != 0) & ~winners
        if stray.any():
            return HINTS["route_not_max"]
        return None

    return (shape, not_max)


def _route_cases(hidden: bool, seed: int):
    x, y, params = running_example()
    trace = network.forward(params, x, y)
    grads = network.backward(params, trace, y)
    tie = np.array(
        [[1.0, 3.0, 0.0, 2.0], [3.0, 0.0, 1.0, 1.0], [4.0, 0.0, 2.0, 5.0], [1.0, 4.0, 5.0, 0.0]]
    )
    public = [
        ("the running example: da2 back through the max-pool of a1", grads.da2, trace.a1, 2, 2),
        ("windows with tied maxima", np.array([[1.0, -2.0], [0.5, 3.0]]), tie, 2, 2),
    ]
    hidden_cases = []
    if hidden:
        rng = np.random.default_rng(seed + 1)
        shared = np.array([[1.0, 2.0, 0.0], [0.0, 9.0, 3.0], [4.0, 1.0, 2.0]])
        ties3 = np.array(
            [[2.0, 2.0, 1.0, 2.0], [0.0, 2.0, 2.0, 0.0], [2.0, 1.0, 2.0, 2.0], [1.0, 2.0, 0.0, 2.0]]
        )
        negative = -rng.uniform(0.5, 3.0, (4, 4))
        negative[2, 2] = negative[2, 3] = -0.25
        hidden_cases = [
            (
                "overlapping windows sharing one maximum (size 2, stride 1)",
                np.array([[1.0, 2.0], [3.0, -4.0]]),
                shared,
                2,
                1,
            ),
            (
                "overlapping windows with ties (size 3, stride 1)",
                np.array([[1.0, 2.0], [-3.0, 0.5]]),
                ties3,
                3,
                1,
            ),
            ("negative values only, with a tie", rng.normal(size=(2, 2)), negative, 2, 2),
            ("a batch of 3", rng.normal(size=(3, 2, 2)), rng.normal(size=(3, 4, 4)), 2, 2),
            (
                "a non-square input, size 2, stride 3",
                rng.normal(size=(1, 2)),
                rng.normal(size=(2, 6)),
                2,
                3,
            ),
            (
                "a batch of non-square inputs, size 3, stride 2",
                rng.normal(size=(2, 2, 3)),
                rng.normal(size=(2, 5, 7)),
                3,
                2,
            ),
        ]
    cases = []
    for i, (name, dout, a, size, stride) in enumerate(public + hidden_cases):
        cases.append(
            _Case(
                name,
                (dout, a, size, stride),
                {"dout": dout, "a": a, "size": size, "stride": stride},
                hidden=i >= len(public),
                batch=a.ndim == 3,
            )
        )
    return cases[: len(public)], cases[len(public) :]


def check_maxpool2d_backward(student_fn, hidden=False, seed=None) -> None:
    """Check ``student_fn(dout, a, size, stride)``, max-pool's backward pass.

    The student's function takes dout (the gradient of the loss w.r.t. the pooled output,
    (OH, OW) or (n, OH, OW)) and the forward input a ((H, W) or (n, H, W)) with the window
    size and stride, and returns da of a's shape: each window's dout added at the position
    of its maximum (the first in row-major order on a tie), zeros elsewhere. The reference is
    :func:`cnn6.maxpool2d_backward` fed with the pool_idx of :func:`cnn6.maxpool2d_forward`.
    hidden=True adds overlapping windows (one position winning several windows), ties,
    negative values, batches and non-square inputs.
    """
    __tracebackhide__ = True  # noqa: F841
    _check_callable(student_fn, "student_fn")
    seed = _check_options(hidden, seed)
    what = "maxpool2d_backward"
    rules = _route_rules()

    def judge(case, got):
        __tracebackhide__ = True  # noqa: F841
        dout, a, size, stride = case.args
        _, pool_idx = _pool(a, size, stride)
        expected = layers.maxpool2d_backward(dout, pool_idx, a.shape)
        _expect(
            what,
            case,
            got,
            "da",
            expected,
            _ROUTE_VARIANTS,
            "da[r, c] is the sum of dout[i, j] over the windows (i, j) whose maximum "
            "is at (r, c); zero where no window's maximum is.",
            rules,
        )

    public, hidden_cases = _route_cases(hidden, seed)
    _run(_Rules(what, ("maxpool2d_backward",)), student_fn, public, hidden_cases, judge)


# --------------------------------------------------------------------------- ReLU backward
_RELU_VARIANTS: list[Variant] = [
    ("relu_times_activation", lambda d, z: d * np.maximum(z, 0.0)),
    ("relu_indicator_only", lambda d, z: (z > 0).astype(np.float64)),
    ("relu_at_zero", lambda d, z: d * (z >= 0)),
    ("relu_gate_on_dout", lambda d, z: d * (d > 0)),
    ("relu_pass_all", lambda d, z: d),
    ("relu_forward", lambda d, z: np.maximum(z, 0.0)),
    ("relu_sign", lambda d, z: -d * (z > 0)),
    ("relu_inverted", lambda d, z: d * (z <= 0)),
    ("relu_inverted", lambda d, z: d * (z < 0)),
]


def _relu_cases(hidden: bool, seed: int):
    x, y, params = running_example()
    trace = network.forward(params, x, y)
    grads = network.backward(params, trace, y)
    public = [
        ("the running example: da1 back through the ReLU at z1", grads.da1, trace.z1),
        (
            "a 2x3 example with a zero in z",
            np.array([[5.0, -6.0, 0.5], [7.0, 8.0, -1.0]]),
            np.array([[-1.0, 2.0, 0.3], [0.0, 3.0, 4.0]]),
        ),
    ]
    hidden_cases = []
    if hidden:
        rng = np.random.default_rng(seed + 2)
        z = rng.normal(size=(3, 4, 4))
        z[0, 0, 0] = z[2, 3, 1] = 0.0
        big = rng.normal(size=(5,)) * 10
        hidden_cases = [
            ("a batch of 3 (n, 4, 4) with zeros in z", rng.normal(size=(3, 4, 4)), z),
            ("a vector with large values", rng.normal(size=(5,)), big),
            (
                "negative gradients where z > 0",
                -np.abs(rng.normal(size=(2, 3))) - 0.1,
                np.abs(rng.normal(size=(2, 3))) + 0.1,
            ),
        ]
    cases = []
    for i, (name, dout, z) in enumerate(public + hidden_cases):
        cases.append(
            _Case(
                name, (dout, z), {"dout": dout, "z": z}, hidden=i >= len(public), batch=z.ndim == 3
            )
        )
    return cases[: len(public)], cases[len(public) :]


def check_relu_backward(student_fn, hidden=False, seed=None) -> None:
    """Check ``student_fn(dout, z)`` against :func:`cnn6.relu_backward`.

    The student's function takes dout (the gradient w.r.t. the ReLU's output) and z (its
    forward input), any shape, both the same, and returns dz = dout * [z > 0] (the
    derivative at 0 taken as 0). hidden=True adds a batch, a vector, zeros and negative
    gradients.
    """
    __tracebackhide__ = True  # noqa: F841
    _check_callable(student_fn, "student_fn")
    seed = _check_options(hidden, seed)
    what = "relu_backward"

    def shape(got, expected, args):
        if got.shape != expected.shape:
            return f"dz has the shape of z, {_entries(expected.shape)}."
        return None

    def judge(case, got):
        __tracebackhide__ = True  # noqa: F841
        _expect(
            what,
            case,
            got,
            "dz",
            layers.relu_backward(*case.args),
            _RELU_VARIANTS,
            "dz[i, j] is dout[i, j] where z[i, j] > 0 and 0 elsewhere.",
            (shape,),
        )

    public, hidden_cases = _relu_cases(hidden, seed)
    run = _Rules(what, ("relu_backward", "activation_backward"))
    _run(run, student_fn, public, hidden_cases, judge)


# --------------------------------------------------------------------------- kernel gradient
def _kgrad(x, dz):
    kh = x.shape[-2] - dz.shape[-2] + 1
    kw = x.shape[-1] - dz.shape[-1] + 1
    _, dk, db = layers.conv2d_backward(dz, x, np.zeros((kh, kw)))
    return dk, db


def _kgrad_per_image(x, dz):
    if x.ndim != 3:
        raise ValueError("not a batch")
    return np.stack([_kgrad(xi, di)[0] for xi, di in zip(x, dz, strict=True)])


_DK_VARIANTS: list[Variant] = [
    ("kgrad_flip", lambda x, dz: _kgrad(x, dz[..., ::-1, ::-1])[0]),
    ("kgrad_transposed", lambda x, dz: _kgrad(x, dz)[0].T),
    ("kgrad_no_batch_sum", _kgrad_per_image),
    ("kgrad_batch_mean", lambda x, dz: _kgrad_per_image(x, dz).mean(0)),
]

_DB_VARIANTS: list[Variant] = [
    ("bgrad_sum_input", lambda x, dz: x.sum()),
    ("bgrad_mean", lambda x, dz: dz.mean()),
    ("bgrad_mean", lambda x, dz: dz.sum() / dz.shape[-1] / dz.shape[-2]),
    ("bgrad_no_batch_sum", lambda x, dz: dz.reshape(dz.shape[0], -1).sum(1)),
    ("bgrad_not_scalar", lambda x, dz: dz),
]


def _dk_rules():
    def shape(got, expected, args):
        x, dz = args
        if got.shape == expected.shape:
            return None
        if got.shape[-2:] == dz.shape[-2:]:
            return HINTS["kgrad_no_slide"]
        if x.ndim == 3 and got.ndim == 3:
            return HINTS["kgrad_no_batch_sum"]
        return HINTS["kgrad_shape"].format(want=_entries(expected.shape), got=_entries(got.shape))

    return (shape,)


def _kgrad_cases(hidden: bool, seed: int):
    x, y, params = running_example()
    trace = network.forward(params, x, y)
    grads = network.backward(params, trace, y)
    public = [
        ("the running example: x and dz1 of the book", x, grads.dz1),
        (
            "a 4x4 image and a 2x2 delta",
            np.array(
                [
                    [1.0, 2.0, 0.0, 1.0],
                    [0.0, 1.0, 3.0, 2.0],
                    [2.0, 1.0, 1.0, 0.0],
                    [1.0, 0.0, 2.0, 3.0],
                ]
            ),
            np.array([[1.0, -1.0], [0.5, 2.0]]),
        ),
    ]
    hidden_cases = []
    if hidden:
        rng = np.random.default_rng(seed + 3)
        hidden_cases = [
            (
                "a batch of 3 images (n, 6, 6) with deltas (n, 4, 4)",
                rng.uniform(0, 1, (3, 6, 6)),
                rng.normal(size=(3, 4, 4)) / 3,
            ),
            ("a non-square image and delta", rng.normal(size=(5, 6)), rng.normal(size=(3, 2))),
            (
                "negative values, a delta as large as the image",
                rng.normal(size=(3, 4)),
                rng.normal(size=(3, 4)),
            ),
            (
                "a batch of 2 non-square images",
                rng.normal(size=(2, 6, 5)),
                rng.normal(size=(2, 4, 2)),
            ),
        ]
    cases = []
    for i, (name, xx, dz) in enumerate(public + hidden_cases):
        cases.append(
            _Case(name, (xx, dz), {"x": xx, "dz": dz}, hidden=i >= len(public), batch=xx.ndim == 3)
        )
    return cases[: len(public)], cases[len(public) :]


def check_conv2d_kernel_grad(student_fn, hidden=False, seed=None) -> None:
    """Check ``student_fn(x, dz)``: the gradients of a convolution's kernel and bias.

    The student's function takes x (H, W) or (n, H, W), the convolution's forward input, and
    dz (OH, OW) or (n, OH, OW), the gradient of the loss w.r.t. its output (stride 1), and
    returns ``(dkernel, dbias)``: dkernel = x ⋆ dz of shape (H - OH + 1, W - OW + 1), summed
    over the batch, and dbias = the sum of dz (a float). The reference is
    :func:`cnn6.conv2d_backward`. hidden=True adds batches, non-square shapes and negative
    values.
    """
    __tracebackhide__ = True  # noqa: F841
    _check_callable(student_fn, "student_fn")
    seed = _check_options(hidden, seed)
    what = "conv2d_kernel_grad"
    rules = _dk_rules()

    def judge(case, got):
        __tracebackhide__ = True  # noqa: F841
        dk, db = _unpack(got, what, case, "(dkernel, dbias)", "tuple_dk_db")
        expected_dk, expected_db = _kgrad(*case.args)
        _expect(
            what,
            case,
            dk,
            "dkernel",
            expected_dk,
            _DK_VARIANTS,
            "dkernel[u, v] = sum over i, j of x[i + u, j + v] * dz[i, j]: the block "
            "of x that starts at (u, v), the size of dz, times dz, summed.",
            rules,
        )
        _expect(
            what,
            case,
            db,
            "dbias",
            np.asarray(expected_db),
            _DB_VARIANTS,
            "dbias is the sum of every entry of dz.",
        )

    public, hidden_cases = _kgrad_cases(hidden, seed)
    _run(_Rules(what, ("conv2d_backward",)), student_fn, public, hidden_cases, judge)


# --------------------------------------------------------------------------- training step
def _grads_variant(
    params,
    X,
    y,
    *,
    dz4="ok",
    dw="a3",
    route="first",
    gate="indicator",
    dk_with="dz1",
    flip=False,
    db_from="dz1",
):
    """The four parameter gradients as a (possibly wrong) backward pass computes them."""
    trace = network.forward(params, X, y)
    batch = X.ndim == 3
    n = X.shape[0] if batch else 1
    y = np.asarray(y, dtype=np.float64)
    a4, z4 = np.asarray(trace.a4), np.asarray(trace.z4)
    if dz4 == "ok":
        d4 = (a4 - y) / n
    else:  # "bce": the original notebook's BCE * sigmoid'
        d4 = (np.logaddexp(0.0, z4) - y * z4) * a4 * (1 - a4) / n
    d4v = np.atleast_1d(d4)
    a3 = trace.a3.reshape(n, 4)
    if dw == "a3":
        dweights = d4v @ a3
    elif dw == "a4":
        dweights = np.full(4, float(np.sum(d4v * np.atleast_1d(a4))))
    else:  # "w"
        dweights = float(np.sum(d4v)) * params.weights
    dfc = float(np.sum(d4v))
    da2 = np.multiply.outer(d4v, params.weights).reshape(trace.a2.shape)
    if route == "first":
        da1 = layers.maxpool2d_backward(da2, trace.pool_idx, trace.a1.shape)
    else:  # "spread"
        da1 = _route(da2, trace.a1, 2, 2, mode="spread")
    if gate == "indicator":
        dz1 = da1 * (trace.z1 > 0)
    elif gate == "none":
        dz1 = da1
    else:  # "a1"
        dz1 = da1 * trace.a1
    corr_with = trace.a1 if dk_with == "a1" else dz1
    if flip:
        corr_with = corr_with[..., ::-1, ::-1]
    _, dkernel, _ = layers.conv2d_backward(corr_with, X, params.kernel)
    dconv = float(np.sum(X)) if db_from == "x" else float(np.sum(dz1))
    return Params(dkernel, dconv, dweights, dfc)


_FIELDS = ("fc_bias", "weights", "kernel", "conv_bias")  # the order the backward pass meets them

# (hint, the fields it explains, options of _grads_variant)
_STEP_FIELD_VARIANTS = [
    ("dz4_bce", {"dz4": "bce"}),
    ("dw_a4", {"dw": "a4"}),
    ("dw_w", {"dw": "w"}),
    ("dk_skip_gate", {"gate": "none"}),
    ("dk_times_activation", {"gate": "a1"}),
    ("dk_with_a1", {"dk_with": "a1"}),
    ("dk_flip", {"flip": True}),
    ("dk_route_spread", {"route": "spread"}),
    ("db_sum_input", {"db_from": "x"}),
]


def _step_cases(hidden: bool, seed: int):
    x, y, params = running_example()
    X8, y8 = _dataset(8, 0)
    public = [
        ("the running example: one image, lr = 0.1", params, x, y, 0.1),
        ("a batch of 8 images, lr = 0.5", params, X8, y8, 0.5),
    ]
    hidden_cases = []
    if hidden:
        rng = np.random.default_rng(seed + 4)
        X16, y16 = _dataset(16, seed + 5)
        mixed = Params(
            rng.normal(0.0, 0.5, (3, 3)),
            float(rng.normal(0.0, 0.3)),
            rng.normal(0.0, 1.0, 4),
            float(rng.normal(0.0, 0.3)),
        )
        shut = Params(params.kernel, -1.2, params.weights, params.fc_bias)
        X1, y1 = _dataset(1, seed + 6)
        Xc0, yc0 = _dataset(12, seed + 7)
        k0 = int(np.flatnonzero(yc0 == 0)[0])
        hidden_cases = [
            ("a batch of 16, random parameters, lr = 0.05", mixed, X16, y16, 0.05),
            ("many pooling windows shut by the ReLU, a batch of 16, lr = 0.3", shut, X16, y16, 0.3),
            ("a batch of one image (1, 6, 6), lr = 1.0", mixed, X1, y1, 1.0),
            ("one image of class 0, lr = 0.2", params, Xc0[k0], 0, 0.2),
        ]
    cases = []
    for i, (name, p, X, yy, lr) in enumerate(public + hidden_cases):
        show = {"params": p, "X": X, "y": yy if np.ndim(yy) == 0 else np.asarray(yy), "lr": lr}
        cases.append(
            _Case(name, (p, X, yy, lr), show, hidden=i >= len(public), batch=np.ndim(X) == 3)
        )
    return cases[: len(public)], cases[len(public) :]


def _dataset(n, seed):
    from .data import make_dataset

    return make_dataset(n, np.random.default_rng(seed))


def _as_params(got, what, case) -> Params:
    __tracebackhide__ = True  # noqa: F841
    if isinstance(got, (tuple, list)) and got and isinstance(got[0], Params):
        _fail(
            what,
            case,
            [f"Your function returned a {type(got).__name__}."],
            "return only the new cnn6.Params (not a tuple).",
        )
    if not isinstance(got, Params):
        _fail(
            what,
            case,
            [f"Your function returned {type(got).__name__}, not a cnn6.Params."],
            HINTS["not_params"],
        )
    values = {}
    for name, shape in network.PARAM_SHAPES.items():
        arr = _as_array(getattr(got, name), what, case, f"new params.{name}")
        if arr.shape != shape:
            _fail(
                what,
                case,
                [f"new params.{name}: expected shape {shape}, got {arr.shape}."],
                f"each parameter keeps its shape; {name} has shape {shape}."
                + (" Sum the per-image gradients over the batch." if arr.ndim > len(shape) else ""),
            )
        values[name] = arr
    return Params(**values)


def _vector(p: Params) -> np.ndarray:
    return np.concatenate([np.ravel(getattr(p, f)) for f in network.PARAM_NAMES])


def check_training_step(student_fn, hidden=False, seed=None) -> None:
    """Check ``student_fn(params, X, y, lr)``: one step of gradient descent on the mean loss.

    The student's function takes cnn6.Params, one image (6, 6) with its label or a batch
    (n, 6, 6) with labels (n,), and a learning rate, and returns the new cnn6.Params:
    params - lr * (the gradient of the mean binary cross-entropy). It may call cnn6.forward
    and the layer functions, but not cnn6.backward or cnn6.sgd_step (switched off during the
    check). hidden=True adds random parameters, pooling windows shut by the ReLU, a batch of
    one image and a class-0 image.
    """
    __tracebackhide__ = True  # noqa: F841
    _check_callable(student_fn, "student_fn")
    seed = _check_options(hidden, seed)
    what = "training_step"

    def judge(case, got):
        __tracebackhide__ = True  # noqa: F841
        params, X, y, lr = case.args
        new = _as_params(got, what, case)
        grads = network.backward(params, network.forward(params, X, y), y).params()
        expected = network.sgd_step(params, grads, lr)
        if _close(_vector(new), _vector(expected)):
            return
        implied = Params(
            *((getattr(params, f) - getattr(new, f)) / lr for f in network.PARAM_NAMES)
        )
        before = network.forward(params, X, y).loss
        after = network.forward(new, X, y).loss
        reference = network.forward(expected, X, y).loss
        lines = [
            f"Loss on this case: before the step {fmt(before)}, after your step "
            f"{fmt(after)} (the reference step gives {fmt(reference)})."
        ]
        hint = _step_hint(params, new, implied, grads, case)
        for name in _FIELDS:
            exp_f = np.asarray(getattr(expected, name))
            got_f = np.asarray(getattr(new, name))
            if not _close(got_f, exp_f):
                lines += _diff_lines(f"new params.{name}", exp_f, got_f)
                lines.append(
                    f"  (your step implies the gradient "
                    f"{_short(np.asarray(getattr(implied, name)))}; the gradient is "
                    f"{_short(np.asarray(getattr(grads, name)))})"
                )
                break
        _fail(
            what,
            case,
            lines,
            hint
            or "check each gradient on its own against the book's "
            "chapters (dz4 = a4 - y, dw = dz4 * a3, da1 by max-pool routing, "
            "dz1 = da1 * [z1 > 0], dK = x ⋆ dz1, db_c = sum of dz1), then "
            "new = params - lr * grad.",
        )

    public, hidden_cases = _step_cases(hidden, seed)
    run = _Rules(
        what,
        ("backward", "sgd_step", "train", "numerical_gradient"),
        why="this assignment asks you to write the backward pass and the update "
        "yourself. Use cnn6.forward for the trace and the layer functions "
        "(cnn6.maxpool2d_backward, cnn6.relu_backward, cnn6.conv2d_backward, ...) "
        "or your own.",
    )
    _run(run, student_fn, public, hidden_cases, judge)


def _short(a: np.ndarray) -> str:
    flat = np.ravel(a)
    text = ", ".join(fmt(v) for v in flat[:4])
    return f"[{text}{', ...' if flat.size > 4 else ''}]" if a.ndim else text


def _step_hint(params, new, implied, grads, case) -> str | None:
    _, X, y, lr = case.args
    n = X.shape[0] if X.ndim == 3 else 1
    vec_new, vec_p = _vector(new), _vector(params)
    vec_g = _vector(grads)
    whole = [
        ("step_unchanged", vec_p),
        ("step_ascent", vec_p + lr * vec_g),
        ("step_overwrite", -lr * vec_g),
        ("step_overwrite", lr * vec_g),
        ("step_overwrite", vec_g),
        ("step_no_lr", vec_p - vec_g),
        ("step_lr_twice", vec_p - lr * lr * vec_g),
    ]
    if n > 1:
        whole.append(("step_no_mean", vec_p - n * lr * vec_g))
    for key, value in whole:
        if _close(vec_new, value) and not _close(value, vec_p - lr * vec_g):
            return HINTS[key]
    # field by field, in the order the backward pass computes them
    variants = [(key, _grads_variant(params, X, y, **opts)) for key, opts in _STEP_FIELD_VARIANTS]
    for name in _FIELDS:
        got_f = np.asarray(getattr(implied, name), dtype=np.float64)
        right = np.asarray(getattr(grads, name), dtype=np.float64)
        if _close(got_f, right):
            continue
        new_f = np.asarray(getattr(new, name), dtype=np.float64)
        old_f = np.asarray(getattr(params, name), dtype=np.float64)
        if not _close(right, 0 * right):
            if _close(new_f, old_f):
                return f"params.{name} did not change: new = params - lr * grad."
            if _close(new_f, old_f + lr * right):
                return HINTS["step_ascent"]
            if any(_close(new_f, v) for v in (lr * right, -lr * right, right)):
                return HINTS["step_overwrite"]
        for key, variant in variants:
            value = np.asarray(getattr(variant, name), dtype=np.float64)
            if not _close(value, right) and _close(got_f, value):
                return HINTS[key]
        return None
    return None
