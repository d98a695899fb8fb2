"""Every bad input of DESIGN section 3, for every public function: the exception's type, and a
message that starts with the argument's name as the signature spells it, then says what was
expected ("name: expected ...")."""

import dataclasses
import re

import numpy as np
import pytest

import cnn6
from cnn6 import validation as check

RNG = np.random.default_rng(0)
X, Y = cnn6.make_dataset(4, RNG)
X1, Y1 = X[0], int(Y[0])
P = cnn6.init_params(RNG)
TRACE = cnn6.forward(P, X, Y)
GRADS = cnn6.backward(P, TRACE, Y)
OTHER = cnn6.Params(P.kernel + 1.0, P.conv_bias, P.weights, P.fc_bias)
A44 = np.arange(16.0).reshape(4, 4)
POOLED, POOL_IDX = cnn6.maxpool2d_forward(A44)
NAN44 = np.where(A44 == 5.0, np.nan, A44)


def params_with(**fields):
    values = dict(kernel=P.kernel, conv_bias=P.conv_bias, weights=P.weights, fc_bias=P.fc_bias)
    values.update(fields)
    return cnn6.Params(**values)


def with_nan(a):
    a = np.array(a, dtype=np.float64)
    a.flat[0] = np.nan
    return a


def with_inf(a):
    a = np.array(a, dtype=np.float64)
    a.flat[-1] = -np.inf
    return a


# Bad values of each kind, reused across the functions below.
BAD_RNGS = [0, None, np.random.RandomState(0), np.random.default_rng(0).bit_generator, np.random]
BAD_PARAMS = [
    (None, TypeError, "params"),
    ((P.kernel, P.conv_bias, P.weights, P.fc_bias), TypeError, "params"),
    (GRADS, TypeError, "params"),
    (params_with(kernel=np.ones((2, 2))), ValueError, "params.kernel"),
    (params_with(kernel=np.ones(9)), ValueError, "params.kernel"),
    (params_with(kernel=with_nan(P.kernel)), ValueError, "params.kernel"),
    (params_with(kernel=np.full((3, 3), "a")), TypeError, "params.kernel"),
    (params_with(conv_bias=np.nan), ValueError, "params.conv_bias"),
    (params_with(conv_bias=np.ones(1)), TypeError, "params.conv_bias"),
    (params_with(conv_bias="0"), TypeError, "params.conv_bias"),
    (params_with(weights=np.ones(5)), ValueError, "params.weights"),
    (params_with(weights=with_inf(P.weights)), ValueError, "params.weights"),
    (params_with(fc_bias=np.inf), ValueError, "params.fc_bias"),
    (params_with(fc_bias=None), TypeError, "params.fc_bias"),
]
BAD_IMAGES = [  # for functions taking one image (6, 6) or a batch (n, 6, 6)
    (np.ones((5, 5)), ValueError),
    (np.ones((4, 6, 5)), ValueError),
    (np.ones((2, 2, 6, 6)), ValueError),
    (np.ones(36), ValueError),
    (np.ones((0, 6, 6)), ValueError),
    (with_nan(X), ValueError),
    (with_inf(X1), ValueError),
    (X.astype(np.complex128), TypeError),
    (X.astype(object), TypeError),
    (X > 0.5, TypeError),
    ("image", TypeError),
    (None, TypeError),
]
BAD_LABELS = [  # for the batch X of 4 images
    (np.array([0, 1, 2, 0]), ValueError),
    (np.array([0, 1, -1, 0]), ValueError),
    (np.array([0, 1, 0.5, 0]), ValueError),
    (np.array([0, 1, np.nan, 0]), ValueError),
    (np.array([0, 1, 0]), ValueError),  # one too few
    (np.array([0, 1, 0, 1, 1]), ValueError),  # one too many
    (np.array([[0, 1, 0, 1]]), ValueError),
    (1, ValueError),  # one label for a batch
    (np.array(["0", "1", "0", "1"]), TypeError),
    ("0101", TypeError),
    (None, TypeError),  # forward takes None (no labels): left out there
]
BAD_LABEL_ONE = [  # for the single image X1
    (2, ValueError),
    (0.5, ValueError),
    (np.array([1]), ValueError),  # a batch's labels for one image
    ("1", TypeError),
]
BAD_ACTIVATIONS = [("tanh", ValueError), ("ReLU", ValueError), (None, TypeError), (1, TypeError)]


