"""Tests of cnn6.view.display (and of the kit it shares with the animations and explorers):
formatting, colours, determinism, validation.

The traces and gradients shown here come from cnn6.naive, the network in plain loops (as
types.SimpleNamespace with the field names of cnn6.Trace and cnn6.Grads), so that these
tests do not depend on the fast engine.
"""

import html
import math
import re
import types
from html.parser import HTMLParser

import matplotlib
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cnn6 import naive
from cnn6.view import display as D
from cnn6.view import kit

matplotlib.use("Agg")


def stand_in(n=None, seed=0):
    """A forward and backward pass of the 15-parameter CNN by cnn6.naive, as (trace, grads)
    namespaces: one image when n is None, else a batch of n."""
    rng = np.random.default_rng(seed)
    params = types.SimpleNamespace(
        kernel=rng.normal(size=(3, 3)), conv_bias=0.1, weights=rng.normal(size=4), fc_bias=-0.2
    )
    x = rng.uniform(size=(n or 1, 6, 6))
    y = rng.integers(0, 2, size=n or 1)
    x, y = (x, y) if n else (x[0], int(y[0]))
    values = naive.forward(params, x, y)
    grads = naive.backward(params, values, y)
    return types.SimpleNamespace(**values, y=y), types.SimpleNamespace(**grads)


def cell_styles(page):
    """(style, text) of every <td> holding a number in an HTML string (not the empty corner
    of the headers)."""
    return re.findall(r'<td style="([^"]*)">([^<]+)</td>', page)


def background(style):
    return re.search(r"background:(#[0-9a-f]{6})", style).group(1)


def plain(page):
    return html.unescape(re.sub(r"<[^>]+>", "", page))


# ------------------------------------------------------------------ fmt


@pytest.mark.parametrize(
    "value, digits, text",
    [
        (0.123456, 4, "0.1235"),
        (2.5, 0, "2"),
        (3.5, 0, "4"),
        (-1.23456, 2, "-1.23"),
        (-0.00001, 4, "0.0000"),
        (-0.0, 3, "0.000"),
        (-0.4, 0, "0"),
        (7, 2, "7.00"),
        (1e6, 1, "1000000.0"),
        (float("nan"), 2, "nan"),
        (float("-inf"), 2, "-inf"),
    ],
)
def test_fmt_values(value, digits, text):
    assert D.fmt(value, digits) == text


def test_fmt_numpy_scalars_print_as_plain_numbers():
    assert D.fmt(np.float64(-0.5)) == "-0.5000"
    assert D.fmt(np.float32(0.25), 2) == "0.25"
    assert D.fmt(np.int64(3), 1) == "3.0"
    assert D.fmt(np.array(-1e-9)) == "0.0000"
    assert D.fmt(np.float64(1.0), np.int64(1)) == "1.0"


@pytest.mark.parametrize(
    "value, error",
    [
        ("1.0", TypeError),
        (None, TypeError),
        (True, TypeError),
        (1 + 2j, TypeError),
        ([1.0], TypeError),
        (np.array([1.0, 2.0]), ValueError),
    ],
)
def test_fmt_rejects_non_numbers(value, error):
    with pytest.raises(error, match="value"):
        D.fmt(value)


@pytest.mark.parametrize(
    "digits, error",
    [
        (-1, ValueError),
        (11, ValueError),
        (2.0, TypeError),
        (True, TypeError),
        ("3", TypeError),
    ],
)
def test_fmt_rejects_bad_digits(digits, error):
    with pytest.raises(error, match="digits"):
        D.fmt(1.0, digits)


# ------------------------------------------------------------------ show_matrix


def test_matrix_html_has_every_value_and_the_caption():
    a = np.arange(16, dtype=float).reshape(4, 4) / 7 - 1
    page = D.show_matrix(a, "z1", digits=3)._repr_html_()
    cells = [text for _, text in cell_styles(page)]
    assert cells == [D.fmt(v, 3) for v in a.ravel()]
    assert "z1 (4×4)" in plain(page)
    assert "<script" not in page and " id=" not in page and " class=" not in page


