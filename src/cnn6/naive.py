"""The whole network in plain loops, straight from the book's formulas: the page to read first.

One image, one window, one number at a time: no vectorisation, no argument checks, no tricks.
The fast engine (``layers``, ``network``, ``training``) computes the same numbers; this module
is the independent reference the tests, the benchmark, the animations and the coursework
feedback compare it with. The chapter of each formula:

    2   convolution   z1[i, j] = sum_{u, v} x[i*s + u, j*s + v] K[u, v] + b_c
    3   activation    a1 = f(z1), f = ReLU (or leaky ReLU, ELU: chapter 15)
    4   max-pool      a2[i, j] = max of window (i, j) of a1; ``pool_idx`` remembers where
    5   flatten       a3 = a2 row by row; dense z4 = w . a3 + b_f; sigmoid a4 = 1 / (1 + e^-z4)
    6   loss          L = -[y log a4 + (1 - y) log(1 - a4)] = log(1 + e^z4) - y z4
    7   dense         dz4 = a4 - y; dw = dz4 a3; db_f = dz4; da3 = dz4 w
    8   max-pool      da2 = da3 un-flattened; da1 gets each da2 at its window's maximum
    9   activation    dz1 = da1 f'(z1)
    10  convolution   dK[u, v] = sum_{i, j} x[i + u, j + v] dz1[i, j]; db_c = sum dz1;
                      dx[i + u, j + v] += K[u, v] dz1[i, j]

A batch (n, 6, 6) is n images one after the other; its loss is their mean, so every delta
and gradient of a batch carries a factor 1/n.
"""

from __future__ import annotations

import math

import numpy as np

LEAKY_SLOPE = 0.01  # leaky ReLU: f(z) = 0.01 z for z <= 0
ELU_ALPHA = 1.0  # ELU: f(z) = alpha (e^z - 1) for z <= 0


