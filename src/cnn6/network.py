"""The 15-parameter network: forward, backward, one step of gradient descent, and checks.

    x (6x6) --conv 3x3 + b_c--> z1 (4x4) --f--> a1 (4x4) --max-pool 2x2--> a2 (2x2)
      --flatten--> a3 (4) --w . a3 + b_f--> z4 --sigmoid--> a4 --BCE(y)--> loss

Every function takes one image ``(6, 6)`` or a batch ``(n, 6, 6)``; for a batch the loss is
the mean over the images, so each delta carries a factor 1/n.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import validation as check
from .layers import (
    _activation_backward,
    _activation_forward,
    _bce_forward,
    _conv2d_backward,
    _conv2d_forward,
    _dense_backward,
    _maxpool2d_backward,
    _maxpool2d_forward,
    _sigmoid,
)

PARAM_NAMES = ("kernel", "conv_bias", "weights", "fc_bias")
PARAM_SHAPES = {"kernel": (3, 3), "conv_bias": (), "weights": (4,), "fc_bias": ()}
IMAGE_SHAPE = (6, 6)


@dataclass(frozen=True)
class Params:
    """The 15 parameters: kernel (3, 3), conv_bias float, weights (4,), fc_bias float."""

    kernel: np.ndarray
    conv_bias: float
    weights: np.ndarray
    fc_bias: float

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
    def from_vector(cls, vector) -> Params:
        """Inverse of :meth:`to_vector`; vector: (15,)."""
        v = check.array(vector, "vector", (1,))
        if v.shape != (15,):
            raise ValueError(f"vector: expected shape (15,), got {v.shape}")
        return cls(v[:9].reshape(3, 3).copy(), float(v[9]), v[10:14].copy(), float(v[14]))


class Trace(NamedTuple):
    """Everything the forward pass computed, named as in the book (read-only).

    For one image: x (6, 6), z1 and a1 (4, 4), a2 (2, 2), a3 (4,), z4 and a4 scalars ().
    For a batch of n the same with a leading axis n. ``loss`` is the mean binary
    cross-entropy (None when no labels were given); ``pool_idx`` (shape of a2) holds, for
    each pooling window, the index of its maximum in a1 flattened row-major (0..15).
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


