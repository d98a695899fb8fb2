"""Beyond 6x6: padding, stride, several kernels and input channels, im2col and col2im.

The 6x6 chapters keep their one-kernel engine (``cnn6.layers``); this module is the general
convolution that frameworks compute, written the way they compute it, and a network with a
bank of kernels for the book's experiment. Numpy only.

Shapes: an image with C channels ``x`` (C, H, W), a batch (n, C, H, W); a bank of C_out
kernels ``K`` (C_out, C, kh, kw), one bias per kernel ``b`` (C_out,); the output ``z``
(C_out, OH, OW) or (n, C_out, OH, OW), with ``OH = (H + 2 padding - kh) // stride + 1``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import validation as check
from .layers import window_indices


# --------------------------------------------------------------------------- sizes and checks
def output_size(size, kernel_size, padding=0, stride=1) -> int:
    """How many positions a kernel of ``kernel_size`` has along an axis of ``size`` pixels
    padded with ``padding`` zeros on each side, moving ``stride`` pixels at a time."""
    size = check.integer(size, "size", low=1)
    kernel_size = check.integer(kernel_size, "kernel_size", low=1)
    padding = check.integer(padding, "padding", low=0)
    stride = check.integer(stride, "stride", low=1)
    if kernel_size > size + 2 * padding:
        raise ValueError(
            f"kernel_size: expected at most size + 2 * padding = {size + 2 * padding}, "
            f"got {kernel_size}"
        )
    return (size + 2 * padding - kernel_size) // stride + 1


def _batch(x, name="x"):
    """x as (n, C, H, W) and whether it came without the batch axis."""
    x = check.array(x, name, (3, 4))
    return (x[None], True) if x.ndim == 3 else (x, False)


def _check_conv(x, kernel, stride, padding):
    x, single = _batch(x)
    kernel = check.array(kernel, "kernel", (4,))
    stride = check.integer(stride, "stride", low=1)
    padding = check.integer(padding, "padding", low=0)
    if kernel.shape[1] != x.shape[1]:
        raise ValueError(
            f"kernel: expected {x.shape[1]} input channels (axis 1, as x has), "
            f"got shape {kernel.shape}"
        )
    for axis, name in ((2, "height"), (3, "width")):
        if kernel.shape[axis] > x.shape[axis] + 2 * padding:
            raise ValueError(
                f"kernel: expected a {name} at most {x.shape[axis] + 2 * padding} "
                f"(the padded image), got shape {kernel.shape}"
            )
    return x, single, kernel, stride, padding


# --------------------------------------------------------------------------- im2col and col2im
def im2col(x, kh, kw, stride=1, padding=0):
    """The matrix of windows. x: (n, C, H, W); returns (n, P, C * kh * kw): row p is window p
    (numbered row-major) of the zero-padded image, its channels one after the other, each
    flattened row-major, so that ``im2col(x) @ K.reshape(C_out, -1).T`` is the convolution."""
    x = check.array(x, "x", (4,))
    kh, kw = check.integer(kh, "kh", low=1), check.integer(kw, "kw", low=1)
    stride, padding = (
        check.integer(stride, "stride", low=1),
        check.integer(padding, "padding", low=0),
    )
    output_size(x.shape[2], kh, padding, stride), output_size(x.shape[3], kw, padding, stride)
    return _im2col(x, kh, kw, stride, padding)


def _im2col(x, kh, kw, stride, padding):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, c, height, width = x.shape
    idx = window_indices(height, width, kh, kw, stride)  # (P, kh*kw) flat pixel indices
    cols = x.reshape(n, c, height * width)[:, :, idx]  # (n, C, P, kh*kw)
    return cols.transpose(0, 2, 1, 3).reshape(n, idx.shape[0], c * kh * kw)


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """The transpose of :func:`im2col`: every row of ``cols`` (n, P, C * kh * kw) added back
    onto the pixels its window came from; the padding is cut off. Returns ``x_shape``
    (n, C, H, W). Applied to ``dz @ K`` it is the input gradient, the transposed convolution."""
    if not (isinstance(x_shape, tuple) and len(x_shape) == 4):
        raise TypeError(f"x_shape: expected a tuple (n, C, H, W), got {x_shape!r}")
    for value in x_shape:
        check.integer(value, "x_shape", low=1)
    kh, kw = check.integer(kh, "kh", low=1), check.integer(kw, "kw", low=1)
    stride, padding = (
        check.integer(stride, "stride", low=1),
        check.integer(padding, "padding", low=0),
    )
    n, c, height, width = x_shape
    p = output_size(height, kh, padding, stride) * output_size(width, kw, padding, stride)
    cols = check.array(cols, "cols", (3,))
    if cols.shape != (n, p, c * kh * kw):
        raise ValueError(f"cols: expected shape {(n, p, c * kh * kw)}, got {cols.shape}")
    return _col2im(cols, x_shape, kh, kw, stride, padding)


def _col2im(cols, x_shape, kh, kw, stride, padding):
    n, c, height, width = x_shape
    hp, wp = height + 2 * padding, width + 2 * padding
    idx = window_indices(hp, wp, kh, kw, stride)  # (P, kh*kw)
    per_channel = cols.reshape(n, idx.shape[0], c, kh * kw).transpose(0, 2, 1, 3)
    out = np.zeros((n, c, hp * wp))
    np.add.at(out, (slice(None), slice(None), idx), per_channel)  # overlapping windows add up
    out = out.reshape(n, c, hp, wp)
    return out[:, :, padding : padding + height, padding : padding + width]


# --------------------------------------------------------------------------- the convolution
def conv_forward(x, kernel, bias, stride=1, padding=0):
    """z[o, i, j] = sum over c, u, v of xp[c, i*stride + u, j*stride + v] kernel[o, c, u, v]
    + bias[o], with xp the image padded with zeros.

    x: (C, H, W) or (n, C, H, W); kernel: (C_out, C, kh, kw); bias: (C_out,).
    Returns z: (C_out, OH, OW) or (n, C_out, OH, OW).
    """
    x, single, kernel, stride, padding = _check_conv(x, kernel, stride, padding)
    bias = check.array(bias, "bias", (1,))
    if bias.shape != kernel.shape[:1]:
        raise ValueError(
            f"bias: expected shape {kernel.shape[:1]} (one per kernel), got {bias.shape}"
        )
    z = _conv_forward(x, kernel, bias, stride, padding)
    return z[0] if single else z


def _conv_forward(x, kernel, bias, stride, padding):
    c_out, _, kh, kw = kernel.shape
    cols = _im2col(x, kh, kw, stride, padding)  # (n, P, C*kh*kw)
    z = cols @ kernel.reshape(c_out, -1).T + bias  # (n, P, C_out): z = windows @ vec(K) + b
    oh = (x.shape[2] + 2 * padding - kh) // stride + 1
    return z.transpose(0, 2, 1).reshape(x.shape[0], c_out, oh, -1)


def conv_backward(dz, x, kernel, stride=1, padding=0):
    """Gradients of :func:`conv_forward`. dz: the shape of z; x, kernel: the forward inputs.

    Returns (dx, dkernel, dbias): dx like x (col2im of dz @ K); dkernel (C_out, C, kh, kw)
    (dz against the windows, summed over the batch); dbias (C_out,) (dz summed per kernel).
    """
    x, single, kernel, stride, padding = _check_conv(x, kernel, stride, padding)
    c_out, _, kh, kw = kernel.shape
    want = (x.shape[0], c_out, output_size(x.shape[2], kh, padding, stride),
            output_size(x.shape[3], kw, padding, stride))  # fmt: skip
    dz = check.array(dz, "dz", (len(want) - single,))
    if (dz[None] if single else dz).shape != want:
        raise ValueError(f"dz: expected shape {want[single:]} (the shape of z), got {dz.shape}")
    dx, dkernel, dbias = _conv_backward(dz[None] if single else dz, x, kernel, stride, padding)
    return (dx[0] if single else dx), dkernel, dbias


def _conv_backward(dz, x, kernel, stride, padding):
    c_out, _, kh, kw = kernel.shape
    cols = _im2col(x, kh, kw, stride, padding)  # (n, P, C*kh*kw)
    dz_flat = dz.reshape(dz.shape[0], c_out, -1).transpose(0, 2, 1)  # (n, P, C_out)
    dkernel = np.einsum("npo,npk->ok", dz_flat, cols).reshape(kernel.shape)
    dx = _col2im(dz_flat @ kernel.reshape(c_out, -1), x.shape, kh, kw, stride, padding)
    return dx, dkernel, dz_flat.sum(axis=(0, 1))


# --------------------------------------------------------------------------- a bank of kernels
class BankParams(NamedTuple):
    """The network with C_out kernels on one-channel 6x6 images: kernel (C_out, 1, 3, 3),
    conv_bias (C_out,), weights (4 C_out,) (kernel by kernel, each pool row-major), fc_bias."""

    kernel: np.ndarray
    conv_bias: np.ndarray
    weights: np.ndarray
    fc_bias: float


def init_bank(rng, n_kernels):
    """Random parameters for ``n_kernels`` kernels: kernel entries Normal(0, 2/9) (signed),
    weights Normal(0, 1/4), biases 0. rng: a numpy.random.Generator."""
    rng = check.rng(rng)
    n_kernels = check.integer(n_kernels, "n_kernels", low=1)
    kernel = rng.normal(0.0, np.sqrt(2.0 / 9.0), size=(n_kernels, 1, 3, 3))
    weights = rng.normal(0.0, 0.5, size=4 * n_kernels)
    return BankParams(kernel, np.zeros(n_kernels), weights, 0.0)


def _check_bank(params, X, y=None):
    if not isinstance(params, BankParams):
        raise TypeError(
            f"params: expected a BankParams (see init_bank), got {type(params).__name__}"
        )
    X = check.array(X, "X", (3,), tail=(6, 6))
    y = None if y is None else check.labels(y, "y", X.shape[0])
    return params, X, y


def bank_forward_backward(params, X, y):
    """Mean binary cross-entropy of the bank network on X (n, 6, 6) with labels y (n,), and its
    gradients as a BankParams: conv (C_out kernels) → ReLU → 2x2 max-pool → flatten → dense."""
    params, X, y = _check_bank(params, X, y)
    return _bank(params, X, y)


def _bank_forward(params, X):
    n, c_out = X.shape[0], params.kernel.shape[0]
    z1 = _conv_forward(X[:, None], params.kernel, params.conv_bias, 1, 0)  # (n, C_out, 4, 4)
    a1 = np.maximum(z1, 0.0)
    # each 2x2 pool's four cells on the last axis, row-major
    windows = (
        a1.reshape(n, c_out, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c_out, 2, 2, 4)
    )
    winner = windows.argmax(-1)  # the first maximum in row-major order, as the engine's pool
    a3 = np.take_along_axis(windows, winner[..., None], -1).reshape(n, 4 * c_out)
    z4 = a3 @ params.weights + params.fc_bias
    return z1, winner, a3, z4


def _bank(params, X, y):
    n, c_out = X.shape[0], params.kernel.shape[0]
    z1, winner, a3, z4 = _bank_forward(params, X)
    loss = float(np.mean(np.logaddexp(0.0, z4) - y * z4))
    dz4 = (np.exp(-np.logaddexp(0.0, -z4)) - y) / n  # (sigmoid(z4) - y) / n
    da3 = dz4[:, None] * params.weights  # (n, 4 C_out)
    dwindows = np.zeros(winner.shape + (4,))
    np.put_along_axis(dwindows, winner[..., None], da3.reshape(n, c_out, 2, 2, 1), -1)
    da1 = dwindows.reshape(n, c_out, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(z1.shape)
    dz1 = da1 * (z1 > 0)
    _, dkernel, dconv_bias = _conv_backward(dz1, X[:, None], params.kernel, 1, 0)
    return loss, BankParams(dkernel, dconv_bias, a3.T @ dz4, float(dz4.sum()))


def bank_accuracy(params, X, y) -> float:
    """Fraction of images whose predicted class (z4 > 0) equals the label."""
    params, X, y = _check_bank(params, X, y)
    z4 = _bank_forward(params, X)[3]
    return float(np.mean((z4 > 0) == (y == 1)))


def train_bank(params, X, y, lr, epochs, batch_size, rng):
    """Mini-batch gradient descent on the bank network; returns (params, losses per epoch)."""
    params, X, y = _check_bank(params, X, y)
    lr = check.real(lr, "lr", low=0.0, low_open=True)
    epochs = check.integer(epochs, "epochs", low=1)
    batch_size = check.integer(batch_size, "batch_size", low=1)
    rng = check.rng(rng)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch_size):
            batch = order[start : start + batch_size]
            _, grads = _bank(params, X[batch], y[batch])
            params = BankParams(*(p - lr * g for p, g in zip(params, grads, strict=True)))
        losses.append(_bank(params, X, y)[0])
    return params, losses