# --------------------------------------------------------------------------- layers, one image
def conv2d(x, kernel, bias=0.0, stride=1):
    """Chapter 2. x (H, W), kernel (kh, kw) -> z (OH, OW), OH = (H - kh) // stride + 1."""
    (height, width), (kh, kw) = np.shape(x), np.shape(kernel)
    z = np.zeros(((height - kh) // stride + 1, (width - kw) // stride + 1))
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            total = 0.0
            for u in range(kh):
                for v in range(kw):
                    total += x[i * stride + u][j * stride + v] * kernel[u][v]
            z[i, j] = total + bias
    return z


def f(z, activation="relu"):
    """Chapters 3 and 13: the activation of one number."""
    if z > 0:
        return z
    if activation == "relu":
        return 0.0
    if activation == "leaky_relu":
        return LEAKY_SLOPE * z
    if activation == "elu":
        return ELU_ALPHA * math.expm1(z)
    raise ValueError(f"activation: expected relu, leaky_relu or elu, got {activation!r}")


def f_prime(z, activation="relu"):
    """Chapter 9: the activation's derivative at one number (taken as 0 at z = 0 for ReLU)."""
    if z > 0:
        return 1.0
    if activation == "relu":
        return 0.0
    if activation == "leaky_relu":
        return LEAKY_SLOPE
    if activation == "elu":
        return ELU_ALPHA * math.exp(z)
    raise ValueError(f"activation: expected relu, leaky_relu or elu, got {activation!r}")


def activation_forward(z, activation="relu"):
    """a = f(z), entry by entry; any shape."""
    a = np.zeros(np.shape(z))
    for i in np.ndindex(a.shape):
        a[i] = f(z[i], activation)
    return a


def maxpool2d(a, size=2, stride=2):
    """Chapter 4. a (H, W) -> (a2, pool_idx), both (OH, OW): each window's maximum, and where
    it came from as an index into ``a`` read row by row (row * W + column). A tie goes to the
    first maximum in the window's row-major order."""
    height, width = np.shape(a)
    shape = ((height - size) // stride + 1, (width - size) // stride + 1)
    out, pool_idx = np.zeros(shape), np.zeros(shape, dtype=np.int64)
    for i in range(shape[0]):
        for j in range(shape[1]):
            best = None
            for u in range(size):
                for v in range(size):
                    r, c = i * stride + u, j * stride + v
                    if best is None or a[r][c] > best:  # strictly larger: the first one wins
                        best, pool_idx[i, j] = a[r][c], r * width + c
            out[i, j] = best
    return out, pool_idx


def maxpool2d_backward(da2, pool_idx, shape):
    """Chapter 8. Each window's gradient goes to where its maximum was; the rest stay 0.
    Overlapping windows (stride < size) that chose the same position add up."""
    da1 = np.zeros(shape)
    for i in range(pool_idx.shape[0]):
        for j in range(pool_idx.shape[1]):
            r, c = divmod(int(pool_idx[i, j]), shape[1])
            da1[r, c] += da2[i][j]
    return da1


def conv2d_backward(dz, x, kernel, stride=1):
    """Chapter 10. dz (OH, OW), x (H, W), kernel (kh, kw) -> (dx, dkernel, dbias)."""
    kh, kw = np.shape(kernel)
    dx, dkernel, dbias = np.zeros(np.shape(x)), np.zeros((kh, kw)), 0.0
    for i in range(dz.shape[0]):
        for j in range(dz.shape[1]):
            dbias += dz[i][j]
            for u in range(kh):
                for v in range(kw):
                    dkernel[u, v] += x[i * stride + u][j * stride + v] * dz[i][j]
                    dx[i * stride + u, j * stride + v] += kernel[u][v] * dz[i][j]
    return dx, dkernel, dbias


def sigmoid(z):
    """Chapter 5: 1 / (1 + e^-z), written so that e^... never overflows."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    return math.exp(z) / (1.0 + math.exp(z))


def loss(z4, y):
    """Chapter 6: -[y log a4 + (1 - y) log(1 - a4)] = log(1 + e^z4) - y z4, from the logit."""
    softplus = max(z4, 0.0) + math.log1p(math.exp(-abs(z4)))  # log(1 + e^z4), never overflows
    return softplus - y * z4


# --------------------------------------------------------------------------- the network
def forward(params, x, y=None, activation="relu"):
    """Run the network on one image (6, 6) or a batch (n, 6, 6); y optional (0/1, or (n,)).

    ``params`` has the fields kernel (3, 3), conv_bias, weights (4,), fc_bias (a cnn6.Params).
    Returns a dict of the book's names: x, z1, a1, a2, pool_idx, a3, z4, a4, loss (None
    without y; the mean for a batch) and activation; a batch stacks each on a leading axis n.
    """
    if np.ndim(x) == 3:
        labels = [None] * len(x) if y is None else list(y)
        runs = [forward(params, xi, yi, activation) for xi, yi in zip(x, labels, strict=True)]
        out = {key: np.array([r[key] for r in runs]) for key in runs[0] if key != "activation"}
        out["loss"] = None if y is None else float(np.mean(out["loss"]))
        return out | {"activation": activation}
    z1 = conv2d(x, params.kernel, params.conv_bias)
    a1 = activation_forward(z1, activation)
    a2, pool_idx = maxpool2d(a1)
    a3 = np.array([a2[0, 0], a2[0, 1], a2[1, 0], a2[1, 1]])
    z4 = float(params.fc_bias)  # a new number: += must not change the caller's params
    for k in range(4):
        z4 += params.weights[k] * a3[k]
    values = dict(x=np.array(x, dtype=float), z1=z1, a1=a1, a2=a2, pool_idx=pool_idx, a3=a3)
    values |= dict(z4=float(z4), a4=sigmoid(z4), activation=activation)
    return values | {"loss": None if y is None else loss(z4, y)}


def backward(params, values, y):
    """Backpropagate from ``values`` (what :func:`forward` returned) with labels ``y``.

    Returns a dict: the deltas dz4, da3, da2, da1, dz1, dx (shapes of z4, a3, a2, a1, z1, x)
    and the gradients under the parameters' names: kernel (3, 3), conv_bias, weights (4,),
    fc_bias. For a batch the deltas are stacked and the gradients summed, all divided by n.
    """
    if np.ndim(values["x"]) == 3:
        n = len(values["x"])
        keys = ("x", "z1", "a1", "a2", "pool_idx", "a3", "z4", "a4")
        runs = [backward(params, values | {k: values[k][s] for k in keys}, y[s]) for s in range(n)]
        deltas = ("dz4", "da3", "da2", "da1", "dz1", "dx")
        out = {key: np.array([r[key] for r in runs]) / n for key in deltas}
        for key in ("kernel", "conv_bias", "weights", "fc_bias"):
            out[key] = sum(r[key] for r in runs) / n
        return out
    dz4 = values["a4"] - y
    dweights = np.array([dz4 * values["a3"][k] for k in range(4)])
    da3 = np.array([dz4 * params.weights[k] for k in range(4)])
    da2 = np.array([[da3[0], da3[1]], [da3[2], da3[3]]])
    da1 = maxpool2d_backward(da2, values["pool_idx"], (4, 4))
    dz1 = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            dz1[i, j] = da1[i, j] * f_prime(values["z1"][i, j], values["activation"])
    dx, dkernel, dconv_bias = conv2d_backward(dz1, values["x"], params.kernel)
    return dict(
        dz4=dz4, da3=da3, da2=da2, da1=da1, dz1=dz1, dx=dx,
        kernel=dkernel, conv_bias=dconv_bias, weights=dweights, fc_bias=dz4,
    )  # fmt: skip