def cases():
    c = []

    def add(label, fn, exc, name):
        c.append(pytest.param(fn, exc, name, id=f"{label}-{len(c)}"))

    # make_dataset(n, rng, low, high, square_value, *, return_corners)
    for n, exc in [
        (0, ValueError),
        (-3, ValueError),
        (2.0, TypeError),
        ("4", TypeError),
        (True, TypeError),
        (None, TypeError),
    ]:
        add("make_dataset-n", lambda n=n: cnn6.make_dataset(n, np.random.default_rng(0)), exc, "n")
    for r in BAD_RNGS:
        add("make_dataset-rng", lambda r=r: cnn6.make_dataset(4, r), TypeError, "rng")
    for low, high, exc, name in [
        (1.0, 1.0, ValueError, "high"),  # low >= high
        (2.0, 1.0, ValueError, "high"),
        (np.nan, 1.0, ValueError, "low"),
        (-np.inf, 1.0, ValueError, "low"),
        ("0", 1.0, TypeError, "low"),
        (0.0, np.inf, ValueError, "high"),
        (0.0, None, TypeError, "high"),
    ]:
        add(
            "make_dataset-range",
            lambda lo=low, hi=high: cnn6.make_dataset(4, np.random.default_rng(0), lo, hi),
            exc,
            name,
        )
    for value, exc in [(np.nan, ValueError), (np.inf, ValueError), (None, TypeError)]:
        add(
            "make_dataset-square_value",
            lambda v=value: cnn6.make_dataset(4, np.random.default_rng(0), square_value=v),
            exc,
            "square_value",
        )
    add(
        "make_dataset-return_corners",
        lambda: cnn6.make_dataset(4, np.random.default_rng(0), return_corners="yes"),
        TypeError,
        "return_corners",
    )

    # init_params(rng, kernel_scale, weight_scale)
    for r in BAD_RNGS:
        add("init_params-rng", lambda r=r: cnn6.init_params(r), TypeError, "rng")
    for name in ("kernel_scale", "weight_scale"):
        for value, exc in [
            (0.0, ValueError),
            (-1.0, ValueError),
            (np.nan, ValueError),
            (np.inf, ValueError),
            ("1", TypeError),
        ]:
            add(
                f"init_params-{name}",
                lambda k={name: value}: cnn6.init_params(np.random.default_rng(0), **k),
                exc,
                name,
            )

    # forward(params, X, y, activation)
    for params, exc, name in BAD_PARAMS:
        add("forward-params", lambda p=params: cnn6.forward(p, X, Y), exc, name)
    for images, exc in BAD_IMAGES:
        add("forward-X", lambda i=images: cnn6.forward(P, i), exc, "X")
    for labels, exc in BAD_LABELS[:-1]:
        add("forward-y", lambda t=labels: cnn6.forward(P, X, t), exc, "y")
    for labels, exc in BAD_LABEL_ONE:
        add("forward-y-one", lambda t=labels: cnn6.forward(P, X1, t), exc, "y")
    for act, exc in BAD_ACTIVATIONS:
        add("forward-activation", lambda a=act: cnn6.forward(P, X, Y, a), exc, "activation")

    # backward(params, trace, y)
    for params, exc, name in BAD_PARAMS:
        add("backward-params", lambda p=params: cnn6.backward(p, TRACE, Y), exc, name)
    for trace, exc in [
        (None, TypeError),
        (GRADS, TypeError),
        (X, TypeError),
        (cnn6.forward(OTHER, X, Y), ValueError),
    ]:
        add("backward-trace", lambda t=trace: cnn6.backward(P, t, Y), exc, "trace")
    for labels, exc in BAD_LABELS:
        add("backward-y", lambda t=labels: cnn6.backward(P, TRACE, t), exc, "y")

    # sgd_step(params, grads, lr)
    for params, exc, name in BAD_PARAMS:
        add("sgd_step-params", lambda p=params: cnn6.sgd_step(p, GRADS, 0.1), exc, name)
    for grads, exc, name in [
        (None, TypeError, "grads"),
        (GRADS.kernel, TypeError, "grads"),
        (params_with(kernel=np.ones((3, 2))), ValueError, "grads.kernel"),
        (params_with(weights=with_nan(P.weights)), ValueError, "grads.weights"),
        (params_with(fc_bias=np.nan), ValueError, "grads.fc_bias"),
        # a Grads is taken on its types and shapes; its values show in the step's result
        (GRADS._replace(kernel=with_nan(GRADS.kernel)), ValueError, "grads.kernel"),
        (GRADS._replace(weights=with_inf(GRADS.weights)), ValueError, "grads.weights"),
        (GRADS._replace(conv_bias=-np.inf), ValueError, "grads.conv_bias"),
    ]:
        add("sgd_step-grads", lambda g=grads: cnn6.sgd_step(P, g, 0.1), exc, name)
    for lr, exc in [
        (0.0, ValueError),
        (-0.1, ValueError),
        (np.nan, ValueError),
        (np.inf, ValueError),
        ("0.1", TypeError),
        (None, TypeError),
    ]:
        add("sgd_step-lr", lambda lr=lr: cnn6.sgd_step(P, GRADS, lr), exc, "lr")

    # finite gradients and a finite lr whose product overflows: the new params would be inf
    def overflowing_step():
        huge_grads = params_with(kernel=np.full((3, 3), 1e300))
        with np.errstate(over="ignore"):  # numpy's warning, before the error
            return cnn6.sgd_step(P, huge_grads, 1e300)

    add("sgd_step-lr-overflow", overflowing_step, ValueError, "lr")

    # numerical_gradient(params, X, y, eps, activation)
    for params, exc, name in BAD_PARAMS[:4]:
        add(
            "numerical_gradient-params",
            lambda p=params: cnn6.numerical_gradient(p, X, Y),
            exc,
            name,
        )
    for images, exc in BAD_IMAGES:
        add("numerical_gradient-X", lambda i=images: cnn6.numerical_gradient(P, i, Y), exc, "X")
    for labels, exc in BAD_LABELS:
        add("numerical_gradient-y", lambda t=labels: cnn6.numerical_gradient(P, X, t), exc, "y")
    for eps, exc in [
        (0.0, ValueError),
        (-1e-6, ValueError),
        (np.nan, ValueError),
        (2.0, ValueError),
        ("1e-6", TypeError),
    ]:
        add(
            "numerical_gradient-eps",
            lambda e=eps: cnn6.numerical_gradient(P, X, Y, eps=e),
            exc,
            "eps",
        )
    for act, exc in BAD_ACTIVATIONS:
        add(
            "numerical_gradient-activation",
            lambda a=act: cnn6.numerical_gradient(P, X, Y, activation=a),
            exc,
            "activation",
        )

    # train(params, X, y, *, rng, lr, epochs, batch_size, optimizer, momentum,
    #       final_lr_fraction, activation, restarts, restart_epochs, validation)
    def train(params=P, images=X, labels=Y, **kw):
        kw.setdefault("rng", np.random.default_rng(0))
        return cnn6.train(params, images, labels, **kw)

    for params, exc, name in BAD_PARAMS:
        add("train-params", lambda p=params: train(p), exc, name)
    for images, exc in [(X1, ValueError)] + BAD_IMAGES[1:]:  # one image is not a training set
        add("train-X", lambda i=images: train(images=i), exc, "X")
    for labels, exc in BAD_LABELS:
        add("train-y", lambda t=labels: train(labels=t), exc, "y")
    for r in BAD_RNGS:
        add("train-rng", lambda r=r: train(rng=r), TypeError, "rng")
    for name, value, exc in [
        ("lr", 0.0, ValueError),
        ("lr", -0.02, ValueError),
        ("lr", np.nan, ValueError),
        ("lr", "0.02", TypeError),
        ("epochs", 0, ValueError),
        ("epochs", -1, ValueError),
        ("epochs", 2.5, TypeError),
        ("epochs", 30.0, TypeError),
        ("batch_size", 0, ValueError),
        ("batch_size", -32, ValueError),
        ("batch_size", 32.0, TypeError),
        ("optimizer", "rmsprop", ValueError),
        ("optimizer", "Adam", ValueError),
        ("optimizer", None, (TypeError, ValueError)),
        ("momentum", -0.1, ValueError),
        ("momentum", 1.0, ValueError),
        ("momentum", 1.5, ValueError),
        ("momentum", np.nan, ValueError),
        ("final_lr_fraction", 0.0, ValueError),
        ("final_lr_fraction", -0.5, ValueError),
        ("final_lr_fraction", 1.5, ValueError),
        ("activation", "tanh", ValueError),
        ("activation", None, TypeError),
        ("restarts", 0, ValueError),
        ("restarts", 1.5, TypeError),
        ("restart_epochs", 0, ValueError),
        ("restart_epochs", 30, ValueError),  # not fewer than epochs=30 with restarts
        ("validation", [X, Y], TypeError),
        ("validation", (X,), TypeError),
        ("validation", X, TypeError),
    ]:
        add(f"train-{name}", lambda k={name: value}: train(**k), exc, name)
    add(
        "train-validation[0]",
        lambda: train(validation=(with_nan(X), Y)),
        ValueError,
        "validation[0]",
    )
    add("train-validation[0]", lambda: train(validation=(X1, Y1)), ValueError, "validation[0]")
    add("train-validation[1]", lambda: train(validation=(X, Y[:3])), ValueError, "validation[1]")
    add("train-validation[1]", lambda: train(validation=(X, Y + 1)), ValueError, "validation[1]")

    # predict_proba(params, X, activation) and accuracy(params, X, y, activation)
    for params, exc, name in BAD_PARAMS:
        add("predict_proba-params", lambda p=params: cnn6.predict_proba(p, X), exc, name)
        add("accuracy-params", lambda p=params: cnn6.accuracy(p, X, Y), exc, name)
    for images, exc in BAD_IMAGES:
        add("predict_proba-X", lambda i=images: cnn6.predict_proba(P, i), exc, "X")
        add("accuracy-X", lambda i=images: cnn6.accuracy(P, i, Y), exc, "X")
    for labels, exc in BAD_LABELS:
        add("accuracy-y", lambda t=labels: cnn6.accuracy(P, X, t), exc, "y")
    for act, exc in BAD_ACTIVATIONS:
        add(
            "predict_proba-activation", lambda a=act: cnn6.predict_proba(P, X, a), exc, "activation"
        )
        add("accuracy-activation", lambda a=act: cnn6.accuracy(P, X, Y, a), exc, "activation")

    # conv2d_forward(x, kernel, bias, stride), conv2d_backward(dout, x, kernel, stride)
    k2 = np.ones((2, 2))
    dz = np.ones((3, 3))
    for fn, label in [
        (
            lambda x=A44, kernel=k2, bias=0.0, stride=1: cnn6.conv2d_forward(
                x, kernel, bias, stride
            ),
            "conv2d_forward",
        ),
        (
            lambda x=A44, kernel=k2, stride=1: cnn6.conv2d_backward(dz, x, kernel, stride),
            "conv2d_backward",
        ),
    ]:
        for x, exc in [
            (np.ones(4), ValueError),
            (np.ones((2, 2, 4, 4)), ValueError),
            (NAN44, ValueError),
            ("x", TypeError),
            (A44.astype(complex), TypeError),
        ]:
            add(f"{label}-x", lambda fn=fn, x=x: fn(x=x), exc, "x")
        for kernel, exc in [
            (np.ones(2), ValueError),
            (np.ones((5, 2)), ValueError),
            (np.ones((2, 5)), ValueError),
            (with_nan(k2), ValueError),
            (None, TypeError),
        ]:
            add(f"{label}-kernel", lambda fn=fn, k=kernel: fn(kernel=k), exc, "kernel")
        for stride, exc in [(0, ValueError), (-1, ValueError), (1.0, TypeError), ("1", TypeError)]:
            add(f"{label}-stride", lambda fn=fn, s=stride: fn(stride=s), exc, "stride")
    for bias, exc in [
        (np.nan, ValueError),
        (np.inf, ValueError),
        ("0", TypeError),
        (np.ones(2), TypeError),
    ]:
        add("conv2d_forward-bias", lambda b=bias: cnn6.conv2d_forward(A44, k2, b), exc, "bias")
    for dout, exc in [
        (np.ones((4, 4)), ValueError),
        (np.ones((1, 3, 3)), ValueError),
        (with_nan(dz), ValueError),
        (None, TypeError),
    ]:
        add("conv2d_backward-dout", lambda d=dout: cnn6.conv2d_backward(d, A44, k2), exc, "dout")
    # conv_matrix(kernel, image_shape, stride)
    for kernel, exc in [
        (np.ones(3), ValueError),
        (np.ones((5, 2)), ValueError),
        (with_nan(k2), ValueError),
    ]:
        add("conv_matrix-kernel", lambda k=kernel: cnn6.conv_matrix(k, (4, 4)), exc, "kernel")
    for shape, exc in [
        ([4, 4], TypeError),
        ((4,), TypeError),
        ((4, 4, 4), TypeError),
        ((0, 4), ValueError),
        ((4.0, 4), TypeError),
    ]:
        add("conv_matrix-image_shape", lambda s=shape: cnn6.conv_matrix(k2, s), exc, "image_shape")
    add("conv_matrix-stride", lambda: cnn6.conv_matrix(k2, (4, 4), 0), ValueError, "stride")
    # window_indices(height, width, kh, kw, stride)
    good = dict(height=4, width=4, kh=2, kw=2, stride=1)
    for name, value, exc in [
        ("height", 0, ValueError),
        ("width", -1, ValueError),
        ("kh", 0, ValueError),
        ("kw", 2.0, TypeError),
        ("stride", 0, ValueError),
        ("kh", 5, ValueError),
        ("kw", 5, ValueError),
    ]:
        add(
            f"window_indices-{name}",
            lambda k={**good, name: value}: cnn6.window_indices(**k),
            exc,
            name,
        )

    # activations: (z) forward, (dout, z) backward, slope, alpha, activation name
    z = np.array([[-1.0, 2.0], [3.0, -4.0]])
    forwards = [
        ("relu_forward", lambda z: cnn6.relu_forward(z)),
        ("leaky_relu_forward", lambda z: cnn6.leaky_relu_forward(z)),
        ("elu_forward", lambda z: cnn6.elu_forward(z)),
        ("activation_forward", lambda z: cnn6.activation_forward(z, "elu")),
    ]
    for label, fn in forwards:
        for bad, exc in [
            (with_nan(z), ValueError),
            (np.ones((1, 2, 2, 2)), ValueError),
            (None, TypeError),
            (z.astype(object), TypeError),
        ]:
            add(f"{label}-z", lambda fn=fn, b=bad: fn(b), exc, "z")
    backwards = [
        ("relu_backward", cnn6.relu_backward),
        ("leaky_relu_backward", cnn6.leaky_relu_backward),
        ("elu_backward", cnn6.elu_backward),
        ("activation_backward", cnn6.activation_backward),
    ]
    for label, fn in backwards:
        for bad, exc in [
            (np.ones((2, 3)), ValueError),
            (np.ones(4), ValueError),
            (with_nan(z), ValueError),
            ("1", TypeError),
        ]:
            add(f"{label}-dout", lambda fn=fn, b=bad: fn(b, z), exc, "dout")
        add(f"{label}-z", lambda fn=fn: fn(z, with_inf(z)), ValueError, "z")
    for slope, exc in [
        (-0.1, ValueError),
        (1.0, ValueError),
        (np.nan, ValueError),
        ("0.01", TypeError),
    ]:
        add("leaky_relu_forward-slope", lambda s=slope: cnn6.leaky_relu_forward(z, s), exc, "slope")
        add(
            "leaky_relu_backward-slope",
            lambda s=slope: cnn6.leaky_relu_backward(z, z, s),
            exc,
            "slope",
        )
    for alpha, exc in [
        (0.0, ValueError),
        (-1.0, ValueError),
        (np.inf, ValueError),
        (None, TypeError),
    ]:
        add("elu_forward-alpha", lambda a=alpha: cnn6.elu_forward(z, a), exc, "alpha")
        add("elu_backward-alpha", lambda a=alpha: cnn6.elu_backward(z, z, a), exc, "alpha")
    for act, exc in BAD_ACTIVATIONS:
        add(
            "activation_forward-activation",
            lambda a=act: cnn6.activation_forward(z, a),
            exc,
            "activation",
        )
        add(
            "activation_backward-activation",
            lambda a=act: cnn6.activation_backward(z, z, a),
            exc,
            "activation",
        )

    # maxpool2d_forward(a, size, stride), maxpool2d_backward(dout, pool_idx, input_shape)
    for a, exc in [
        (np.ones(4), ValueError),
        (np.ones((1, 1, 4, 4)), ValueError),
        (NAN44, ValueError),
        ("a", TypeError),
    ]:
        add("maxpool2d_forward-a", lambda a=a: cnn6.maxpool2d_forward(a), exc, "a")
    for size, exc in [(0, ValueError), (5, ValueError), (2.0, TypeError), (None, TypeError)]:
        add("maxpool2d_forward-size", lambda s=size: cnn6.maxpool2d_forward(A44, s), exc, "size")
    for stride, exc in [(0, ValueError), (-2, ValueError), (2.0, TypeError)]:
        add(
            "maxpool2d_forward-stride",
            lambda s=stride: cnn6.maxpool2d_forward(A44, 2, s),
            exc,
            "stride",
        )
    ones22 = np.ones((2, 2))
    for shape, exc in [
        ([4, 4], TypeError),
        ((16,), TypeError),
        (None, TypeError),
        ((4.0, 4), TypeError),
        ((0, 4), ValueError),
        ((4, -4), ValueError),
    ]:
        add(
            "maxpool2d_backward-input_shape",
            lambda s=shape: cnn6.maxpool2d_backward(ones22, POOL_IDX, s),
            exc,
            "input_shape",
        )
    for idx, exc in [
        (POOL_IDX.astype(float), ValueError),
        (POOL_IDX[:1], ValueError),
        (POOL_IDX + 16, ValueError),
        (POOL_IDX - 6, ValueError),
    ]:
        add(
            "maxpool2d_backward-pool_idx",
            lambda i=idx: cnn6.maxpool2d_backward(ones22, i, (4, 4)),
            exc,
            "pool_idx",
        )
    for dout, idx, shape, exc in [
        (np.ones((2, 2, 2)), POOL_IDX, (4, 4), ValueError),
        (with_nan(ones22), POOL_IDX, (4, 4), ValueError),
        (np.ones((3, 2, 2)), np.stack([POOL_IDX] * 3), (2, 4, 4), ValueError),
        ("1", POOL_IDX, (4, 4), TypeError),
    ]:
        add(
            "maxpool2d_backward-dout",
            lambda d=dout, i=idx, s=shape: cnn6.maxpool2d_backward(d, i, s),
            exc,
            "dout",
        )

    # flatten_forward(a), flatten_backward(dout, input_shape)
    for a, exc in [
        (np.ones(4), ValueError),
        (np.ones((1, 1, 2, 2)), ValueError),
        (with_nan(ones22), ValueError),
        (None, TypeError),
    ]:
        add("flatten_forward-a", lambda a=a: cnn6.flatten_forward(a), exc, "a")
    for shape, exc in [
        ([2, 2], TypeError),
        ((4,), TypeError),
        ("22", TypeError),
        ((2, 2.0), TypeError),
        ((-2, -2), ValueError),
    ]:
        add(
            "flatten_backward-input_shape",
            lambda s=shape: cnn6.flatten_backward(np.ones(4), s),
            exc,
            "input_shape",
        )
    for dout, exc in [
        (np.ones(5), ValueError),
        (ones22, ValueError),
        (with_nan(np.ones(4)), ValueError),
    ]:
        add("flatten_backward-dout", lambda d=dout: cnn6.flatten_backward(d, (2, 2)), exc, "dout")

    # dense_forward(a, weights, bias), dense_backward(dout, a, weights)
    w = np.ones(4)
    a = np.ones((3, 4))
    for bad, exc in [(np.ones((4, 1)), ValueError), (with_nan(w), ValueError), (None, TypeError)]:
        add("dense_forward-weights", lambda b=bad: cnn6.dense_forward(a, b), exc, "weights")
        add(
            "dense_backward-weights",
            lambda b=bad: cnn6.dense_backward(np.ones(3), a, b),
            exc,
            "weights",
        )
    for bad, exc in [
        (np.ones(3), ValueError),
        (np.ones((3, 5)), ValueError),
        (np.ones((2, 3, 4)), ValueError),
        (with_inf(a), ValueError),
    ]:
        add("dense_forward-a", lambda b=bad: cnn6.dense_forward(b, w), exc, "a")
        add("dense_backward-a", lambda b=bad: cnn6.dense_backward(np.ones(3), b, w), exc, "a")
    for bias, exc in [(np.nan, ValueError), ("1", TypeError)]:
        add("dense_forward-bias", lambda b=bias: cnn6.dense_forward(a, w, b), exc, "bias")
    for dout, exc in [
        (np.ones(2), ValueError),
        (np.ones((3, 1)), ValueError),
        (np.float64(1.0), ValueError),
        (with_nan(np.ones(3)), ValueError),
    ]:
        add("dense_backward-dout", lambda d=dout: cnn6.dense_backward(d, a, w), exc, "dout")

    # sigmoid_forward(z), sigmoid_backward(dout, a)
    v = np.array([0.1, 0.5, 0.9])
    for bad, exc in [(np.ones((2, 2)), ValueError), (with_nan(v), ValueError), ("0", TypeError)]:
        add("sigmoid_forward-z", lambda b=bad: cnn6.sigmoid_forward(b), exc, "z")
    for bad, exc in [(np.ones(2), ValueError), (with_nan(v), ValueError)]:
        add("sigmoid_backward-dout", lambda b=bad: cnn6.sigmoid_backward(b, v), exc, "dout")
    for bad, exc in [(np.ones((3, 1)), ValueError), (with_inf(v), ValueError)]:
        add("sigmoid_backward-a", lambda b=bad: cnn6.sigmoid_backward(v, b), exc, "a")

    # bce_forward(z, y), bce_backward(z, y)
    t = np.array([0, 1, 1])
    for fn, label in [(cnn6.bce_forward, "bce_forward"), (cnn6.bce_backward, "bce_backward")]:
        for bad, exc in [
            (np.ones((3, 1)), ValueError),
            (with_nan(v), ValueError),
            (None, TypeError),
        ]:
            add(f"{label}-z", lambda fn=fn, b=bad: fn(b, t), exc, "z")
        for bad, exc in [
            (np.array([0, 1, 2]), ValueError),
            (np.array([0, 1]), ValueError),
            (np.array([0.0, 1.0, 0.3]), ValueError),
            (1, ValueError),
            (None, TypeError),
            (np.array(["0", "1", "1"]), TypeError),
        ]:
            add(f"{label}-y", lambda fn=fn, b=bad: fn(v, b), exc, "y")
        add(f"{label}-y-one", lambda fn=fn: fn(np.float64(0.3), np.array([1])), ValueError, "y")

    # relative_error(a, b); Params.from_vector(vector)
    add("relative_error-a", lambda: cnn6.relative_error(with_nan(v), v), ValueError, "a")
    add("relative_error-b", lambda: cnn6.relative_error(v, np.ones(4)), ValueError, "b")
    add("relative_error-b", lambda: cnn6.relative_error(v, np.ones((3, 1))), ValueError, "b")
    add("relative_error-b", lambda: cnn6.relative_error(v, None), TypeError, "b")
    add("from_vector", lambda: cnn6.Params.from_vector(np.ones(14)), ValueError, "vector")
    add("from_vector", lambda: cnn6.Params.from_vector(with_nan(np.ones(15))), ValueError, "vector")
    return c


