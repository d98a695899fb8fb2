"""Integrity of the coursework checks: a function that hands its work to the engine scores zero.

For every assignment, a list of shortcuts a student looking for one would try (the engine's
function by its top-level name, by its module path, through an alias bound before the check,
a private twin, getattr and importlib, a helper of the student's, the network's forward or
backward pass, a thread, a result that computes when it is read, switching the watch off):
each must fail the public and the hidden check with the integrity message. Honest solutions,
including ones that use what the assignment allows, keep passing.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import sys
import threading
import types

import numpy as np
import pytest
from wrong_solutions import _conv_ref, _kgrad_ref, _pool_ref, _route_ref

import cnn6

# Aliases bound long before any check runs, as a student's first cell would.
from cnn6 import conv2d_forward as bound_conv  # noqa: E402
from cnn6 import feedback, naive
from cnn6 import layers as engine_layers
from cnn6 import maxpool2d_backward as bound_route  # noqa: E402
from cnn6 import network as engine_network
from cnn6 import relu_backward as bound_relu  # noqa: E402
from cnn6.feedback import harness, integrity
from cnn6.layers import conv2d_backward as bound_conv_backward  # noqa: E402
from cnn6.layers import maxpool2d_forward as bound_pool  # noqa: E402
from cnn6.network import backward as bound_backward  # noqa: E402

MESSAGE = "hands the work to the engine scores zero"
FIELDS = ("kernel", "conv_bias", "weights", "fc_bias")


def _private(module, public_name: str):
    """Code of the engine that no public name points at: the function's underscored twin when
    there is one, else the bare function behind the public one's decorator (``__wrapped__``),
    else a clone of the public function's code under another name."""
    for name, value in vars(module).items():
        if name == "_" + public_name and callable(value):
            return value
    public = getattr(module, public_name)
    bare = inspect.unwrap(public)
    if bare is not public:
        return bare
    return types.FunctionType(
        public.__code__, public.__globals__, "_clone", public.__defaults__, public.__closure__
    )


def _by_importlib(module: str, name: str):
    return getattr(importlib.import_module(module), name)


def _each(fn, *arrays):
    """``fn`` on one image, or on each image of a batch with the results stacked."""
    if arrays[-1].ndim == 2:
        return fn(*arrays)
    results = [fn(*parts) for parts in zip(*arrays, strict=True)]
    if isinstance(results[0], tuple):
        return tuple(np.stack(items) for items in zip(*results, strict=True))
    return np.stack(results)


# --------------------------------------------------------------------------- a1 convolution
def _a1_helper(x, kernel, bias, stride):
    return sys.modules["cnn6.layers"].conv2d_forward(x, kernel, bias, stride)


class _Lazy:
    """A result that computes with the engine only when the check reads it."""

    def __init__(self, args):
        self.args = args

    def __array__(self, dtype=None, copy=None):
        return cnn6.conv2d_forward(*self.args)


def _in_thread(x, kernel, bias=0.0, stride=1):
    out = {}
    worker = threading.Thread(
        target=lambda: out.update(z=cnn6.conv2d_forward(x, kernel, bias, stride))
    )
    worker.start()
    worker.join()
    return out["z"]


def _switch_off_watch(x, kernel, bias=0.0, stride=1):
    hook = sys.getprofile()
    sys.setprofile(None)
    z = cnn6.conv2d_forward(x, kernel, bias, stride)
    sys.setprofile(hook)
    return z


def _forged_feedback_code(x, kernel, bias=0.0, stride=1):
    """A relay compiled under the file name of the check's own harness."""
    namespace = {"cnn6": cnn6}
    source = "def relay(*args):\n    return cnn6.conv2d_forward(*args)\n"
    exec(compile(source, harness.__file__, "exec"), namespace)
    return namespace["relay"](x, kernel, bias, stride)


def _blind_the_watch(x, kernel, bias=0.0, stride=1):
    hook = sys.getprofile()
    if hook is not None:
        hook.__self__.active = False
    return cnn6.conv2d_forward(x, kernel, bias, stride)