def test_matrix_value_scale_runs_light_to_dark_with_readable_text():
    page = D.show_matrix([[0.0, 1.0], [2.0, 4.0]], "a1")._repr_html_()
    styles = [s for s, _ in cell_styles(page)]
    light, dark = kit.SCALES["value"][0][1], kit.SCALES["value"][-1][1]
    assert background(styles[0]) == light and background(styles[3]) == dark
    assert kit.luminance(light) > kit.luminance(background(styles[1])) > kit.luminance(dark)
    for style in styles:
        text = re.search(r"[^-]color:(#[0-9a-f]{6})", style).group(1)
        assert kit.contrast(text, background(style)) >= kit.MIN_CONTRAST


def test_grad_scale_is_white_at_zero_and_symmetric():
    a = np.array([[-2.0, 0.0, 1.0], [0.5, 2.0, -1.0]])
    styles = [s for s, _ in cell_styles(D.show_matrix(a, "dz1", kind="grad")._repr_html_())]
    colours = [background(s) for s in styles]
    blue, light_blue, white, light_red, red = (c for _, c in kit.SCALES["grad"])
    assert colours[1] == white == "#ffffff"  # 0
    assert colours[0] == blue  # -max|a|: the blue end
    assert colours[4] == red  # +max|a|: the red end
    assert colours[2] == light_red and colours[5] == light_blue  # +-1 halfway, symmetric
    # The scale is symmetric even when the values are not: -1 is only half way to blue.
    one_sided = D.show_matrix([[-1.0, 2.0]], kind="grad")._repr_html_()
    assert [background(s) for s, _ in cell_styles(one_sided)] == [light_blue, red]


def test_all_zero_gradient_is_white():
    styles = cell_styles(D.show_matrix(np.zeros((2, 2)), kind="grad")._repr_html_())
    assert {background(s) for s, _ in styles} == {"#ffffff"}


def test_matrix_text_form_is_fixed_and_deterministic():
    a = np.array([[1.0, -0.25], [-0.0, 10.0]])
    text = repr(D.show_matrix(a, "K", digits=2))
    assert text == "K (2×2)\n  1.00   -0.25\n  0.00   10.00"
    assert text == repr(D.show_matrix(a.copy(), "K", digits=2))
    assert D.show_matrix(a, "K")._repr_html_() == D.show_matrix(a.copy(), "K")._repr_html_()
    assert "np.float64" not in text


def test_matrix_scalar_and_vector():
    assert repr(D.show_matrix(np.float64(0.5), "a4")) == "a4 (scalar)\n 0.500"
    assert repr(D.show_matrix([1, 2, 3, 4], "a3", digits=1)) == "a3 (4)\n 1.0   2.0   3.0   4.0"
    assert "a3 (4)" in plain(D.show_matrix([1, 2, 3, 4], "a3")._repr_html_())
    assert len(cell_styles(D.show_matrix(7.0)._repr_html_())) == 1


def test_highlight_outlines_the_cells():
    a = np.arange(16.0).reshape(4, 4)
    window = {(r, c) for r in range(3) for c in range(3)}
    m = D.show_matrix(a, "x", highlight=window)
    styles = [s for s, _ in cell_styles(m._repr_html_())]
    outlined = [k for k, s in enumerate(styles) if "box-shadow" in s]
    assert outlined == [r * 4 + c for r in range(3) for c in range(3) if (r, c) != (1, 1)]
    assert "font-weight:700" in styles[5] and "font-weight" not in styles[3]
    assert repr(m).splitlines()[1] == "[ 0.000] [ 1.000] [ 2.000]   3.000"
    mask = np.zeros((4, 4), dtype=bool)
    mask[3, 3] = True
    assert repr(D.show_matrix(a, highlight=mask)).endswith("[15.000]")


@pytest.mark.parametrize(
    "kwargs, error, word",
    [
        ({"a": [[1.0, np.nan]]}, ValueError, "finite"),
        ({"a": np.zeros((2, 2, 2))}, ValueError, "shape"),
        ({"a": np.zeros((0, 3))}, ValueError, "empty"),
        ({"a": "abc"}, TypeError, "^a: expected"),
        ({"a": [["a", "b"]]}, TypeError, "^a: expected"),
        ({"a": [[1, 2]], "kind": "heat"}, ValueError, "kind"),
        ({"a": [[1, 2]], "digits": 20}, ValueError, "digits"),
        ({"a": [[1, 2]], "name": 3}, TypeError, "name"),
        ({"a": [[1, 2]], "highlight": [(0, 5)]}, ValueError, "highlight"),
        ({"a": [[1, 2]], "highlight": np.ones((3, 3), dtype=bool)}, ValueError, "highlight"),
        ({"a": [[1, 2]], "kind": "grad", "vmin": -1}, ValueError, "vmin"),
        ({"a": [[1, 2]], "vmin": 3, "vmax": 1}, ValueError, "vmax"),
    ],
)
def test_show_matrix_rejects_bad_input(kwargs, error, word):
    with pytest.raises(error, match=word):
        D.show_matrix(**kwargs)


