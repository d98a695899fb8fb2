"""Every layer of the network as a forward/backward pair of plain numpy functions.

Each function takes one image (its last two axes, e.g. ``(H, W)``) or a batch (a leading
axis ``n``: ``(n, H, W)``) and returns arrays of the matching shape. A backward function
takes the gradient of the loss with respect to the layer's output (``dout``) and returns
the gradients with respect to its inputs and parameters. The public functions check
their arguments; the underscored ones do the arithmetic and are what the network calls
in its training loop.

The book's names: ``x -> z1`` (conv2d), ``z1 -> a1`` (activation), ``a1 -> a2``
(maxpool2d), ``a2 -> a3`` (flatten), ``a3 -> z4`` (dense), ``z4 -> a4`` (sigmoid),
``(z4, y) -> loss`` (binary cross-entropy, computed from the logit ``z4``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import validation as check

LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0


# --------------------------------------------------------------------------- indices
@lru_cache(maxsize=64)
def window_indices(height: int, width: int, kh: int, kw: int, stride: int) -> np.ndarray:
    """Flat pixel indices of every window, shape ``(OH * OW, kh * kw)``.

    Row ``p`` lists, in row-major order, the pixels (as indices into the image flattened
    row-major) that window ``p`` covers; windows are numbered row-major too.
    ``OH = (height - kh) // stride + 1`` and likewise ``OW``.
    """
    # checked here, inside the cache: only calls that were not seen before pay for it
    for value, name in ((height, "height"), (width, "width"), (kh, "kh"), (kw, "kw")):
        check.integer(value, name, low=1)
    check.integer(stride, "stride", low=1)
    for size, limit, name in ((kh, height, "kh"), (kw, width, "kw")):
        if size > limit:
            raise ValueError(f"{name}: expected at most {limit} (the image), got {size}")
    out_h = (height - kh) // stride + 1
    out_w = (width - kw) // stride + 1
    top = np.arange(out_h)[:, None] * stride  # first row of each window row
    left = np.arange(out_w)[None, :] * stride
    corner = (top * width + left).reshape(-1, 1)  # (P, 1) flat index of each top-left pixel
    offset = (np.arange(kh)[:, None] * width + np.arange(kw)[None, :]).reshape(1, -1)
    idx = corner + offset
    idx.flags.writeable = False
    return idx


@lru_cache(maxsize=64)
def _conv_scatter(height: int, width: int, kh: int, kw: int, stride: int) -> np.ndarray:
    """Where each window's weights go in the flat convolution matrix, shape ``(P, kh * kw)``.

    Entry ``[p, k]`` is where weight ``k`` of window ``p`` sits in ``T`` flattened row-major:
    row ``idx[p, k]`` (the pixel it multiplies, ``idx = window_indices(...)``), column ``p``.
    """
    idx = window_indices(height, width, kh, kw, stride)
    positions = idx.shape[0]
    flat = idx * positions + np.arange(positions)[:, None]
    flat.flags.writeable = False
    return flat


def _out_size(height: int, width: int, kh: int, kw: int, stride: int) -> tuple[int, int]:
    return (height - kh) // stride + 1, (width - kw) // stride + 1


# --------------------------------------------------------------------------- convolution
def conv_matrix(kernel: np.ndarray, image_shape: tuple[int, int], stride: int = 1) -> np.ndarray:
    """The convolution as a matrix ``T`` of shape ``(H * W, OH * OW)``.

    Column ``p`` of ``T`` holds the kernel's weights at the pixels window ``p`` covers and
    zeros elsewhere, so that for an image ``x`` flattened row-major,
    ``x.ravel() @ T`` is the cross-correlation ``x ⋆ K`` flattened row-major.
    """
    kernel = check.array(kernel, "kernel", (2,))
    if not (isinstance(image_shape, tuple) and len(image_shape) == 2):
        raise TypeError(f"image_shape: expected a tuple (H, W), got {image_shape!r}")
    height = check.integer(image_shape[0], "image_shape", low=1)
    width = check.integer(image_shape[1], "image_shape", low=1)
    stride = check.integer(stride, "stride", low=1)
    _check_fits(kernel.shape, (height, width), "kernel")
    return _conv_matrix(kernel, height, width, stride)


def _conv_matrix(kernel, height, width, stride):
    kh, kw = kernel.shape
    scatter = _conv_scatter(height, width, kh, kw, stride)  # (P, kh*kw)
    t = np.zeros((height * width, scatter.shape[0]))
    # put writes at flat (row-major) indices and cycles through the kh*kw weights:
    # each row of scatter (one window) receives all of them
    t.put(scatter, kernel)
    return t


def conv2d_forward(x, kernel, bias=0.0, stride=1):
    """Cross-correlate ``x`` with ``kernel`` and add ``bias`` (no padding).

    z[i, j] = sum_{u, v} x[i*stride + u, j*stride + v] * kernel[u, v] + bias

    x: (H, W) or (n, H, W); kernel: (kh, kw); bias: float; stride: int >= 1.
    Returns z: (OH, OW) or (n, OH, OW) with OH = (H - kh) // stride + 1.
    """
    x = check.array(x, "x", (2, 3))
    kernel = check.array(kernel, "kernel", (2,))
    bias = check.real(bias, "bias")
    stride = check.integer(stride, "stride", low=1)
    _check_fits(kernel.shape, x.shape[-2:], "kernel")
    return _conv2d_forward(x, kernel, bias, stride)


def _conv2d_forward(x, kernel, bias, stride):
    height, width = x.shape[-2:]
    kh, kw = kernel.shape
    t = _conv_matrix(kernel, height, width, stride)  # (H*W, OH*OW)
    # np.dot(a, b) is a @ b for 2-d arrays, with less overhead on small ones
    z = np.dot(x.reshape(-1, height * width), t) + bias
    return z.reshape(x.shape[:-2] + _out_size(height, width, kh, kw, stride))


def conv2d_backward(dout, x, kernel, stride=1):
    """Gradients of the convolution.

    dout: (OH, OW) or (n, OH, OW), the gradient of the loss w.r.t. ``z``;
    x: the forward input, (H, W) or (n, H, W); kernel: (kh, kw).
    Returns (dx, dkernel, dbias): dx like x; dkernel (kh, kw) = x ⋆ dout summed over the
    batch; dbias float = sum of dout.
    """
    x = check.array(x, "x", (2, 3))
    kernel = check.array(kernel, "kernel", (2,))
    stride = check.integer(stride, "stride", low=1)
    _check_fits(kernel.shape, x.shape[-2:], "kernel")
    want = x.shape[:-2] + _out_size(*x.shape[-2:], *kernel.shape, stride)
    dout = check.array(dout, "dout", (len(want),))
    if dout.shape != want:
        raise ValueError(f"dout: expected shape {want} (the shape of z), got {dout.shape}")
    return _conv2d_backward(dout, x, kernel, stride)


def _conv2d_backward(dout, x, kernel, stride, with_dx=True):
    # with_dx=False skips dx (returned as None): training needs only dkernel and dbias.
    height, width = x.shape[-2:]
    kh, kw = kernel.shape
    x_flat = x.reshape(-1, height * width)  # (n, H*W)
    d_flat = dout.reshape(x_flat.shape[0], -1)  # (n, P)
    # dkernel[u, v] = sum over windows p of x[pixel of window p at (u, v)] * dout[p]:
    # x_flat.T @ d_flat pairs every pixel with every window; keep the pairs that belong.
    pairs = np.dot(x_flat.T, d_flat).ravel()  # (H*W * P,); np.dot: x_flat.T @ d_flat, faster
    scatter = _conv_scatter(height, width, kh, kw, stride)  # (P, kh*kw)
    dkernel = pairs[scatter].sum(0)  # window p's pair for weight k is pairs[scatter[p, k]]
    dx = None
    if with_dx:
        dx = (d_flat @ _conv_matrix(kernel, height, width, stride).T).reshape(x.shape)
    return dx, dkernel.reshape(kh, kw), float(d_flat.sum())


def _check_fits(kernel_shape, image_shape, name):
    if kernel_shape[0] > image_shape[0] or kernel_shape[1] > image_shape[1]:
        raise ValueError(
            f"{name}: expected a kernel no larger than the image {tuple(image_shape)}, "
            f"got shape {tuple(kernel_shape)}"
        )


# --------------------------------------------------------------------------- activations
def relu_forward(z):
    """a = max(0, z), elementwise; any shape."""
    return np.maximum(check.array(z, "z", (0, 1, 2, 3)), 0.0)


def relu_backward(dout, z):
    """dz = dout * [z > 0] (the derivative at 0 is taken as 0); shapes of z."""
    z = check.array(z, "z", (0, 1, 2, 3))
    return _same_shape(dout, z, "dout") * (z > 0)


def leaky_relu_forward(z, slope=LEAKY_SLOPE):
    """a = z where z > 0, slope * z elsewhere; any shape."""
    z = check.array(z, "z", (0, 1, 2, 3))
    slope = check.real(slope, "slope", low=0.0, high=1.0, high_open=True)
    return np.where(z > 0, z, slope * z)


def leaky_relu_backward(dout, z, slope=LEAKY_SLOPE):
    """dz = dout * (1 where z > 0, slope elsewhere)."""
    z = check.array(z, "z", (0, 1, 2, 3))
    slope = check.real(slope, "slope", low=0.0, high=1.0, high_open=True)
    return _same_shape(dout, z, "dout") * np.where(z > 0, 1.0, slope)


def elu_forward(z, alpha=ELU_ALPHA):
    """a = z where z > 0, alpha * (exp(z) - 1) elsewhere; any shape."""
    z = check.array(z, "z", (0, 1, 2, 3))
    alpha = check.real(alpha, "alpha", low=0.0, low_open=True)
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


def elu_backward(dout, z, alpha=ELU_ALPHA):
    """dz = dout * (1 where z > 0, alpha * exp(z) elsewhere)."""
    z = check.array(z, "z", (0, 1, 2, 3))
    alpha = check.real(alpha, "alpha", low=0.0, low_open=True)
    return _same_shape(dout, z, "dout") * np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))


def activation_forward(z, activation="relu"):
    """Apply the named activation ("relu", "leaky_relu" or "elu") to z; any shape."""
    z = check.array(z, "z", (0, 1, 2, 3))
    return _activation_forward(z, check.activation(activation))


def activation_backward(dout, z, activation="relu"):
    """dz = dout * f'(z) for the named activation; shapes of z."""
    z = check.array(z, "z", (0, 1, 2, 3))
    dout = _same_shape(dout, z, "dout")
    return _activation_backward(dout, z, check.activation(activation))


