"""Assignment a6: one whole training step, ``training_step(params, X, y, lr)``."""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import layers, naive, network
from ..data import make_dataset
from ..example import running_example
from ..network import Params
from .a2_maxpool_forward import last_argmax
from .a3_maxpool_backward import route
from .harness import Case, Task, as_array, close, diff_lines, fail, number, run, short
from .hints import HINTS

# The public functions the notebook lets a training step call: the forward pass and every
# layer's forward/backward pair (not cnn6.backward, cnn6.sgd_step, cnn6.train, ...).
ALLOWED = (
    "forward",
    "predict_proba",
    "accuracy",
    "conv2d_forward",
    "conv2d_backward",
    "conv_matrix",
    "relu_forward",
    "relu_backward",
    "leaky_relu_forward",
    "leaky_relu_backward",
    "elu_forward",
    "elu_backward",
    "activation_forward",
    "activation_backward",
    "maxpool2d_forward",
    "maxpool2d_backward",
    "flatten_forward",
    "flatten_backward",
    "dense_forward",
    "dense_backward",
    "sigmoid_forward",
    "sigmoid_backward",
    "bce_forward",
    "bce_backward",
)


def _error_hint(exc, case):
    if isinstance(exc, dataclasses.FrozenInstanceError):
        return HINTS["step_frozen"]
    return None


TASK = Task(
    "training_step",
    allowed=ALLOWED,
    allowed_text="cnn6.forward for the trace, the layer functions (cnn6.maxpool2d_backward, "
    "cnn6.relu_backward, cnn6.conv2d_backward, ...) or your own for single steps, but not "
    "cnn6.backward, cnn6.sgd_step, cnn6.train or cnn6.numerical_gradient",
    error_hint=_error_hint,
    parts=("dense", "conv", "update"),
    changed_hint="step_in_place",
)

# the fields each part of the hidden cases judges (the update: all of them)
PART_FIELDS = {"dense": ("fc_bias", "weights"), "conv": ("kernel", "conv_bias")}


def grads_variant(
    params,
    X,
    y,
    *,
    dz4="ok",
    dw="a3",
    route_mode="first",
    gate="indicator",
    dk_with="dz1",
    flip=False,
    db_from="dz1",
):
    """The four parameter gradients as a (possibly wrong) backward pass computes them."""
    trace = network.forward(params, X, y)
    n = X.shape[0] if X.ndim == 3 else 1
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
    if route_mode == "first":
        da1 = layers.maxpool2d_backward(da2, trace.pool_idx, trace.a1.shape)
    elif route_mode == "last":  # the last maximum of a tied window
        da1 = route(da2, trace.a1, 2, 2, pick=last_argmax)
    else:  # "spread"
        da1 = route(da2, trace.a1, 2, 2, mode="spread")
    if gate == "indicator":
        dz1 = da1 * (trace.z1 > 0)
    elif gate == "ge":
        dz1 = da1 * (trace.z1 >= 0)
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


NAMES = ("kernel", "conv_bias", "weights", "fc_bias")  # the fields of cnn6.Params
SHAPES = {name: np.shape(getattr(running_example()[2], name)) for name in NAMES}
FIELDS = ("fc_bias", "weights", "kernel", "conv_bias")  # the order the backward pass meets them

# (hint, options of grads_variant): one mistake of the backward pass each
FIELD_VARIANTS = [
    ("dz4_bce", {"dz4": "bce"}),
    ("dw_a4", {"dw": "a4"}),
    ("dw_w", {"dw": "w"}),
    ("step_gate_at_zero", {"gate": "ge"}),  # before the next: where every z1 is 0 they agree
    ("dk_skip_gate", {"gate": "none"}),
    ("dk_times_activation", {"gate": "a1"}),
    ("dk_with_a1", {"dk_with": "a1"}),
    ("dk_flip", {"flip": True}),
    ("dk_route_spread", {"route_mode": "spread"}),
    ("db_sum_input", {"db_from": "x"}),
    ("step_tie_first", {"route_mode": "last"}),
]


