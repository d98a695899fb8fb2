"""Property-based tests (hypothesis): random shapes, values, strides and seeds.

Each layer against the loops of cnn6.naive, each backward against central differences, the
whole network against cnn6.numerical_gradient and the naive loop network, the data
generator's invariants for any arguments."""

import numpy as np
from helpers import (
    agrees_with_differences,
    distinct_values,
    finite_diff,
    naive_network,
    safe_case,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal

import cnn6
from cnn6 import naive

FAST = settings(max_examples=25, deadline=None)
SLOW = settings(max_examples=8, deadline=None)

seeds = st.integers(0, 2**32 - 1)
batches = st.one_of(st.none(), st.integers(1, 3))
activations = st.sampled_from(["relu", "leaky_relu", "elu"])


@st.composite
def conv_setups(draw):
    """(shape of x, kernel shape, stride) with the kernel no larger than the image."""
    height, width = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kh, kw = draw(st.integers(1, height)), draw(st.integers(1, width))
    stride = draw(st.integers(1, 4))
    batch = draw(batches)
    shape = (height, width) if batch is None else (batch, height, width)
    return shape, (kh, kw), stride


@st.composite
def pool_setups(draw):
    height, width = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    size = draw(st.integers(1, min(height, width)))
    stride = draw(st.integers(1, 4))
    batch = draw(batches)
    shape = (height, width) if batch is None else (batch, height, width)
    return shape, size, stride


def planes(a):
    """The images of a (H, W) or (n, H, W) array as a list of 2-d arrays."""
    return [a] if a.ndim == 2 else list(a)


def like(a, results):
    """Per-image results stacked as ``a`` is: one result for one image, an array for a batch."""
    return results[0] if a.ndim == 2 else np.array(results)


def loop_conv(x, kernel, bias, stride):
    return like(x, [naive.conv2d(img, kernel, bias, stride) for img in planes(x)])


def loop_pool(a, size, stride):
    """Forward (max, flat index of the first maximum), from cnn6.naive, image by image."""
    outs = [naive.maxpool2d(img, size, stride) for img in planes(a)]
    return like(a, [o for o, _ in outs]), like(a, [i for _, i in outs])


def loop_unpool(dout, idx, shape):
    pairs = zip(planes(dout), planes(idx), strict=True)
    return like(dout, [naive.maxpool2d_backward(d, i, shape[-2:]) for d, i in pairs])


# --------------------------------------------------------------------------- conv2d
@FAST
@given(conv_setups(), st.data())
def test_conv2d_forward_matches_loops(setup, data):
    shape, kshape, stride = setup
    values = st.floats(-10, 10, allow_nan=False, allow_subnormal=False)
    x = data.draw(arrays(np.float64, shape, elements=values))
    kernel = data.draw(arrays(np.float64, kshape, elements=values))
    bias = data.draw(values)
    z = cnn6.conv2d_forward(x, kernel, bias, stride)
    expected = loop_conv(x, kernel, bias, stride)
    assert z.shape == expected.shape
    assert_allclose(z, expected, rtol=1e-12, atol=1e-10)
    # the convolution matrix gives the same numbers
    t = cnn6.conv_matrix(kernel, shape[-2:], stride)
    flat = x.reshape(-1, shape[-2] * shape[-1]) @ t + bias
    assert_allclose(flat.reshape(z.shape), z, rtol=1e-12, atol=1e-10)


@FAST
@given(conv_setups(), seeds)
def test_conv2d_backward_finite_differences(setup, seed):
    shape, kshape, stride = setup
    rng = np.random.default_rng(seed)
    x, kernel = rng.normal(size=shape), rng.normal(size=kshape)
    bias = float(rng.normal())
    z = cnn6.conv2d_forward(x, kernel, bias, stride)
    dout = rng.normal(size=z.shape)
    dx, dk, db = cnn6.conv2d_backward(dout, x, kernel, stride)
    assert dx.shape == x.shape and dk.shape == kernel.shape

    def loss_x(v):
        return float(np.sum(cnn6.conv2d_forward(v, kernel, bias, stride) * dout))

    def loss_k(k):
        return float(np.sum(cnn6.conv2d_forward(x, k, bias, stride) * dout))

    assert agrees_with_differences(dx, finite_diff(loss_x, x))
    assert agrees_with_differences(dk, finite_diff(loss_k, kernel))
    assert abs(db - dout.sum()) <= 1e-12 * (1 + np.abs(dout).sum())


@FAST
@given(conv_setups())
def test_window_indices_cover_the_right_pixels(setup):
    shape, (kh, kw), stride = setup
    height, width = shape[-2:]
    idx = cnn6.window_indices(height, width, kh, kw, stride)
    oh, ow = (height - kh) // stride + 1, (width - kw) // stride + 1
    assert idx.shape == (oh * ow, kh * kw)
    for p in range(oh * ow):
        i, j = divmod(p, ow)
        expected = [(i * stride + u) * width + j * stride + v for u in range(kh) for v in range(kw)]
        assert list(idx[p]) == expected


# --------------------------------------------------------------------------- max-pool
@FAST
@given(pool_setups(), st.data())
def test_maxpool_matches_loops_with_many_ties(setup, data):
    shape, size, stride = setup
    a = data.draw(arrays(np.float64, shape, elements=st.integers(-2, 2).map(float)))
    out, idx = cnn6.maxpool2d_forward(a, size, stride)
    ref_out, ref_idx = loop_pool(a, size, stride)
    assert_array_equal(out, ref_out)
    assert_array_equal(idx, ref_idx)  # the first maximum in row-major order, ties or not
    dout = data.draw(arrays(np.float64, out.shape, elements=st.integers(-5, 5).map(float)))
    assert_allclose(cnn6.maxpool2d_backward(dout, idx, a.shape), loop_unpool(dout, idx, a.shape))


@FAST
@given(pool_setups(), seeds)
def test_maxpool_backward_finite_differences(setup, seed):
    shape, size, stride = setup
    rng = np.random.default_rng(seed)
    a = distinct_values(rng, shape)
    out, idx = cnn6.maxpool2d_forward(a, size, stride)
    dout = rng.normal(size=out.shape)
    da = cnn6.maxpool2d_backward(dout, idx, a.shape)
    numeric = finite_diff(
        lambda v: float(np.sum(cnn6.maxpool2d_forward(v, size, stride)[0] * dout)), a
    )
    assert agrees_with_differences(da, numeric)


# --------------------------------------------------------------------------- other layers
@FAST
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 5)),
        elements=st.floats(-4, 4, allow_nan=False),
    ),
    activations,
    seeds,
)
def test_activations_finite_differences(raw, activation, seed):
    z = np.where(raw >= 0, raw + 0.01, raw - 0.01)  # keep away from the kink at 0
    dout = np.random.default_rng(seed).normal(size=z.shape)
    grad = cnn6.activation_backward(dout, z, activation)
    numeric = finite_diff(lambda v: float(np.sum(cnn6.activation_forward(v, activation) * dout)), z)
    assert agrees_with_differences(grad, numeric)
    a = cnn6.activation_forward(z, activation)
    assert np.all(a[z > 0] == z[z > 0])  # identity on the positive side
    assert np.all(a[z < 0] <= 0) and np.all(a[z < 0] >= -1.0)