@pytest.mark.parametrize("call, exc, name", cases())
def test_bad_input_is_rejected_by_name(call, exc, name):
    with pytest.raises(exc, match=rf"^{re.escape(name)}: expected") as info:
        call()
    assert str(info.value).strip() != f"{name}: expected"  # it says what was expected


def test_train_needs_an_rng():
    with pytest.raises(TypeError, match="rng"):
        cnn6.train(P, X, Y)  # keyword-only and required: no hidden global generator


@pytest.mark.parametrize(
    "call",
    [
        lambda: cnn6.make_dataset(3, np.random.default_rng(0), low=-1, high=0, square_value=7),
        lambda: cnn6.make_dataset(np.int64(3), np.random.default_rng(0), return_corners=True),
        lambda: cnn6.forward(P, X.astype(np.float32), Y.astype(np.float64), "leaky_relu"),
        lambda: cnn6.forward(P, X.tolist(), Y.tolist()),
        lambda: cnn6.forward(P, (X * 10).astype(np.int64), Y),
        lambda: cnn6.forward(P, X1, np.int64(Y1)),
        lambda: cnn6.forward(P, X1, True),
        lambda: cnn6.sgd_step(P, GRADS.params(), np.float32(0.5)),
        lambda: cnn6.conv2d_forward(A44, np.ones((4, 4)), np.float64(1.0), np.int32(3)),
        lambda: cnn6.maxpool2d_forward(A44, size=4, stride=4),
        lambda: cnn6.window_indices(4, 4, 4, 4, 1),
        lambda: cnn6.leaky_relu_forward(A44, 0.0),
    ],
)
def test_good_input_of_other_types_is_accepted(call):
    """The checks reject what they must and no more: ints, lists, float32, numpy scalars,
    a kernel exactly the size of the image, a slope of 0."""
    numbers = list(_numbers(call()))
    assert numbers and all(np.isfinite(n).all() for n in numbers)


