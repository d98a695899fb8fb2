"""Every layer of the network as a forward/backward pair of plain numpy functions.

Each function takes one image (its last two axes, e.g. ``(H, W)``) or a batch (a leading
axis ``n``: ``(n, H, W)``) and returns arrays of the matching shape. A backward function
takes the gradient of the loss with respect to the layer's output (``dout``) and returns
the gradients with respect to its inputs and parameters. The body of each function is the
math; its argument checks sit apart, in the checker named by its ``@check.on_entry``, and
run only when a user calls it (not when the network does).

The book's names: ``x -> z1`` (conv2d), ``z1 -> a1`` (activation), ``a1 -> a2``
(maxpool2d), ``a2 -> a3`` (flatten), ``a3 -> z4`` (dense), ``z4 -> a4`` (sigmoid),
``(z4, y) -> loss`` (binary cross-entropy, computed from the logit ``z4``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import validation as check
from .naive import ELU_ALPHA, LEAKY_SLOPE


# --------------------------------------------------------------------------- argument checks
def _out_size(height, width, kh, kw, stride):
    return (height - kh) // stride + 1, (width - kw) // stride + 1


def _fits(size, image_shape, name):
    if size[0] > image_shape[0] or size[1] > image_shape[1]:
        raise ValueError(
            f"{name}: expected a kernel no larger than the image {tuple(image_shape)}, "
            f"got shape {tuple(size)}"
        )


def _shape_of(value, name, ndims):
    if not (isinstance(value, tuple) and len(value) in ndims):
        want = " or ".join(("(H, W)", "(n, H, W)")[d - 2] for d in ndims)
        raise TypeError(f"{name}: expected a tuple {want}, got {value!r}")
    return tuple(check.integer(size, name, low=1) for size in value)


def _same_shape(value, like, name):
    arr = check.array(value, name, (like.ndim,))
    if arr.shape != like.shape:
        raise ValueError(f"{name}: expected shape {like.shape}, got {arr.shape}")
    return arr


def _z(z, name="z"):
    return check.array(z, name, (0, 1, 2, 3))


def _window_indices_args(height, width, kh, kw, stride):
    args = dict(height=height, width=width, kh=kh, kw=kw, stride=stride)
    args = {name: check.integer(value, name, low=1) for name, value in args.items()}
    for name, limit in (("kh", args["height"]), ("kw", args["width"])):
        if args[name] > limit:
            raise ValueError(f"{name}: expected at most {limit} (the image), got {args[name]}")
    return args


def _conv_matrix_args(kernel, image_shape, stride=1):
    kernel = check.array(kernel, "kernel", (2,))
    image_shape = _shape_of(image_shape, "image_shape", (2,))
    _fits(kernel.shape, image_shape, "kernel")
    return dict(
        kernel=kernel, image_shape=image_shape, stride=check.integer(stride, "stride", low=1)
    )


def _conv2d_forward_args(x, kernel, bias=0.0, stride=1):
    x = check.array(x, "x", (2, 3))
    kernel = check.array(kernel, "kernel", (2,))
    _fits(kernel.shape, x.shape[-2:], "kernel")
    bias, stride = check.real(bias, "bias"), check.integer(stride, "stride", low=1)
    return dict(x=x, kernel=kernel, bias=bias, stride=stride)


def _conv2d_backward_args(dout, x, kernel, stride=1, *, with_dx=True):
    args = _conv2d_forward_args(x, kernel, 0.0, stride)
    x, kernel, stride = args["x"], args["kernel"], args["stride"]
    want = x.shape[:-2] + _out_size(*x.shape[-2:], *kernel.shape, stride)
    dout = check.array(dout, "dout", (len(want),))
    if dout.shape != want:
        raise ValueError(f"dout: expected shape {want} (the shape of z), got {dout.shape}")
    return dict(
        dout=dout, x=x, kernel=kernel, stride=stride, with_dx=check.flag(with_dx, "with_dx")
    )


def _relu_forward_args(z):
    return dict(z=_z(z))


def _relu_backward_args(dout, z):
    z = _z(z)
    return dict(dout=_same_shape(dout, z, "dout"), z=z)


def _slope(slope):
    return check.real(slope, "slope", low=0.0, high=1.0, high_open=True)


def _alpha(alpha):
    return check.real(alpha, "alpha", low=0.0, low_open=True)


def _leaky_relu_forward_args(z, slope=LEAKY_SLOPE):
    return dict(z=_z(z), slope=_slope(slope))


def _leaky_relu_backward_args(dout, z, slope=LEAKY_SLOPE):
    return _relu_backward_args(dout, z) | dict(slope=_slope(slope))


def _elu_forward_args(z, alpha=ELU_ALPHA):
    return dict(z=_z(z), alpha=_alpha(alpha))


def _elu_backward_args(dout, z, alpha=ELU_ALPHA):
    return _relu_backward_args(dout, z) | dict(alpha=_alpha(alpha))


def _activation_forward_args(z, activation="relu"):
    return dict(z=_z(z), activation=check.activation(activation))


def _activation_backward_args(dout, z, activation="relu"):
    return _relu_backward_args(dout, z) | dict(activation=check.activation(activation))


def _maxpool2d_forward_args(a, size=2, stride=2):
    a = check.array(a, "a", (2, 3))
    size, stride = check.integer(size, "size", low=1), check.integer(stride, "stride", low=1)
    _fits((size, size), a.shape[-2:], "size")
    return dict(a=a, size=size, stride=stride)


def _maxpool2d_backward_args(dout, pool_idx, input_shape):
    input_shape = _shape_of(input_shape, "input_shape", (2, 3))
    dout = check.array(dout, "dout", (len(input_shape),))
    idx = np.asarray(pool_idx)
    if idx.dtype.kind not in "iu" or idx.shape != dout.shape:
        raise ValueError(
            f"pool_idx: expected integers of the shape of dout {dout.shape}, "
            f"got {idx.dtype} of shape {idx.shape}"
        )
    if dout.ndim == 3 and dout.shape[0] != input_shape[0]:
        raise ValueError(f"dout: expected a batch of {input_shape[0]}, got shape {dout.shape}")
    plane = input_shape[-2] * input_shape[-1]
    if idx.min() < 0 or idx.max() >= plane:
        raise ValueError(f"pool_idx: expected indices in 0..{plane - 1}")
    return dict(dout=dout, pool_idx=idx, input_shape=input_shape)


def _flatten_forward_args(a):
    return dict(a=check.array(a, "a", (2, 3)))


def _flatten_backward_args(dout, input_shape):
    input_shape = _shape_of(input_shape, "input_shape", (2, 3))
    dout = check.array(dout, "dout", (len(input_shape) - 1,))
    if dout.size != int(np.prod(input_shape)):
        raise ValueError(
            f"dout: expected {int(np.prod(input_shape))} values, got shape {dout.shape}"
        )
    return dict(dout=dout, input_shape=input_shape)


def _dense_forward_args(a, weights, bias=0.0):
    weights = check.array(weights, "weights", (1,))
    a = check.array(a, "a", (1, 2), tail=weights.shape)
    return dict(a=a, weights=weights, bias=check.real(bias, "bias"))


def _dense_backward_args(dout, a, weights):
    args = _dense_forward_args(a, weights)
    a = args["a"]
    dout = check.array(dout, "dout", (a.ndim - 1,))
    if dout.shape != a.shape[:-1]:
        raise ValueError(f"dout: expected shape {a.shape[:-1]}, got {dout.shape}")
    return dict(dout=dout, a=a, weights=args["weights"])


def _sigmoid_forward_args(z):
    return dict(z=check.array(z, "z", (0, 1)))


def _sigmoid_backward_args(dout, a):
    a = check.array(a, "a", (0, 1))
    return dict(dout=_same_shape(dout, a, "dout"), a=a)


def _bce_args(z, y):
    z = check.array(z, "z", (0, 1))
    return dict(z=z, y=check.labels(y, "y", None, shape=z.shape))


# --------------------------------------------------------------------------- indices
@check.on_entry(_window_indices_args)
@lru_cache(maxsize=64)  # inside the checks: 2 and 2.0 are one key, and only 2 gets this far
def window_indices(height, width, kh, kw, stride):
    """Flat pixel indices of every window, shape ``(OH * OW, kh * kw)``.

    Row ``p`` lists, in row-major order, the pixels (as indices into the image flattened
    row-major) that window ``p`` covers; windows are numbered row-major too.
    ``OH = (height - kh) // stride + 1`` and likewise ``OW``.
    """
    out_h, out_w = _out_size(height, width, kh, kw, stride)
    top = np.arange(out_h)[:, None] * stride  # first row of each window row
    left = np.arange(out_w)[None, :] * stride
    corner = (top * width + left).reshape(-1, 1)  # (P, 1) flat index of each top-left pixel
    offset = (np.arange(kh)[:, None] * width + np.arange(kw)[None, :]).reshape(1, -1)
    idx = corner + offset
    idx.flags.writeable = False
    return idx


@lru_cache(maxsize=64)
def _conv_scatter(height, width, kh, kw, stride):
    """Where each window's weights go in the flat convolution matrix, shape ``(P, kh * kw)``.

    Entry ``[p, k]`` is where weight ``k`` of window ``p`` sits in ``T`` flattened row-major:
    row ``idx[p, k]`` (the pixel it multiplies, ``idx = window_indices(...)``), column ``p``.
    """
    idx = window_indices(height, width, kh, kw, stride)
    flat = idx * idx.shape[0] + np.arange(idx.shape[0])[:, None]
    flat.flags.writeable = False
    return flat


# --------------------------------------------------------------------------- convolution
@check.on_entry(_conv_matrix_args)
def conv_matrix(kernel, image_shape, stride=1):
    """The convolution as a matrix ``T`` of shape ``(H * W, OH * OW)``.

    Column ``p`` of ``T`` holds the kernel's weights at the pixels window ``p`` covers and
    zeros elsewhere, so that for an image ``x`` flattened row-major,
    ``x.ravel() @ T`` is the cross-correlation ``x ⋆ K`` flattened row-major.
    """
    height, width = image_shape
    scatter = _conv_scatter(height, width, *kernel.shape, stride)  # (P, kh*kw)
    t = np.zeros((height * width, scatter.shape[0]))
    # put writes at flat (row-major) indices and cycles through the kh*kw weights:
    # each row of scatter (one window) receives all of them
    t.put(scatter, kernel)
    return t


@check.on_entry(_conv2d_forward_args)
def conv2d_forward(x, kernel, bias=0.0, stride=1):
    """Cross-correlate ``x`` with ``kernel`` and add ``bias`` (no padding).

    z[i, j] = sum_{u, v} x[i*stride + u, j*stride + v] * kernel[u, v] + bias

    x: (H, W) or (n, H, W); kernel: (kh, kw); bias: float; stride: int >= 1.
    Returns z: (OH, OW) or (n, OH, OW) with OH = (H - kh) // stride + 1.
    """
    height, width = x.shape[-2:]
    t = conv_matrix(kernel, (height, width), stride)  # (H*W, OH*OW)
    # a.dot(b) is a @ b for 2-d arrays, with less overhead on small ones
    z = x.reshape(-1, height * width).dot(t) + bias
    return z.reshape(x.shape[:-2] + _out_size(height, width, *kernel.shape, stride))


@check.on_entry(_conv2d_backward_args)
def conv2d_backward(dout, x, kernel, stride=1, *, with_dx=True):
    """Gradients of the convolution.

    dout: (OH, OW) or (n, OH, OW), the gradient of the loss w.r.t. ``z``;
    x: the forward input, (H, W) or (n, H, W); kernel: (kh, kw).
    Returns (dx, dkernel, dbias): dx like x (= dout times T's transpose; None when
    ``with_dx`` is False, as training needs only the parameters' gradients); dkernel (kh, kw)
    = x ⋆ dout summed over the batch; dbias float = sum of dout.
    """
    height, width = x.shape[-2:]
    x_flat = x.reshape(-1, height * width)  # (n, H*W)
    d_flat = dout.reshape(x_flat.shape[0], -1)  # (n, P)
    # dkernel[u, v] = sum over windows p of x[pixel of window p at (u, v)] * dout[p]:
    # x_flat.T @ d_flat pairs every pixel with every window; keep the pairs that belong.
    pairs = x_flat.T.dot(d_flat).ravel()  # (H*W * P,)
    scatter = _conv_scatter(height, width, *kernel.shape, stride)  # (P, kh*kw)
    dkernel = pairs[scatter].sum(0).reshape(kernel.shape)  # pair of window p, weight k
    dx = None
    if with_dx:
        dx = d_flat.dot(conv_matrix(kernel, (height, width), stride).T).reshape(x.shape)
    return dx, dkernel, float(d_flat.sum())


# --------------------------------------------------------------------------- activations
@check.on_entry(_relu_forward_args)
def relu_forward(z):
    """a = max(0, z), elementwise; any shape."""
    return np.maximum(z, 0.0)


@check.on_entry(_relu_backward_args)
def relu_backward(dout, z):
    """dz = dout * [z > 0] (the derivative at 0 is taken as 0); shapes of z."""
    return dout * (z > 0)


@check.on_entry(_leaky_relu_forward_args)
def leaky_relu_forward(z, slope=LEAKY_SLOPE):
    """a = z where z > 0, slope * z elsewhere; any shape."""
    return np.where(z > 0, z, slope * z)


@check.on_entry(_leaky_relu_backward_args)
def leaky_relu_backward(dout, z, slope=LEAKY_SLOPE):
    """dz = dout * (1 where z > 0, slope elsewhere)."""
    return dout * np.where(z > 0, 1.0, slope)


@check.on_entry(_elu_forward_args)
def elu_forward(z, alpha=ELU_ALPHA):
    """a = z where z > 0, alpha * (exp(z) - 1) elsewhere; any shape."""
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


@check.on_entry(_elu_backward_args)
def elu_backward(dout, z, alpha=ELU_ALPHA):
    """dz = dout * (1 where z > 0, alpha * exp(z) elsewhere)."""
    return dout * np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))


# each activation by name: the bodies of its forward and backward functions above (the two
# functions below check their arguments, so they call the bodies, without the checks' wrapper)
FORWARD = dict(relu=relu_forward, leaky_relu=leaky_relu_forward, elu=elu_forward)
BACKWARD = dict(relu=relu_backward, leaky_relu=leaky_relu_backward, elu=elu_backward)
FORWARD, BACKWARD = ({name: check.body(f) for name, f in d.items()} for d in (FORWARD, BACKWARD))


@check.on_entry(_activation_forward_args)
def activation_forward(z, activation="relu"):
    """Apply the named activation ("relu", "leaky_relu" or "elu") to z; any shape."""
    return FORWARD[activation](z)


@check.on_entry(_activation_backward_args)
def activation_backward(dout, z, activation="relu"):
    """dz = dout * f'(z) for the named activation; shapes of z."""
    return BACKWARD[activation](dout, z)


# --------------------------------------------------------------------------- max-pool
@check.on_entry(_maxpool2d_forward_args)
def maxpool2d_forward(a, size=2, stride=2):
    """Max over each ``size x size`` window, windows ``stride`` apart.

    a: (H, W) or (n, H, W). Returns (out, pool_idx): out (OH, OW) or (n, OH, OW) with
    OH = (H - size) // stride + 1; pool_idx, same shape, int: for each window the index of
    its maximum in ``a`` flattened row-major over its last two axes. Ties go to the first
    maximum in row-major order of the window.
    """
    height, width = a.shape[-2:]
    idx = window_indices(height, width, size, size, stride)  # (P, size*size)
    # Fancy indexing rather than flat.take(idx, axis=-1): its result's memory layout makes the
    # max over each window below much faster on large batches (this function: 3x at n = 1024).
    windows = a.reshape(a.shape[:-2] + (height * width,))[..., idx]  # (..., P, size*size)
    winner = windows.argmax(-1)  # np.argmax returns the first maximum: the tie rule
    # every window is the first one shifted: idx[p, k] = idx[p, 0] + idx[0, k]
    pool_idx = idx[:, 0] + idx[0].take(winner)  # (..., P)
    out_shape = a.shape[:-2] + _out_size(height, width, size, size, stride)
    return windows.max(-1).reshape(out_shape), pool_idx.reshape(out_shape)


@check.on_entry(_maxpool2d_backward_args)
def maxpool2d_backward(dout, pool_idx, input_shape):
    """Route each window's gradient to the position its maximum came from.

    dout, pool_idx: (OH, OW) or (n, OH, OW); input_shape: the shape of the forward input.
    Returns da of shape ``input_shape``: zeros except at the winners, where the gradients
    of the windows that chose that position are added (they can overlap when
    stride < size).
    """
    plane = input_shape[-2] * input_shape[-1]
    n = pool_idx.shape[0] if pool_idx.ndim == 3 else 1
    # one long vector for the whole batch: sample s owns positions s*plane .. s*plane+plane-1
    offset = np.arange(0, n * plane, plane)  # (n,): 0, plane, 2 * plane, ...
    target = (pool_idx.reshape(n, -1) + offset[:, None]).ravel()
    da = np.bincount(target, weights=dout.ravel(), minlength=n * plane)
    return da.reshape(input_shape)


# --------------------------------------------------------------------------- flatten
@check.on_entry(_flatten_forward_args)
def flatten_forward(a):
    """Row-major flatten of the last two axes: (H, W) -> (H*W,), (n, H, W) -> (n, H*W)."""
    return a.reshape(a.shape[:-2] + (-1,))


@check.on_entry(_flatten_backward_args)
def flatten_backward(dout, input_shape):
    """Un-flatten: reshape the gradient back to the forward input's ``input_shape``."""
    return dout.reshape(input_shape)


# --------------------------------------------------------------------------- dense
@check.on_entry(_dense_forward_args)
def dense_forward(a, weights, bias=0.0):
    """z = a . weights + bias.  a: (k,) or (n, k); weights: (k,). Returns () or (n,)."""
    return a.dot(weights) + bias


@check.on_entry(_dense_backward_args)
def dense_backward(dout, a, weights):
    """Gradients of the dense layer.

    dout: () or (n,); a: (k,) or (n, k); weights: (k,).
    Returns (da, dweights, dbias): da like a (= dout * weights), dweights (k,) (= sum of
    dout * a over the batch), dbias float (= sum of dout).
    """
    da = dout[..., None] * weights  # each image's dout times the weights
    dweights = a.T.dot(dout)  # (k, n) . (n,) sums over the batch; a scalar dout scales a
    return da, dweights, float(dout.sum())


# --------------------------------------------------------------------------- sigmoid and loss
@check.on_entry(_sigmoid_forward_args)
def sigmoid_forward(z):
    """a = 1 / (1 + exp(-z)), computed without overflow for any finite z; shape () or (n,)."""
    return np.exp(-np.logaddexp(0.0, -z))  # exp(-log(1 + exp(-z))): logaddexp never overflows


@check.on_entry(_sigmoid_backward_args)
def sigmoid_backward(dout, a):
    """dz = dout * a * (1 - a), with a the sigmoid's output; shapes of a."""
    return dout * a * (1.0 - a)


@check.on_entry(_bce_args)
def bce_forward(z, y):
    """Binary cross-entropy of the sigmoid of the logit ``z`` against labels ``y``.

    loss_i = -[y_i log a_i + (1 - y_i) log(1 - a_i)] with a_i = sigmoid(z_i), written as
    log(1 + exp(z_i)) - y_i z_i so that it stays finite for any finite z.
    z: () or (n,); y: 0/1 of the same shape. Returns the mean over the batch (a float).
    """
    return float((np.logaddexp(0.0, z) - y * z).sum()) / z.size  # the mean over the batch


@check.on_entry(_bce_args)
def bce_backward(z, y):
    """Gradient of the mean loss w.r.t. the logit: dz = (sigmoid(z) - y) / n.

    z: () or (n,); y: 0/1 of the same shape. Returns dz, shape of z (n = 1 for one image).
    """
    return (sigmoid_forward(z) - y) / z.size
