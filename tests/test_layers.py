"""Each layer of cnn6 alone: forward against small examples worked by hand (the expected
arrays are written out literally below), backward against a hand example and against
central differences in float64, on one image and on a batch."""

import math

import numpy as np
import pytest
from helpers import TOLERANCE, away_from_zero, distinct_values, finite_diff, rel_error
from numpy.testing import assert_allclose, assert_array_equal

import cnn6

# A 4x4 image and a 2x2 kernel, integers, used by the worked convolution examples.
X4 = np.array(
    [
        [1, 2, 0, 1],
        [0, 1, 3, 2],
        [2, 0, 1, 0],
        [1, 3, 2, 1],
    ],
    dtype=np.float64,
)
K2 = np.array([[1, 0], [-1, 2]], dtype=np.float64)
ONES4 = np.ones((4, 4))

# A 4x4 activation map for the max-pool examples: no ties.
A4 = np.array(
    [
        [1, 5, 2, 0],
        [3, 4, 7, 1],
        [0, 2, 6, 8],
        [9, 1, 3, 4],
    ],
    dtype=np.float64,
)


def check_backward(forward, backward_grad, x, dout, eps=1e-6):
    """Compare an analytic input gradient with central differences of sum(forward(x) * dout)."""
    numeric = finite_diff(lambda v: float(np.sum(forward(v) * dout)), x, eps)
    error = rel_error(backward_grad, numeric)
    assert error <= TOLERANCE, error