def _by_matrix(x, kernel, bias=0.0, stride=1):
    t = cnn6.conv_matrix(kernel, x.shape[-2:], stride)
    oh = (x.shape[-2] - kernel.shape[0]) // stride + 1
    ow = (x.shape[-1] - kernel.shape[1]) // stride + 1
    return (x.reshape(-1, x.shape[-2] * x.shape[-1]) @ t + bias).reshape(x.shape[:-2] + (oh, ow))


def _by_network_forward(x, kernel, bias=0.0, stride=1):
    params = cnn6.Params(kernel, bias, np.zeros(4), 0.0)
    return cnn6.forward(params, x).z1


def _by_conv_backward(x, kernel, bias=0.0, stride=1):
    """x ⋆ K as the kernel gradient of a convolution whose delta is K, image by image; a
    stride keeps every stride-th window."""

    def one(image):
        shape = (image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1)
        _, dk, _ = cnn6.conv2d_backward(kernel, image, np.zeros(shape))
        return dk[::stride, ::stride] + bias

    return _each(one, x)


A1 = {
    "cnn6.conv2d_forward": lambda x, k, b=0.0, s=1: cnn6.conv2d_forward(x, k, b, s),
    "cnn6.layers.conv2d_forward": lambda x, k, b=0.0, s=1: cnn6.layers.conv2d_forward(x, k, b, s),
    "alias bound before the check": lambda x, k, b=0.0, s=1: bound_conv(x, k, b, s),
    "private twin": lambda x, k, b=0.0, s=1: _private(engine_layers, "conv2d_forward")(x, k, b, s),
    "getattr of importlib": lambda x, k, b=0.0, s=1: _by_importlib("cnn6.layers", "conv2d_forward")(
        x, k, b, s
    ),
    "a helper of the student's, through sys.modules": _a1_helper,
    "functools.partial": lambda x, k, b=0.0, s=1: functools.partial(cnn6.conv2d_forward, x)(
        k, b, s
    ),
    "the engine's convolution matrix": _by_matrix,
    "the convolution's backward pass": _by_conv_backward,
    "a thread": _in_thread,
    "a result computed when the check reads it": lambda x, k, b=0.0, s=1: _Lazy((x, k, b, s)),
    "switching the watch off": _switch_off_watch,
    "reaching the watch through sys.getprofile": _blind_the_watch,
    "code compiled under the check's file name": _forged_feedback_code,
    "the engine's function itself, bound to the student's name": cnn6.conv2d_forward,
    "the engine's function in a functools.partial": functools.partial(cnn6.layers.conv2d_forward),
    "the book's loops, cnn6.naive.conv2d": lambda x, k, b=0.0, s=1: _each(
        lambda image: naive.conv2d(image, k, b, s), x
    ),
}


# --------------------------------------------------------------------------- a2 max-pool forward
def _a2_helper(a, size, stride):
    return bound_pool(a, size, stride)


A2 = {
    "cnn6.maxpool2d_forward": lambda a, size=2, stride=2: cnn6.maxpool2d_forward(a, size, stride),
    "cnn6.layers.maxpool2d_forward": lambda a, size=2, stride=2: engine_layers.maxpool2d_forward(
        a, size, stride
    ),
    "alias bound before the check, through a helper": _a2_helper,
    "private twin": lambda a, size=2, stride=2: _private(engine_layers, "maxpool2d_forward")(
        a, size, stride
    ),
    "getattr of importlib": lambda a, size=2, stride=2: _by_importlib("cnn6", "maxpool2d_forward")(
        a, size, stride
    ),
    "the book's loops, cnn6.naive.maxpool2d": lambda a, size=2, stride=2: _each(
        lambda image: naive.maxpool2d(image, size, stride), a
    ),
}


# --------------------------------------------------------------------------- a3 max-pool backward
def _a3_engine(dout, a, size=2, stride=2):
    _, pool_idx = cnn6.maxpool2d_forward(a, size, stride)
    return cnn6.maxpool2d_backward(dout, pool_idx, a.shape)


def _a3_alias(dout, a, size=2, stride=2):
    return bound_route(dout, bound_pool(a, size, stride)[1], a.shape)