# ------------------------------------------------------------------ rows, trace, pipeline


def test_row_mixes_matrices_and_tokens():
    x, K = np.ones((6, 6)), -np.eye(3)
    row = D.show_row(x, "⋆", K, "+", 0.5, "=", np.zeros((4, 4)), names=["x", "K", "b", "z1"])
    page, text = row._repr_html_(), repr(row)
    for label in ("x (6×6)", "K (3×3)", "b (scalar)", "z1 (4×4)", "⋆", "+", "="):
        assert label in plain(page) and label in text
    assert "flex-wrap:wrap" in page
    assert (
        page
        == D.show_row(
            x, "⋆", K, "+", 0.5, "=", np.zeros((4, 4)), names=["x", "K", "b", "z1"]
        )._repr_html_()
    )
    assert max(len(line) for line in text.splitlines()) <= 100
    renamed = D.show_row(D.show_matrix(K, "K", kind="grad"), names=["dkernel"])
    assert repr(renamed).startswith("dkernel (3×3)") and blue_end() in renamed._repr_html_()


def blue_end():
    return kit.SCALES["grad"][0][1]


@pytest.mark.parametrize(
    "items, kwargs, error, word",
    [
        ((), {}, ValueError, "items"),
        ((np.ones(2), np.ones(2)), {"names": ["a"]}, ValueError, "names"),
        ((np.ones(2),), {"names": "a"}, ValueError, "names"),
        ((np.ones(2), [np.nan]), {}, ValueError, r"items\[1\]"),
        ((np.ones(2),), {"kind": "signed"}, ValueError, "kind"),
    ],
)
def test_show_row_rejects_bad_input(items, kwargs, error, word):
    with pytest.raises(error, match=word):
        D.show_row(*items, **kwargs)


def test_trace_shows_every_step_with_the_pool_winners():
    trace, grads = stand_in()
    view = D.show_trace(trace, grads)
    page, text = view._repr_html_(), repr(view)
    for name in (
        "x (6×6)",
        "z1 (4×4)",
        "a1 (4×4)",
        "a2 (2×2)",
        "a3 (4)",
        "z4 (scalar)",
        "a4 (scalar)",
        "loss (scalar)",
        "dz4 (scalar)",
        "da3 (4)",
        "da2 (2×2)",
        "da1 (4×4)",
        "dz1 (4×4)",
        "dx (6×6)",
        "dK (3×3)",
        "db_c (scalar)",
        "dw (4)",
        "db_f (scalar)",
    ):
        assert name in text and name in plain(page), name
    a1_block = text.split("a1 (4×4)")[1]
    assert D.fmt(trace.a2.max(), 3) in a1_block
    assert repr(D.show_trace(trace, grads)) == text
    assert D.show_trace(trace, grads)._repr_html_() == page
    assert "dz4" not in repr(D.show_trace(trace))


def test_trace_highlights_exactly_the_four_winners():
    trace, _ = stand_in(seed=3)
    view = D.show_trace(trace)
    a1 = view.rows[0].items[4]
    assert a1.name == "a1" and a1.mask.sum() == 4
    assert np.array_equal(np.sort(trace.a1.ravel()[a1.mask.ravel()]), np.sort(trace.a2.ravel()))


def test_batch_trace_shows_the_chosen_sample():
    trace, grads = stand_in(n=5, seed=1)
    text = repr(D.show_trace(trace, grads, index=2))
    assert "sample 2 of 5" in text and "loss (batch mean)" in text
    single, _ = stand_in(seed=1)
    assert D.fmt(trace.a4[2], 3) in text
    with pytest.raises(ValueError, match="index"):
        D.show_trace(trace, index=5)
    with pytest.raises(TypeError, match="index"):
        D.show_trace(trace, index=1.0)
    with pytest.raises(ValueError, match="index"):
        D.show_trace(single, index=1)


