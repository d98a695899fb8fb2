"""The whole network: forward and backward against a naive loop implementation, every
gradient against central differences, a batch against its images one by one, the tie rule,
the update, predictions, and the stability of the output layer."""

import warnings

import numpy as np
import pytest
from helpers import (
    TOLERANCE,
    finite_diff,
    naive_network,
    random_params,
    rel_error,
    safe_case,
)
from numpy.testing import assert_allclose, assert_array_equal

import cnn6

ACTIVATIONS = ("relu", "leaky_relu", "elu")
TRACE_FIELDS = ("z1", "a1", "a2", "a3", "z4", "a4")
DELTAS = ("dz4", "da3", "da2", "da1", "dz1", "dx")
PARAM_FIELDS = ("kernel", "conv_bias", "weights", "fc_bias")
STRICT = dict(over="raise", divide="raise", invalid="raise", under="ignore")


def vector(p):
    return np.concatenate([np.ravel(getattr(p, f)) for f in PARAM_FIELDS])


# --------------------------------------------------------------------------- naive reference
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n", [None, 1, 7])
def test_matches_naive_loop_implementation(activation, n):
    rng = np.random.default_rng(100 + (n or 0))
    for _ in range(3):
        X, y = cnn6.make_dataset(n or 1, rng, low=-1.0, high=1.0, square_value=1.5)
        if n is None:
            X, y = X[0], int(y[0])
        params = random_params(rng)
        trace = cnn6.forward(params, X, y, activation)
        grads = cnn6.backward(params, trace, y, with_dx=True)
        ref = naive_network(params, X, y, activation)
        for name in TRACE_FIELDS:
            got = getattr(trace, name)
            assert np.shape(got) == np.shape(ref[name]), name
            assert_allclose(got, ref[name], rtol=1e-10, atol=1e-12, err_msg=name)
        assert_array_equal(trace.pool_idx, ref["pool_idx"])
        assert trace.loss == pytest.approx(ref["loss"], rel=1e-10)
        for name in DELTAS + PARAM_FIELDS:
            got = getattr(grads, name)
            assert np.shape(got) == np.shape(ref[name]), name
            assert_allclose(got, ref[name], rtol=1e-9, atol=1e-13, err_msg=name)


def test_trace_shapes_one_image_and_batch():
    x, y, params = cnn6.running_example()
    one = cnn6.forward(params, x)
    shapes = dict(x=(6, 6), z1=(4, 4), a1=(4, 4), a2=(2, 2), a3=(4,), z4=(), a4=(), pool_idx=(2, 2))
    for name, shape in shapes.items():
        assert np.shape(getattr(one, name)) == shape, name
    assert one.loss is None
    assert one.activation == "relu"
    assert isinstance(cnn6.forward(params, x, y).loss, float)
    batch = cnn6.forward(params, np.stack([x, x, x]), [1, 1, 1], activation="elu")
    for name, shape in shapes.items():
        assert np.shape(getattr(batch, name)) == (3,) + shape, name
    assert batch.activation == "elu"


def test_trace_and_grads_are_read_only_records():
    x, y, params = cnn6.running_example()
    trace = cnn6.forward(params, x, y)
    grads = cnn6.backward(params, trace, y, with_dx=True)
    for record, field in ((trace, "z1"), (trace, "loss"), (grads, "kernel"), (grads, "dz1")):
        with pytest.raises(AttributeError):
            setattr(record, field, None)
        with pytest.raises(AttributeError):
            record.extra = 1  # no new fields either
    assert trace._fields[:8] == ("x", "z1", "a1", "a2", "a3", "z4", "a4", "loss")
    assert grads._fields[:4] == PARAM_FIELDS and grads._fields[4:] == DELTAS
    assert_array_equal(grads.params().to_vector(), vector(grads))


def test_running_example_by_hand_first_window():
    """The top-left entry of z1 for the running example, summed by hand from its numbers."""
    x, _, params = cnn6.running_example()
    by_hand = sum(x[u, v] * params.kernel[u, v] for u in range(3) for v in range(3))
    by_hand += params.conv_bias
    assert cnn6.forward(params, x).z1[0, 0] == pytest.approx(by_hand, abs=1e-12)