# --------------------------------------------------------------------------- conv2d
class TestConv2d:
    def test_forward_one_image_by_hand(self):
        # z[i, j] = x[i, j] - x[i+1, j] + 2 x[i+1, j+1] + 0.5, e.g. z[0, 0] = 1 - 0 + 2 + 0.5
        z = cnn6.conv2d_forward(X4, K2, 0.5)
        expected = np.array(
            [
                [3.5, 7.5, 1.5],
                [-1.5, 3.5, 2.5],
                [7.5, 1.5, 1.5],
            ]
        )
        assert z.dtype == np.float64
        assert_allclose(z, expected, rtol=0, atol=1e-12)

    def test_forward_stride_two_by_hand(self):
        z = cnn6.conv2d_forward(X4, K2, 0.0, stride=2)
        assert_allclose(z, [[3.0, 1.0], [7.0, 1.0]], rtol=0, atol=1e-12)

    def test_forward_non_square_kernel_by_hand(self):
        # a 1x3 kernel [1, 1, 1] sums three neighbours in a row
        z = cnn6.conv2d_forward(X4, np.ones((1, 3)), -1.0)
        expected = np.array([[2.0, 2.0], [3.0, 5.0], [2.0, 0.0], [5.0, 5.0]])
        assert_allclose(z, expected, rtol=0, atol=1e-12)

    def test_forward_batch_by_hand(self):
        # the image of ones gives 1 + 0 - 1 + 2 = 2 in every window
        z = cnn6.conv2d_forward(np.stack([X4, ONES4]), K2, 0.5)
        expected = np.array(
            [
                [[3.5, 7.5, 1.5], [-1.5, 3.5, 2.5], [7.5, 1.5, 1.5]],
                [[2.5, 2.5, 2.5], [2.5, 2.5, 2.5], [2.5, 2.5, 2.5]],
            ]
        )
        assert z.shape == (2, 3, 3)
        assert_allclose(z, expected, rtol=0, atol=1e-12)

    def test_cross_correlation_not_convolution(self):
        # an asymmetric kernel: a flipped (true convolution) kernel would give another answer
        x = np.array([[1.0, 2.0], [3.0, 4.0]])
        k = np.array([[1.0, 0.0], [0.0, 0.0]])
        assert_allclose(cnn6.conv2d_forward(x, k), [[1.0]])

    def test_backward_by_hand_ones(self):
        dx, dk, db = cnn6.conv2d_backward(np.ones((3, 3)), X4, K2)
        # dK[u, v] = sum of the 3x3 block of x starting at (u, v)
        assert_allclose(dk, [[10.0, 10.0], [13.0, 13.0]], rtol=0, atol=1e-12)
        assert db == pytest.approx(9.0)
        expected_dx = np.array(
            [
                [1.0, 1.0, 1.0, 0.0],
                [0.0, 2.0, 2.0, 2.0],
                [0.0, 2.0, 2.0, 2.0],
                [-1.0, 1.0, 1.0, 2.0],
            ]
        )
        assert_allclose(dx, expected_dx, rtol=0, atol=1e-12)

    def test_backward_by_hand_sparse(self):
        dout = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
        dx, dk, db = cnn6.conv2d_backward(dout, X4, K2)
        # dK = 1 * x[0:2, 0:2] + 2 * x[2:4, 2:4]
        assert_allclose(dk, [[3.0, 2.0], [4.0, 3.0]], rtol=0, atol=1e-12)
        assert db == pytest.approx(3.0)
        expected_dx = np.array(
            [
                [1.0, 0.0, 0.0, 0.0],
                [-1.0, 2.0, 0.0, 0.0],
                [0.0, 0.0, 2.0, 0.0],
                [0.0, 0.0, -2.0, 4.0],
            ]
        )
        assert_allclose(dx, expected_dx, rtol=0, atol=1e-12)

    def test_backward_batch_by_hand(self):
        dout = np.stack([np.ones((3, 3)), np.ones((3, 3))])
        dx, dk, db = cnn6.conv2d_backward(dout, np.stack([X4, ONES4]), K2)
        # the image of ones adds 9 to every entry of dK
        assert_allclose(dk, [[19.0, 19.0], [22.0, 22.0]], rtol=0, atol=1e-12)
        assert db == pytest.approx(18.0)
        assert dx.shape == (2, 4, 4)
        assert_allclose(dx[0], dx[1])  # dx depends on dout and K only

    @pytest.mark.parametrize("batch", [None, 3])
    @pytest.mark.parametrize("stride", [1, 2])
    def test_backward_finite_differences(self, batch, stride):
        rng = np.random.default_rng(10 + stride)
        shape = (5, 6) if batch is None else (batch, 5, 6)
        x = rng.normal(size=shape)
        kernel = rng.normal(size=(2, 3))
        bias = 0.3
        z = cnn6.conv2d_forward(x, kernel, bias, stride)
        dout = rng.normal(size=z.shape)
        dx, dk, db = cnn6.conv2d_backward(dout, x, kernel, stride)
        check_backward(lambda v: cnn6.conv2d_forward(v, kernel, bias, stride), dx, x, dout)
        check_backward(lambda k: cnn6.conv2d_forward(x, k, bias, stride), dk, kernel, dout)
        check_backward(
            lambda b: cnn6.conv2d_forward(x, kernel, float(b), stride), np.array(db), 0.3, dout
        )

    def test_conv_matrix_by_hand(self):
        t = cnn6.conv_matrix(np.array([[1.0, 2.0]]), (2, 2))
        # windows (row-major): pixels {0, 1} and {2, 3}
        assert_allclose(t, [[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
        assert_allclose(X4.ravel() @ cnn6.conv_matrix(K2, (4, 4)), [3, 7, 1, -2, 3, 2, 7, 1, 1])

    def test_window_indices_by_hand(self):
        idx = cnn6.window_indices(3, 3, 2, 2, 1)
        assert_array_equal(idx, [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]])
        assert_array_equal(cnn6.window_indices(4, 4, 2, 2, 2)[:, 0], [0, 2, 8, 10])


# --------------------------------------------------------------------------- activations
Z = np.array([[-2.0, -0.5, 0.0, 0.5], [3.0, -1.0, 2.0, -4.0]])
DOUT = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])


