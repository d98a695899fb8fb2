"""The explorers (cnn6.view.widgets) and the animations (cnn6.view.animation), outside a browser.

What the static book and nbval rely on: the views hold the engine's real numbers, in HTML and in
a fixed-format text; a control's change redraws within the budget; bad arguments raise with the
argument's name; an animation's HTML is byte-identical from one run to the next and requests
nothing from another site. (The pages themselves are checked in tests/test_browser.py.)
"""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest

import cnn6
from cnn6.view import animation, widgets
from cnn6.view.display import fmt

X, Y, PARAMS = cnn6.running_example()


# ---------------------------------------------------------------- the input image


def test_default_image_is_the_running_example():
    np.testing.assert_array_equal(widgets.example_image(), X)


def test_image_controls():
    x = widgets.example_image(row=0, col=3, low=-1.0, high=0.0, square_value=2.0)
    assert np.all(x[0:3, 3:6] == 2.0)
    outside = np.ones((6, 6), dtype=bool)
    outside[0:3, 3:6] = False
    assert np.all((x[outside] >= -1.0) & (x[outside] <= 0.0))
    plain = widgets.example_image(square=False, noise=3)
    assert not np.any(plain == 1.0) and plain.shape == (6, 6)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"row": 4}, ValueError, "row"),
        ({"col": -1}, ValueError, "col"),
        ({"row": 1.5}, TypeError, "row"),
        ({"low": 1.0, "high": 1.0}, ValueError, "high"),
        ({"square_value": float("nan")}, ValueError, "square_value"),
        ({"square": 1}, TypeError, "square"),
        ({"noise": 10}, ValueError, "noise"),
    ],
)
def test_image_arguments_are_checked(kwargs, error, name):
    with pytest.raises(error, match=name):
        widgets.example_image(**kwargs)


# ---------------------------------------------------------------- the explorers


def _html(explorer):
    (output,) = explorer.output.outputs
    assert output["output_type"] == "display_data"
    return output["data"]


@pytest.mark.parametrize(
    "make",
    [
        widgets.explore_data,
        widgets.explore_convolution,
        widgets.explore_maxpool,
        widgets.explore_network,
    ],
)
def test_explorer_shows_its_view_in_the_output(make):
    ex = make()
    data = _html(ex)
    assert "<table" in data["text/html"] and "<script" not in data["text/html"]
    assert data["text/plain"] == repr(ex) == repr(ex.view)
    bundle = ex._repr_mimebundle_()
    assert bundle["text/plain"] == repr(ex.view)
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_network_explorer_holds_the_engine_numbers():
    ex = widgets.explore_network()
    trace = cnn6.forward(PARAMS, X, Y)
    grads = cnn6.backward(PARAMS, trace, Y)
    after = cnn6.forward(cnn6.sgd_step(PARAMS, grads, 0.5), X, Y)
    text = repr(ex)
    for name in (
        "x (6×6)",
        "z1 (4×4)",
        "a1 (4×4)",
        "a2 (2×2)",
        "a3 (4)",
        "dz4",
        "da3 (4)",
        "da2 (2×2)",
        "da1 (4×4)",
        "dz1 (4×4)",
        "dK (3×3)",
        "dw (4)",
        "loss after",
    ):
        assert name in text, name
    assert fmt(trace.loss, 3) in text and fmt(after.loss, 3) in text
    assert fmt(grads.kernel[1, 0], 3) in text


def test_a_control_redraws_every_matrix():
    ex = widgets.explore_network()
    first = repr(ex)
    ex.controls["K00"].value = 0.25
    kernel = PARAMS.kernel.copy()
    kernel[0, 0] = 0.25
    params = cnn6.Params(kernel, PARAMS.conv_bias, PARAMS.weights, PARAMS.fc_bias)
    trace = cnn6.forward(params, X, Y)
    assert repr(ex) != first
    assert fmt(trace.loss, 3) in repr(ex)
    ex.controls["square"].value = False  # the label follows the square
    assert ex.controls["y"].value == 0
    assert "y = 0" in repr(ex)
    ex.controls["activation"].value = "elu"
    assert "ELU" in repr(ex)


def test_a_control_out_of_range_shows_a_message():
    ex = widgets.explore_data()
    ex.controls["noise_range"].value = (0.5, 0.5)
    assert "low < high" in repr(ex)
    ex.controls["noise_range"].value = (0.0, 1.0)
    assert "x (6×6)" in repr(ex)


