"""The whole pass on one page (cnn6.passview): the figure and its text form show the engine's
numbers, every forward value with its gradient."""

from __future__ import annotations

import numpy as np
import pytest

import cnn6
from cnn6.passview import PassView, show_pass


@pytest.fixture(scope="module")
def example():
    x, y, params = cnn6.running_example()
    trace = cnn6.forward(params, x, y)
    return trace, cnn6.backward(params, trace, y, with_dx=True), params


@pytest.fixture(scope="module")
def view(example):
    """The running example's page (drawn once: a figure takes a few tenths of a second)."""
    return show_pass(*example)


def test_text_form_lists_every_value_and_gradient(example, view):
    trace, grads, params = example
    assert isinstance(view, PassView)
    text = repr(view)
    for name in ("x", "dx", "z1", "dz1", "a1", "da1", "a2", "da2", "a3", "da3", "z4", "dz4",
                 "a4", "loss", "K", "dK", "b_c", "db_c", "w", "dw", "b_f", "db_f"):  # fmt: skip
        assert f"\n{name} (" in text or f" {name} (" in text, name
    # numbers of the engine, to the three decimals shown (digits=2 in the figure, 3 in the text)
    for value in (trace.loss, trace.z4, trace.a4, grads.dz4, grads.conv_bias, grads.kernel[1, 0],
                  grads.dx[1, 3], grads.dz1[1, 3], params.weights[1]):  # fmt: skip
        assert cnn6.fmt(value, 3) in text, value


def test_text_form_changes_with_the_gradients(example, view):
    trace, grads, params = example
    other = grads._replace(kernel=grads.kernel + 0.5)
    assert repr(show_pass(trace, other, params)) != repr(view)


def test_figure_has_a_panel_per_value_and_gradient(example, view):
    trace, grads, params = example
    titles = [ax.get_title() for ax in view.figure.axes]
    for title in ("x (6×6)", "dx (6×6)", "z4 (scalar)", "dz4 (scalar)", "dK (3×3)", "dw (4)"):
        assert title in titles, titles
    # forward row (8), gradient row (8: under a4 a note, dz4 = a4 - y), parameters (4 + 4)
    assert len(titles) == 24 and titles.count("") == 1
    assert view._repr_png_().startswith(b"\x89PNG")


def test_bad_input_names_the_argument(example):
    trace, grads, params = example
    with pytest.raises(TypeError, match="^trace"):
        show_pass("trace", grads, params)
    with pytest.raises(TypeError, match="^grads"):
        show_pass(trace, params, params)
    with pytest.raises(TypeError, match="^params"):
        show_pass(trace, grads, "params")
    with pytest.raises(ValueError, match="^params"):
        show_pass(trace, grads, cnn6.sgd_step(params, grads, 0.5))
    with pytest.raises(ValueError, match="^trace"):
        show_pass(cnn6.forward(params, trace.x), grads, params)
    batch = cnn6.forward(params, np.stack([trace.x, trace.x]), [1, 1])
    with pytest.raises(ValueError, match="^trace"):
        show_pass(batch, grads, params)
    with pytest.raises(ValueError, match="^digits"):
        show_pass(trace, grads, params, digits=-1)
    lean = cnn6.backward(params, trace, trace.y)  # no dx: backward's default
    with pytest.raises(ValueError, match=r"^grads: expected dx too.*with_dx=True"):
        show_pass(trace, lean, params)


def test_pool_winners_are_outlined_in_a1_and_da1_only(example, view):
    trace, grads, params = example
    text = repr(view)
    a1_block = text.split("a1 (4×4)")[1].split("da1 (4×4)")[0]
    assert a1_block.count("[") == 4  # the four winners
    for winner in np.asarray(trace.pool_idx).ravel():
        assert f"[{cnn6.fmt(trace.a1.ravel()[winner], 3)}]" in a1_block
    assert "[" not in text.split("z1 (4×4)")[1].split("a1 (4×4)")[0]


def test_html_form_is_the_figure_with_its_text_alternative(example, view):
    import html

    from IPython.core.formatters import DisplayFormatter

    trace, grads, params = example
    formats, _ = DisplayFormatter().format(view)
    assert set(formats) == {"text/plain", "text/html", "image/png"}
    assert formats["text/plain"] == repr(view)  # the text form nbval compares, unchanged
    assert formats["text/html"].startswith("<img ")
    assert f'alt="{html.escape(view.alt)}"' in formats["text/html"]
    assert formats["image/png"].startswith(b"\x89PNG")
    # the main numbers, from the engine
    for number in (
        f"loss = {cnn6.fmt(trace.loss, 3)}",
        f"prediction a4 = {cnn6.fmt(trace.a4, 2)}",
        f"label y = {cnn6.fmt(trace.y, 0)}",
        f"dz4 = {cnn6.fmt(grads.dz4, 2)}",
    ):
        assert number in view.alt, number
    # the largest parameter gradient, found here by its own search
    named = {"dK": grads.kernel, "db_c": grads.conv_bias, "dw": grads.weights,
             "db_f": grads.fc_bias}  # fmt: skip
    name, index, value = max(
        ((n, i, v) for n, a in named.items() for i, v in np.ndenumerate(np.asarray(a))),
        key=lambda e: abs(e[2]),
    )
    where = f"[{', '.join(map(str, index))}]" if index else ""
    assert f"gradients: {name}{where} = {cnn6.fmt(value, 2)}" in view.alt
    k = np.unravel_index(np.argmax(np.abs(grads.dx)), grads.dx.shape)
    assert f"dx[{k[0]}, {k[1]}] = {cnn6.fmt(grads.dx[k], 2)}" in view.alt
    other = show_pass(trace, grads._replace(kernel=grads.kernel * 3), params)
    assert other.alt != view.alt
