"""The 15-parameter network: forward, backward, one step of gradient descent, and checks.

    x (6x6) --conv 3x3 + b_c--> z1 (4x4) --f--> a1 (4x4) --max-pool 2x2--> a2 (2x2)
      --flatten--> a3 (4) --w . a3 + b_f--> z4 --sigmoid--> a4 --BCE(y)--> loss

Every function takes one image ``(6, 6)`` or a batch ``(n, 6, 6)``; for a batch the loss is
the mean over the images, so each delta carries a factor 1/n.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import layers
from . import validation as check

# The layers, as forward and backward call them: their bodies. Those two check their own
# arguments on entry, so what they pass the layers is the engine's own (the layers' checks would
# be skipped anyway) and they call the bodies directly, without the checks' wrapper.
(
    activation_backward,
    activation_forward,
    bce_forward,
    conv2d_backward,
    conv2d_forward,
    dense_backward,
    dense_forward,
    flatten_backward,
    flatten_forward,
    maxpool2d_backward,
    maxpool2d_forward,
    sigmoid_forward,
) = (
    check.body(layers.activation_backward),
    check.body(layers.activation_forward),
    check.body(layers.bce_forward),
    check.body(layers.conv2d_backward),
    check.body(layers.conv2d_forward),
    check.body(layers.dense_backward),
    check.body(layers.dense_forward),
    check.body(layers.flatten_backward),
    check.body(layers.flatten_forward),
    check.body(layers.maxpool2d_backward),
    check.body(layers.maxpool2d_forward),
    check.body(layers.sigmoid_forward),
)

PARAM_NAMES = ("kernel", "conv_bias", "weights", "fc_bias")
PARAM_SHAPES = {"kernel": (3, 3), "conv_bias": (), "weights": (4,), "fc_bias": ()}
IMAGE_SHAPE = (6, 6)


def _from_vector_args(cls, vector):
    vector = check.array(vector, "vector", (1,))
    if vector.shape != (15,):
        raise ValueError(f"vector: expected shape (15,), got {vector.shape}")
    return dict(cls=cls, vector=vector)


def _sealed_result(params, arguments):
    """``on_exit`` of the functions that make a Params from checked values: it is sealed."""
    return _seal(params)


def _seal(params: Params) -> Params:
    """Mark ``params``, whose values the engine made and found finite, as checked, and make its
    arrays read-only so that they stay so (the engine's arrays are its own: no one else holds
    them). The public functions then take it as it is."""
    params.kernel.setflags(write=False)
    params.weights.setflags(write=False)
    params.__dict__["_sealed"] = True
    return params


@dataclass(frozen=True)
class Params:
    """The 15 parameters: kernel (3, 3), conv_bias float, weights (4,), fc_bias float.

    Frozen: to change a value, make a new Params. The engine's own (from :func:`init_params`,
    :func:`sgd_step` and :meth:`from_vector`) are sealed: their values were checked when made
    and their arrays are read-only, so the public functions take them without a check. Every
    other Params is checked by each public function that receives it (15 numbers: a sum of
    Python floats in the usual case), so a NaN put into one of its arrays in place is caught.
    """

    kernel: np.ndarray
    conv_bias: float
    weights: np.ndarray
    fc_bias: float
    _sealed = False  # not a field: True in the instance's dict once the engine sealed it

    def __init__(self, kernel, conv_bias, weights, fc_bias):
        # frozen: the fields are set once, here, in the instance's dict (quicker than the four
        # object.__setattr__ calls the dataclass would write)
        self.__dict__.update(kernel=kernel, conv_bias=conv_bias, weights=weights, fc_bias=fc_bias)

    def __getstate__(self):
        # a copy is not sealed: deepcopy and pickle give it writeable arrays of its own, which
        # may change in place, so it is checked like any Params a user makes (copy.copy's
        # shares the read-only arrays, and is checked too)
        return {k: v for k, v in self.__dict__.items() if k != "_sealed"}

    def __repr__(self) -> str:
        k = np.array2string(self.kernel, precision=4, floatmode="fixed", separator=", ")
        w = np.array2string(self.weights, precision=4, floatmode="fixed", separator=", ")
        return (
            f"Params(kernel={k}, conv_bias={self.conv_bias:.4f}, "
            f"weights={w}, fc_bias={self.fc_bias:.4f})"
        )

    def to_vector(self) -> np.ndarray:
        """All 15 numbers in one float64 vector: kernel (row-major), conv_bias, weights, fc_bias."""
        return np.concatenate([np.ravel(getattr(self, name)) for name in PARAM_NAMES])

    @classmethod
    @check.on_entry(_from_vector_args, on_exit=_sealed_result)
    def from_vector(cls, vector) -> Params:
        """Inverse of :meth:`to_vector`; vector: (15,)."""
        v = vector
        return cls(v[:9].reshape(3, 3).copy(), float(v[9]), v[10:14].copy(), float(v[14]))


class Trace(NamedTuple):
    """Everything the forward pass computed, named as in the book (read-only).

    For one image: x (6, 6), z1 and a1 (4, 4), a2 (2, 2), a3 (4,), z4 and a4 scalars ().
    For a batch of n the same with a leading axis n. ``loss`` is the mean binary
    cross-entropy (None when no labels were given); ``pool_idx`` (shape of a2) holds, for
    each pooling window, the index of its maximum in a1 flattened row-major (0..15).
    ``params`` are the parameters the trace was computed with (backward checks it gets them).
    """

    x: np.ndarray
    z1: np.ndarray
    a1: np.ndarray
    a2: np.ndarray
    a3: np.ndarray
    z4: np.ndarray
    a4: np.ndarray
    loss: float | None
    pool_idx: np.ndarray
    activation: str
    y: np.ndarray | None = None
    params: Params | None = None


class Grads(NamedTuple):
    """Gradients of the loss, named as in the book (read-only).

    Parameter gradients under the parameters' names: kernel (3, 3), conv_bias, weights (4,),
    fc_bias. Deltas ``d`` + the quantity they are the gradient of, with its shape:
    dz4, da3, da2, da1, dz1, and dx (the input gradient, a saliency map; None unless
    :func:`backward` was asked for it with ``with_dx=True``).
    """

    kernel: np.ndarray
    conv_bias: float
    weights: np.ndarray
    fc_bias: float
    dz4: np.ndarray
    da3: np.ndarray
    da2: np.ndarray
    da1: np.ndarray
    dz1: np.ndarray
    dx: np.ndarray

    def params(self) -> Params:
        """The four parameter gradients as a :class:`Params`."""
        return Params(self.kernel, self.conv_bias, self.weights, self.fc_bias)


# --------------------------------------------------------------------------- argument checks
def _shaped(p) -> bool:
    """True when the fields of ``p`` are float64 arrays of the right shapes and Python floats."""
    k, w = p.kernel, p.weights
    return (
        type(k) is type(w) is np.ndarray
        and k.dtype is w.dtype is check.FLOAT64
        and k.shape == (3, 3)
        and w.shape == (4,)
        and type(p.conv_bias) is type(p.fc_bias) is float
    )


def _finite(p) -> bool:
    """True when the 15 numbers of a :func:`_shaped` ``p`` are finite: a NaN or an inf makes
    their sum NaN or inf (a sum that overflows sends the rare finite case to the full checks).
    For 15 numbers, Python's sum is quicker than numpy's calls."""
    return math.isfinite(
        sum(p.kernel.ravel().tolist()) + sum(p.weights.tolist()) + p.conv_bias + p.fc_bias
    )


def _usual(p) -> bool:
    """True in the usual case: ``p`` is shaped and finite, and needs no conversion."""
    return _shaped(p) and _finite(p)


def checked_params(params, name="params") -> Params:
    """``params`` when it is a :class:`Params` of finite float64 values of the right shapes,
    a new Params of such values when some field needed converting; else a clear error."""
    if not isinstance(params, Params):
        raise TypeError(
            f"{name}: expected a cnn6.Params (see cnn6.init_params), got {type(params).__name__}"
        )
    if params._sealed or _usual(params):
        return params  # the same object, which backward recognises in its trace
    values = {}
    for field, shape in PARAM_SHAPES.items():
        value = getattr(params, field)
        if shape == ():
            values[field] = check.real(value, f"{name}.{field}")
        else:
            values[field] = check.array(value, f"{name}.{field}", (len(shape),))
            if values[field].shape != shape:
                got = values[field].shape
                raise ValueError(f"{name}.{field}: expected shape {shape}, got {got}")
    return Params(**values)


def checked_images(X, name="X") -> np.ndarray:
    """``X`` as float64 images: one (6, 6) or a batch (n, 6, 6)."""
    return check.array(X, name, (2, 3), tail=IMAGE_SHAPE)


def checked_labels(y, X, name="y") -> np.ndarray:
    """``y`` as float64 0/1 labels for the images ``X``: shape () for one image, (n,) for n."""
    return check.labels(y, name, None if X.ndim == 2 else X.shape[0])


def _init_params_args(rng, kernel_scale=None, weight_scale=0.5):
    if kernel_scale is not None:
        kernel_scale = check.real(kernel_scale, "kernel_scale", low=0.0, low_open=True)
    weight_scale = check.real(weight_scale, "weight_scale", low=0.0, low_open=True)
    return dict(rng=check.rng(rng), kernel_scale=kernel_scale, weight_scale=weight_scale)


def _forward_args(params, X, y=None, activation="relu"):
    params, X = checked_params(params), checked_images(X)
    y = None if y is None else checked_labels(y, X)
    return dict(params=params, X=X, y=y, activation=check.activation(activation))


def _backward_args(params, trace, y, *, with_dx=False):
    if not (isinstance(trace, Trace) and params is trace.params is not None):
        params = checked_params(params)
        if not isinstance(trace, Trace):
            raise TypeError(
                f"trace: expected a cnn6.Trace from cnn6.forward, got {type(trace).__name__}"
            )
        if trace.params is None or not all(
            np.array_equal(getattr(params, f), getattr(trace.params, f)) for f in PARAM_NAMES
        ):
            raise ValueError(
                "trace: expected the trace of these params; run cnn6.forward(params, X) again"
            )
    y = checked_labels(y, trace.x)
    return dict(params=params, trace=trace, y=y, with_dx=check.flag(with_dx, "with_dx"))


def _checked_grads(grads) -> Params:
    """``grads`` (a :class:`Grads` or a :class:`Params` of gradients) fully checked, as a Params."""
    return checked_params(grads.params() if isinstance(grads, Grads) else grads, "grads")


def _sgd_step_args(params, grads, lr):
    params = checked_params(params)
    # the types and shapes of grads here, their values in the step's result (below)
    if not (isinstance(grads, (Grads, Params)) and _shaped(grads)):
        grads = _checked_grads(grads)
    return dict(params=params, grads=grads, lr=check.real(lr, "lr", low=0.0, low_open=True))


def _sgd_step_result(new, arguments):
    """The new params, sealed. A NaN or an inf in the gradients reaches these 15 numbers, so
    they are checked here, once, rather than the gradients on entry; so is a step that
    overflows (lr times a gradient beyond 1.8e308)."""
    if not _finite(new):
        _checked_grads(arguments["grads"])  # a NaN or an inf among them: their own error
        try:
            new = checked_params(new)  # finite: only their sum overflowed
        except ValueError:
            raise ValueError(
                f"lr: expected a step that stays finite, got lr={arguments['lr']}, whose "
                "product with the gradients overflows"
            ) from None
    return _seal(new)


def _accuracy_args(params, X, y, activation="relu"):
    params, X = checked_params(params), checked_images(X)
    return dict(params=params, X=X, y=checked_labels(y, X), activation=check.activation(activation))


def _numerical_gradient_args(params, X, y, eps=1e-6, activation="relu"):
    args = _accuracy_args(params, X, y, activation)
    return args | dict(eps=check.real(eps, "eps", low=0.0, low_open=True, high=1.0))


def _predict_proba_args(params, X, activation="relu"):
    args = _forward_args(params, X, None, activation)
    del args["y"]
    return args


def _relative_error_args(a, b):
    a = check.array(a, "a", (0, 1, 2, 3))
    b = check.array(b, "b", (a.ndim,))
    if a.shape != b.shape:
        raise ValueError(f"b: expected the shape of a {a.shape}, got {b.shape}")
    return dict(a=a, b=b)


# --------------------------------------------------------------------------- init
@check.on_entry(_init_params_args, on_exit=_sealed_result)
def init_params(rng, kernel_scale=None, weight_scale=0.5) -> Params:
    """Random starting parameters.

    kernel: |Normal(0, kernel_scale²)| entrywise, with He's scale sqrt(2 / 9) by default;
    conv_bias 0; weights ~ Normal(0, weight_scale²); fc_bias 0. rng: a numpy.random.Generator.

    The kernel starts with positive weights. After the ReLU and the max-pool only a window's
    strongest positive response reaches the dense layer; a positive kernel responds most to
    the brightest window, so the square is seen from the first step (see the training chapter).
    """
    kernel_scale = np.sqrt(2.0 / 9.0) if kernel_scale is None else kernel_scale
    kernel = np.abs(rng.normal(0.0, kernel_scale, size=(3, 3)))
    weights = rng.normal(0.0, weight_scale, size=4)
    return Params(kernel, 0.0, weights, 0.0)


# --------------------------------------------------------------------------- forward
@check.on_entry(_forward_args)
def forward(params, X, y=None, activation="relu") -> Trace:
    """Run the network on one image (6, 6) or a batch (n, 6, 6) and keep every step.

    y (optional): the label 0/1 of the image, or labels (n,) for a batch; with it the trace
    holds the loss. activation: "relu", "leaky_relu" or "elu". Returns a :class:`Trace`.
    """
    z1 = conv2d_forward(X, params.kernel, params.conv_bias)
    a1 = activation_forward(z1, activation)
    a2, pool_idx = maxpool2d_forward(a1)
    a3 = flatten_forward(a2)
    z4 = dense_forward(a3, params.weights, params.fc_bias)
    a4 = sigmoid_forward(z4)
    loss = None if y is None else bce_forward(z4, y)
    return Trace(X, z1, a1, a2, a3, z4, a4, loss, pool_idx, activation, y, params)


# --------------------------------------------------------------------------- backward
@check.on_entry(_backward_args)
def backward(params, trace, y, *, with_dx=False) -> Grads:
    """Backpropagate the loss of ``trace`` (from :func:`forward`) with labels ``y``.

    Returns a :class:`Grads`: the four parameter gradients and every delta, each with the
    shape of the quantity it is the gradient of. ``dx``, the gradient with respect to the
    image, only with ``with_dx=True`` (else None): training needs the parameters' gradients
    alone, so by default the last step, the costliest, is left out.
    """
    n = trace.z4.size  # 1 for one image
    dz4 = (trace.a4 - y) / n  # sigmoid and cross-entropy together; mean over the batch
    da3, dweights, dfc_bias = dense_backward(dz4, trace.a3, params.weights)
    da2 = flatten_backward(da3, trace.a2.shape)
    da1 = maxpool2d_backward(da2, trace.pool_idx, trace.a1.shape)
    dz1 = activation_backward(da1, trace.z1, trace.activation)
    dx, dkernel, dconv_bias = conv2d_backward(dz1, trace.x, params.kernel, with_dx=with_dx)
    return Grads(dkernel, dconv_bias, dweights, dfc_bias, dz4, da3, da2, da1, dz1, dx)


# --------------------------------------------------------------------------- update
@check.on_entry(_sgd_step_args, on_exit=_sgd_step_result)
def sgd_step(params, grads, lr) -> Params:
    """One step of gradient descent: each parameter minus ``lr`` times its gradient.

    grads: a :class:`Grads` (or a :class:`Params` of gradients); lr: a number > 0.
    Returns new :class:`Params`; ``params`` is left unchanged.
    """
    return Params(
        params.kernel - lr * grads.kernel,
        params.conv_bias - lr * grads.conv_bias,
        params.weights - lr * grads.weights,
        params.fc_bias - lr * grads.fc_bias,
    )


# --------------------------------------------------------------------------- checks of gradients
@check.on_entry(_numerical_gradient_args)
def numerical_gradient(params, X, y, eps=1e-6, activation="relu") -> Params:
    """Central differences of the loss for each of the 15 parameters.

    dL/dθ ≈ (L(θ + eps) - L(θ - eps)) / (2 eps), one parameter at a time.
    Returns a :class:`Params` of gradients (same shapes as ``params``).
    """
    theta = params.to_vector()
    grad = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        up = forward(Params.from_vector(theta + step), X, y, activation).loss
        down = forward(Params.from_vector(theta - step), X, y, activation).loss
        grad[i] = (up - down) / (2 * eps)
    return Params.from_vector(grad)


@check.on_entry(_relative_error_args)
def relative_error(a, b) -> float:
    """max|a - b| / max(1e-8, max(|a| + |b|)): 0 when equal, about 1e-7 or less when right."""
    return float(np.max(np.abs(a - b)) / max(1e-8, float(np.max(np.abs(a) + np.abs(b)))))


# --------------------------------------------------------------------------- predictions
@check.on_entry(_predict_proba_args)
def predict_proba(params, X, activation="relu"):
    """P(class 1) for one image (a scalar, shape ()) or a batch (shape (n,))."""
    return forward(params, X, None, activation).a4


@check.on_entry(_accuracy_args)
def accuracy(params, X, y, activation="relu") -> float:
    """Fraction of images whose predicted class (P(class 1) > 0.5) equals the label."""
    z4 = forward(params, X, None, activation).z4
    return float(np.mean((z4 > 0) == (y == 1)))