@pytest.mark.parametrize(
    ("make", "kwargs", "error", "name"),
    [
        (widgets.explore_network, {"params": "K"}, TypeError, "params"),
        (widgets.explore_network, {"y": 2}, ValueError, "y"),
        (widgets.explore_network, {"activation": "tanh"}, ValueError, "activation"),
        (widgets.explore_network, {"lr": 0.0}, ValueError, "lr"),
        (widgets.explore_network, {"digits": -1}, ValueError, "digits"),
        (widgets.explore_convolution, {"low": 2.0}, ValueError, "high"),
        (widgets.explore_maxpool, {"activation": None}, TypeError, "activation"),
        (widgets.explore_training, {"n": 5}, ValueError, "n"),
        (widgets.explore_training, {"lr": 2.0}, ValueError, "lr"),
        (widgets.explore_training, {"epochs": 1000}, ValueError, "epochs"),
        (widgets.explore_training, {"optimizer": "rmsprop"}, ValueError, "optimizer"),
    ],
)
def test_explorer_arguments_are_checked(make, kwargs, error, name):
    with pytest.raises(error, match=name):
        make(**kwargs)


def test_training_explorer_trains_on_click():
    ex = widgets.explore_training(n=60, epochs=5, seed=1)
    data = _html(ex)
    png = base64.b64decode(re.search(r'base64,([A-Za-z0-9+/=]+)"', data["text/html"]).group(1))
    assert png.startswith(b"\x89PNG")
    assert "after 5 epochs" in repr(ex) and "test accuracy" in repr(ex)
    first = repr(ex)
    ex.controls["seed"].value = 2  # no training until the button is clicked
    assert repr(ex) == first
    ex.controls["train"].click()
    assert repr(ex) != first


# ---------------------------------------------------------------- the animations


@pytest.fixture(scope="module")
def conv_animation():
    return animation.animate_convolution(X, PARAMS.kernel, PARAMS.conv_bias)


def _frames(html):
    return re.findall(r'"data:image/png;base64,([A-Za-z0-9+/=]+)"', html)


def test_convolution_animation(conv_animation):
    a = conv_animation
    assert a.frames == 17 and len(_frames(a.html)) == 17
    z1 = cnn6.forward(PARAMS, X).z1
    assert "z1 (4×4)" in repr(a) and fmt(z1[3, 3], 2) in repr(a)
    assert a._repr_png_().startswith(b"\x89PNG")


def test_animation_html_is_self_contained(conv_animation):
    html = conv_animation.html
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html and 'class="fa' not in html
    data = html.split('class="cnn6-player-data">')[1].split("</script>")[0]
    assert "<" not in data  # the inlined frames and controls cannot end their <script> early


def test_animation_html_is_deterministic():
    trace = cnn6.forward(PARAMS, X, Y)
    grads = cnn6.backward(PARAMS, trace, Y)
    first = animation.animate_maxpool(trace.a1, grads.da2)
    second = animation.animate_maxpool(trace.a1, grads.da2)
    assert first.html == second.html and first.text == second.text
    assert first.frames == 5
    assert animation.animate_maxpool(trace.a1).html != first.html


def test_kernel_gradient_animation():
    trace = cnn6.forward(PARAMS, X, Y)
    grads = cnn6.backward(PARAMS, trace, Y)
    a = animation.animate_kernel_gradient(X, grads.dz1, dpi=40)
    assert a.frames == 10 and len(_frames(a.html)) == 10
    assert fmt(grads.kernel[2, 2], 2) in repr(a)


def test_frames_are_small_palette_pngs(conv_animation):
    from PIL import Image

    sizes = []
    for frame in _frames(conv_animation.html):
        data = base64.b64decode(frame)
        with Image.open(io.BytesIO(data)) as im:
            assert im.mode == "P"
        sizes.append(len(data))
    assert max(sizes) < 30_000, sizes


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: animation.animate_convolution(np.ones(6), np.ones((3, 3))), ValueError, "x"),
        (
            lambda: animation.animate_convolution(np.ones((6, 6)), np.ones((7, 3))),
            ValueError,
            "kernel",
        ),
        (
            lambda: animation.animate_convolution(np.ones((6, 6)), np.ones((3, 3)), bias="b"),
            TypeError,
            "bias",
        ),
        (
            lambda: animation.animate_kernel_gradient(np.ones((6, 6)), np.ones((7, 7))),
            ValueError,
            "dz1",
        ),
        (lambda: animation.animate_maxpool(np.ones((3, 4))), ValueError, "a1"),
        (lambda: animation.animate_maxpool(np.ones((4, 4)), np.ones((3, 3))), ValueError, "da2"),
        (lambda: animation.animate_maxpool(np.full((4, 4), np.nan)), ValueError, "a1"),
        (lambda: animation.animate_maxpool(np.ones((4, 4)), dpi=1000), ValueError, "dpi"),
        (lambda: animation.animate_maxpool(np.ones((4, 4)), interval=10), ValueError, "interval"),
    ],
)
def test_animation_arguments_are_checked(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_max_pool_ties_go_to_the_first_maximum():
    a1 = np.zeros((4, 4))
    a1[0, 1] = a1[1, 0] = 1.0  # a tie in the first window
    a = animation.animate_maxpool(a1, np.ones((2, 2)), dpi=40)
    lines = repr(a).splitlines()
    assert "[1.00]" in lines[2] and "[1.00]" not in lines[3]  # a1 row 0 holds the winner