@FAST
@given(st.integers(1, 6), batches, seeds)
def test_dense_sigmoid_bce_finite_differences(k, batch, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(k,) if batch is None else (batch, k))
    w, b = rng.normal(size=k), float(rng.normal())
    y = rng.integers(0, 2, size=a.shape[:-1])
    z = cnn6.dense_forward(a, w, b)
    rows = a.reshape(-1, k)
    by_loop = [sum(a_i * w_i for a_i, w_i in zip(row, w, strict=True)) + b for row in rows]
    assert_allclose(z, np.reshape(by_loop, np.shape(z)), rtol=1e-12, atol=1e-12)
    dz = cnn6.bce_backward(z, y)
    da, dw, db = cnn6.dense_backward(dz, a, w)

    def loss(a_, w_, b_):
        return cnn6.bce_forward(cnn6.dense_forward(a_, w_, float(b_)), y)

    assert agrees_with_differences(da, finite_diff(lambda v: loss(v, w, b), a))
    assert agrees_with_differences(dw, finite_diff(lambda v: loss(a, v, b), w))
    assert agrees_with_differences(np.array(db), finite_diff(lambda v: loss(a, w, v), b))
    # sigmoid: its backward against differences of its forward
    s = cnn6.sigmoid_forward(z)
    dout = rng.normal(size=np.shape(z))
    numeric = finite_diff(lambda v: float(np.sum(cnn6.sigmoid_forward(v) * dout)), z)
    assert agrees_with_differences(cnn6.sigmoid_backward(dout, s), numeric)