class TestActivations:
    def test_relu_by_hand(self):
        assert_array_equal(cnn6.relu_forward(Z), [[0, 0, 0, 0.5], [3, 0, 2, 0]])
        # the derivative at z = 0 is taken as 0
        assert_array_equal(cnn6.relu_backward(DOUT, Z), [[0, 0, 0, 4], [5, 0, 7, 0]])
        assert_array_equal(cnn6.activation_forward(Z, "relu"), cnn6.relu_forward(Z))
        assert_array_equal(cnn6.activation_backward(DOUT, Z, "relu"), [[0, 0, 0, 4], [5, 0, 7, 0]])

    def test_relu_one_value_and_a_vector(self):
        assert cnn6.relu_forward(np.float64(-3.0)) == 0.0
        assert cnn6.relu_forward(np.float64(3.0)) == 3.0
        assert_array_equal(cnn6.relu_forward([-1.0, 1.0]), [0.0, 1.0])

    def test_leaky_relu_by_hand(self):
        expected = [[-0.02, -0.005, 0.0, 0.5], [3.0, -0.01, 2.0, -0.04]]
        assert_allclose(cnn6.leaky_relu_forward(Z), expected, rtol=1e-15)
        assert_allclose(cnn6.activation_forward(Z, "leaky_relu"), expected, rtol=1e-15)
        back = [[0.01, 0.02, 0.03, 4.0], [5.0, 0.06, 7.0, 0.08]]
        assert_allclose(cnn6.leaky_relu_backward(DOUT, Z), back, rtol=1e-15)
        assert_allclose(cnn6.activation_backward(DOUT, Z, "leaky_relu"), back, rtol=1e-15)
        assert_allclose(cnn6.leaky_relu_forward(Z, slope=0.5)[0], [-1.0, -0.25, 0.0, 0.5])

    def test_elu_by_hand(self):
        # exp(log 0.5) - 1 = -0.5 and exp(log 0.25) - 1 = -0.75
        z = np.array([[math.log(0.5), 2.0], [math.log(0.25), 0.0]])
        expected = [[-0.5, 2.0], [-0.75, 0.0]]
        assert_allclose(cnn6.elu_forward(z), expected, rtol=1e-14, atol=1e-15)
        assert_allclose(cnn6.activation_forward(z, "elu"), expected, rtol=1e-14, atol=1e-15)
        dout = np.array([[2.0, 3.0], [4.0, 5.0]])
        back = [[1.0, 3.0], [1.0, 5.0]]  # 2 * 0.5, 3 * 1, 4 * 0.25, 5 * exp(0)
        assert_allclose(cnn6.elu_backward(dout, z), back, rtol=1e-14)
        assert_allclose(cnn6.activation_backward(dout, z, "elu"), back, rtol=1e-14)
        assert_allclose(cnn6.elu_forward(z, alpha=2.0)[0], [-1.0, 2.0], rtol=1e-14)

    def test_batch_by_hand(self):
        batch = np.stack([Z, -Z])  # -Z = [[2, 0.5, 0, -0.5], [-3, 1, -2, 4]]
        dout = np.stack([DOUT, DOUT])
        assert_array_equal(cnn6.relu_forward(batch)[1], [[2, 0.5, 0, 0], [0, 1, 0, 4]])
        assert_array_equal(cnn6.relu_backward(dout, batch)[1], [[1, 2, 0, 0], [0, 6, 0, 8]])
        assert_allclose(
            cnn6.leaky_relu_forward(batch)[1],
            [[2, 0.5, 0, -0.005], [-0.03, 1, -0.02, 4]],
            rtol=1e-15,
        )
        assert_allclose(
            cnn6.leaky_relu_backward(dout, batch)[1],
            [[1, 2, 0.03, 0.04], [0.05, 6, 0.07, 8]],
            rtol=1e-15,
        )
        for name in ("relu", "leaky_relu", "elu"):
            assert cnn6.activation_forward(batch, name).shape == (2, 2, 4)
        z = np.array([[[math.log(0.5), 2.0]], [[3.0, math.log(0.125)]]])  # (2, 1, 2)
        assert_allclose(cnn6.elu_forward(z), [[[-0.5, 2.0]], [[3.0, -0.875]]], rtol=1e-14)
        assert_allclose(
            cnn6.elu_backward(np.ones((2, 1, 2)), z), [[[0.5, 1.0]], [[1.0, 0.125]]], rtol=1e-14
        )

    @pytest.mark.parametrize("activation", ["relu", "leaky_relu", "elu"])
    @pytest.mark.parametrize("shape", [(4, 4), (3, 4, 4)])
    def test_backward_finite_differences(self, activation, shape):
        rng = np.random.default_rng(len(shape))
        z = away_from_zero(rng, shape)
        dout = rng.normal(size=shape)
        grad = cnn6.activation_backward(dout, z, activation)
        check_backward(lambda v: cnn6.activation_forward(v, activation), grad, z, dout)

    @pytest.mark.parametrize(
        "forward, backward",
        [
            (cnn6.relu_forward, cnn6.relu_backward),
            (cnn6.leaky_relu_forward, cnn6.leaky_relu_backward),
            (cnn6.elu_forward, cnn6.elu_backward),
        ],
    )
    def test_named_pairs_finite_differences(self, forward, backward):
        rng = np.random.default_rng(3)
        z = away_from_zero(rng, (2, 4, 4))
        dout = rng.normal(size=z.shape)
        check_backward(forward, backward(dout, z), z, dout)


