"""Assignment a5: the convolution's kernel and bias gradients, ``conv2d_kernel_grad(x, dz)``."""

from __future__ import annotations

import numpy as np

from .. import naive, network
from ..example import running_example
from .harness import Case, Task, Variant, entries, expect, run, unpack
from .hints import HINTS


def kernel_grad(x, dz):
    """(dkernel, dbias) of a stride-1 convolution of x whose output has the shape of dz: the
    book's loops (:func:`cnn6.naive.conv2d_backward`), summed over the images of a batch."""
    kernel = np.zeros((x.shape[-2] - dz.shape[-2] + 1, x.shape[-1] - dz.shape[-1] + 1))
    images, deltas = x.reshape((-1,) + x.shape[-2:]), dz.reshape((-1,) + dz.shape[-2:])
    grads = [
        naive.conv2d_backward(d, image, kernel)[1:] for d, image in zip(deltas, images, strict=True)
    ]
    return sum(dk for dk, _ in grads), float(sum(db for _, db in grads))


def _per_image(x, dz):
    if x.ndim != 3:
        raise ValueError("not a batch")
    return np.stack([kernel_grad(xi, di)[0] for xi, di in zip(x, dz, strict=True)])


DK_VARIANTS: list[Variant] = [
    ("kgrad_flip", lambda x, dz: kernel_grad(x, dz[..., ::-1, ::-1])[0]),
    ("kgrad_transposed", lambda x, dz: kernel_grad(x, dz)[0].T),
    ("kgrad_no_batch_sum", _per_image),
    ("kgrad_batch_mean", lambda x, dz: _per_image(x, dz).mean(0)),
]

DB_VARIANTS: list[Variant] = [
    ("bgrad_sum_input", lambda x, dz: x.sum()),
    ("bgrad_mean", lambda x, dz: dz.mean()),
    ("bgrad_mean", lambda x, dz: dz.sum() / dz.shape[-1] / dz.shape[-2]),
    ("bgrad_no_batch_sum", lambda x, dz: dz.reshape(dz.shape[0], -1).sum(1)),
    ("bgrad_not_scalar", lambda x, dz: dz),
]


def _shape(got, expected, args):
    x, dz = args
    if got.shape == expected.shape:
        return None
    if got.shape[-2:] == dz.shape[-2:]:
        return HINTS["kgrad_no_slide"]
    if x.ndim == 3 and got.ndim == 3:
        return HINTS["kgrad_no_batch_sum"]
    return HINTS["kgrad_shape"].format(want=entries(expected.shape), got=entries(got.shape))


TASK = Task(
    "conv2d_kernel_grad",
    allowed=(),
    allowed_text="numpy (slices, products, np.sum) is all it takes; the engine's convolution, "
    "forward or backward, is off limits here, since x ⋆ dz is the very thing to compute",
)


def cases(hidden: bool, seed: int):
    """(public cases, hidden cases); the hidden ones are drawn partly from ``seed``."""
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
    out = []
    for i, (name, xx, dz) in enumerate(public + hidden_cases):
        show = {"x": xx, "dz": dz}
        out.append(Case(name, (xx, dz), show, hidden=i >= len(public), batch=xx.ndim == 3))
    return out[: len(public)], out[len(public) :]


def judge(case, got):
    what = TASK.what
    dk, db = unpack(got, what, case, "(dkernel, dbias)", "tuple_dk_db")
    expected_dk, expected_db = kernel_grad(*case.args)
    expect(
        what,
        case,
        dk,
        "dkernel",
        expected_dk,
        DK_VARIANTS,
        "dkernel[u, v] = sum over i, j of x[i + u, j + v] * dz[i, j]: the block "
        "of x that starts at (u, v), the size of dz, times dz, summed.",
        (_shape,),
    )
    expect(
        what,
        case,
        db,
        "dbias",
        np.asarray(expected_db),
        DB_VARIANTS,
        "dbias is the sum of every entry of dz.",
    )


def check_conv2d_kernel_grad(student_fn, hidden=False, seed=None, part=None) -> None:
    """Check ``student_fn(x, dz)``: the gradients of a convolution's kernel and bias.

    The student's function takes x (H, W) or (n, H, W), the convolution's forward input, and
    dz (OH, OW) or (n, OH, OW), the gradient of the loss w.r.t. its output (stride 1), and
    returns ``(dkernel, dbias)``: dkernel = x ⋆ dz of shape (H - OH + 1, W - OW + 1), summed
    over the batch, and dbias = the sum of dz (a float). The reference is the book's loops,
    :func:`cnn6.naive.conv2d_backward`. hidden=True adds batches, non-square shapes and
    negative values. A function that calls the engine's convolution, forward or backward, fails.
    """
    run(TASK, student_fn, hidden, seed, cases, judge, part)