@FAST
@given(arrays(np.float64, st.integers(1, 8), elements=st.floats(-1e4, 1e4, allow_nan=False)), seeds)
def test_sigmoid_and_loss_stay_finite(z, seed):
    y = np.random.default_rng(seed).integers(0, 2, size=z.shape)
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        a = cnn6.sigmoid_forward(z)
        loss = cnn6.bce_forward(z, y)
        dz = cnn6.bce_backward(z, y)
    assert np.all((a >= 0) & (a <= 1))
    assert np.isfinite(loss) and loss >= 0
    assert np.all(np.isfinite(dz)) and np.all(np.abs(dz) <= 1.0 / z.size)
    # the loss of a confident wrong answer grows like |z|
    wrong = (z > 50) & (y == 0) | (z < -50) & (y == 1)
    per_image = np.abs(z) * wrong
    assert loss >= per_image.sum() / z.size * (1 - 1e-12)


# --------------------------------------------------------------------------- the network
@SLOW
@given(activations, batches, seeds)
def test_network_gradients_against_numerical_gradient(activation, n, seed):
    params, X, y = safe_case(activation, n, seed % 10_000, margin=1e-4)
    grads = cnn6.backward(params, cnn6.forward(params, X, y, activation), y, with_dx=True)
    num = cnn6.numerical_gradient(params, X, y, activation=activation)
    assert agrees_with_differences(grads.params().to_vector(), num.to_vector())


@SLOW
@given(activations, st.integers(1, 5), seeds, st.floats(-1, 1), st.floats(0.1, 2), st.floats(-3, 3))
def test_network_matches_naive_loops_and_batch_equals_images(
    activation, n, seed, low, width, square_value
):
    rng = np.random.default_rng(seed)
    X, y = cnn6.make_dataset(n, rng, low, low + width, square_value)
    params = cnn6.Params(
        rng.normal(size=(3, 3)), float(rng.normal()), rng.normal(size=4), float(rng.normal())
    )
    trace = cnn6.forward(params, X, y, activation)
    grads = cnn6.backward(params, trace, y, with_dx=True)
    ref = naive_network(params, X, y, activation)
    for name in ("z1", "a1", "a2", "a3", "z4", "a4"):
        assert_allclose(getattr(trace, name), ref[name], rtol=1e-9, atol=1e-12, err_msg=name)
    for name in (
        "dz4",
        "da3",
        "da2",
        "da1",
        "dz1",
        "dx",
        "kernel",
        "conv_bias",
        "weights",
        "fc_bias",
    ):
        assert_allclose(getattr(grads, name), ref[name], rtol=1e-8, atol=1e-12, err_msg=name)
    # each image alone: the batch's parameter gradient is the mean, its deltas carry 1/n
    singles = [
        cnn6.backward(params, cnn6.forward(params, X[i], y[i], activation), y[i], with_dx=True)
        for i in range(n)
    ]
    for name in ("kernel", "weights"):
        mean = np.mean([getattr(g, name) for g in singles], axis=0)
        assert_allclose(getattr(grads, name), mean, rtol=1e-9, atol=1e-13)
    assert_allclose(grads.dx, np.array([g.dx for g in singles]) / n, rtol=1e-9, atol=1e-13)


@FAST
@given(st.integers(1, 60), seeds, st.floats(-5, 5), st.floats(0.01, 5), st.floats(-10, 10))
def test_make_dataset_invariants(n, seed, low, width, square_value):
    high = low + width
    X, y, corners = cnn6.make_dataset(
        n, np.random.default_rng(seed), low, high, square_value, return_corners=True
    )
    assert X.shape == (n, 6, 6) and y.shape == (n,) and corners.shape == (n, 2)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert abs(int(y.sum()) - (n - int(y.sum()))) == n % 2
    assert np.all(X[y == 0] >= low) and np.all(X[y == 0] < high)
    assert np.all(corners[y == 0] == -1)
    for image, corner in zip(X[y == 1], corners[y == 1], strict=True):
        r, c = corner
        assert 0 <= r <= 3 and 0 <= c <= 3
        block = np.zeros((6, 6), dtype=bool)
        block[r : r + 3, c : c + 3] = True
        assert np.all(image[block] == square_value)
        assert np.all((image[~block] >= low) & (image[~block] < high))
    again = cnn6.make_dataset(n, np.random.default_rng(seed), low, high, square_value)
    assert_array_equal(again[0], X)
    assert_array_equal(again[1], y)