def test_trace_rejects_bad_objects():
    trace, grads = stand_in()
    with pytest.raises(TypeError, match="trace.x"):
        D.show_trace(object())
    with pytest.raises(TypeError, match="grads"):
        D.show_trace(trace, grads=types.SimpleNamespace(dz4=0.1))
    bad = types.SimpleNamespace(**{**vars(trace), "z1": np.full((4, 4), np.inf)})
    with pytest.raises(ValueError, match="trace.z1"):
        D.show_trace(bad)
    bad = types.SimpleNamespace(**{**vars(trace), "pool_idx": np.array([[0, 1], [2, 99]])})
    with pytest.raises(ValueError, match="pool_idx"):
        D.show_trace(bad)


def test_pipeline_marks_the_highlighted_step():
    text = repr(D.pipeline("a2"))
    assert "▶ a2" in text and "▶ z1" not in text and "backward" not in text
    page = D.pipeline("a2")._repr_html_()
    assert highlighted(page) == ["a2"]
    for name in ("x", "z1", "a1", "a2", "a3", "z4", "a4", "loss", "conv", "max-pool", "BCE"):
        assert name in plain(page)
    both = D.pipeline(["z1", "dz1"], direction="backward")
    assert "▶ z1" in repr(both) and "▶ dz1" in repr(both) and "dK, db_c" in repr(both)
    assert highlighted(both._repr_html_()) == ["z1", "dz1"]
    assert D.pipeline()._repr_html_() == D.pipeline()._repr_html_()
    assert highlighted(D.pipeline()._repr_html_()) == []


def highlighted(page):
    """The names of the pipeline's boxes drawn in the highlight colour, left to right."""
    boxes = re.findall(r'<div style="background:#c2410c;[^>]*>(.*?)</div>', page)
    return [plain(box).split()[0] for box in boxes]


@pytest.mark.parametrize(
    "kwargs, error, word",
    [
        ({"highlight": "z9"}, ValueError, "highlight"),
        ({"highlight": "dz1"}, ValueError, "direction"),
        ({"highlight": 3}, TypeError, "highlight"),
        ({"direction": "up"}, ValueError, "direction"),
    ],
)
def test_pipeline_rejects_bad_input(kwargs, error, word):
    with pytest.raises(error, match=word):
        D.pipeline(**kwargs)


def test_show_source_gives_the_code():
    src = D.show_source(D.fmt)
    assert repr(src).startswith("def fmt(value, digits=4):")
    assert src._repr_markdown_().startswith("```python\ndef fmt(")
    with pytest.raises(TypeError, match="obj"):
        D.show_source(len)


# ------------------------------------------------------------------ figures


def test_plot_matrix_prints_each_value():
    fig = Figure()
    ax = fig.add_subplot()
    a = np.array([[-1.0, 0.0], [0.5, 1.0]])
    assert D.plot_matrix(ax, a, "dz1", kind="grad", highlight={(0, 0)}) is ax
    assert sorted(t.get_text() for t in ax.texts) == sorted(D.fmt(v, 2) for v in a.ravel())
    assert ax.get_title() == "dz1 (2×2)"
    image = ax.get_images()[0]
    assert image.norm.vmin == -1.0 and image.norm.vmax == 1.0
    assert len(ax.lines) == 4
    with pytest.raises(TypeError, match="ax"):
        D.plot_matrix(None, a)


@pytest.mark.parametrize("kind", kit.KINDS)
def test_plot_matrix_numbers_read_on_their_cells(kind):
    from matplotlib.colors import to_hex

    a = np.linspace(-1.0, 1.0, 64).reshape(8, 8)
    ax = D.plot_matrix(Figure().add_subplot(), a, kind=kind)
    image = ax.get_images()[0]
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}
    assert len(texts) == a.size
    for (i, j), v in np.ndenumerate(a):
        cell = to_hex(image.to_rgba(np.array([[v]]))[0, 0])  # as drawn, through the colour map
        ratio = kit.contrast(to_hex(texts[i, j].get_color()), cell)
        assert ratio >= kit.MIN_CONTRAST, (v, cell, ratio)