# --------------------------------------------------------------------------- gradient checks
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n", [None, 5])
def test_parameter_gradients_against_numerical_gradient(activation, n):
    params, X, y = safe_case(activation, n, seed=200)
    grads = cnn6.backward(params, cnn6.forward(params, X, y, activation), y, with_dx=True)
    num = cnn6.numerical_gradient(params, X, y, activation=activation)
    for name in PARAM_FIELDS:
        assert np.shape(getattr(grads, name)) == np.shape(getattr(params, name)), name
        error = rel_error(getattr(grads, name), getattr(num, name))
        assert error <= TOLERANCE, (name, error)
    assert rel_error(vector(grads), vector(num)) <= TOLERANCE


def test_numerical_gradient_is_central_differences():
    """cnn6.numerical_gradient against the tests' own finite differences over the 15 numbers."""
    params, X, y = safe_case("relu", 4, seed=300)

    def loss(theta):
        p = cnn6.Params(theta[:9].reshape(3, 3), float(theta[9]), theta[10:14], float(theta[14]))
        return cnn6.forward(p, X, y).loss

    mine = finite_diff(loss, vector(params), eps=1e-5)
    theirs = vector(cnn6.numerical_gradient(params, X, y, eps=1e-5))
    assert_allclose(theirs, mine, rtol=1e-9, atol=1e-12)


def test_running_example_gradients():
    x, y, params = cnn6.running_example()
    grads = cnn6.backward(params, cnn6.forward(params, x, y), y, with_dx=True)
    num = cnn6.numerical_gradient(params, x, y)
    assert rel_error(vector(grads), vector(num)) <= TOLERANCE


def _tail_losses(params, y, activation):
    """The loss as a function of each intermediate quantity, built from the public layers."""

    def from_z4(z4):
        return cnn6.bce_forward(z4, y)

    def from_a3(a3):
        return from_z4(cnn6.dense_forward(a3, params.weights, params.fc_bias))

    def from_a2(a2):
        return from_a3(cnn6.flatten_forward(a2))

    def from_a1(a1):
        return from_a2(cnn6.maxpool2d_forward(a1, 2, 2)[0])

    def from_z1(z1):
        return from_a1(cnn6.activation_forward(z1, activation))

    def from_x(x):
        return cnn6.forward(params, x, y, activation).loss

    return dict(dz4=from_z4, da3=from_a3, da2=from_a2, da1=from_a1, dz1=from_z1, dx=from_x)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n", [None, 4])
def test_deltas_against_finite_differences(activation, n):
    params, X, y = safe_case(activation, n, seed=400, every_window=True)
    trace = cnn6.forward(params, X, y, activation)
    grads = cnn6.backward(params, trace, y, with_dx=True)
    at = dict(dz4=trace.z4, da3=trace.a3, da2=trace.a2, da1=trace.a1, dz1=trace.z1, dx=trace.x)
    for name, loss in _tail_losses(params, y, activation).items():
        assert loss(np.asarray(at[name])) == pytest.approx(trace.loss, rel=1e-12), name
        numeric = finite_diff(loss, at[name])
        error = rel_error(getattr(grads, name), numeric)
        assert error <= TOLERANCE, (name, error)


def test_delta_formulas_of_the_design():
    """dz4 = (a4 - y) / n, da3 = dz4 w, dw = sum dz4 a3, db = sum dz4, db_conv = sum dz1."""
    params, X, y = safe_case("relu", 6, seed=500)
    trace = cnn6.forward(params, X, y)
    grads = cnn6.backward(params, trace, y, with_dx=True)
    dz4 = (trace.a4 - y) / 6
    assert_allclose(grads.dz4, dz4, rtol=1e-12)
    assert_allclose(grads.da3, dz4[:, None] * params.weights, rtol=1e-12)
    assert_allclose(grads.da2, grads.da3.reshape(6, 2, 2), rtol=1e-12)
    assert_allclose(grads.weights, (dz4[:, None] * trace.a3).sum(0), rtol=1e-12)
    assert grads.fc_bias == pytest.approx(dz4.sum(), abs=1e-15)
    assert_allclose(grads.dz1, grads.da1 * (trace.z1 > 0), rtol=1e-12)
    assert grads.conv_bias == pytest.approx(grads.dz1.sum(), abs=1e-15)
    # da1 is zero except at the winner of each window
    assert np.count_nonzero(grads.da1) <= 6 * 4