def _numbers(result):
    """Every array of numbers in a result: an array, a number, or a tuple of them (Trace too)."""
    if isinstance(result, tuple):
        for item in result:
            yield from _numbers(item)
    elif isinstance(result, (np.ndarray, float, int, np.number)):
        yield np.asarray(result, dtype=float)
    elif isinstance(result, cnn6.Params):
        yield result.to_vector()


# --------------------------------------------------------------------------- the short paths
@pytest.mark.parametrize("n", [4, 100])  # a few labels are checked in Python, many in numpy
@pytest.mark.parametrize("bad", [2, -1, 0.5, np.nan])
def test_labels_of_any_batch_size_are_zeros_and_ones(n, bad):
    Xn, yn = cnn6.make_dataset(n, np.random.default_rng(1))
    assert cnn6.forward(P, Xn, yn).loss > 0  # 0/1 labels pass, as int64 and as float64
    assert cnn6.forward(P, Xn, yn.astype(np.float64)).loss > 0
    y_bad = yn.astype(np.float64)
    y_bad[n // 2] = bad
    with pytest.raises(ValueError, match=r"^y: expected labels 0 or 1 only"):
        cnn6.forward(P, Xn, y_bad)
    if float(bad).is_integer():  # the same labels as integers, checked by their own path
        with pytest.raises(ValueError, match=rf"^y: expected labels 0 or 1 only, .*{bad}\."):
            cnn6.forward(P, Xn, y_bad.astype(np.int64))


@pytest.mark.filterwarnings("ignore:overflow encountered")  # numpy's, from the overflowing sum
def test_huge_finite_values_pass_although_their_sums_overflow():
    """The checks test finiteness through a sum, which overflows for entries near 1e308: then
    they test each entry, and accept these."""
    big = cnn6.Params(np.full((3, 3), 1e308), 1e308, np.full(4, -1e308), 1e308)
    assert cnn6.network.checked_params(big).kernel[0, 0] == 1e308
    assert check.array(np.full(4, 1e200), "a", (1,))[0] == 1e200


def test_the_engines_params_are_sealed_read_only_and_taken_unchecked():
    """init_params, sgd_step and from_vector seal what they return: read-only arrays, so that
    its values stay the checked ones and the public functions take it as it is."""
    made = [
        cnn6.init_params(np.random.default_rng(3)),
        cnn6.sgd_step(P, GRADS, 0.1),
        cnn6.Params.from_vector(P.to_vector()),
    ]
    for params in made:
        assert params._sealed
        with pytest.raises(ValueError, match="read-only"):
            params.kernel[0, 0] = np.nan
        with pytest.raises(ValueError, match="read-only"):
            params.weights[...] = np.inf
        assert cnn6.network.checked_params(params) is params
    # the arrays cannot be made writeable behind the seal's back through a view either
    with pytest.raises(ValueError):
        made[0].kernel[:1].setflags(write=True)
    # a Params a user makes is not sealed, even from sealed arrays
    assert not cnn6.Params(*dataclasses.astuple(made[0]))._sealed


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
def test_a_copy_of_a_sealed_params_is_not_sealed_and_is_checked(how):
    import copy
    import pickle

    sealed = cnn6.sgd_step(P, GRADS, 0.1)
    duplicate = {
        "copy": copy.copy,
        "deepcopy": copy.deepcopy,
        "pickle": lambda p: pickle.loads(pickle.dumps(p)),
    }[how](sealed)
    assert np.array_equal(duplicate.to_vector(), sealed.to_vector()) and not duplicate._sealed
    if duplicate.kernel.flags.writeable:  # the copy's own arrays: a NaN put into them is caught
        duplicate.kernel[1, 1] = np.nan
        with pytest.raises(ValueError, match=r"^params.kernel: expected finite"):
            cnn6.forward(duplicate, X)


def test_a_step_whose_sum_overflows_but_whose_values_are_finite_is_accepted():
    big = cnn6.Params(np.full((3, 3), 1e308), 1e308, np.full(4, 1e308), 1e308)
    with np.errstate(over="ignore"):
        new = cnn6.sgd_step(big, GRADS, 1e-3)
    assert new._sealed and np.isfinite(new.to_vector()).all()


def test_a_params_changed_in_place_after_a_check_is_checked_again():
    fresh = cnn6.Params(P.kernel.copy(), P.conv_bias, P.weights.copy(), P.fc_bias)
    assert cnn6.network.checked_params(fresh) is fresh
    cnn6.forward(fresh, X)
    fresh.weights[2] = np.nan  # the arrays of a frozen Params can still be written in place
    with pytest.raises(ValueError, match=r"^params.weights: expected finite"):
        cnn6.forward(fresh, X)
    bad_grads = dataclasses.replace(fresh, weights=P.weights.copy(), kernel=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"^grads.kernel: expected shape"):
        cnn6.sgd_step(P, bad_grads, 0.1)