# --------------------------------------------------------------------------- max-pool
class TestMaxpool:
    def test_forward_by_hand(self):
        out, idx = cnn6.maxpool2d_forward(A4)
        assert_array_equal(out, [[5.0, 7.0], [9.0, 8.0]])
        # flat positions in A4: 5 at (0, 1), 7 at (1, 2), 9 at (3, 0), 8 at (2, 3)
        assert_array_equal(idx, [[1, 6], [12, 11]])
        assert np.issubdtype(idx.dtype, np.integer)

    def test_backward_by_hand(self):
        _, idx = cnn6.maxpool2d_forward(A4)
        da = cnn6.maxpool2d_backward(np.array([[1.0, 2.0], [3.0, 4.0]]), idx, (4, 4))
        expected = np.array(
            [
                [0.0, 1.0, 0.0, 0.0],
                [0.0, 0.0, 2.0, 0.0],
                [0.0, 0.0, 0.0, 4.0],
                [3.0, 0.0, 0.0, 0.0],
            ]
        )
        assert_array_equal(da, expected)

    def test_batch_by_hand(self):
        batch = np.stack([A4, -A4])
        out, idx = cnn6.maxpool2d_forward(batch)
        # -A4: the maxima are the smallest entries of A4: 1 at (0, 0), 0 at (0, 3),
        # 0 at (2, 0), 3 at (3, 2)
        assert_array_equal(out, [[[5, 7], [9, 8]], [[-1, 0], [0, -3]]])
        assert_array_equal(idx, [[[1, 6], [12, 11]], [[0, 3], [8, 14]]])
        da = cnn6.maxpool2d_backward(np.ones((2, 2, 2)), idx, (2, 4, 4))
        assert da.shape == (2, 4, 4)
        assert_array_equal(np.argwhere(da[0]), [[0, 1], [1, 2], [2, 3], [3, 0]])
        assert_array_equal(np.argwhere(da[1]), [[0, 0], [0, 3], [2, 0], [3, 2]])

    def test_overlapping_windows_by_hand(self):
        out, idx = cnn6.maxpool2d_forward(A4, size=2, stride=1)
        assert_array_equal(out, [[5, 7, 7], [4, 7, 8], [9, 6, 8]])
        assert_array_equal(idx, [[1, 6, 6], [5, 6, 11], [12, 10, 11]])
        dout = np.arange(1.0, 10.0).reshape(3, 3)
        da = cnn6.maxpool2d_backward(dout, idx, (4, 4))
        # 7 at (1, 2) wins windows 2, 3 and 5; 8 at (2, 3) wins windows 6 and 9
        expected = np.array(
            [
                [0.0, 1.0, 0.0, 0.0],
                [0.0, 4.0, 10.0, 0.0],
                [0.0, 0.0, 8.0, 15.0],
                [7.0, 0.0, 0.0, 0.0],
            ]
        )
        assert_array_equal(da, expected)

    def test_size_three_stride_one_by_hand(self):
        out, idx = cnn6.maxpool2d_forward(A4, size=3, stride=1)
        assert_array_equal(out, [[7, 8], [9, 8]])
        assert_array_equal(idx, [[6, 11], [12, 11]])

    def test_uneven_stride_drops_the_rest(self):
        a = np.arange(25.0).reshape(5, 5)
        out, idx = cnn6.maxpool2d_forward(a, size=2, stride=2)
        assert_array_equal(out, [[6, 8], [16, 18]])
        assert_array_equal(idx, [[6, 8], [16, 18]])

    def test_tie_rule_first_maximum_row_major(self):
        a = np.array(
            [
                [2.0, 2.0, 0.0, 3.0],
                [2.0, 2.0, 3.0, 3.0],
                [1.0, 0.0, 5.0, 4.0],
                [1.0, 1.0, 5.0, 5.0],
            ]
        )
        out, idx = cnn6.maxpool2d_forward(a)
        assert_array_equal(out, [[2, 3], [1, 5]])
        # all four tie -> (0, 0); 3 at (0, 3), (1, 2), (1, 3) -> (0, 3);
        # 1 at (2, 0), (3, 0), (3, 1) -> (2, 0); 5 at (2, 2), (3, 2), (3, 3) -> (2, 2)
        assert_array_equal(idx, [[0, 3], [8, 10]])
        da = cnn6.maxpool2d_backward(np.array([[1.0, 2.0], [3.0, 4.0]]), idx, (4, 4))
        expected = np.zeros((4, 4))
        expected[0, 0], expected[0, 3], expected[2, 0], expected[2, 2] = 1, 2, 3, 4
        assert_array_equal(da, expected)  # only the first maximum gets the gradient

    def test_tie_rule_in_a_batch_and_overlapping(self):
        a = np.zeros((2, 3, 3))
        a[1] = [[1.0, 2.0, 2.0], [2.0, 2.0, 2.0], [0.0, 2.0, 2.0]]
        out, idx = cnn6.maxpool2d_forward(a, size=2, stride=1)
        assert_array_equal(idx[0], [[0, 1], [3, 4]])  # all zeros: each window's top-left
        assert_array_equal(idx[1], [[1, 1], [3, 4]])
        da = cnn6.maxpool2d_backward(np.ones((2, 2, 2)), idx, (2, 3, 3))
        assert_array_equal(da[1], [[0, 2, 0], [1, 1, 0], [0, 0, 0]])

    @pytest.mark.parametrize("shape", [(4, 4), (3, 4, 4), (2, 5, 7)])
    @pytest.mark.parametrize("size, stride", [(2, 2), (2, 1), (3, 2), (1, 1)])
    def test_backward_finite_differences(self, shape, size, stride):
        rng = np.random.default_rng(size * 10 + stride)
        a = distinct_values(rng, shape)
        out, idx = cnn6.maxpool2d_forward(a, size, stride)
        dout = rng.normal(size=out.shape)
        da = cnn6.maxpool2d_backward(dout, idx, a.shape)
        check_backward(lambda v: cnn6.maxpool2d_forward(v, size, stride)[0], da, a, dout)