# --------------------------------------------------------------------------- batch = images
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_batch_equals_images_one_by_one(activation):
    rng = np.random.default_rng(600)
    n = 6
    X, y = cnn6.make_dataset(n, rng)
    params = random_params(rng)
    batch = cnn6.forward(params, X, y, activation)
    gb = cnn6.backward(params, batch, y, with_dx=True)
    singles = [cnn6.forward(params, X[i], y[i], activation) for i in range(n)]
    gs = [cnn6.backward(params, singles[i], y[i], with_dx=True) for i in range(n)]
    for name in TRACE_FIELDS + ("pool_idx",):
        stacked = np.array([getattr(t, name) for t in singles])
        assert_allclose(getattr(batch, name), stacked, rtol=1e-12, atol=1e-14, err_msg=name)
    assert batch.loss == pytest.approx(np.mean([t.loss for t in singles]), rel=1e-12)
    for name in DELTAS:
        stacked = np.array([getattr(g, name) for g in gs]) / n  # the 1/n of the mean
        assert_allclose(getattr(gb, name), stacked, rtol=1e-10, atol=1e-15, err_msg=name)
    for name in PARAM_FIELDS:
        mean = np.mean([getattr(g, name) for g in gs], axis=0)
        assert_allclose(getattr(gb, name), mean, rtol=1e-10, atol=1e-15, err_msg=name)