def _a3_private(dout, a, size=2, stride=2):
    _, pool_idx = cnn6.maxpool2d_forward(a, size, stride)
    return _private(engine_layers, "maxpool2d_backward")(dout, pool_idx, a.shape)


def _a3_importlib(dout, a, size=2, stride=2):
    _, pool_idx = cnn6.maxpool2d_forward(a, size, stride)
    return _by_importlib("cnn6.layers", "maxpool2d_backward")(dout, pool_idx, a.shape)


def _a3_naive(dout, a, size=2, stride=2):
    def one(d, image):
        return naive.maxpool2d_backward(d, naive.maxpool2d(image, size, stride)[1], image.shape)

    return _each(one, dout, a)


def _a3_helper(dout, a, size=2, stride=2):
    def route(pool_idx):
        return cnn6.layers.maxpool2d_backward(dout, pool_idx, a.shape)

    return route(cnn6.maxpool2d_forward(a, size, stride)[1])


A3 = {
    "cnn6.maxpool2d_backward": _a3_engine,
    "alias bound before the check": _a3_alias,
    "cnn6.layers.maxpool2d_backward in a helper of the student's": _a3_helper,
    "private twin": _a3_private,
    "getattr of importlib": _a3_importlib,
    "the book's loops, cnn6.naive.maxpool2d_backward": _a3_naive,
}


# --------------------------------------------------------------------------- a4 ReLU backward
A4 = {
    "cnn6.relu_backward": lambda dout, z: cnn6.relu_backward(dout, z),
    "cnn6.layers.relu_backward": lambda dout, z: engine_layers.relu_backward(dout, z),
    "alias bound before the check": lambda dout, z: bound_relu(dout, z),
    "the engine's function itself, bound to the student's name": cnn6.relu_backward,
    "cnn6.activation_backward": lambda dout, z: cnn6.activation_backward(dout, z, "relu"),
    "leaky ReLU with slope 0": lambda dout, z: cnn6.leaky_relu_backward(dout, z, 0.0),
    "private twin": lambda dout, z: _private(engine_layers, "relu_backward")(dout, z),
    "getattr of importlib": lambda dout, z: _by_importlib("cnn6.layers", "relu_backward")(dout, z),
    "the book's f', cnn6.naive.f_prime": lambda dout, z: (
        dout * np.vectorize(naive.f_prime, otypes=[float])(z)
    ),
}


# --------------------------------------------------------------------------- a5 kernel gradient
def _a5_engine(x, dz):
    kernel = np.zeros((x.shape[-2] - dz.shape[-2] + 1, x.shape[-1] - dz.shape[-1] + 1))
    _, dk, db = cnn6.layers.conv2d_backward(dz, x, kernel)
    return dk, db


def _a5_alias(x, dz):
    kernel = np.zeros((x.shape[-2] - dz.shape[-2] + 1, x.shape[-1] - dz.shape[-1] + 1))
    _, dk, db = bound_conv_backward(dz, x, kernel)
    return dk, db


def _a5_forward(x, dz):
    """x ⋆ dz by the engine's forward convolution (the notebook's own remark), image by image."""
    pairs = zip(x.reshape(-1, *x.shape[-2:]), dz.reshape(-1, *dz.shape[-2:]), strict=True)
    return sum(cnn6.conv2d_forward(image, d) for image, d in pairs), float(np.sum(dz))


def _a5_naive(x, dz):
    kernel = np.zeros((x.shape[-2] - dz.shape[-2] + 1, x.shape[-1] - dz.shape[-1] + 1))
    pairs = zip(dz.reshape(-1, *dz.shape[-2:]), x.reshape(-1, *x.shape[-2:]), strict=True)
    grads = [naive.conv2d_backward(d, image, kernel)[1:] for d, image in pairs]
    return sum(dk for dk, _ in grads), float(sum(db for _, db in grads))


