"""The scalar autodiff (cnn6.scalar): each local rule, the chain rule, and the whole network."""

from __future__ import annotations

import math

import numpy as np
import pytest

import cnn6
from cnn6.scalar import Scalar, graph, maximum, network_of_scalars


def _grads(nested):
    return np.array([[s.grad for s in row] for row in nested])


def _values(nested):
    return np.array([[s.data for s in row] for row in nested])


@pytest.mark.parametrize(
    "build, a_grad, b_grad",
    [
        (lambda a, b: a + b, 1.0, 1.0),  # add distributes
        (lambda a, b: a * b, -3.0, 2.0),  # multiply swaps
        (lambda a, b: maximum(a, b), 1.0, 0.0),  # max routes (2 > -3)
        (lambda a, b: maximum(b, a), 1.0, 0.0),
        (lambda a, b: a - b, 1.0, -1.0),
        (lambda a, b: a * a + b, 4.0, 1.0),  # a used twice: its two uses sum
        (lambda a, b: a.exp() * 1.0 + b, math.exp(2.0), 1.0),
        (lambda a, b: a.log() + b, 0.5, 1.0),
    ],
)
def test_local_rules(build, a_grad, b_grad):
    a, b = Scalar(2.0), Scalar(-3.0)
    out = build(a, b)
    out.backward()
    assert out.grad == 1.0
    assert a.grad == pytest.approx(a_grad, abs=1e-15)
    assert b.grad == pytest.approx(b_grad, abs=1e-15)


def test_max_tie_goes_to_the_first_argument():
    a, b = Scalar(1.5), Scalar(1.5)
    maximum(a, b).backward()
    assert (a.grad, b.grad) == (1.0, 0.0)
    zero, z = Scalar(0.0), Scalar(0.0)
    maximum(zero, z).backward()  # the ReLU at z = 0 passes nothing, as [z > 0] says
    assert z.grad == 0.0


def test_backward_matches_central_differences_on_a_composite():
    def f(u, v):
        return (maximum(u * v, 0.3) + (u + 1.0).log() * v.exp()) * u

    u0, v0, eps = 0.7, -0.4, 1e-6
    u, v = Scalar(u0), Scalar(v0)
    f(u, v).backward()
    du = (f(Scalar(u0 + eps), Scalar(v0)).data - f(Scalar(u0 - eps), Scalar(v0)).data) / (2 * eps)
    dv = (f(Scalar(u0), Scalar(v0 + eps)).data - f(Scalar(u0), Scalar(v0 - eps)).data) / (2 * eps)
    assert u.grad == pytest.approx(du, rel=1e-8)
    assert v.grad == pytest.approx(dv, rel=1e-8)


def test_backward_twice_gives_the_same_gradients():
    a = Scalar(3.0)
    out = a * a
    out.backward()
    out.backward()
    assert a.grad == 6.0


def test_graph_lists_each_node_once_parents_first():
    a = Scalar(1.0)
    b = a * a  # a is a parent twice
    c = b + a
    order = graph(c)
    assert len(order) == 3 and order[-1] is c
    assert order.index(a) < order.index(b) < order.index(c)


def test_network_of_scalars_equals_the_engine_to_1e_12():
    x, y, params = cnn6.running_example()
    trace = cnn6.forward(params, x, y)
    grads = cnn6.backward(params, trace, y, with_dx=True)
    net = network_of_scalars(params, x, y)
    net["loss"].backward()
    assert net["loss"].data == pytest.approx(trace.loss, abs=1e-12)
    assert np.allclose(_values(net["z1"]), trace.z1, rtol=0, atol=1e-12)
    for name, engine in (("x", grads.dx), ("z1", grads.dz1), ("a1", grads.da1),
                         ("a2", grads.da2), ("kernel", grads.kernel)):  # fmt: skip
        assert np.allclose(_grads(net[name]), engine, rtol=0, atol=1e-12), name
    assert np.allclose([s.grad for s in net["a3"]], grads.da3, rtol=0, atol=1e-12)
    assert np.allclose([s.grad for s in net["weights"]], grads.weights, rtol=0, atol=1e-12)
    for name, engine in (("z4", grads.dz4), ("conv_bias", grads.conv_bias),
                         ("fc_bias", grads.fc_bias)):  # fmt: skip
        assert abs(net[name].grad - engine) < 1e-12, name


@pytest.mark.parametrize("label", [0, 1])
def test_network_of_scalars_for_other_images_and_labels(label):
    rng = np.random.default_rng(3)
    X, _ = cnn6.make_dataset(3, rng)
    params = cnn6.init_params(rng)
    for x in X:
        trace = cnn6.forward(params, x, label)
        grads = cnn6.backward(params, trace, label, with_dx=True)
        net = network_of_scalars(params, x, label)
        net["loss"].backward()
        assert abs(net["loss"].data - trace.loss) < 1e-12
        assert np.allclose(_grads(net["kernel"]), grads.kernel, rtol=0, atol=1e-12)
        assert np.allclose(_grads(net["x"]), grads.dx, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: Scalar("1"), TypeError, "data"),
        (lambda: Scalar(True), TypeError, "data"),
        (lambda: Scalar(float("nan")), ValueError, "data"),
        (lambda: Scalar(1.0) + "2", TypeError, "other"),
        (lambda: Scalar(1.0) * None, TypeError, "other"),
        (lambda: maximum("a", 1.0), TypeError, "a"),
        (lambda: maximum(1.0, [2.0]), TypeError, "b"),
        (lambda: Scalar(0.0).log(), ValueError, "log"),
        (lambda: graph(1.0), TypeError, "root"),
    ],
)
def test_bad_input_names_the_argument(call, error, words):
    with pytest.raises(error, match=rf"^{words}\b"):
        call()


def test_network_of_scalars_checks_its_arguments():
    x, y, params = cnn6.running_example()
    with pytest.raises(TypeError, match="^params"):
        network_of_scalars("params", x, y)
    with pytest.raises(ValueError, match="^params"):
        network_of_scalars(cnn6.Params(np.ones((2, 2)), 0.0, np.ones(4), 0.0), x, y)
    with pytest.raises(ValueError, match="^params"):
        network_of_scalars(cnn6.Params(np.ones((1, 9)), 0.0, np.ones(4), 0.0), x, y)
    with pytest.raises(ValueError, match="^params"):
        network_of_scalars(cnn6.Params(params.kernel, float("nan"), params.weights, 0.0), x, y)
    with pytest.raises(ValueError, match="^x"):
        network_of_scalars(params, np.stack([x, x]), y)
    with pytest.raises(ValueError, match="^x"):
        network_of_scalars(params, x[:5], y)
    with pytest.raises(ValueError, match="^y"):
        network_of_scalars(params, x, 2)
    with pytest.raises(ValueError, match="^y"):
        network_of_scalars(params, x, True)