def _activation_forward(z, activation):
    if activation == "relu":
        return np.maximum(z, 0.0)
    if activation == "leaky_relu":
        return np.where(z > 0, z, LEAKY_SLOPE * z)
    return np.where(z > 0, z, ELU_ALPHA * np.expm1(np.minimum(z, 0.0)))


def _activation_backward(dout, z, activation):
    if activation == "relu":
        return dout * (z > 0)
    if activation == "leaky_relu":
        return dout * np.where(z > 0, 1.0, LEAKY_SLOPE)
    return dout * np.where(z > 0, 1.0, ELU_ALPHA * np.exp(np.minimum(z, 0.0)))


def _same_shape(value, like, name):
    arr = check.array(value, name, (like.ndim,))
    if arr.shape != like.shape:
        raise ValueError(f"{name}: expected shape {like.shape}, got {arr.shape}")
    return arr


# --------------------------------------------------------------------------- max-pool
def maxpool2d_forward(a, size=2, stride=2):
    """Max over each ``size x size`` window, windows ``stride`` apart.

    a: (H, W) or (n, H, W). Returns (out, pool_idx): out (OH, OW) or (n, OH, OW) with
    OH = (H - size) // stride + 1; pool_idx, same shape, int: for each window the index of
    its maximum in ``a`` flattened row-major over its last two axes. Ties go to the first
    maximum in row-major order of the window.
    """
    a = check.array(a, "a", (2, 3))
    size = check.integer(size, "size", low=1)
    stride = check.integer(stride, "stride", low=1)
    _check_fits((size, size), a.shape[-2:], "size")
    return _maxpool2d_forward(a, size, stride)


