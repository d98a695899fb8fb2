"""Training: the default recipe learns the problem; the update rules are the documented ones;
the history is complete and true; runs are reproducible from the rng alone."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import cnn6

PARAM_FIELDS = ("kernel", "conv_bias", "weights", "fc_bias")


def vector(p):
    return np.concatenate([np.ravel(getattr(p, f)) for f in PARAM_FIELDS])


def small_problem(seed=0, n=200):
    rng = np.random.default_rng(seed)
    X, y = cnn6.make_dataset(n, rng)
    return X, y, cnn6.init_params(rng), rng


@pytest.mark.parametrize("seed", [0, 1])
def test_default_recipe_learns_the_problem(seed):
    rng = np.random.default_rng(seed)
    X, y = cnn6.make_dataset(4000, rng)
    params, history = cnn6.train(cnn6.init_params(rng), X, y, rng=rng)
    X_new, y_new = cnn6.make_dataset(2000, rng)
    assert cnn6.accuracy(params, X_new, y_new) >= 0.99
    assert len(history.loss) == len(history.accuracy) == len(history.lr) == 30  # default epochs
    assert history.loss[-1] < history.loss[0]
    assert history.loss[-1] < 0.1
    assert history.accuracy[-1] >= 0.99


@pytest.mark.parametrize("epochs, restarts, restart_epochs", [(1, 1, 1), (5, 1, 1), (6, 3, 2)])
def test_history_has_one_entry_per_epoch(epochs, restarts, restart_epochs):
    X, y, params, rng = small_problem()
    X_val, y_val = cnn6.make_dataset(50, rng)
    _, history = cnn6.train(
        params,
        X,
        y,
        rng=rng,
        epochs=epochs,
        restarts=restarts,
        restart_epochs=restart_epochs,
        validation=(X_val, y_val),
    )
    for name in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert len(getattr(history, name)) == epochs, name
    assert all(0.0 <= a <= 1.0 for a in history.accuracy + history.val_accuracy)
    assert all(np.isfinite(history.loss)) and all(v > 0 for v in history.loss)


def test_history_without_validation_is_empty_there():
    X, y, params, rng = small_problem()
    _, history = cnn6.train(params, X, y, rng=rng, epochs=3, restarts=1)
    assert history.val_loss == [] and history.val_accuracy == []


def test_history_reports_the_final_parameters_truly():
    X, y, params, rng = small_problem(3)
    X_val, y_val = cnn6.make_dataset(80, rng)
    final, history = cnn6.train(
        params, X, y, rng=rng, epochs=6, validation=(X_val, y_val), restarts=2, restart_epochs=2
    )
    assert history.loss[-1] == pytest.approx(cnn6.forward(final, X, y).loss, rel=1e-12)
    assert history.accuracy[-1] == cnn6.accuracy(final, X, y)
    assert history.val_loss[-1] == pytest.approx(cnn6.forward(final, X_val, y_val).loss, rel=1e-12)
    assert history.val_accuracy[-1] == cnn6.accuracy(final, X_val, y_val)


def test_restarts_keep_the_best_start():
    X, y, params, rng = small_problem(4)
    _, history = cnn6.train(params, X, y, rng=rng, epochs=5, restarts=3, restart_epochs=2)
    assert len(history.restart_losses) == 3
    assert history.chosen_restart == int(np.argmin(history.restart_losses))


def test_loss_goes_down_with_each_optimizer():
    for optimizer, lr in (("sgd", 0.5), ("momentum", 0.05), ("adam", 0.02)):
        X, y, params, rng = small_problem(5)
        start = cnn6.forward(params, X, y).loss
        final, history = cnn6.train(
            params, X, y, rng=rng, epochs=8, optimizer=optimizer, lr=lr, restarts=1
        )
        assert history.loss[-1] < start, optimizer
        assert history.loss[-1] < history.loss[0], optimizer
        assert cnn6.forward(final, X, y).loss < start, optimizer


@pytest.mark.parametrize("activation", ["leaky_relu", "elu"])
def test_other_activations_train(activation):
    X, y, params, rng = small_problem(6, n=400)
    start = cnn6.forward(params, X, y, activation).loss
    final, history = cnn6.train(params, X, y, rng=rng, epochs=10, restarts=1, activation=activation)
    assert history.loss[-1] < start
    assert history.loss[-1] == pytest.approx(cnn6.forward(final, X, y, activation).loss)


# --------------------------------------------------------------------------- update rules
def full_batch_reference(params, X, y, optimizer, lr, epochs, momentum, fraction, activation):
    """The documented update rules, one full-batch step per epoch, from public functions."""
    theta = vector(params)
    velocity = np.zeros(15)
    second = np.zeros(15)
    for epoch in range(epochs):
        rate = lr * fraction ** (epoch / max(epochs - 1, 1))
        p = cnn6.Params(theta[:9].reshape(3, 3), float(theta[9]), theta[10:14], float(theta[14]))
        g = vector(cnn6.backward(p, cnn6.forward(p, X, y, activation), y))
        if optimizer == "sgd":
            theta = theta - rate * g
        elif optimizer == "momentum":
            velocity = momentum * velocity + g
            theta = theta - rate * velocity
        else:
            step = epoch + 1
            velocity = momentum * velocity + (1 - momentum) * g
            second = 0.999 * second + 0.001 * g**2
            m_hat = velocity / (1 - momentum**step)
            v_hat = second / (1 - 0.999**step)
            theta = theta - rate * m_hat / (np.sqrt(v_hat) + 1e-8)
    return theta


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("activation", ["relu", "elu"])
def test_update_rules_are_the_documented_ones(optimizer, activation):
    X, y, params, rng = small_problem(7, n=40)
    kw = dict(lr=0.05, epochs=4, momentum=0.8, final_lr_fraction=0.25)
    trained, history = cnn6.train(
        params,
        X,
        y,
        rng=rng,
        batch_size=40,
        optimizer=optimizer,
        activation=activation,
        restarts=1,
        **kw,
    )
    ref = full_batch_reference(
        params,
        X,
        y,
        optimizer,
        kw["lr"],
        kw["epochs"],
        kw["momentum"],
        kw["final_lr_fraction"],
        activation,
    )
    # the batch's images come in a random order: only the order of a sum differs
    assert_allclose(vector(trained), ref, rtol=1e-9, atol=1e-12)


def test_one_sgd_epoch_on_the_full_batch_is_one_sgd_step():
    X, y, params, rng = small_problem(8, n=30)
    trained, history = cnn6.train(
        params, X, y, rng=rng, lr=0.3, epochs=1, batch_size=30, optimizer="sgd", restarts=1
    )
    grads = cnn6.backward(params, cnn6.forward(params, X, y), y)
    assert_allclose(vector(trained), vector(cnn6.sgd_step(params, grads, 0.3)), rtol=1e-12)
    assert history.lr == [0.3]


def test_learning_rate_decays_geometrically():
    X, y, params, rng = small_problem()
    _, history = cnn6.train(
        params, X, y, rng=rng, lr=0.1, epochs=5, final_lr_fraction=0.01, restarts=1
    )
    # 0.1 * 0.01 ** (e / 4): 0.1, 0.1 / sqrt(10), 0.01, 0.01 / sqrt(10), 0.001
    assert_allclose(history.lr, [0.1, 0.1 / 10**0.5, 0.01, 0.01 / 10**0.5, 0.001], rtol=1e-12)
    _, flat = cnn6.train(params, X, y, rng=rng, lr=0.1, epochs=3, final_lr_fraction=1.0, restarts=1)
    assert flat.lr == [0.1, 0.1, 0.1]


def test_mini_batches_that_do_not_divide_n():
    X, y, params, rng = small_problem(9, n=50)
    small, _ = cnn6.train(params, X, y, rng=rng, epochs=2, batch_size=7, restarts=1)
    full, _ = cnn6.train(params, X, y, rng=rng, epochs=2, batch_size=50, restarts=1)
    huge, _ = cnn6.train(params, X, y, rng=rng, epochs=2, batch_size=1000, restarts=1)
    assert np.all(np.isfinite(vector(small)))
    assert not np.allclose(vector(small), vector(full))  # more steps, another path
    assert_allclose(vector(huge), vector(full), rtol=1e-9)  # one batch either way


# --------------------------------------------------------------------------- reproducibility
def test_same_seed_same_training_and_no_global_state():
    def run(seed):
        X, y, params, rng = small_problem(seed, n=100)
        return cnn6.train(params, X, y, rng=rng, epochs=6, restarts=2, restart_epochs=2)

    a_params, a_hist = run(11)
    np.random.seed(0)  # noqa: NPY002 - the global state must play no part
    b_params, b_hist = run(11)
    c_params, c_hist = run(12)
    assert_array_equal(vector(a_params), vector(b_params))
    assert a_hist.loss == b_hist.loss and a_hist.accuracy == b_hist.accuracy
    assert not np.array_equal(vector(a_params), vector(c_params))
    assert a_hist.loss != c_hist.loss


def test_the_rng_orders_the_batches():
    X, y, params, _ = small_problem(13, n=60)
    a, _ = cnn6.train(params, X, y, rng=np.random.default_rng(1), epochs=2, restarts=1)
    b, _ = cnn6.train(params, X, y, rng=np.random.default_rng(2), epochs=2, restarts=1)
    assert not np.array_equal(vector(a), vector(b))


def test_train_leaves_its_inputs_alone():
    X, y, params, rng = small_problem(14, n=60)
    X_copy, y_copy, theta = X.copy(), y.copy(), vector(params).copy()
    trained, _ = cnn6.train(params, X, y, rng=rng, epochs=2, restarts=1)
    assert_array_equal(X, X_copy)
    assert_array_equal(y, y_copy)
    assert_array_equal(vector(params), theta)
    assert isinstance(trained, cnn6.Params)
    assert not np.array_equal(vector(trained), theta)