A5 = {
    "cnn6.layers.conv2d_backward": _a5_engine,
    "alias bound before the check": _a5_alias,
    "cnn6.conv2d_backward through importlib": lambda x, dz: _by_importlib(
        "cnn6", "conv2d_backward"
    )(dz, x, np.zeros((x.shape[-2] - dz.shape[-2] + 1, x.shape[-1] - dz.shape[-1] + 1)))[1:],
    "the engine's forward convolution": _a5_forward,
    "the book's loops, cnn6.naive.conv2d_backward": _a5_naive,
    "private twin": lambda x, dz: _private(engine_layers, "conv2d_backward")(
        dz, x, np.zeros((x.shape[-2] - dz.shape[-2] + 1, x.shape[-1] - dz.shape[-1] + 1)), 1
    )[1:],
}


# --------------------------------------------------------------------------- a6 training step
def _a6_engine(params, X, y, lr):
    return cnn6.sgd_step(params, cnn6.backward(params, cnn6.forward(params, X, y), y), lr)


def _a6_network(params, X, y, lr):
    grads = engine_network.backward(params, engine_network.forward(params, X, y), y)
    return cnn6.Params(*(getattr(params, f) - lr * getattr(grads, f) for f in FIELDS))


def _a6_alias(params, X, y, lr):
    grads = bound_backward(params, cnn6.forward(params, X, y), y)
    return cnn6.Params(*(getattr(params, f) - lr * getattr(grads, f) for f in FIELDS))


def _a6_private(params, X, y, lr):
    trace = cnn6.forward(params, X, y)
    grads = _private(engine_network, "backward")(params, trace, np.asarray(y, dtype=float))
    return cnn6.Params(*(getattr(params, f) - lr * getattr(grads, f) for f in FIELDS))


def _a6_own_gradients_engine_update(params, X, y, lr):
    """Gradients from the engine's numerical gradient, the update by hand."""
    grads = cnn6.numerical_gradient(params, X, y)
    return cnn6.Params(*(getattr(params, f) - lr * getattr(grads, f) for f in FIELDS))


def _a6_helper(params, X, y, lr):
    def gradients():
        return _by_importlib("cnn6.network", "backward")(params, cnn6.forward(params, X, y), y)

    return cnn6.sgd_step(params, gradients(), lr)


def _a6_naive(params, X, y, lr):
    labels = y if X.ndim == 2 else list(y)
    grads = naive.backward(params, naive.forward(params, X, labels), np.asarray(labels))
    return cnn6.Params(*(getattr(params, f) - lr * grads[f] for f in FIELDS))


def _a6_engine_update(params, X, y, lr):
    """The gradients by hand (the layer functions, allowed), the update by cnn6.sgd_step."""
    new = _step_with_layers(params, X, y, 1.0)  # params - grads
    grads = cnn6.Params(*(getattr(params, f) - getattr(new, f) for f in FIELDS))
    return cnn6.sgd_step(params, grads, lr)


A6 = {
    "cnn6.backward and cnn6.sgd_step": _a6_engine,
    "cnn6.network.backward, the update by hand": _a6_network,
    "alias bound before the check": _a6_alias,
    "private twin": _a6_private,
    "cnn6.numerical_gradient": _a6_own_gradients_engine_update,
    "own gradients, cnn6.sgd_step for the update": _a6_engine_update,
    "a nested helper through importlib": _a6_helper,
    "the book's loops, cnn6.naive.backward": _a6_naive,
}

SHORTCUTS = [
    (check, name, fn)
    for check, attempts in (
        ("check_conv2d_forward", A1),
        ("check_maxpool2d_forward", A2),
        ("check_maxpool2d_backward", A3),
        ("check_relu_backward", A4),
        ("check_conv2d_kernel_grad", A5),
        ("check_training_step", A6),
    )
    for name, fn in attempts.items()
]


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize(
    "check, fn", [(c, f) for c, _, f in SHORTCUTS], ids=[f"{c[6:]}: {n}" for c, n, _ in SHORTCUTS]
)
def test_shortcut_through_the_engine_scores_zero(check, fn, hidden):
    hook, thread_hook = sys.getprofile(), getattr(threading, "_profile_hook", None)
    with pytest.raises(AssertionError) as failure:
        getattr(feedback, check)(fn, hidden=hidden)
    assert MESSAGE in str(failure.value) or "switches that off" in str(failure.value), str(
        failure.value
    )
    assert sys.getprofile() is hook and getattr(threading, "_profile_hook", None) is thread_hook


