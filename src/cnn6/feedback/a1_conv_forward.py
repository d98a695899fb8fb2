"""Assignment a1: the convolution's forward pass, ``conv2d_forward(x, kernel, bias, stride)``."""

from __future__ import annotations

import re

import numpy as np

from .. import naive
from ..example import running_example
from .harness import Case, Task, Variant, each_image, entries, expect, run, window_values
from .hints import HINTS


def _conv(x, kernel, bias, stride):
    """The reference: the book's loops (:func:`cnn6.naive.conv2d`), image by image."""
    return each_image(lambda image: naive.conv2d(image, kernel, bias, stride), x)


def _out(x, kernel, stride):
    return (
        (x.shape[-2] - kernel.shape[0]) // stride + 1,
        (x.shape[-1] - kernel.shape[1]) // stride + 1,
    )


VARIANTS: list[Variant] = [
    ("conv_flip", lambda x, k, b, s: _conv(x, k[::-1, ::-1], b, s)),
    ("conv_kernel_transposed", lambda x, k, b, s: _conv(x, k.T, b, s)),
    ("conv_no_bias", lambda x, k, b, s: _conv(x, k, 0.0, s)),
    ("conv_bias_per_product", lambda x, k, b, s: _conv(x, k, 0.0, s) + k.size * b),
    ("conv_mean", lambda x, k, b, s: _conv(x, k, 0.0, s) / k.size + b),
    ("conv_ignore_stride", lambda x, k, b, s: _conv(x, k, b, 1)),
    (
        "conv_no_stride_offset",
        lambda x, k, b, s: _conv(x, k, b, 1)[..., : _out(x, k, s)[0], : _out(x, k, s)[1]],
    ),
    ("conv_transposed", lambda x, k, b, s: np.swapaxes(_conv(x, k, b, s), -1, -2)),
]


def _no_sum(got, expected, args):
    x, k, b, s = args
    if got.ndim > expected.ndim or (got.shape == x.shape and x.shape != expected.shape):
        return HINTS["conv_no_sum"]
    if got.shape == k.shape:  # one window's products, e.g. the last one computed
        values, _, _ = window_values(x if x.ndim == 2 else x[0], k.shape, s)
        products = values * k.ravel()
        for candidate in (products, products + b):
            if any(np.allclose(got.ravel(), row) for row in candidate):
                return HINTS["conv_no_sum"]
    return None


def _batch(got, expected, args):
    if args[0].ndim == 3 and got.shape != expected.shape:
        return HINTS["batch"]
    return None


def _size(got, expected, args):
    if got.ndim == expected.ndim and got.shape != expected.shape:
        oh, ow = expected.shape[-2:]
        return HINTS["conv_output_size"].format(
            got=entries(got.shape), oh=oh, ow=ow, want=entries(expected.shape)
        )
    return None


RULES = (_batch, _no_sum, _size)


def _error_hint(exc, case):
    """A window sliced one too small (or large) cannot be multiplied by the kernel: numpy names
    both shapes; anything else that will not broadcast is a window that was never summed."""
    text = str(exc)
    shapes = re.findall(r"\(([\d, ]*)\)", text) if "broadcast" in text else []
    kernel = case.args[1].shape
    parsed = [tuple(int(v) for v in s.replace(" ", "").split(",") if v) for s in shapes]
    if kernel in parsed and any(len(p) == 2 and p != kernel for p in parsed):
        window = next(p for p in parsed if len(p) == 2 and p != kernel)
        return HINTS["conv_window_shape"].format(got=entries(window), want=entries(kernel))
    if "sequence" in text or "broadcast" in text:
        return HINTS["conv_no_sum"]
    return None


TASK = Task(
    "conv2d_forward",
    allowed=(),
    allowed_text="numpy (slices, products, np.sum) is all it takes",
    error_hint=_error_hint,
)


def cases(hidden: bool, seed: int):
    """(public cases, hidden cases); the hidden ones are drawn partly from ``seed``."""
    x, _, params = running_example()
    public = [
        ("the running example: x, K and b_c of the book", x, params.kernel, params.conv_bias, 1),
        (
            "a 3x3 image and a 2x2 kernel",
            np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 1.0, 1.0]]),
            np.array([[1.0, 0.0], [-1.0, 2.0]]),
            1.0,
            1,
        ),
        (
            "stride 2 on a 5x5 image",
            (np.arange(25.0).reshape(5, 5) % 7) - 3.0,
            np.array([[1.0, 0.0, -1.0], [2.0, 0.5, 1.0], [0.0, 1.0, 0.0]]),
            -0.5,
            2,
        ),
    ]
    hidden_cases = []
    if hidden:
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
    for i, (name, *args) in enumerate(public + hidden_cases):
        show = dict(zip(("x", "kernel", "bias", "stride"), args, strict=True))
        out.append(Case(name, tuple(args), show, hidden=i >= len(public), batch=args[0].ndim == 3))
    return out[: len(public)], out[len(public) :]


def judge(case, got):
    expect(
        TASK.what,
        case,
        got,
        "z",
        _conv(*case.args),
        VARIANTS,
        "work out one window by hand (chapter Convolution does z1[0, 0]) and "
        "compare it with your entry.",
        RULES,
    )


def check_conv2d_forward(student_fn, hidden=False, seed=None, part=None) -> None:
    """Check ``student_fn(x, kernel, bias, stride)``, the convolution's forward pass, against
    the book's loops (:func:`cnn6.naive.conv2d`).

    The student's function takes x (H, W) or (n, H, W), kernel (kh, kw), bias (a float) and
    stride (an int >= 1) and returns z of shape (OH, OW) or (n, OH, OW), with
    OH = (H - kh) // stride + 1 and OW = (W - kw) // stride + 1.
    hidden=True adds the hidden cases (batches, non-square shapes, strides 2 and 3, negative
    values), some of them drawn from ``seed``. A function that calls the engine's convolution
    (or the network's forward pass) fails.
    """
    run(TASK, student_fn, hidden, seed, cases, judge, part)