def _dataset(n, seed):
    return make_dataset(n, np.random.default_rng(seed))


def cases(hidden: bool, seed: int):
    """(public cases, hidden cases); the hidden ones are drawn partly from ``seed``."""
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
        blank = Params(params.kernel, 0.0, params.weights, params.fc_bias)
        column = np.zeros((3, 3))
        column[:, 0] = rng.uniform(0.5, 1.5, 3)
        tied = Params(column, 0.5, params.weights, params.fc_bias)
        X_pairs = np.repeat(rng.uniform(0.0, 1.0, (6, 3)), 2, axis=1)
        hidden_cases = [  # (part, name, params, X, y, lr)
            ("dense", "a batch of 16, random parameters, lr = 0.05", mixed, X16, y16, 0.05),
            ("dense", "one image of class 0, lr = 0.2", params, Xc0[k0], 0, 0.2),
            ("conv", "many pooling windows shut by the ReLU, a batch of 16", shut, X16, y16, 0.3),
            (
                "conv",
                "a blank image with conv_bias 0: every z1 is exactly 0",
                blank,
                np.zeros((6, 6)),
                1,
                0.5,
            ),
            (
                "conv",
                "tied maxima: a kernel that reads one column, columns in equal pairs",
                tied,
                X_pairs,
                0,
                0.3,
            ),
            ("update", "a batch of one image (1, 6, 6), lr = 1.0", mixed, X1, y1, 1.0),
            (
                "update",
                "the whole step: a batch of 16, random parameters, lr = 0.05",
                mixed,
                X16,
                y16,
                0.05,
            ),
        ]
    out = []
    for i, (part, name, p, X, yy, lr) in enumerate([("public", *c) for c in public] + hidden_cases):
        show = {"params": p, "X": X, "y": yy if np.ndim(yy) == 0 else np.asarray(yy), "lr": lr}
        hidden_case, batch = i >= len(public), np.ndim(X) == 3
        out.append(Case(name, (p, X, yy, lr), show, hidden_case, batch, part))
    return out[: len(public)], out[len(public) :]


def _as_params(got, case) -> Params:
    what = TASK.what
    if isinstance(got, (tuple, list)) and got and isinstance(got[0], Params):
        fail(what, case, [f"Your function returned a {type(got).__name__}."], HINTS["step_tuple"])
    if not isinstance(got, Params):
        fail(
            what,
            case,
            [f"Your function returned {type(got).__name__}, not a cnn6.Params."],
            HINTS["not_params"],
        )
    values = {}
    for name, shape in SHAPES.items():
        arr = as_array(getattr(got, name), what, case, f"new params.{name}")
        if arr.shape != shape:
            fail(
                what,
                case,
                [f"new params.{name}: expected shape {shape}, got {arr.shape}."],
                f"each parameter keeps its shape; {name} has shape {shape}."
                + (" Sum the per-image gradients over the batch." if arr.ndim > len(shape) else ""),
            )
        values[name] = float(arr) if shape == () else arr  # a float, as Params holds
    return Params(**values)


def _reference(params, X, y):
    """The gradient of the mean loss by the book's loops (:mod:`cnn6.naive`), as Params."""
    labels = y if np.ndim(X) == 2 else list(y)
    grads = naive.backward(params, naive.forward(params, X, labels), np.asarray(labels))
    return Params(*(np.asarray(grads[name], dtype=np.float64) for name in NAMES))


def _loss(params, X, y) -> float:
    return naive.forward(params, X, y if np.ndim(X) == 2 else list(y), "relu")["loss"]