def _maxpool2d_forward(a, size, stride):
    height, width = a.shape[-2:]
    idx = window_indices(height, width, size, size, stride)  # (P, size*size)
    # Fancy indexing rather than flat.take(idx, axis=-1): its result's memory layout makes the
    # max over each window below much faster on large batches (this function: 3x at n = 1024).
    windows = a.reshape(a.shape[:-2] + (height * width,))[..., idx]  # (..., P, size*size)
    winner = windows.argmax(-1)  # np.argmax returns the first maximum: the tie rule
    pool_idx = idx[np.arange(idx.shape[0]), winner]  # (..., P)
    out_shape = a.shape[:-2] + _out_size(height, width, size, size, stride)
    return windows.max(-1).reshape(out_shape), pool_idx.reshape(out_shape)


def maxpool2d_backward(dout, pool_idx, input_shape):
    """Route each window's gradient to the position its maximum came from.

    dout, pool_idx: (OH, OW) or (n, OH, OW); input_shape: the shape of the forward input.
    Returns da of shape ``input_shape``: zeros except at the winners, where the gradients
    of the windows that chose that position are added (they can overlap when
    stride < size).
    """
    if not (isinstance(input_shape, tuple) and len(input_shape) in (2, 3)):
        raise TypeError(f"input_shape: expected a tuple (H, W) or (n, H, W), got {input_shape!r}")
    for size in input_shape:
        check.integer(size, "input_shape", low=1)
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
    return _maxpool2d_backward(dout, idx, tuple(input_shape))