@contextlib.contextmanager
def _unwatched(task):
    class Blind:
        def verdict(self, task):
            pass

    yield Blind()


@pytest.mark.parametrize(
    "check, fn", [(c, f) for c, _, f in SHORTCUTS], ids=[f"{c[6:]}: {n}" for c, n, _ in SHORTCUTS]
)
def test_each_shortcut_would_pass_unwatched(monkeypatch, check, fn, capsys):
    """Each attempt is a real shortcut: with the watch off it gets full marks. (Finite
    differences straddle the ReLU's kink, so the numerical gradient misses the "conv" part's
    case where z1 is exactly 0, on purpose there: it passes everything else.)"""
    monkeypatch.setattr(integrity, "watch", _unwatched)
    if fn is _a6_own_gradients_engine_update:
        getattr(feedback, check)(fn)
        for part in ("dense", "update"):
            getattr(feedback, check)(fn, hidden=True, part=part)
        assert "hidden checks of part 'update' passed." in capsys.readouterr().out
        return
    getattr(feedback, check)(fn, hidden=True)
    assert "hidden checks passed." in capsys.readouterr().out


def test_every_assignment_has_shortcut_attempts():
    assert {c for c, _, _ in SHORTCUTS} == {
        "check_conv2d_forward",
        "check_maxpool2d_forward",
        "check_maxpool2d_backward",
        "check_relu_backward",
        "check_conv2d_kernel_grad",
        "check_training_step",
    }


def test_network_forward_pass_as_a_convolution_scores_zero():
    """The network's forward pass computes z1 for any 3x3 kernel on a 6x6 image: right on the
    running example, and refused all the same."""
    x, _, params = cnn6.running_example()
    z1 = _by_network_forward(x, params.kernel, params.conv_bias)
    assert np.allclose(z1, naive.conv2d(x, params.kernel, params.conv_bias))
    with pytest.raises(AssertionError, match="called the engine's cnn6.network.forward"):
        feedback.check_conv2d_forward(_by_network_forward)


def test_message_names_the_engine_function_and_the_helper():
    def my_helper(x, kernel, bias, stride):
        return cnn6.conv2d_forward(x, kernel, bias, stride)

    def conv2d_forward(x, kernel, bias=0.0, stride=1):
        return my_helper(x, kernel, bias, stride)

    with pytest.raises(AssertionError) as failure:
        feedback.check_conv2d_forward(conv2d_forward)
    text = str(failure.value)
    assert "`my_helper` called the engine's cnn6.layers.conv2d_forward" in text, text
    assert failure.value.__cause__ is None and failure.value.__suppress_context__


def test_a_new_core_function_is_off_limits_without_being_listed(monkeypatch):
    """The forbidden set is every function of the core's modules when the check runs: a
    function added to cnn6.layers (as a rewrite of the core might) is covered at once."""
    namespace = dict(vars(engine_layers))
    source = (
        "def _conv_fast(x, kernel, bias, stride):\n    return _conv_ref(x, kernel, bias, stride)\n"
    )
    namespace["_conv_ref"] = _conv_ref
    exec(compile(source, engine_layers.__file__, "exec"), namespace)
    monkeypatch.setattr(engine_layers, "_conv_fast", namespace["_conv_fast"], raising=False)

    def shortcut(x, kernel, bias=0.0, stride=1):
        return cnn6.layers._conv_fast(x, kernel, bias, stride)

    with pytest.raises(AssertionError, match="called the engine's cnn6.layers._conv_fast"):
        feedback.check_conv2d_forward(shortcut)


# --------------------------------------------------------------------------- honest solutions
def _conv_windows(x, kernel, bias=0.0, stride=1):
    """Vectorised with the engine's window_indices, which every assignment may use."""
    h, w = x.shape[-2:]
    kh, kw = kernel.shape
    idx = cnn6.window_indices(h, w, kh, kw, stride)
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    z = x.reshape(x.shape[:-2] + (h * w,))[..., idx] @ kernel.ravel() + bias
    return z.reshape(x.shape[:-2] + (oh, ow))


