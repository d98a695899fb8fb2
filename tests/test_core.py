"""The core's shape: arguments checked once where a user's data enters (validation.on_entry),
window_indices checked before its cache, and a core that runs with numpy alone."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cnn6
from cnn6 import layers, network, training
from cnn6 import validation as check

RNG = np.random.default_rng(3)
X, Y = cnn6.make_dataset(8, RNG)
P = cnn6.init_params(RNG)
TRACE = cnn6.forward(P, X, Y)
GRADS = cnn6.backward(P, TRACE, Y)


# --------------------------------------------------------------------------- on_entry
def test_checker_runs_at_the_outermost_call_only():
    seen = []

    def inner_args(v):
        seen.append(("inner", v))
        return dict(v=check.integer(v, "v"))

    @check.on_entry(inner_args)
    def inner(v):
        return v + 1

    def outer_args(v):
        seen.append(("outer", v))
        return dict(v=check.integer(v, "v"))

    @check.on_entry(outer_args)
    def outer(v):
        return inner(v) + inner(v)

    assert outer(1) == 4
    assert seen == [("outer", 1)]  # inner's checker did not run inside outer
    assert inner(2) == 3
    assert seen[-1] == ("inner", 2)  # called alone, it checks
    with pytest.raises(TypeError, match="^v: expected an integer"):
        inner(2.0)


def test_the_checked_state_ends_with_the_call_even_when_it_raises():
    @check.on_entry(lambda v: dict(v=v))
    def fails(v):
        raise RuntimeError("inside")

    with pytest.raises(RuntimeError):
        fails(1)
    with pytest.raises(ValueError, match="^x: expected"):  # checks are back on
        cnn6.conv2d_forward(np.full((4, 4), np.nan), np.ones((2, 2)))


def test_trusted_skips_the_checks_and_ends_with_its_block():
    with check.trusted():
        z = cnn6.relu_forward(np.array([-1.0, 2.0]))  # math only
        with pytest.raises(AttributeError):  # no check turned the list into an array
            cnn6.flatten_forward([[1.0, 2.0], [3.0, 4.0]])
    assert z.tolist() == [0.0, 2.0]
    with pytest.raises(TypeError, match="^a: expected"):
        cnn6.flatten_forward("not an array")
    with check.trusted():  # nested blocks: the outer one still trusts after the inner ends
        with check.trusted():
            pass
        assert cnn6.relu_forward([-1.0]) == [0.0]  # no check: np.maximum of a list
    with pytest.raises(RuntimeError), check.trusted():  # a block left by an error
        raise RuntimeError("inside")
    with pytest.raises(TypeError, match="^a: expected"):  # checks are back on
        cnn6.flatten_forward("not an array")


def test_a_thread_checks_its_own_calls_while_another_runs_trusted():
    import threading

    inside, done = threading.Event(), threading.Event()
    seen = []

    def trusting():
        with check.trusted():
            inside.set()
            done.wait(10)

    def checking():
        try:
            cnn6.flatten_forward("not an array")
        except TypeError as exc:
            seen.append(str(exc))

    worker = threading.Thread(target=trusting)
    worker.start()
    assert inside.wait(10)
    try:
        other = threading.Thread(target=checking)
        other.start()
        other.join(10)
        with pytest.raises(TypeError, match="^a: expected"):  # this thread checks too
            cnn6.flatten_forward("not an array")
    finally:
        done.set()
        worker.join(10)
    assert len(seen) == 1 and seen[0].startswith("a: expected")


def test_a_checker_must_have_the_signature_of_its_function():
    def checker(x, stride=2):
        return dict(x=x, stride=stride)

    def f(x, stride=1):
        return x

    with pytest.raises(TypeError, match="checker: expected the signature of f"):
        check.on_entry(checker)(f)


def count_checks(monkeypatch):
    """Count every call of the validation module's checks from here on."""
    calls = []
    for name in ("array", "real", "integer", "labels", "activation", "rng"):
        original = getattr(check, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(check, name, counted)
    return calls


@pytest.mark.parametrize(
    "call, checker",
    [
        (lambda: cnn6.forward(P, X, Y), lambda: network._forward_args(P, X, Y)),
        (
            lambda: cnn6.forward(P, X[0], int(Y[0]), "elu"),
            lambda: network._forward_args(P, X[0], int(Y[0]), "elu"),
        ),
        (lambda: cnn6.backward(P, TRACE, Y), lambda: network._backward_args(P, TRACE, Y)),
        (
            lambda: cnn6.sgd_step(P, GRADS, 0.1),
            lambda: network._sgd_step_args(P, GRADS, 0.1),
        ),
        (
            lambda: cnn6.sgd_step(P, GRADS.params(), 0.1),  # not the usual Grads: full checks
            lambda: network._sgd_step_args(P, GRADS.params(), 0.1),
        ),
        (lambda: cnn6.accuracy(P, X, Y), lambda: network._accuracy_args(P, X, Y)),
        (
            lambda: cnn6.numerical_gradient(P, X, Y),
            lambda: network._numerical_gradient_args(P, X, Y),
        ),
        (
            lambda: cnn6.train(P, X, Y, rng=np.random.default_rng(0), epochs=2, restarts=1),
            lambda: training._train_args(
                P, X, Y, rng=np.random.default_rng(0), epochs=2, restarts=1
            ),
        ),
        (
            lambda: cnn6.activation_backward(np.ones((2, 2)), np.eye(2), "leaky_relu"),
            lambda: layers._activation_backward_args(np.ones((2, 2)), np.eye(2), "leaky_relu"),
        ),
    ],
)
def test_the_engine_does_not_check_what_it_passes_itself(monkeypatch, call, checker):
    calls = count_checks(monkeypatch)
    call()
    whole = list(calls)
    calls.clear()
    checker()
    assert whole == calls  # the outermost checker's checks, and not one more
    assert calls or checker is not None


def test_backward_trusts_the_trace_of_the_same_params_and_checks_others():
    trace = cnn6.forward(P, X, Y)
    copy = cnn6.Params(P.kernel.copy(), P.conv_bias, P.weights.copy(), P.fc_bias)
    same = cnn6.backward(copy, trace, Y)  # equal values: accepted
    np.testing.assert_array_equal(same.kernel, cnn6.backward(P, trace, Y).kernel)
    moved = cnn6.Params(P.kernel, P.conv_bias + 0.5, P.weights, P.fc_bias)
    with pytest.raises(ValueError, match="^trace: expected the trace of these params"):
        cnn6.backward(moved, trace, Y)
    with pytest.raises(TypeError, match="^trace: expected a cnn6.Trace"):
        cnn6.backward(P, tuple(trace), Y)
    # no params and no trace: the first is named, not an attribute of the second
    with pytest.raises(TypeError, match="^params: expected a cnn6.Params"):
        cnn6.backward(None, "a trace", Y)
    with pytest.raises(TypeError, match="^params: expected a cnn6.Params"):
        cnn6.backward(None, trace._replace(params=None), Y)


# --------------------------------------------------------------------------- window_indices
@pytest.mark.parametrize("warm", [False, True])
def test_window_indices_refuses_a_float_whether_or_not_the_int_twin_is_cached(warm):
    cnn6.window_indices.__wrapped__.cache_clear()
    if warm:
        cnn6.conv2d_forward(np.ones((4, 4)), np.ones((2, 2)))  # caches (4, 4, 2, 2, 1)
        assert cnn6.window_indices(4, 4, 2, 2, 1).shape == (9, 4)
    for args, name in [((4, 4, 2, 2.0, 1), "kw"), ((4.0, 4, 2, 2, 1), "height")]:
        with pytest.raises(TypeError, match=f"^{name}: expected an integer"):
            cnn6.window_indices(*args)
    # numpy integers are integers: the same key as the int, the same answer
    np.testing.assert_array_equal(
        cnn6.window_indices(np.int64(4), 4, 2, 2, 1), cnn6.window_indices(4, 4, 2, 2, 1)
    )


# --------------------------------------------------------------------------- numpy only
def test_the_core_runs_with_numpy_alone():
    script = textwrap.dedent(
        """
        import sys

        class Blocked:  # matplotlib, ipywidgets and IPython cannot be imported
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("matplotlib", "ipywidgets", "IPython"):
                    raise ImportError(f"{name} is blocked")
                return None

        sys.meta_path.insert(0, Blocked())
        import numpy as np
        import cnn6
        from cnn6 import naive

        rng = np.random.default_rng(0)
        X, y = cnn6.make_dataset(64, rng)
        params = cnn6.init_params(rng)
        trace = cnn6.forward(params, X, y)
        grads = cnn6.backward(params, trace, y)
        params = cnn6.sgd_step(params, grads, 0.1)
        params, history = cnn6.train(params, X, y, rng=rng, epochs=2, restarts=1)
        ref = naive.forward(params, X[:2], y[:2])
        assert np.allclose(ref["a4"], cnn6.predict_proba(params, X[:2]))
        try:
            cnn6.show_matrix
        except ImportError as exc:
            print("view unavailable:", exc)
        loaded = sorted(m for m in ("matplotlib", "ipywidgets", "IPython") if m in sys.modules)
        print("loaded:", loaded, "epochs:", len(history.loss))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "loaded: [] epochs: 2" in result.stdout, result.stdout
    assert "view unavailable:" in result.stdout  # the blocker did block the view


# --------------------------------------------------------------------------- with_dx
def test_backward_gives_dx_only_when_asked_and_the_same_parameter_gradients():
    assert GRADS.dx is None  # the default: training needs no gradient of the image
    assert cnn6.backward(P, TRACE, Y, with_dx=False).dx is None
    full = cnn6.backward(P, TRACE, Y, with_dx=True)
    assert full.dx.shape == X.shape
    np.testing.assert_array_equal(full.dx, cnn6.conv2d_backward(GRADS.dz1, X, P.kernel)[0])
    for name in ("kernel", "conv_bias", "weights", "fc_bias", "dz1"):
        np.testing.assert_array_equal(getattr(full, name), getattr(GRADS, name))
    dx, dk, db = cnn6.conv2d_backward(GRADS.dz1, X, P.kernel, with_dx=False)
    assert dx is None
    np.testing.assert_array_equal(dk, GRADS.kernel)
    for call in (
        lambda: cnn6.backward(P, TRACE, Y, with_dx="no"),
        lambda: cnn6.conv2d_backward(GRADS.dz1, X, P.kernel, with_dx=1),
    ):
        with pytest.raises(TypeError, match="^with_dx: expected True or False"):
            call()


def test_naive_forward_leaves_its_params_unchanged():
    """The plain loops add the weighted sum onto the dense bias; a 0-d array bias must not
    be changed in place."""
    x, y, params = cnn6.running_example()
    params = cnn6.Params(params.kernel, params.conv_bias, params.weights, np.array(0.2))
    cnn6.naive.forward(params, x, y)
    assert float(params.fc_bias) == 0.2
