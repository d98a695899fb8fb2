"""The general convolution (cnn6.channels): padding, stride, channels, im2col and col2im,
against plain loops, finite differences and the book's one-kernel engine."""

from __future__ import annotations

import numpy as np
import pytest

import cnn6
from cnn6 import channels as ch


def _loops(x, kernel, bias, stride, padding):
    """z[a, o, i, j] straight from the formula, one number at a time."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, height, width = xp.shape
    c_out, _, kh, kw = kernel.shape
    oh, ow = (height - kh) // stride + 1, (width - kw) // stride + 1
    z = np.zeros((n, c_out, oh, ow))
    for a in range(n):
        for o in range(c_out):
            for i in range(oh):
                for j in range(ow):
                    window = xp[a, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
                    z[a, o, i, j] = (window * kernel[o]).sum() + bias[o]
    return z


CASES = [(1, 0), (1, 1), (2, 0), (2, 1), (3, 2)]


@pytest.fixture
def arrays():
    rng = np.random.default_rng(7)
    return rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4), rng


@pytest.mark.parametrize("stride, padding", CASES)
def test_forward_equals_plain_loops(arrays, stride, padding):
    x, kernel, bias, _ = arrays
    z = ch.conv_forward(x, kernel, bias, stride, padding)
    want = _loops(x, kernel, bias, stride, padding)
    assert z.shape == want.shape
    assert np.allclose(z, want, rtol=0, atol=1e-12)
    assert np.allclose(ch.conv_forward(x[0], kernel, bias, stride, padding), want[0])


@pytest.mark.parametrize("stride, padding", CASES)
def test_backward_equals_central_differences(arrays, stride, padding):
    x, kernel, bias, rng = arrays
    dz = rng.normal(size=ch.conv_forward(x, kernel, bias, stride, padding).shape)
    dx, dkernel, dbias = ch.conv_backward(dz, x, kernel, stride, padding)

    def loss(x_, kernel_, bias_):  # a linear loss whose gradient with respect to z is dz
        return float((ch.conv_forward(x_, kernel_, bias_, stride, padding) * dz).sum())

    eps = 1e-6
    for arr, grad, which in ((x, dx, 0), (kernel, dkernel, 1), (bias, dbias, 2)):
        num = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            args_up, args_down = [x.copy(), kernel.copy(), bias.copy()], [
                x.copy(), kernel.copy(), bias.copy()]  # fmt: skip
            args_up[which][idx] += eps
            args_down[which][idx] -= eps
            num[idx] = (loss(*args_up) - loss(*args_down)) / (2 * eps)
        assert grad.shape == arr.shape
        assert cnn6.relative_error(grad.ravel(), num.ravel()) < 1e-7, which


def test_col2im_is_the_transpose_of_im2col(arrays):
    x, _, _, rng = arrays
    cols = rng.normal(size=ch.im2col(x, 3, 2, 2, 1).shape)
    # <im2col(x), cols> == <x, col2im(cols)> for every x and cols: the two are transposes
    left = float((ch.im2col(x, 3, 2, 2, 1) * cols).sum())
    right = float((x * ch.col2im(cols, x.shape, 3, 2, 2, 1)).sum())
    assert left == pytest.approx(right, rel=1e-12)


def test_one_channel_one_kernel_is_the_books_convolution_and_T():
    x, _, params = cnn6.running_example()
    K = params.kernel
    z1 = cnn6.conv2d_forward(x, K, params.conv_bias)
    windows = ch.im2col(x[None, None], 3, 3)[0]  # (16, 9)
    assert windows.shape == (16, 9)
    assert np.allclose(windows @ K.ravel() + params.conv_bias, z1.ravel())
    T = cnn6.conv_matrix(K, (6, 6))
    dz1 = np.random.default_rng(0).normal(size=(4, 4))
    dx = ch.col2im(np.outer(dz1.ravel(), K.ravel())[None], (1, 1, 6, 6), 3, 3)[0, 0]
    assert np.allclose(dx.ravel(), dz1.ravel() @ T.T)


def test_output_size():
    assert ch.output_size(6, 3) == 4
    assert ch.output_size(6, 3, padding=1) == 6
    assert ch.output_size(6, 3, stride=2) == 2
    assert ch.output_size(7, 3, padding=1, stride=2) == 4
    assert ch.output_size(28, 5, padding=2, stride=1) == 28


def test_bank_of_one_kernel_is_the_engine():
    rng = np.random.default_rng(11)
    X, y = cnn6.make_dataset(10, rng)
    p = cnn6.init_params(rng)
    p = cnn6.Params(p.kernel, 0.1, p.weights, -0.2)
    bank = ch.BankParams(p.kernel[None, None], np.array([0.1]), p.weights, -0.2)
    loss, grads = ch.bank_forward_backward(bank, X, y)
    trace = cnn6.forward(p, X, y)
    want = cnn6.backward(p, trace, y)
    assert loss == pytest.approx(trace.loss, abs=1e-12)
    assert np.allclose(grads.kernel[0, 0], want.kernel, rtol=0, atol=1e-12)
    assert np.allclose(grads.conv_bias, [want.conv_bias], rtol=0, atol=1e-12)
    assert np.allclose(grads.weights, want.weights, rtol=0, atol=1e-12)
    assert grads.fc_bias == pytest.approx(want.fc_bias, abs=1e-12)
    assert ch.bank_accuracy(bank, X, y) == cnn6.accuracy(p, X, y)


def test_bank_of_two_kernels_equals_central_differences():
    rng = np.random.default_rng(12)
    X, y = cnn6.make_dataset(6, rng)
    params = ch.init_bank(rng, 2)
    _, grads = ch.bank_forward_backward(params, X, y)
    eps = 1e-6
    for field in range(4):
        value = np.asarray(params[field], dtype=float)
        num = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            up, down = value.copy(), value.copy()
            up[idx] += eps
            down[idx] -= eps
            lu = ch.bank_forward_backward(params._replace(**{params._fields[field]: up}), X, y)[0]
            ld = ch.bank_forward_backward(params._replace(**{params._fields[field]: down}), X, y)[0]
            num[idx] = (lu - ld) / (2 * eps)
        assert cnn6.relative_error(np.ravel(grads[field]), num.ravel()) < 1e-7, params._fields[
            field
        ]


def test_training_a_bank_lowers_the_loss():
    rng = np.random.default_rng(5)
    X, y = cnn6.make_dataset(64, rng)
    params = ch.init_bank(rng, 2)
    before = ch.bank_forward_backward(params, X, y)[0]
    params, losses = ch.train_bank(params, X, y, lr=0.1, epochs=5, batch_size=16, rng=rng)
    assert len(losses) == 5 and losses[-1] < before


@pytest.mark.parametrize(
    "call, error, name",
    [
        (lambda x, K, b: ch.conv_forward(x[0, 0], K, b), ValueError, "x"),
        (lambda x, K, b: ch.conv_forward(x, K[:, :2], b), ValueError, "kernel"),
        (lambda x, K, b: ch.conv_forward(x, K[0], b), ValueError, "kernel"),
        (lambda x, K, b: ch.conv_forward(x, K, b[:3]), ValueError, "bias"),
        (lambda x, K, b: ch.conv_forward(x, K, b, stride=0), ValueError, "stride"),
        (lambda x, K, b: ch.conv_forward(x, K, b, padding=-1), ValueError, "padding"),
        (lambda x, K, b: ch.conv_forward(x, np.ones((1, 3, 9, 2)), b[:1]), ValueError, "kernel"),
        (lambda x, K, b: ch.conv_backward(np.ones((2, 4, 5, 4)), x, K), ValueError, "dz"),
        (lambda x, K, b: ch.im2col(x, 3, 3, 0), ValueError, "stride"),
        (lambda x, K, b: ch.im2col(x[0], 3, 3), ValueError, "x"),
        (lambda x, K, b: ch.col2im(np.ones((2, 5, 9)), (2, 3, 7, 6), 3, 3), ValueError, "cols"),
        (lambda x, K, b: ch.col2im(np.ones((2, 5, 9)), [2, 3, 7, 6], 3, 3), TypeError, "x_shape"),
        (lambda x, K, b: ch.output_size(6, 9), ValueError, "kernel_size"),
        (lambda x, K, b: ch.output_size(6, 3, stride=1.5), TypeError, "stride"),
        (lambda x, K, b: ch.init_bank(np.random.default_rng(0), 0), ValueError, "n_kernels"),
        (lambda x, K, b: ch.init_bank(0, 2), TypeError, "rng"),
        (
            lambda x, K, b: ch.bank_forward_backward("p", np.ones((2, 6, 6)), [0, 1]),
            TypeError,
            "params",
        ),  # fmt: skip
    ],
)
def test_bad_input_names_the_argument(arrays, call, error, name):
    x, kernel, bias, _ = arrays
    with pytest.raises(error, match=rf"^{name}\b"):
        call(x, kernel, bias)


def test_bank_checks_images_and_labels():
    params = ch.init_bank(np.random.default_rng(0), 2)
    with pytest.raises(ValueError, match="^X"):
        ch.bank_forward_backward(params, np.ones((2, 5, 5)), [0, 1])
    with pytest.raises(ValueError, match="^y"):
        ch.bank_forward_backward(params, np.ones((2, 6, 6)), [0, 2])
    with pytest.raises(ValueError, match="^lr"):
        ch.train_bank(params, np.ones((2, 6, 6)), [0, 1], 0.0, 1, 1, np.random.default_rng(0))