def test_plot_images_titles():
    X = np.random.default_rng(0).uniform(size=(5, 6, 6))
    fig = D.plot_images(X, y=[0, 1, 0, 1, 1], proba=[0.1, 0.97, 0.2, 0.8, 0.5], ncols=3)
    assert isinstance(fig, Figure) and all(isinstance(ax, Axes) for ax in fig.axes)
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 6 and titles[1] == "y=1  P(1)=0.97" and titles[5] == ""
    assert D.plot_images(X[0]).axes[0].get_title() == ""
    with pytest.raises(ValueError, match="y"):
        D.plot_images(X, y=[0, 1])
    with pytest.raises(ValueError, match="proba"):
        D.plot_images(X, proba=[0.1, 2, 0, 0, 0])
    with pytest.raises(ValueError, match="ncols"):
        D.plot_images(X, ncols=0)


def test_plot_images_says_where_each_square_is():
    import cnn6

    X, y, corners = cnn6.make_dataset(6, np.random.default_rng(3), return_corners=True)
    proba = np.linspace(0.05, 0.95, 6)
    fig = D.plot_images(X, y, proba=proba)
    images = fig.alt.split("Image ")[1:]
    assert fig.alt.startswith("6 images of 6x6 pixels") and len(images) == 6
    for i, text in enumerate(images):
        assert text.startswith(f"{i + 1}: class {y[i]}, ")
        assert f"P(1)={D.fmt(proba[i], 2)}" in text
        r, c = corners[i]
        if y[i] == 1:
            assert f"square at rows {r}-{r + 2}, columns {c}-{c + 2}," in text
        else:
            assert "square" not in text
    assert D.plot_images(X, y, proba=proba, corners=corners).alt == fig.alt  # found = given
    # A class-1 image whose square is broken (one pixel changed) is said so, not guessed.
    broken = X.copy()
    one = int(np.flatnonzero(y == 1)[0])
    broken[one, corners[one][0], corners[one][1]] += 0.01
    assert "square not located" in D.plot_images(broken, y).alt.split("Image ")[one + 1]
    assert "no square found" in D.plot_images(np.full((6, 6), 0.5)).alt  # one value everywhere


def test_plot_images_shows_its_text_alternative():
    from IPython.core.formatters import DisplayFormatter

    X, y = np.random.default_rng(0).uniform(size=(2, 6, 6)), [0, 1]
    fig = D.plot_images(X, y)
    assert isinstance(fig, D.Gallery) and isinstance(fig, Figure)
    formats, _ = DisplayFormatter().format(fig)
    assert set(formats) == {"text/plain", "text/html", "image/png"}
    assert formats["text/plain"] == repr(fig) == f"[figure] {fig.alt}"
    assert f'alt="{html.escape(fig.alt)}"' in formats["text/html"]
    assert formats["image/png"].startswith(b"\x89PNG")
    assert DisplayFormatter().format(D.plot_images(X, y))[0] == formats  # deterministic
    # A chapter may retitle the axes and replace the text alternative.
    fig.axes[0].set_title("corner (0, 0)")
    fig.alt = "Two images."
    assert DisplayFormatter().format(fig)[0]["text/plain"] == "[figure] Two images."


@pytest.mark.parametrize(
    "corners, words",
    [
        (np.zeros((3, 2), dtype=int), r"corners must be an int array of shape \(2, 2\)"),
        (np.zeros((2, 2)), "corners must be an int array"),
        (np.array([[0, 0], [4, 0]]), r"corner in 0..3 x 0..3, got \[4, 0\]"),
        (np.array([[-1, 2], [0, 0]]), r"got \[-1, 2\]"),
    ],
)
def test_plot_images_rejects_bad_corners(corners, words):
    with pytest.raises(ValueError, match=words):
        D.plot_images(np.zeros((2, 6, 6)), corners=corners)


def test_trace_of_the_real_core():
    import cnn6

    rng = np.random.default_rng(0)
    X, y = cnn6.make_dataset(4, rng)
    params = cnn6.init_params(rng)
    trace = cnn6.forward(params, X, y)
    view = D.show_trace(trace, cnn6.backward(params, trace, y), index=1)
    assert "sample 1 of 4" in repr(view) and "dK (3×3)" in plain(view._repr_html_())
    assert view.rows[0].items[4].mask.sum() == 4


# ------------------------------------------------------------------ the shared kit