# --------------------------------------------------------------------------- flatten
class TestFlatten:
    def test_by_hand(self):
        a = np.array([[1.0, 2.0], [3.0, 4.0]])
        assert_array_equal(cnn6.flatten_forward(a), [1, 2, 3, 4])
        back = cnn6.flatten_backward(np.array([5.0, 6.0, 7.0, 8.0]), (2, 2))
        assert_array_equal(back, [[5, 6], [7, 8]])

    def test_batch_by_hand(self):
        a = np.array([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]])
        assert_array_equal(cnn6.flatten_forward(a), [[1, 2, 3, 4], [5, 6, 7, 8]])
        back = cnn6.flatten_backward(np.array([[1.0, 2, 3, 4], [5, 6, 7, 8]]), (2, 2, 2))
        assert_array_equal(back, a)

    @pytest.mark.parametrize("shape", [(3, 2), (4, 2, 3)])
    def test_backward_finite_differences(self, shape):
        rng = np.random.default_rng(0)
        a = rng.normal(size=shape)
        dout = rng.normal(size=cnn6.flatten_forward(a).shape)
        check_backward(cnn6.flatten_forward, cnn6.flatten_backward(dout, shape), a, dout)


# --------------------------------------------------------------------------- dense
W = np.array([0.5, -1.0, 2.0, 0.0])


