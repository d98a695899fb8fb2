"""Assignment a4: the ReLU's backward pass, ``relu_backward(dout, z)``."""

from __future__ import annotations

import numpy as np

from .. import naive, network
from ..example import running_example
from .harness import Case, Task, Variant, entries, expect, run

VARIANTS: list[Variant] = [
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


def _shape(got, expected, args):
    if got.shape != expected.shape:
        return f"dz has the shape of z, {entries(expected.shape)}."
    return None


def _reference(dout, z):
    """dz = dout * f'(z), entry by entry, with the book's f' (:func:`cnn6.naive.f_prime`)."""
    slopes = [naive.f_prime(value) for value in np.ravel(z)]
    return np.asarray(dout, dtype=np.float64) * np.reshape(slopes, np.shape(z))


TASK = Task(
    "relu_backward",
    allowed=(),
    allowed_text="one line of numpy does it",
)


def cases(hidden: bool, seed: int):
    """(public cases, hidden cases); the hidden ones are drawn partly from ``seed``."""
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
    out = []
    for i, (name, dout, z) in enumerate(public + hidden_cases):
        show = {"dout": dout, "z": z}
        out.append(Case(name, (dout, z), show, hidden=i >= len(public), batch=z.ndim == 3))
    return out[: len(public)], out[len(public) :]


def judge(case, got):
    expect(
        TASK.what,
        case,
        got,
        "dz",
        _reference(*case.args),
        VARIANTS,
        "dz[i, j] is dout[i, j] where z[i, j] > 0 and 0 elsewhere.",
        (_shape,),
    )


def check_relu_backward(student_fn, hidden=False, seed=None, part=None) -> None:
    """Check ``student_fn(dout, z)``, the ReLU's backward pass, against the book's
    derivative (:func:`cnn6.naive.f_prime`).

    The student's function takes dout (the gradient w.r.t. the ReLU's output) and z (its
    forward input), any shape, both the same, and returns dz = dout * [z > 0] (the
    derivative at 0 taken as 0). hidden=True adds a batch, a vector, zeros and negative
    gradients. A function that calls the engine's activations fails.
    """
    run(TASK, student_fn, hidden, seed, cases, judge, part)