def test_one_digits_check_for_every_view():
    from cnn6.view import animation, widgets

    makers = [
        lambda d: D.fmt(1.0, d),
        lambda d: D.show_matrix([1.0], digits=d),
        lambda d: D.show_trace(stand_in()[0], digits=d),
        lambda d: animation.animate_maxpool(np.eye(2), digits=d),
        lambda d: widgets.explore_data(digits=d),
    ]
    for make in makers:
        with pytest.raises(ValueError) as info:
            make(kit.MAX_DIGITS + 1)
        assert (
            str(info.value) == f"digits: expected an integer from 0 to 10, got {kit.MAX_DIGITS + 1}"
        )
        with pytest.raises(TypeError, match="^digits: expected an integer"):
            make(2.0)
    assert D.fmt(1 / 3, kit.MAX_DIGITS) == "0.3333333333"


def test_colour_follows_the_scale_and_picks_readable_text():
    value, grad = kit.SCALES["value"], kit.SCALES["grad"]
    assert kit.colour(0.0, (0.0, 1.0), "value") == (value[0][1], kit.BLACK)
    assert kit.colour(1.0, (0.0, 1.0), "value") == (value[-1][1], kit.BLACK)
    assert kit.colour(5.0, (0.0, 1.0), "value") == kit.colour(1.0, (0.0, 1.0), "value")
    assert kit.colour(0.0, (-2.0, 2.0), "grad") == ("#ffffff", kit.BLACK)
    assert kit.colour(-2.0, (-2.0, 2.0), "grad")[0] == grad[0][1]
    assert kit.colour(0.5, (0.0, 1.0), "value")[0] == value[1][1]


def test_text_on_picks_the_colour_that_contrasts_more():
    crossing = math.sqrt(1.05 * 0.05) - 0.05  # the luminance where black and white tie: 0.179
    greys = [f"#{k:02x}{k:02x}{k:02x}" for k in range(256)]
    for grey in greys:
        text = kit.text_on(grey)
        assert text == (kit.WHITE if kit.luminance(grey) < crossing else kit.BLACK), grey
        assert kit.contrast(grey, text) >= 4.58
    assert kit.text_on("#08306b") == kit.WHITE and kit.text_on("#f7fbff") == kit.BLACK
    # the old rule (white up to luminance 0.408, else #1f2328) read 2.3:1 on this blue
    assert kit.contrast("#73b2d8", kit.WHITE) < 2.4 and kit.text_on("#73b2d8") == kit.BLACK


def test_contrast_is_the_wcag_ratio():
    assert kit.contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert kit.contrast("#ffffff", "#000000") == kit.contrast("#000000", "#ffffff")
    assert kit.contrast("#3a86c8", "#3a86c8") == 1.0
    assert kit.contrast("#777777", "#ffffff") == pytest.approx(4.478, abs=1e-3)  # just fails AA
    assert kit.luminance("#ffffff") == 1.0 and kit.luminance("#000000") == 0.0
    for bad in ("#fff", "ffffff", "#gggggg", None):
        with pytest.raises(ValueError, match="rgb must be a colour"):
            kit.luminance(bad)


def test_limits_of_each_kind():
    a = np.array([[-1.0, 3.0], [0.5, 2.0]])
    assert kit.limits(a, "value") == (-1.0, 3.0)
    assert kit.limits(a, "grad") == (-3.0, 3.0)
    assert kit.limits(np.full(3, 2.0), "value") == (2.0, 3.0)
    assert kit.limits(np.zeros(3), "grad") == (-1.0, 1.0)
    assert kit.limits(a, "value", vmin=-5, vmax=5) == (-5.0, 5.0)
    assert kit.limits(a, "grad", vmax=0.5) == (-0.5, 0.5)
    with pytest.raises(ValueError, match="vmin"):
        kit.limits(a, "grad", vmin=-1.0)
    with pytest.raises(ValueError, match="vmin and vmax"):
        kit.limits(a, "value", vmin=2.0, vmax=1.0)


def test_winners_mask_marks_where_each_window_maximum_is():
    a1 = np.random.default_rng(7).normal(size=(4, 4))
    a2, pool_idx = naive.maxpool2d(a1)
    mask = kit.winners(pool_idx, a1.shape)
    assert mask.shape == (4, 4) and mask.sum() == 4
    np.testing.assert_array_equal(np.sort(a1[mask]), np.sort(a2.ravel()))
    first = kit.winners(pool_idx.ravel()[:1], a1.shape)
    assert first.sum() == 1 and a1[first][0] == a2[0, 0]