class TestDense:
    def test_forward_by_hand(self):
        # 0.5 - 2 + 6 + 0 + 1
        z = cnn6.dense_forward(np.array([1.0, 2.0, 3.0, 4.0]), W, 1.0)
        assert np.shape(z) == ()
        assert float(z) == pytest.approx(5.5)

    def test_forward_batch_by_hand(self):
        a = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
        assert_allclose(cnn6.dense_forward(a, W, 1.0), [5.5, 1.5, 3.0])

    def test_backward_by_hand(self):
        da, dw, db = cnn6.dense_backward(np.float64(2.0), np.array([1.0, 2.0, 3.0, 4.0]), W)
        assert_allclose(da, [1.0, -2.0, 4.0, 0.0])
        assert_allclose(dw, [2.0, 4.0, 6.0, 8.0])
        assert db == pytest.approx(2.0)

    def test_backward_batch_by_hand(self):
        a = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 1.0, 1.0]])
        da, dw, db = cnn6.dense_backward(np.array([1.0, -1.0]), a, W)
        assert_allclose(da, [[0.5, -1.0, 2.0, 0.0], [-0.5, 1.0, -2.0, 0.0]])
        assert_allclose(dw, [1.0, 2.0, 2.0, 3.0])
        assert db == pytest.approx(0.0)

    @pytest.mark.parametrize("batch", [None, 5])
    def test_backward_finite_differences(self, batch):
        rng = np.random.default_rng(1)
        a = rng.normal(size=(4,) if batch is None else (batch, 4))
        w = rng.normal(size=4)
        dout = rng.normal(size=() if batch is None else (batch,))
        da, dw, db = cnn6.dense_backward(dout, a, w)
        check_backward(lambda v: cnn6.dense_forward(v, w, 0.2), da, a, dout)
        check_backward(lambda v: cnn6.dense_forward(a, v, 0.2), dw, w, dout)
        check_backward(lambda b: cnn6.dense_forward(a, w, float(b)), np.array(db), 0.2, dout)


# --------------------------------------------------------------------------- sigmoid and loss
LN3 = math.log(3.0)  # sigmoid(ln 3) = 3 / 4, sigmoid(-ln 3) = 1 / 4


class TestSigmoid:
    def test_forward_by_hand(self):
        assert float(cnn6.sigmoid_forward(np.float64(0.0))) == pytest.approx(0.5, abs=1e-15)
        assert float(cnn6.sigmoid_forward(np.float64(LN3))) == pytest.approx(0.75, abs=1e-15)

    def test_forward_batch_by_hand(self):
        a = cnn6.sigmoid_forward(np.array([0.0, LN3, -LN3]))
        assert_allclose(a, [0.5, 0.75, 0.25], rtol=1e-14)

    def test_backward_by_hand(self):
        # dout * a * (1 - a): 2 * 0.75 * 0.25, 1 * 0.5 * 0.5
        assert float(cnn6.sigmoid_backward(np.float64(2.0), np.float64(0.75))) == 0.375
        assert_allclose(
            cnn6.sigmoid_backward(np.array([2.0, 1.0]), np.array([0.75, 0.5])), [0.375, 0.25]
        )

    @pytest.mark.parametrize("batch", [None, 6])
    def test_backward_finite_differences(self, batch):
        rng = np.random.default_rng(2)
        z = rng.normal(scale=3.0, size=() if batch is None else (batch,))
        dout = rng.normal(size=z.shape)
        grad = cnn6.sigmoid_backward(dout, cnn6.sigmoid_forward(z))
        check_backward(cnn6.sigmoid_forward, grad, z, dout)