def _pool_sliding(a, size=2, stride=2):
    views = np.lib.stride_tricks.sliding_window_view(a, (size, size), axis=(-2, -1))
    views = views[..., ::stride, ::stride, :, :]
    flat = views.reshape(views.shape[:-2] + (size * size,))
    local = flat.argmax(-1)
    rows = np.arange(views.shape[-4])[:, None] * stride + local // size
    cols = np.arange(views.shape[-3])[None, :] * stride + local % size
    return flat.max(-1), rows * a.shape[-1] + cols


def _route_with_engine_forward(dout, a, size=2, stride=2):
    """The maxima from cnn6.maxpool2d_forward (allowed in a3), the routing by hand."""
    _, pool_idx = cnn6.maxpool2d_forward(a, size, stride)
    n = 1 if a.ndim == 2 else a.shape[0]
    da = np.zeros((n, a.shape[-2] * a.shape[-1]))
    np.add.at(da, (np.arange(n)[:, None], pool_idx.reshape(n, -1)), dout.reshape(n, -1))
    return da.reshape(a.shape)


def _step_with_layers(params, X, y, lr):
    """The backward pass composed from the engine's layer functions, as a6 allows."""
    trace = cnn6.forward(params, X, y)
    n = 1 if X.ndim == 2 else X.shape[0]
    dz4 = np.reshape(trace.a4 - y, -1) / n
    da3, dweights, dfc_bias = cnn6.dense_backward(dz4, trace.a3.reshape(-1, 4), params.weights)
    da1 = cnn6.maxpool2d_backward(da3.reshape(trace.a2.shape), trace.pool_idx, trace.a1.shape)
    dz1 = cnn6.relu_backward(da1, trace.z1)
    _, dkernel, dconv_bias = cnn6.conv2d_backward(dz1, trace.x, params.kernel)
    return cnn6.Params(
        params.kernel - lr * dkernel,
        params.conv_bias - lr * dconv_bias,
        params.weights - lr * dweights,
        params.fc_bias - lr * dfc_bias,
    )


def _step_with_own_functions(params, X, y, lr):
    """The student's own earlier functions (a3, a5) inside the step, as a6 invites."""
    trace = cnn6.forward(params, X, y)
    n = 1 if X.ndim == 2 else X.shape[0]
    dz4 = np.reshape(trace.a4 - y, -1) / n
    dweights = dz4 @ trace.a3.reshape(-1, 4)
    da2 = np.outer(dz4, params.weights).reshape(trace.a2.shape)
    dz1 = _route_ref(da2, trace.a1) * (trace.z1 > 0)
    dkernel, dconv_bias = _kgrad_ref(trace.x, dz1)
    return cnn6.Params(
        params.kernel - lr * dkernel,
        params.conv_bias - lr * dconv_bias,
        params.weights - lr * dweights,
        params.fc_bias - lr * np.sum(dz4),
    )


HONEST = [
    ("check_conv2d_forward", "loops", _conv_ref),
    ("check_conv2d_forward", "window_indices", _conv_windows),
    ("check_maxpool2d_forward", "loops", _pool_ref),
    ("check_maxpool2d_forward", "sliding_window_view", _pool_sliding),
    ("check_maxpool2d_backward", "loops", _route_ref),
    ("check_maxpool2d_backward", "engine forward, own routing", _route_with_engine_forward),
    ("check_relu_backward", "one line", lambda dout, z: dout * (z > 0)),
    ("check_relu_backward", "np.where", lambda dout, z: np.where(z > 0, dout, 0.0)),
    ("check_conv2d_kernel_grad", "loops", _kgrad_ref),
    ("check_training_step", "the engine's layer functions", _step_with_layers),
    ("check_training_step", "the student's own functions", _step_with_own_functions),
]


@pytest.mark.parametrize(
    "check, fn", [(c, f) for c, _, f in HONEST], ids=[f"{c[6:]}: {n}" for c, n, _ in HONEST]
)
def test_honest_solution_keeps_full_marks(check, fn, capsys):
    getattr(feedback, check)(fn, hidden=True)
    assert "hidden checks passed." in capsys.readouterr().out