def test_view_shows_only_the_forms_it_has():
    from IPython.core.formatters import DisplayFormatter

    formats, _ = DisplayFormatter().format(kit.View("plain", "<b>rich</b>"))
    assert formats == {"text/plain": "plain", "text/html": "<b>rich</b>"}
    formats, _ = DisplayFormatter().format(D.show_source(D.fmt))
    assert set(formats) == {"text/plain", "text/markdown"}


def test_view_reads_only_public_names_and_the_core_never_reads_the_view():
    import ast
    from pathlib import Path

    package = Path(D.__file__).parents[1]
    for path in sorted((package / "view").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = set()  # names bound to modules of the package: their attributes are checked
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                for alias in node.names:
                    assert not alias.name.startswith("_"), f"{path.name} imports {alias.name}"
                    if node.level and node.module is None:  # from .. import validation
                        modules.add(alias.asname or alias.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                private = node.attr.startswith("_") and not node.attr.endswith("__")
                assert not (private and node.value.id in modules), (
                    f"{path.name} reads {node.value.id}.{node.attr}"
                )
    core = ("data", "example", "layers", "naive", "network", "training", "validation")
    for name in core:
        tree = ast.parse((package / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert "view" not in (node.module or ""), f"{name}.py imports the view"
                assert all(a.name != "view" for a in node.names), f"{name}.py imports the view"


def test_show_figure_gives_the_image_its_text_alternative():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [1, 0])
    view = D.show_figure(fig, "A line falling from 1 to 0 <as x grows>.")
    page = view._repr_html_()
    assert 'alt="A line falling from 1 to 0 &lt;as x grows&gt;."' in page
    assert repr(view) == "[figure] A line falling from 1 to 0 <as x grows>."
    assert view._repr_png_().startswith(b"\x89PNG")
    assert D.show_figure(fig, "same").png == D.show_figure(fig, "same").png  # deterministic


@pytest.mark.parametrize(
    ("fig", "alt", "error", "words"),
    [
        ("not a figure", "x", TypeError, "fig must be a matplotlib Figure"),
        (None, "   ", TypeError, "fig must be a matplotlib Figure"),
        (Figure(), "", ValueError, "alt must be a non-empty string"),
        (Figure(), 3, ValueError, "alt must be a non-empty string"),
    ],
)
def test_show_figure_rejects_bad_arguments(fig, alt, error, words):
    with pytest.raises(error, match=words):
        D.show_figure(fig, alt)


# ------------------------------------------------------------------ accessibility of the HTML


# The book's theme (pydata-sphinx-theme): the page's text and background, and the colour its
# stylesheet gives table captions, in each mode. A view must set its own where these would show.
THEMES = {
    "light": {"": ("#222832", "#ffffff"), "caption": "#48566b"},
    "dark": {"": ("#ced6dd", "#14181e"), "caption": "#9ca4af"},
}


class TextColours(HTMLParser):
    """Every piece of text of an HTML string with the colour it is drawn in and the background
    it is drawn on, from the inline styles (inherited: the nearest element that sets one) and
    the theme's rules (`theme`, one of THEMES) where no inline style overrides them."""

    def __init__(self, theme):
        super().__init__()
        self.theme = theme
        self.stack = [(*theme[""], "")]
        self.texts = []  # (text, colour, background, element)

    def handle_starttag(self, tag, attrs):
        style = dict(attrs).get("style") or ""
        text, back, _ = self.stack[-1]
        found = re.search(r"(?:^|;)color:(#[0-9a-f]{6})", style)
        text = found.group(1) if found else self.theme.get(tag, text)
        found = re.search(r"background(?:-color)?:(#[0-9a-f]{6})", style)
        self.stack.append((text, found.group(1) if found else back, tag))

    def handle_endtag(self, tag):
        assert self.stack.pop()[2] == tag, f"</{tag}> closes another element"

    def handle_data(self, data):
        if data.strip():
            self.texts.append((data.strip(), *self.stack[-1]))


def text_colours(page, theme):
    parser = TextColours(THEMES[theme])
    parser.feed(page)
    parser.close()
    assert len(parser.stack) == 1, "unclosed elements"
    return parser.texts


def every_view():
    """One view of each kind the book shows, with highlights, both scales and a token row."""
    trace, grads = stand_in(seed=2)
    rng = np.random.default_rng(0)
    return [
        D.show_matrix(rng.normal(size=(4, 4)), "z1", highlight={(0, 0), (1, 1)}),
        D.show_matrix(rng.normal(size=(3, 3)), "dK", kind="grad", digits=4),
        D.show_matrix(rng.normal(size=4), "a3", highlight=[2]),
        D.show_matrix(0.25, "a4"),
        D.show_row(rng.normal(size=(6, 6)), "⋆", np.eye(3), "=", rng.normal(size=(4, 4))),
        D.show_trace(trace, grads),
        D.pipeline(["z1", "a4"]),
        D.pipeline(["z1", "dz1", "dkernel"], direction="backward"),
    ]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_text_of_every_view_has_contrast_in_both_themes(theme):
    worst = []
    for view in every_view():
        texts = text_colours(view._repr_html_(), theme)
        assert texts
        for text, ink, back, tag in texts:
            ratio = kit.contrast(ink, back)
            worst.append(ratio)
            assert ratio >= kit.MIN_CONTRAST, f"{text!r} in <{tag}>: {ink} on {back}, {ratio:.2f}"
    assert min(worst) < 5.5  # the cells' worst: the check reached them


def test_matrix_is_a_table_with_caption_and_headers():
    page = D.show_matrix(np.arange(12.0).reshape(3, 4), "z1")._repr_html_()
    assert page.count("<table") == 1 and page.count("<caption") == 1
    caption = re.search(r"<caption[^>]*>(.*?)</caption>", page).group(1)
    assert plain(caption).startswith("z1 (3×4)")  # what is drawn, as in the text form
    spoken = re.sub(r'<span aria-hidden="true"[^>]*>.*?</span>', "", caption)
    assert plain(spoken) == "z1 , 3 by 4"  # what a screen reader says
    columns = re.findall(r'<th scope="col"[^>]*>(\d+)</th>', page)
    rows = re.findall(r'<th scope="row"[^>]*>(\d+)</th>', page)
    assert columns == ["0", "1", "2", "3"] and rows == ["0", "1", "2"]
    body = re.findall(r"<tr[^>]*>(.*?)</tr>", re.search(r"<tbody>(.*)</tbody>", page).group(1))
    assert len(body) == 3 and all(row.startswith('<th scope="row"') for row in body)
    assert [len(cell_styles(row)) for row in body] == [4, 4, 4]
    assert "<script" not in page and " id=" not in page and " class=" not in page


def test_vector_and_scalar_tables():
    vector = D.show_matrix([1.0, 2.0, 3.0], "a3")._repr_html_()
    assert re.findall(r'<th scope="col"[^>]*>(\d+)</th>', vector) == ["0", "1", "2"]
    assert 'scope="row"' not in vector and vector.count("<tr") == 2  # headers, one row
    assert "a3 , vector of 3" == plain(
        re.sub(r'<span aria-hidden="true"[^>]*>.*?</span>', "", vector.split("</caption>")[0])
    )
    scalar = D.show_matrix(0.5, "a4")._repr_html_()
    assert "<th" not in scalar and len(cell_styles(scalar)) == 1 and scalar.count("<tr") == 1
    assert plain(re.search(r"<caption[^>]*>(.*?)</caption>", scalar).group(1)) == "a4 (scalar)"


def test_rows_and_traces_are_made_of_tables():
    trace, grads = stand_in()
    page = D.show_trace(trace, grads)._repr_html_()
    captions = [plain(c) for c in re.findall(r"<caption[^>]*>(.*?)</caption>", page)]
    assert page.count("<table") == len(captions) == 18
    assert captions[1].startswith("z1 (4×4)") and captions[-1].endswith(" (scalar)")
    row = D.show_row(np.eye(2), "+", np.ones(3), names=["A", "v"])._repr_html_()
    assert [plain(c) for c in re.findall(r"<caption[^>]*>(.*?)</caption>", row)] == [
        "A (2×2), 2 by 2",
        "v (3), vector of 3",
    ]