class TestBinaryCrossEntropy:
    def test_forward_by_hand(self):
        # a = 3/4: -log(3/4) for y = 1, -log(1/4) for y = 0
        assert cnn6.bce_forward(np.float64(LN3), 1) == pytest.approx(0.2876820724517809)
        assert cnn6.bce_forward(np.float64(LN3), 0) == pytest.approx(1.3862943611198906)
        assert cnn6.bce_forward(np.float64(0.0), 1) == pytest.approx(0.6931471805599453)

    def test_forward_batch_is_the_mean_by_hand(self):
        loss = cnn6.bce_forward(np.array([LN3, LN3, -LN3]), np.array([1, 0, 0]))
        # -log(3/4), -log(1/4), -log(3/4)
        expected = (0.2876820724517809 + 1.3862943611198906 + 0.2876820724517809) / 3
        assert loss == pytest.approx(expected)

    def test_backward_by_hand(self):
        assert float(cnn6.bce_backward(np.float64(LN3), 1)) == pytest.approx(-0.25)
        assert float(cnn6.bce_backward(np.float64(LN3), 0)) == pytest.approx(0.75)
        # a batch of two: (a - y) / 2
        dz = cnn6.bce_backward(np.array([LN3, -LN3]), np.array([1, 0]))
        assert_allclose(dz, [-0.125, 0.125])

    @pytest.mark.parametrize("batch", [None, 7])
    def test_backward_finite_differences(self, batch):
        rng = np.random.default_rng(4)
        shape = () if batch is None else (batch,)
        z = rng.normal(scale=3.0, size=shape)
        y = rng.integers(0, 2, size=shape)
        numeric = finite_diff(lambda v: cnn6.bce_forward(v, y), z)
        assert rel_error(cnn6.bce_backward(z, y), numeric) <= TOLERANCE


class TestStability:
    """z4 = +-1000: finite loss and gradients, and no warning.

    Underflow is left to numpy's default (ignored): sigmoid(-1000) is about 5e-435, which
    no float64 can hold, so 0.0 is the correctly rounded answer, not a failure. Overflow,
    division by zero and invalid operations raise.
    """

    STRICT = dict(over="raise", divide="raise", invalid="raise", under="ignore")

    def test_sigmoid(self, recwarn):
        with np.errstate(**self.STRICT):
            a = cnn6.sigmoid_forward(np.array([-1000.0, 1000.0]))
            assert_array_equal(a, [0.0, 1.0])
            assert_array_equal(cnn6.sigmoid_backward(np.ones(2), a), [0.0, 0.0])
        assert not recwarn.list

    @pytest.mark.parametrize(
        "z, y, loss, dz",
        [
            (1000.0, 0, 1000.0, 1.0),
            (-1000.0, 1, 1000.0, -1.0),
            (1000.0, 1, 0.0, 0.0),
            (-1000.0, 0, 0.0, 0.0),
        ],
    )
    def test_bce(self, recwarn, z, y, loss, dz):
        with np.errstate(**self.STRICT):
            assert cnn6.bce_forward(np.float64(z), y) == pytest.approx(loss, abs=1e-12)
            assert float(cnn6.bce_backward(np.float64(z), y)) == pytest.approx(dz, abs=1e-12)
            batch = cnn6.bce_forward(np.array([z, -z]), np.array([y, 1 - y]))
            assert np.isfinite(batch)
        assert not recwarn.list

    def test_elu_large_inputs(self, recwarn):
        with np.errstate(**self.STRICT):
            z = np.array([-1000.0, 1000.0])
            assert_allclose(cnn6.elu_forward(z), [-1.0, 1000.0])
            assert_allclose(cnn6.elu_backward(np.ones(2), z), [0.0, 1.0])
        assert not recwarn.list