def _maxpool2d_backward(dout, pool_idx, input_shape):
    plane = input_shape[-2] * input_shape[-1]
    n = pool_idx.shape[0] if pool_idx.ndim == 3 else 1
    # one long vector for the whole batch: sample s owns positions s*plane .. s*plane+plane-1
    offset = np.arange(0, n * plane, plane)  # (n,): 0, plane, 2 * plane, ...
    target = (pool_idx.reshape(n, -1) + offset[:, None]).ravel()
    da = np.bincount(target, weights=dout.ravel(), minlength=n * plane)
    return da.reshape(input_shape)


# --------------------------------------------------------------------------- flatten
def flatten_forward(a):
    """Row-major flatten of the last two axes: (H, W) -> (H*W,), (n, H, W) -> (n, H*W)."""
    a = check.array(a, "a", (2, 3))
    return a.reshape(a.shape[:-2] + (-1,))


def flatten_backward(dout, input_shape):
    """Un-flatten: reshape the gradient back to the forward input's ``input_shape``."""
    if not (isinstance(input_shape, tuple) and len(input_shape) in (2, 3)):
        raise TypeError(f"input_shape: expected a tuple (H, W) or (n, H, W), got {input_shape!r}")
    for size in input_shape:
        check.integer(size, "input_shape", low=1)
    dout = check.array(dout, "dout", (len(input_shape) - 1,))
    if dout.size != int(np.prod(input_shape)):
        raise ValueError(
            f"dout: expected {int(np.prod(input_shape))} values, got shape {dout.shape}"
        )
    return dout.reshape(input_shape)


# --------------------------------------------------------------------------- dense
def dense_forward(a, weights, bias=0.0):
    """z = a . weights + bias.  a: (k,) or (n, k); weights: (k,). Returns () or (n,)."""
    weights = check.array(weights, "weights", (1,))
    a = check.array(a, "a", (1, 2), tail=weights.shape)
    bias = check.real(bias, "bias")
    return a @ weights + bias


def dense_backward(dout, a, weights):
    """Gradients of the dense layer.

    dout: () or (n,); a: (k,) or (n, k); weights: (k,).
    Returns (da, dweights, dbias): da like a (= dout * weights), dweights (k,) (= sum of
    dout * a over the batch), dbias float (= sum of dout).
    """
    weights = check.array(weights, "weights", (1,))
    a = check.array(a, "a", (1, 2), tail=weights.shape)
    dout = check.array(dout, "dout", (a.ndim - 1,))
    if dout.shape != a.shape[:-1]:
        raise ValueError(f"dout: expected shape {a.shape[:-1]}, got {dout.shape}")
    return _dense_backward(dout, a, weights)


def _dense_backward(dout, a, weights):
    da = np.multiply.outer(dout, weights)
    dweights = np.dot(dout, a)  # (n,) . (n, k) sums over the batch; a scalar dout scales a
    return da, dweights, float(dout.sum())


# --------------------------------------------------------------------------- sigmoid and loss
def sigmoid_forward(z):
    """a = 1 / (1 + exp(-z)), computed without overflow for any finite z; any shape."""
    return _sigmoid(check.array(z, "z", (0, 1)))


def _sigmoid(z):
    # exp(-log(1 + exp(-z))): logaddexp never overflows
    return np.exp(-np.logaddexp(0.0, -z))


def sigmoid_backward(dout, a):
    """dz = dout * a * (1 - a), with a the sigmoid's output; shapes of a."""
    a = check.array(a, "a", (0, 1))
    return _same_shape(dout, a, "dout") * a * (1.0 - a)


def bce_forward(z, y):
    """Binary cross-entropy of the sigmoid of the logit ``z`` against labels ``y``.

    loss_i = -[y_i log a_i + (1 - y_i) log(1 - a_i)] with a_i = sigmoid(z_i), written as
    log(1 + exp(z_i)) - y_i z_i so that it stays finite for any finite z.
    z: () or (n,); y: 0/1 of the same shape. Returns the mean over the batch (a float).
    """
    z = check.array(z, "z", (0, 1))
    y = check.labels(y, "y", None, shape=z.shape)
    return _bce_forward(z, y)


def _bce_forward(z, y):
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def bce_backward(z, y):
    """Gradient of the mean loss w.r.t. the logit: dz = (sigmoid(z) - y) / n.

    z: () or (n,); y: 0/1 of the same shape. Returns dz, shape of z (n = 1 for one image).
    """
    z = check.array(z, "z", (0, 1))
    y = check.labels(y, "y", None, shape=z.shape)
    return _bce_backward(z, y)


def _bce_backward(z, y):
    return (_sigmoid(z) - y) / (z.size)