def _hint(params, new, implied, grads, case, fields=FIELDS) -> str | None:
    """The usual mistake behind a wrong step: the whole update first, then field by field."""
    _, X, y, lr = case.args
    n = X.shape[0] if X.ndim == 3 else 1
    vec_new, vec_p, vec_g = new.to_vector(), params.to_vector(), grads.to_vector()
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
        if close(vec_new, value) and not close(value, vec_p - lr * vec_g):
            return HINTS[key]
    variants = [(key, grads_variant(params, X, y, **opts)) for key, opts in FIELD_VARIANTS]
    for name in fields:  # in the order the backward pass computes them
        got_f = np.asarray(getattr(implied, name), dtype=np.float64)
        right = np.asarray(getattr(grads, name), dtype=np.float64)
        if close(got_f, right):
            continue
        new_f = np.asarray(getattr(new, name), dtype=np.float64)
        old_f = np.asarray(getattr(params, name), dtype=np.float64)
        if not close(right, 0 * right):
            if close(new_f, old_f):
                return f"params.{name} did not change: new = params - lr * grad."
            if close(new_f, old_f + lr * right):
                return HINTS["step_ascent"]
            if any(close(new_f, v) for v in (lr * right, -lr * right, right)):
                return HINTS["step_overwrite"]
        for key, variant in variants:
            value = np.asarray(getattr(variant, name), dtype=np.float64)
            if not close(value, right) and close(got_f, value):
                return HINTS[key]
        return None
    return None


def judge(case, got):
    what = TASK.what
    params, X, y, lr = case.args
    new = _as_params(got, case)
    grads = _reference(params, X, y)
    expected = Params.from_vector(params.to_vector() - lr * grads.to_vector())
    fields = [f for f in FIELDS if f in PART_FIELDS.get(case.part, FIELDS)]
    if all(close(np.asarray(getattr(new, f)), np.asarray(getattr(expected, f))) for f in fields):
        return
    implied = Params(*((getattr(params, f) - getattr(new, f)) / lr for f in NAMES))
    before, after, reference = (_loss(p, X, y) for p in (params, new, expected))
    lines = [
        f"Loss on this case: before the step {number(before)}, after your step "
        f"{number(after)} (the reference step gives {number(reference)})."
    ]
    for name in fields:
        exp_f = np.asarray(getattr(expected, name))
        got_f = np.asarray(getattr(new, name))
        if not close(got_f, exp_f):
            lines += diff_lines(f"new params.{name}", exp_f, got_f)
            lines.append(
                f"  (your step implies the gradient {short(np.asarray(getattr(implied, name)))}; "
                f"the gradient is {short(np.asarray(getattr(grads, name)))})"
            )
            break
    fail(
        what,
        case,
        lines,
        _hint(params, new, implied, grads, case, fields)
        or "check each gradient on its own against the book's chapters (dz4 = a4 - y, "
        "dw = dz4 * a3, da1 by max-pool routing, dz1 = da1 * [z1 > 0], dK = x ⋆ dz1, "
        "db_c = sum of dz1), then new = params - lr * grad.",
    )


def check_training_step(student_fn, hidden=False, seed=None, part=None) -> None:
    """Check ``student_fn(params, X, y, lr)``: one step of gradient descent on the mean loss.

    The student's function takes cnn6.Params, one image (6, 6) with its label or a batch
    (n, 6, 6) with labels (n,), and a learning rate, and returns the new cnn6.Params:
    params - lr * (the gradient of the mean binary cross-entropy, the reference computed by
    the book's loops, :func:`cnn6.naive.backward`). It may call cnn6.forward
    and the layer functions, but not cnn6.backward, cnn6.sgd_step or anything else of the
    engine that computes the backward pass or the update, or that changes the params it is
    given. hidden=True adds random parameters, pooling windows shut by the ReLU, z1 exactly 0,
    tied maxima, a batch of one image and a class-0 image; ``part`` ("dense", "conv" or
    "update", with hidden=True) runs one group of them alone, judged on the dense layer's
    parameters, the convolution's, or the whole step, as the graded notebook does.
    """
    run(TASK, student_fn, hidden, seed, cases, judge, part)