class Grads(NamedTuple):
    """Gradients of the loss, named as in the book (read-only).

    Parameter gradients under the parameters' names: kernel (3, 3), conv_bias, weights (4,),
    fc_bias. Deltas ``d`` + the quantity they are the gradient of, with its shape:
    dz4, da3, da2, da1, dz1, and dx (the input gradient, a saliency map).
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


# --------------------------------------------------------------------------- checks
def _check_params(params, name="params") -> Params:
    if not isinstance(params, Params):
        raise TypeError(
            f"{name}: expected a cnn6.Params (see cnn6.init_params), got {type(params).__name__}"
        )
    values = {}
    for field in PARAM_NAMES:
        shape = PARAM_SHAPES[field]
        value = getattr(params, field)
        if shape == ():
            values[field] = check.real(value, f"{name}.{field}")
        else:
            arr = check.array(value, f"{name}.{field}", (len(shape),))
            if arr.shape != shape:
                raise ValueError(f"{name}.{field}: expected shape {shape}, got {arr.shape}")
            values[field] = arr
    return Params(**values)


def _check_images(X, name="X") -> np.ndarray:
    return check.array(X, name, (2, 3), tail=IMAGE_SHAPE)


def _check_labels_for(y, X, name="y") -> np.ndarray:
    return check.labels(y, name, None if X.ndim == 2 else X.shape[0])


# --------------------------------------------------------------------------- init
def init_params(rng, kernel_scale=None, weight_scale=0.5) -> Params:
    """Random starting parameters.

    kernel: |Normal(0, kernel_scale²)| entrywise, with He's scale sqrt(2 / 9) by default;
    conv_bias 0; weights ~ Normal(0, weight_scale²); fc_bias 0. rng: a numpy.random.Generator.

    The kernel starts with positive weights. After the ReLU and the max-pool only a window's
    strongest positive response reaches the dense layer; a positive kernel responds most to
    the brightest window, so the square is seen from the first step (see the training chapter).
    """
    rng = check.rng(rng)
    kernel_scale = np.sqrt(2.0 / 9.0) if kernel_scale is None else kernel_scale
    kernel_scale = check.real(kernel_scale, "kernel_scale", low=0.0, low_open=True)
    weight_scale = check.real(weight_scale, "weight_scale", low=0.0, low_open=True)
    kernel = np.abs(rng.normal(0.0, kernel_scale, size=(3, 3)))
    weights = rng.normal(0.0, weight_scale, size=4)
    return Params(kernel, 0.0, weights, 0.0)


# --------------------------------------------------------------------------- forward
def forward(params, X, y=None, activation="relu") -> Trace:
    """Run the network on one image (6, 6) or a batch (n, 6, 6) and keep every step.

    y (optional): the label 0/1 of the image, or labels (n,) for a batch; with it the trace
    holds the loss. activation: "relu", "leaky_relu" or "elu". Returns a :class:`Trace`.
    """
    params = _check_params(params)
    X = _check_images(X)
    y = None if y is None else _check_labels_for(y, X)
    return _forward(params, X, y, check.activation(activation))


def _forward(params, X, y, activation) -> Trace:
    z1 = _conv2d_forward(X, params.kernel, params.conv_bias, 1)
    a1 = _activation_forward(z1, activation)
    a2, pool_idx = _maxpool2d_forward(a1, 2, 2)
    a3 = a2.reshape(a2.shape[:-2] + (4,))
    z4 = np.dot(a3, params.weights) + params.fc_bias  # a3 @ w + b (np.dot: less overhead)
    a4 = _sigmoid(z4)
    loss = None if y is None else _bce_forward(z4, y)
    return Trace(X, z1, a1, a2, a3, z4[()], a4[()], loss, pool_idx, activation, y)


# --------------------------------------------------------------------------- backward
def backward(params, trace, y) -> Grads:
    """Backpropagate the loss of ``trace`` (from :func:`forward`) with labels ``y``.

    Returns a :class:`Grads`: the four parameter gradients and every delta, each with the
    shape of the quantity it is the gradient of.
    """
    params = _check_params(params)
    if not isinstance(trace, Trace):
        raise TypeError(
            f"trace: expected a cnn6.Trace from cnn6.forward, got {type(trace).__name__}"
        )
    X = _check_images(trace.x, "trace.x")
    y = _check_labels_for(y, X)
    if not np.array_equal(_forward(params, X, None, trace.activation).z4, trace.z4):
        raise ValueError(
            "trace: expected the trace of these params; run cnn6.forward(params, X) again"
        )
    return _backward(params, trace, y)


def _backward(params, trace, y, with_dx=True) -> Grads:
    n = 1 if np.ndim(trace.z4) == 0 else trace.z4.shape[0]
    dz4 = (trace.a4 - y) / n  # sigmoid and cross-entropy together; mean over the batch
    da3, dweights, dfc_bias = _dense_backward(dz4, trace.a3, params.weights)
    da2 = da3.reshape(trace.a2.shape)  # un-flatten
    da1 = _maxpool2d_backward(da2, trace.pool_idx, trace.a1.shape)
    dz1 = _activation_backward(da1, trace.z1, trace.activation)
    dx, dkernel, dconv_bias = _conv2d_backward(dz1, trace.x, params.kernel, 1, with_dx)
    return Grads(dkernel, dconv_bias, dweights, dfc_bias, dz4[()], da3, da2, da1, dz1, dx)


# --------------------------------------------------------------------------- update
def sgd_step(params, grads, lr) -> Params:
    """One step of gradient descent: each parameter minus ``lr`` times its gradient.

    grads: a :class:`Grads` (or a :class:`Params` of gradients); lr: a number > 0.
    Returns new :class:`Params`; ``params`` is left unchanged.
    """
    params = _check_params(params)
    if isinstance(grads, Grads):
        grads = grads.params()
    grads = _check_params(grads, "grads")
    lr = check.real(lr, "lr", low=0.0, low_open=True)
    return _sgd_step(params, grads, lr)


def _sgd_step(params, grads, lr) -> Params:
    return Params(*(getattr(params, f) - lr * getattr(grads, f) for f in PARAM_NAMES))


# --------------------------------------------------------------------------- checks of gradients
def numerical_gradient(params, X, y, eps=1e-6, activation="relu") -> Params:
    """Central differences of the loss for each of the 15 parameters.

    dL/dθ ≈ (L(θ + eps) - L(θ - eps)) / (2 eps), one parameter at a time.
    Returns a :class:`Params` of gradients (same shapes as ``params``).
    """
    params = _check_params(params)
    X = _check_images(X)
    y = _check_labels_for(y, X)
    eps = check.real(eps, "eps", low=0.0, low_open=True, high=1.0)
    activation = check.activation(activation)
    theta = params.to_vector()
    grad = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        up = _forward(Params.from_vector(theta + step), X, y, activation).loss
        down = _forward(Params.from_vector(theta - step), X, y, activation).loss
        grad[i] = (up - down) / (2 * eps)
    return Params.from_vector(grad)


def relative_error(a, b) -> float:
    """max|a - b| / max(1e-8, max(|a| + |b|)): 0 when equal, about 1e-7 or less when right."""
    a = check.array(a, "a", (0, 1, 2, 3))
    b = check.array(b, "b", (a.ndim,))
    if a.shape != b.shape:
        raise ValueError(f"b: expected the shape of a {a.shape}, got {b.shape}")
    return float(np.max(np.abs(a - b)) / max(1e-8, float(np.max(np.abs(a) + np.abs(b)))))


# --------------------------------------------------------------------------- predictions
def predict_proba(params, X, activation="relu"):
    """P(class 1) for one image (a scalar, shape ()) or a batch (shape (n,))."""
    params = _check_params(params)
    X = _check_images(X)
    return _forward(params, X, None, check.activation(activation)).a4


def accuracy(params, X, y, activation="relu") -> float:
    """Fraction of images whose predicted class (P(class 1) > 0.5) equals the label."""
    params = _check_params(params)
    X = _check_images(X)
    y = _check_labels_for(y, X)
    return _accuracy(params, X, y, check.activation(activation))


def _accuracy(params, X, y, activation) -> float:
    z4 = _forward(params, X, None, activation).z4
    return float(np.mean((z4 > 0) == (y == 1)))
