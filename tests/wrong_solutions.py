"""Typical wrong solutions of the coursework, each with the hint its check should give.

The list starts from the defects of the original notebook (DESIGN section 7: a convolution
that never sums its window, a max-pool stepped by its size, a 3x3 pool output, the ReLU's
derivative taken as the activation, the conv-bias gradient summed over the input, the output
delta BCE * sigmoid', the dense-weight gradient built from a4, updates that add the gradient
or overwrite the weights) and adds the usual mistakes of learners. They are written as a
student would, in numpy on small references of their own (``_conv_ref``, ...): a solution
that calls the engine's implementation of the step under test scores zero, whatever it
returns (tests/shortcuts.py lists those). Only the training steps call the engine, as the
assignment allows: cnn6.forward and the layer functions.
"""

import numpy as np

import cnn6


def _conv_ref(x, kernel, bias=0.0, stride=1):
    kh, kw = kernel.shape
    out_h = (x.shape[-2] - kh) // stride + 1
    out_w = (x.shape[-1] - kw) // stride + 1
    z = np.zeros(x.shape[:-2] + (out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = x[..., i * stride : i * stride + kh, j * stride : j * stride + kw]
            z[..., i, j] = np.sum(window * kernel, axis=(-2, -1)) + bias
    return z


def _pool_ref(a, size=2, stride=2):
    height, width = a.shape[-2:]
    out_h, out_w = (height - size) // stride + 1, (width - size) // stride + 1
    images = a.reshape(-1, height, width)
    out = np.zeros((len(images), out_h, out_w))
    idx = np.zeros((len(images), out_h, out_w), dtype=int)
    for s, image in enumerate(images):
        for i in range(out_h):
            for j in range(out_w):
                r, c = i * stride, j * stride
                window = image[r : r + size, c : c + size]
                u, v = np.unravel_index(np.argmax(window), window.shape)
                out[s, i, j], idx[s, i, j] = window[u, v], (r + u) * width + c + v
    shape = a.shape[:-2] + (out_h, out_w)
    return out.reshape(shape), idx.reshape(shape)


def _route_ref(dout, a, size=2, stride=2):
    _, idx = _pool_ref(a, size, stride)
    n = 1 if a.ndim == 2 else a.shape[0]
    da = np.zeros((n, a.shape[-2] * a.shape[-1]))
    np.add.at(da, (np.arange(n)[:, None], idx.reshape(n, -1)), dout.reshape(n, -1))
    return da.reshape(a.shape)


def _kgrad_ref(x, dz):
    out_h, out_w = dz.shape[-2:]
    kh, kw = x.shape[-2] - out_h + 1, x.shape[-1] - out_w + 1
    dk = np.zeros((kh, kw))
    for u in range(kh):
        for v in range(kw):
            dk[u, v] = np.sum(x[..., u : u + out_h, v : v + out_w] * dz)
    return dk, float(np.sum(dz))


# --------------------------------------------------------------------------- convolution
def conv_original(x, kernel, bias=0.0, stride=1):
    """The original notebook: the window times the kernel, element-wise, never summed."""
    kh, kw = kernel.shape
    out_h = (x.shape[0] - kh) // stride + 1
    out_w = (x.shape[1] - kw) // stride + 1
    z = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            z[i, j] = x[i : i + kh, j : j + kw].flatten() * kernel.flatten() + bias
    return z


def conv_products_kept(x, kernel, bias=0.0, stride=1):
    """Every window's products kept: an (OH, OW, kh, kw) array."""
    kh, kw = kernel.shape
    out_h = (x.shape[-2] - kh) // stride + 1
    out_w = (x.shape[-1] - kw) // stride + 1
    return np.array(
        [
            [
                x[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel + bias
                for j in range(out_w)
            ]
            for i in range(out_h)
        ]
    )


def conv_flipped(x, kernel, bias=0.0, stride=1):
    """A true convolution: the kernel rotated by 180 degrees."""
    return _conv_ref(x, kernel[::-1, ::-1], bias, stride)


def conv_no_bias(x, kernel, bias=0.0, stride=1):
    return _conv_ref(x, kernel, 0.0, stride)


def conv_bias_per_product(x, kernel, bias=0.0, stride=1):
    """np.sum(window * kernel + bias): the bias added to each of the kh * kw products."""
    return _conv_ref(x, kernel, 0.0, stride) + kernel.size * bias


def conv_off_by_one(x, kernel, bias=0.0, stride=1):
    """range(H - kh) instead of range(H - kh + 1): the last row and column of windows lost."""
    return _conv_ref(x, kernel, bias, stride)[..., :-1, :-1]


def conv_window_one_too_small(x, kernel, bias=0.0, stride=1):
    """x[r:r + kh - 1, ...]: the window one pixel smaller than the kernel (numpy cannot
    broadcast the product)."""
    kh, kw = kernel.shape
    out_h = (x.shape[-2] - kh) // stride + 1
    out_w = (x.shape[-1] - kw) // stride + 1
    z = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            r, c = i * stride, j * stride
            z[i, j] = np.sum(x[r : r + kh - 1, c : c + kw - 1] * kernel) + bias
    return z


def conv_ignores_stride(x, kernel, bias=0.0, stride=1):
    return _conv_ref(x, kernel, bias, 1)


def conv_one_image_only(x, kernel, bias=0.0, stride=1):
    """Right for one image, breaks on a batch: unpacks H, W = x.shape."""
    height, width = x.shape
    return _conv_ref(x.reshape(height, width), kernel, bias, stride)


def conv_mean(x, kernel, bias=0.0, stride=1):
    return _conv_ref(x, kernel, 0.0, stride) / kernel.size + bias


# --------------------------------------------------------------------------- max-pool forward
def pool_steps_by_size(a, size=2, stride=2):
    """The original notebook: window (i, j) starts at (i * size, j * size)."""
    height, width = a.shape[-2:]
    out_h, out_w = (height - size) // stride + 1, (width - size) // stride + 1
    out = np.zeros((out_h, out_w))
    idx = np.zeros((out_h, out_w), dtype=int)
    for i in range(out_h):
        for j in range(out_w):
            window = a[i * size : (i + 1) * size, j * size : (j + 1) * size]
            u, v = np.unravel_index(np.argmax(window), window.shape)
            out[i, j] = window[u, v]
            idx[i, j] = (i * size + u) * width + j * size + v
    return out, idx


def pool_three_by_three(a, size=2, stride=2):
    """The original notebook's table: a 3x3 output from the 4x4 a1 (windows one pixel apart)."""
    return _pool_ref(a, size, 1)


def pool_last_on_tie(a, size=2, stride=2):
    """A loop that keeps the later of two equal values (>= instead of >)."""
    out, _ = _pool_ref(a, size, stride)
    height, width = a.shape[-2:]
    images = a.reshape(-1, height, width)
    idx = np.zeros((len(images),) + out.shape[-2:], dtype=int)
    for s, image in enumerate(images):
        for i in range(out.shape[-2]):
            for j in range(out.shape[-1]):
                best = -np.inf
                for u in range(size):
                    for v in range(size):
                        r, c = i * stride + u, j * stride + v
                        if image[r, c] >= best:
                            best, idx[s, i, j] = image[r, c], r * width + c
    return out, idx.reshape(out.shape)


def pool_index_in_window(a, size=2, stride=2):
    """pool_idx as the position inside the window, 0 to size * size - 1."""
    out, idx = _pool_ref(a, size, stride)
    width = a.shape[-1]
    rows = idx // width - (np.arange(out.shape[-2]) * stride)[:, None]
    cols = idx % width - (np.arange(out.shape[-1]) * stride)[None, :]
    return out, rows * size + cols


def pool_max_from_zero(a, size=2, stride=2):
    """A running maximum started at 0 instead of the window's first value."""
    out, idx = _pool_ref(a, size, stride)
    return np.maximum(out, 0.0), idx


def pool_float_indices(a, size=2, stride=2):
    out, idx = _pool_ref(a, size, stride)
    return out, idx.astype(np.float64)


def pool_no_indices(a, size=2, stride=2):
    return _pool_ref(a, size, stride)[0]


# --------------------------------------------------------------------------- max-pool backward
def _route_loop(dout, a, size, stride, pick, assign=False):
    height, width = a.shape[-2:]
    out_h, out_w = dout.shape[-2:]
    images = a.reshape(-1, height, width)
    grads = dout.reshape(-1, out_h, out_w)
    da = np.zeros(images.shape)
    for s, image in enumerate(images):
        for i in range(out_h):
            for j in range(out_w):
                r, c = i * stride, j * stride
                u, v = pick(image[r : r + size, c : c + size])
                if assign:
                    da[s, r + u, c + v] = grads[s, i, j]
                else:
                    da[s, r + u, c + v] += grads[s, i, j]
    return da.reshape(a.shape)


def _first(window):
    return np.unravel_index(np.argmax(window), window.shape)


def _last(window):
    k = window.size - 1 - np.argmax(window.ravel()[::-1])
    return np.unravel_index(k, window.shape)


def route_to_last_max(dout, a, size=2, stride=2):
    return _route_loop(dout, a, size, stride, _last)


def route_overwrites(dout, a, size=2, stride=2):
    """da[...] = dout[...] instead of +=: overlapping windows lose gradient."""
    return _route_loop(dout, a, size, stride, _first, assign=True)


def route_to_whole_window(dout, a, size=2, stride=2):
    height, width = a.shape[-2:]
    out_h, out_w = dout.shape[-2:]
    images = a.reshape(-1, height, width)
    grads = dout.reshape(-1, out_h, out_w)
    da = np.zeros(images.shape)
    for s in range(len(images)):
        for i in range(out_h):
            for j in range(out_w):
                da[s, i * stride : i * stride + size, j * stride : j * stride + size] += grads[
                    s, i, j
                ]
    return da.reshape(a.shape)


def route_batch_mixed(dout, a, size=2, stride=2):
    """The old tip taken literally: each image's maximum found in a loop, then
    da[..., r + u, c + v] += dout[..., i, j], which adds every image's dout there."""
    height, width = a.shape[-2:]
    out_h, out_w = dout.shape[-2:]
    images = a.reshape(-1, height, width)
    da = np.zeros(a.shape)
    for image in images:
        for i in range(out_h):
            for j in range(out_w):
                r, c = i * stride, j * stride
                u, v = _first(image[r : r + size, c : c + size])
                da[..., r + u, c + v] += dout[..., i, j]
    return da


def route_one_image_only(dout, a, size=2, stride=2):
    """Right for one image; unpacks H, W = a.shape, so a batch raises."""
    height, width = a.shape
    return _route_loop(dout, a, size, stride, _first)


def pool_one_image_only(a, size=2, stride=2):
    """Right for one image; unpacks H, W = a.shape, so a batch raises."""
    height, width = a.shape
    return _pool_ref(a, size, stride)


def route_ones(dout, a, size=2, stride=2):
    return _route_ref(np.ones_like(dout), a, size, stride)


def route_to_min(dout, a, size=2, stride=2):
    return _route_ref(dout, -a, size, stride)


# --------------------------------------------------------------------------- ReLU backward
def relu_times_activation(dout, z):
    """The original notebook: multiplied by the activation instead of the indicator."""
    return dout * np.maximum(z, 0.0)


def relu_ge_zero(dout, z):
    return dout * (z >= 0)


def relu_indicator_only(dout, z):
    return (z > 0) * 1.0


def relu_on_dout(dout, z):
    return np.maximum(dout, 0.0)


def relu_identity(dout, z):
    return dout


# --------------------------------------------------------------------------- kernel gradient
def kgrad_bias_from_input(x, dz):
    """The original notebook: grad_conv_bias = X.data.sum()."""
    return _kgrad_ref(x, dz)[0], float(np.sum(x))


def kgrad_flipped(x, dz):
    return _kgrad_ref(x, dz[..., ::-1, ::-1])


def kgrad_transposed(x, dz):
    dk, db = _kgrad_ref(x, dz)
    return dk.T, db


def kgrad_per_image(x, dz):
    if x.ndim == 2:
        return _kgrad_ref(x, dz)
    dks = np.stack([_kgrad_ref(xi, di)[0] for xi, di in zip(x, dz, strict=True)])
    return dks, float(np.sum(dz))


def kgrad_bias_mean(x, dz):
    return _kgrad_ref(x, dz)[0], float(np.mean(dz))


def kgrad_no_slide(x, dz):
    out_h, out_w = dz.shape[-2:]
    return x[..., :out_h, :out_w] * dz, float(np.sum(dz))


# --------------------------------------------------------------------------- training step
def make_step(
    dz4="a4 - y",
    dw="a3",
    gate="indicator",
    dk_with="dz1",
    db_from="dz1",
    sign=-1.0,
    overwrite_weights=False,
    mean=True,
    route="first",
    in_place=False,
):
    """A training step with one mistake (the defaults give the right step)."""

    def training_step(params, X, y, lr):
        trace = cnn6.forward(params, X, y)
        n = 1 if X.ndim == 2 else X.shape[0]
        a4 = np.reshape(trace.a4, -1)
        labels = np.reshape(y, -1)
        if dz4 == "a4 - y":
            d4 = a4 - labels
        else:  # the original notebook: BCE * sigmoid'
            bce = -(labels * np.log(a4) + (1 - labels) * np.log(1 - a4))
            d4 = bce * a4 * (1 - a4)
        if mean:
            d4 = d4 / n
        a3 = trace.a3.reshape(-1, 4)
        dweights = d4 @ a3 if dw == "a3" else np.full(4, np.sum(d4 * a4))
        dfc = np.sum(d4)
        da2 = np.outer(d4, params.weights).reshape(trace.a2.shape)
        if route == "first":
            da1 = cnn6.maxpool2d_backward(da2, trace.pool_idx, trace.a1.shape)
        else:  # a loop of one's own that keeps the last of tied maxima (>= instead of >)
            da1 = _route_loop(da2, trace.a1, 2, 2, _last)
        if gate == "indicator":
            dz1 = da1 * (trace.z1 > 0)
        elif gate == ">=":
            dz1 = da1 * (trace.z1 >= 0)
        elif gate == "a1":
            dz1 = da1 * trace.a1
        else:
            dz1 = da1
        partner = trace.a1 if dk_with == "a1" else dz1
        dk = np.zeros((3, 3))
        for u in range(3):
            for v in range(3):
                dk[u, v] = np.sum(trace.x[..., u : u + 4, v : v + 4] * partner)
        dcb = np.sum(X) if db_from == "x" else np.sum(dz1)
        weights = lr * dweights if overwrite_weights else params.weights + sign * lr * dweights
        if in_place:  # the arrays updated where they are, then handed back
            params.kernel[...] += sign * lr * dk
            return cnn6.Params(
                params.kernel,
                params.conv_bias + sign * lr * dcb,
                weights,
                params.fc_bias + sign * lr * dfc,
            )
        return cnn6.Params(
            params.kernel + sign * lr * dk,
            params.conv_bias + sign * lr * dcb,
            weights,
            params.fc_bias + sign * lr * dfc,
        )

    return training_step


def step_in_place(params, X, y, lr):
    """The right gradients, then params.kernel -= lr * dkernel: Params is frozen."""
    new = make_step()(params, X, y, lr)
    params.kernel -= params.kernel - new.kernel
    return params


def step_with_engine(params, X, y, lr):
    return cnn6.sgd_step(params, cnn6.backward(params, cnn6.forward(params, X, y), y), lr)


def step_returns_tuple(params, X, y, lr):
    return make_step()(params, X, y, lr), 0.0


# --------------------------------------------------------------------------- more of the same
def pool_column_major(a, size=2, stride=2):
    out, idx = _pool_ref(a, size, stride)
    height, width = a.shape[-2:]
    return out, (idx % width) * height + idx // width


def pool_abs(a, size=2, stride=2):
    out, idx = _pool_ref(np.abs(a), size, stride)
    return out, idx


def pool_min(a, size=2, stride=2):
    out, idx = _pool_ref(-a, size, stride)
    return -out, idx


def pool_mean(a, size=2, stride=2):
    _, idx = _pool_ref(a, size, stride)
    ones = np.ones((size, size)) / size**2
    return _conv_ref(a, ones, 0.0, stride), idx


def route_top_left(dout, a, size=2, stride=2):
    return _route_loop(dout, a, size, stride, lambda window: (0, 0))


def relu_wrong_sign(dout, z):
    return -dout * (z > 0)


def relu_inverted(dout, z):
    return dout * (z <= 0)


def kgrad_batch_mean(x, dz):
    if x.ndim == 2:
        return _kgrad_ref(x, dz)
    return _kgrad_ref(x, dz)[0] / x.shape[0], float(np.sum(dz))


def step_variant(change):
    """The right step, then ``change(params, right_new_params, lr)``."""

    def training_step(params, X, y, lr):
        return change(params, make_step()(params, X, y, lr), lr)

    return training_step


def _scaled(params, new, factor):
    return cnn6.Params(
        *(
            getattr(params, f) + factor * (getattr(new, f) - getattr(params, f))
            for f in ("kernel", "conv_bias", "weights", "fc_bias")
        )
    )


# (id, check, wrong function, key of the hint in cnn6.feedback.HINTS, or a text to find)
WRONG = [
    ("conv-original-no-sum", "check_conv2d_forward", conv_original, "conv_no_sum"),
    ("conv-products-kept", "check_conv2d_forward", conv_products_kept, "conv_no_sum"),
    ("conv-flipped-kernel", "check_conv2d_forward", conv_flipped, "conv_flip"),
    ("conv-no-bias", "check_conv2d_forward", conv_no_bias, "conv_no_bias"),
    (
        "conv-bias-per-product",
        "check_conv2d_forward",
        conv_bias_per_product,
        "conv_bias_per_product",
    ),
    ("conv-off-by-one", "check_conv2d_forward", conv_off_by_one, "conv_output_size"),
    (
        "conv-window-one-too-small",
        "check_conv2d_forward",
        conv_window_one_too_small,
        "conv_window_shape",
    ),
    ("conv-ignores-stride", "check_conv2d_forward", conv_ignores_stride, "conv_ignore_stride"),
    ("conv-one-image-only", "check_conv2d_forward", conv_one_image_only, "batch"),
    ("conv-mean", "check_conv2d_forward", conv_mean, "conv_mean"),
    (
        "pool-original-steps-by-size",
        "check_maxpool2d_forward",
        pool_steps_by_size,
        "pool_step_by_size",
    ),
    ("pool-original-3x3", "check_maxpool2d_forward", pool_three_by_three, "pool_ignore_stride"),
    ("pool-last-on-tie", "check_maxpool2d_forward", pool_last_on_tie, "pool_idx_last_tie"),
    ("pool-index-in-window", "check_maxpool2d_forward", pool_index_in_window, "pool_idx_local"),
    ("pool-max-from-zero", "check_maxpool2d_forward", pool_max_from_zero, "pool_start_at_zero"),
    ("pool-float-indices", "check_maxpool2d_forward", pool_float_indices, "pool_idx_dtype"),
    ("pool-no-indices", "check_maxpool2d_forward", pool_no_indices, "tuple_out_idx"),
    ("route-last-on-tie", "check_maxpool2d_backward", route_to_last_max, "route_last_tie"),
    ("route-overwrites", "check_maxpool2d_backward", route_overwrites, "route_overwrite"),
    ("route-whole-window", "check_maxpool2d_backward", route_to_whole_window, "route_spread"),
    ("route-batch-mixed", "check_maxpool2d_backward", route_batch_mixed, "route_batch_mixed"),
    ("route-one-image-only", "check_maxpool2d_backward", route_one_image_only, "pool_batch"),
    ("pool-one-image-only", "check_maxpool2d_forward", pool_one_image_only, "pool_batch"),
    ("step-assigns-frozen-params", "check_training_step", step_in_place, "step_frozen"),
    (
        "step-updates-arrays-in-place",
        "check_training_step",
        make_step(in_place=True),
        "step_in_place",
    ),
    ("step-gate-at-zero", "check_training_step", make_step(gate=">="), "step_gate_at_zero"),
    ("step-route-last-on-tie", "check_training_step", make_step(route="last"), "step_tie_first"),
    ("route-ones", "check_maxpool2d_backward", route_ones, "route_ones"),
    ("route-to-min", "check_maxpool2d_backward", route_to_min, "route_not_max"),
    (
        "relu-original-times-activation",
        "check_relu_backward",
        relu_times_activation,
        "relu_times_activation",
    ),
    ("relu-ge-zero", "check_relu_backward", relu_ge_zero, "relu_at_zero"),
    ("relu-indicator-only", "check_relu_backward", relu_indicator_only, "relu_indicator_only"),
    ("relu-gate-on-dout", "check_relu_backward", relu_on_dout, "relu_gate_on_dout"),
    ("relu-identity", "check_relu_backward", relu_identity, "relu_pass_all"),
    (
        "kgrad-original-bias-from-input",
        "check_conv2d_kernel_grad",
        kgrad_bias_from_input,
        "bgrad_sum_input",
    ),
    ("kgrad-flipped", "check_conv2d_kernel_grad", kgrad_flipped, "kgrad_flip"),
    ("kgrad-transposed", "check_conv2d_kernel_grad", kgrad_transposed, "kgrad_transposed"),
    ("kgrad-per-image", "check_conv2d_kernel_grad", kgrad_per_image, "kgrad_no_batch_sum"),
    ("kgrad-bias-mean", "check_conv2d_kernel_grad", kgrad_bias_mean, "bgrad_mean"),
    ("kgrad-no-slide", "check_conv2d_kernel_grad", kgrad_no_slide, "kgrad_no_slide"),
    ("step-original-ascent", "check_training_step", make_step(sign=+1.0), "step_ascent"),
    ("step-original-dz4-bce", "check_training_step", make_step(dz4="bce"), "dz4_bce"),
    ("step-original-dw-a4", "check_training_step", make_step(dw="a4"), "dw_a4"),
    (
        "step-original-overwrites-weights",
        "check_training_step",
        make_step(overwrite_weights=True),
        "step_overwrite",
    ),
    (
        "step-original-gate-times-a1",
        "check_training_step",
        make_step(gate="a1"),
        "dk_times_activation",
    ),
    (
        "step-original-bias-from-input",
        "check_training_step",
        make_step(db_from="x"),
        "db_sum_input",
    ),
    ("step-skips-relu-gate", "check_training_step", make_step(gate="none"), "dk_skip_gate"),
    ("step-correlates-a1", "check_training_step", make_step(dk_with="a1"), "dk_with_a1"),
    ("step-no-batch-mean", "check_training_step", make_step(mean=False), "step_no_mean"),
    (
        "step-calls-engine",
        "check_training_step",
        step_with_engine,
        "hands the work to the engine scores zero",
    ),
    (
        "step-returns-tuple",
        "check_training_step",
        step_returns_tuple,
        "return only the new cnn6.Params",
    ),
    ("pool-column-major", "check_maxpool2d_forward", pool_column_major, "pool_idx_column_major"),
    ("pool-abs", "check_maxpool2d_forward", pool_abs, "pool_abs"),
    ("pool-min", "check_maxpool2d_forward", pool_min, "pool_min"),
    ("pool-mean", "check_maxpool2d_forward", pool_mean, "pool_mean"),
    ("route-top-left", "check_maxpool2d_backward", route_top_left, "route_top_left"),
    ("relu-wrong-sign", "check_relu_backward", relu_wrong_sign, "relu_sign"),
    ("relu-inverted", "check_relu_backward", relu_inverted, "relu_inverted"),
    ("kgrad-batch-mean", "check_conv2d_kernel_grad", kgrad_batch_mean, "kgrad_batch_mean"),
    (
        "step-no-lr",
        "check_training_step",
        step_variant(lambda p, new, lr: _scaled(p, new, 1 / lr)),
        "step_no_lr",
    ),
    (
        "step-lr-twice",
        "check_training_step",
        step_variant(lambda p, new, lr: _scaled(p, new, lr)),
        "step_lr_twice",
    ),
    ("step-unchanged", "check_training_step", step_variant(lambda p, new, lr: p), "step_unchanged"),
]