def test_batch_of_one_equals_one_image():
    x, y, params = cnn6.running_example()
    one = cnn6.backward(params, cnn6.forward(params, x, y), y, with_dx=True)
    batch = cnn6.backward(params, cnn6.forward(params, x[None], [y]), [y], with_dx=True)
    for name in DELTAS:
        assert_allclose(getattr(batch, name)[0], getattr(one, name), rtol=1e-12, atol=1e-15)
    for name in PARAM_FIELDS:
        assert_allclose(getattr(batch, name), getattr(one, name), rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- tie rule
@pytest.mark.parametrize("activation", ["leaky_relu", "elu", "relu"])
def test_tie_rule_in_the_network(activation):
    """A constant image makes every z1 equal: each window's first pixel (row-major) wins.

    Powers of two keep every sum exact (9 * 0.25 + 0.5), so the ties are real ties whatever
    order the engine adds in.
    """
    params = cnn6.Params(np.full((3, 3), 0.125), 0.5, np.array([1.0, -2.0, 3.0, -4.0]), 0.0)
    x = np.full((6, 6), 2.0)
    trace = cnn6.forward(params, x, 1, activation)
    assert_array_equal(trace.z1, np.full((4, 4), 2.75))
    assert_array_equal(trace.pool_idx, [[0, 2], [8, 10]])
    grads = cnn6.backward(params, trace, 1, with_dx=True)
    expected = np.zeros((4, 4))
    expected[0, 0], expected[0, 2], expected[2, 0], expected[2, 2] = grads.da3
    assert_allclose(grads.da1, expected, rtol=1e-15)
    assert np.count_nonzero(grads.da1) == 4


# --------------------------------------------------------------------------- update
def test_sgd_step_by_hand():
    params = cnn6.Params(np.ones((3, 3)), 1.0, np.array([1.0, 2.0, 3.0, 4.0]), 0.5)
    grads = cnn6.Params(np.arange(9.0).reshape(3, 3), -2.0, np.array([10.0, 0.0, -10.0, 1.0]), 5.0)
    new = cnn6.sgd_step(params, grads, 0.1)
    assert isinstance(new, cnn6.Params)
    assert_allclose(new.kernel, [[1.0, 0.9, 0.8], [0.7, 0.6, 0.5], [0.4, 0.3, 0.2]])
    assert new.conv_bias == pytest.approx(1.2)
    assert_allclose(new.weights, [0.0, 2.0, 4.0, 3.9])
    assert new.fc_bias == pytest.approx(0.0, abs=1e-15)
    # the old parameters are untouched
    assert_array_equal(params.kernel, np.ones((3, 3)))
    assert_array_equal(params.weights, [1.0, 2.0, 3.0, 4.0])


def test_sgd_step_accepts_grads_and_descends():
    x, y, params = cnn6.running_example()
    trace = cnn6.forward(params, x, y)
    grads = cnn6.backward(params, trace, y, with_dx=True)
    lr = 1e-3
    new = cnn6.sgd_step(params, grads, lr)
    assert_allclose(vector(new), vector(params) - lr * vector(grads), rtol=1e-15)
    after = cnn6.forward(new, x, y).loss
    assert after < trace.loss
    # first order: the loss falls by lr * |g|^2
    drop = trace.loss - after
    assert drop == pytest.approx(lr * np.sum(vector(grads) ** 2), rel=0.02)


def test_gradient_ascent_would_raise_the_loss():
    """The sign check the original notebook failed: + lr * g increases the loss."""
    x, y, params = cnn6.running_example()
    trace = cnn6.forward(params, x, y)
    grads = cnn6.backward(params, trace, y, with_dx=True)
    up = cnn6.sgd_step(params, cnn6.Params(*(-getattr(grads, f) for f in PARAM_FIELDS)), 1e-3)
    assert cnn6.forward(up, x, y).loss > trace.loss


# --------------------------------------------------------------------------- predictions
def test_predict_proba_shapes_and_values():
    rng = np.random.default_rng(700)
    X, y = cnn6.make_dataset(9, rng)
    params = random_params(rng)
    p1 = cnn6.predict_proba(params, X[0])
    assert np.shape(p1) == ()
    pn = cnn6.predict_proba(params, X)
    assert pn.shape == (9,)
    assert np.all((pn > 0) & (pn < 1))
    ref = naive_network(params, X, y)
    assert_allclose(pn, ref["a4"], rtol=1e-12)
    assert float(p1) == pytest.approx(ref["a4"][0], rel=1e-12)
    for activation in ACTIVATIONS:
        assert_allclose(
            cnn6.predict_proba(params, X, activation=activation),
            cnn6.forward(params, X, activation=activation).a4,
        )


def test_accuracy_by_hand():
    # kernel 0, conv_bias 1: every a3 is [1, 1, 1, 1], so z4 = sum(w) + b for every image
    X = np.random.default_rng(0).uniform(size=(5, 6, 6))
    y = np.array([1, 0, 0, 1, 1])
    says_one = cnn6.Params(np.zeros((3, 3)), 1.0, np.array([0.5, 0.5, 0.0, 0.0]), 0.0)
    says_zero = cnn6.Params(np.zeros((3, 3)), 1.0, np.array([0.5, 0.5, 0.0, 0.0]), -2.0)
    assert cnn6.accuracy(says_one, X, y) == pytest.approx(0.6)
    assert cnn6.accuracy(says_zero, X, y) == pytest.approx(0.4)


def test_accuracy_equals_a_count():
    rng = np.random.default_rng(701)
    X, y = cnn6.make_dataset(101, rng)
    params = cnn6.init_params(rng)
    acc = cnn6.accuracy(params, X, y)
    proba = cnn6.predict_proba(params, X)
    count = sum(1 for p, t in zip(proba, y, strict=True) if (p > 0.5) == (t == 1))
    assert 0.0 <= acc <= 1.0
    assert acc == count / 101


# --------------------------------------------------------------------------- parameters
def test_init_params_shapes_and_ranges():
    params = cnn6.init_params(np.random.default_rng(0))
    assert isinstance(params, cnn6.Params)
    assert params.kernel.shape == (3, 3) and params.kernel.dtype == np.float64
    assert params.weights.shape == (4,) and params.weights.dtype == np.float64
    assert np.all(params.kernel >= 0)  # the documented positive start
    assert params.conv_bias == 0.0 and params.fc_bias == 0.0
    big = cnn6.init_params(np.random.default_rng(0), kernel_scale=10.0, weight_scale=10.0)
    assert_allclose(big.kernel, params.kernel * 10.0 / np.sqrt(2.0 / 9.0))
    assert_allclose(big.weights, params.weights * 20.0)


def test_init_params_seeds():
    a = cnn6.init_params(np.random.default_rng(5))
    np.random.seed(123)  # noqa: NPY002 - the global state must play no part
    b = cnn6.init_params(np.random.default_rng(5))
    c = cnn6.init_params(np.random.default_rng(6))
    assert_array_equal(vector(a), vector(b))
    assert not np.array_equal(vector(a), vector(c))
    rng = np.random.default_rng(5)
    first, second = cnn6.init_params(rng), cnn6.init_params(rng)
    assert not np.array_equal(vector(first), vector(second))


def test_params_vector_order():
    params = cnn6.Params(np.arange(9.0).reshape(3, 3), 9.0, np.array([10.0, 11, 12, 13]), 14.0)
    assert_array_equal(params.to_vector(), np.arange(15.0))
    back = cnn6.Params.from_vector(np.arange(15.0))
    assert_array_equal(back.kernel, params.kernel)
    assert back.conv_bias == 9.0 and back.fc_bias == 14.0
    assert_array_equal(back.weights, params.weights)


def test_relative_error_by_hand():
    assert cnn6.relative_error(np.array([1.0, 2.0]), np.array([1.0, 3.0])) == pytest.approx(0.2)
    assert cnn6.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert cnn6.relative_error(np.array(1e-9), np.array(0.0)) == pytest.approx(0.1)


def test_forward_and_backward_leave_inputs_alone():
    x, y, params = cnn6.running_example()
    X = np.stack([x, x * 0.5])
    X_copy, kernel_copy = X.copy(), params.kernel.copy()
    trace = cnn6.forward(params, X, [1, 0])
    cnn6.backward(params, trace, [1, 0])
    cnn6.numerical_gradient(params, X, [1, 0])
    assert_array_equal(X, X_copy)
    assert_array_equal(params.kernel, kernel_copy)


# --------------------------------------------------------------------------- stability
@pytest.mark.parametrize("sign, y", [(1.0, 0), (-1.0, 1), (1.0, 1), (-1.0, 0)])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_logit_of_1000_is_finite_without_warnings(sign, y, activation):
    # kernel 0 and conv_bias 1 give a3 = [1, 1, 1, 1]; weights of 250 make z4 = +-1000
    params = cnn6.Params(np.zeros((3, 3)), 1.0, np.full(4, 250.0 * sign), 0.0)
    x, _, _ = cnn6.running_example()
    wrong = (sign > 0) != (y == 1)
    with warnings.catch_warnings(), np.errstate(**STRICT):
        warnings.simplefilter("error")
        for X, Y in ((x, y), (np.stack([x, x]), [y, y])):
            trace = cnn6.forward(params, X, Y, activation)
            assert np.all(trace.z4 == 1000.0 * sign)
            assert trace.loss == pytest.approx(1000.0 if wrong else 0.0, abs=1e-12)
            grads = cnn6.backward(params, trace, Y, with_dx=True)
            for name in DELTAS + PARAM_FIELDS:
                assert np.all(np.isfinite(getattr(grads, name))), name
            n = 1 if np.ndim(X) == 2 else 2
            assert_allclose(grads.dz4, np.full(np.shape(trace.z4), (1.0 - 2 * y) * wrong / n))
            assert np.isfinite(cnn6.predict_proba(params, X)).all()
            num = cnn6.numerical_gradient(params, X, Y, activation=activation)
            assert np.isfinite(vector(num)).all()
