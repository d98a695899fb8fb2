"""Interactive explorers (ipywidgets): change the input or the parameters, see every matrix.

One call per chapter, each returning an :class:`Explorer` (a VBox of controls above an
``Output`` that holds the current view):

- :func:`explore_data` (chapter 1): the square's place, the noise range, the square's value;
- :func:`explore_convolution` (chapter 2): the same, plus the kernel's nine weights and the bias:
  x ⋆ K + b_c = z1;
- :func:`explore_maxpool` (chapter 4): z1 → a1 → a2, the winner of each window outlined;
- :func:`explore_network` (chapters 7 to 11): everything above plus the dense layer, the label,
  the activation and the learning rate η; shows the whole forward pass, the loss, every delta,
  every parameter gradient, and the loss after one step of gradient descent. It starts at the
  running example with η = :data:`cnn6.example.LEARNING_RATE`, the step of chapter 11;
- :func:`explore_training` (the training chapter): learning rate, epochs, optimizer,
  training-set size, the square's contrast and the seed; a button trains a network and shows
  its loss and accuracy curves. It starts as the chapter's own training run.

Every control is a native, labelled form field: a number box (``input type=number``: the
arrow keys step it), a drop-down (``select``), a check box or a button, each with a visible
label in the book's symbols (``K[0,1]``, ``bias b_c``, ``learning rate η``). Screen readers
and the keyboard reach each of them, in JupyterLab and in the static book alike. (ipywidgets'
sliders draw a ``role="slider"`` handle that no option of theirs can name, so none is used.)

A redraw computes the forward and backward passes with the engine and writes the new view into
the ``Output`` widget's state directly (``Output.outputs``), not through ``with output:``. So:

- when a notebook is executed with its widget state stored (``make execute``), the state holds
  the view, and the static book shows the real matrices with no kernel;
- under nbval nothing is printed outside the widget, and the explorer's text form (the view's
  text, fixed format) is compared like any other output.

The input image: a fixed noise pattern u (6x6, values in [0, 1) with two decimals) scaled to
[low, high], then, when ``square`` is on, the 3x3 block with top-left corner (row, col) set to
``square_value``. Noise pattern 0 and the defaults give the book's running example exactly
(:func:`cnn6.running_example`); patterns 1 to 9 are other draws.
"""

from __future__ import annotations

import base64
import html
import inspect
import io
import math
import time

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np

from .. import (
    Params,
    accuracy,
    backward,
    forward,
    init_params,
    make_dataset,
    running_example,
    sgd_step,
    train,
)
from .. import validation as check
from ..example import LEARNING_RATE
from ..example import SEED as _EXAMPLE_SEED
from .display import Matrix, Row, Stack, fmt, show_trace
from .kit import View, check_digits, winners

__all__ = [
    "Explorer",
    "example_image",
    "explore_convolution",
    "explore_data",
    "explore_maxpool",
    "explore_network",
    "explore_training",
]

NOISE_PATTERNS = 10
_ACTIVATIONS = ("relu", "leaky_relu", "elu")


def _number(value, description, low=None, high=None, step=None, label_width=150, width=250):
    """A labelled number box: ``description`` is its visible label and its accessible name;
    the arrow keys step it by ``step``. Integers give an integer box; ``low``/``high`` bound it.
    """
    integer = isinstance(value, int) and not isinstance(value, bool)
    kwargs = {
        "value": value,
        "description": description,
        "style": {"description_width": f"{label_width}px"},
        "layout": w.Layout(width=f"{width}px"),
        "continuous_update": True,
    }
    if step is not None:
        kwargs["step"] = step
    if low is None:
        return (w.IntText if integer else w.FloatText)(**kwargs)
    return (w.BoundedIntText if integer else w.BoundedFloatText)(min=low, max=high, **kwargs)


def _choice(options, value, description, label_width=150, width=250):
    """A labelled drop-down (a ``select``: the arrow keys move through the options)."""
    return w.Dropdown(
        options=options,
        value=value,
        description=description,
        style={"description_width": f"{label_width}px"},
        layout=w.Layout(width=f"{width}px"),
    )


# ---------------------------------------------------------------- the input image


def _example_setup():
    """(u, corner) such that the defaults give the running example's image exactly."""
    x, _, _ = running_example()
    _, y, corners = make_dataset(2, np.random.default_rng(_EXAMPLE_SEED), return_corners=True)
    k = int(np.flatnonzero(y == 1)[0])
    r, c = (int(v) for v in corners[k])
    # make_dataset draws the noise first: the same generator gives the pixels under the square.
    u = np.random.default_rng(_EXAMPLE_SEED).uniform(0.0, 1.0, size=(2, 6, 6))[k].round(2)
    outside = np.ones((6, 6), dtype=bool)
    outside[r : r + 3, c : c + 3] = False
    if not np.array_equal(u[outside], x[outside]):  # make_dataset changed: keep what we see
        u = x.copy()
    return u, (r, c)


_EXAMPLE = None


def _noise(pattern):
    global _EXAMPLE
    if pattern == 0:
        if _EXAMPLE is None:
            _EXAMPLE = _example_setup()
        return _EXAMPLE[0]
    return np.random.default_rng(1000 + pattern).uniform(0.0, 1.0, size=(6, 6)).round(2)


def _example_corner():
    _noise(0)
    return _EXAMPLE[1]


def example_image(row=None, col=None, low=0.0, high=1.0, square_value=1.0, square=True, noise=0):
    """The explorers' input image x (6, 6): noise pattern `noise` (0..9) scaled to [low, high],
    with the 3x3 square at (row, col) set to `square_value` when `square` is True.

    row, col: 0..3, default the running example's corner. With every default this is the
    running example's image.
    """
    s = _image_settings(row, col, low, high, square_value, square, noise)
    return _image(**s)


def _image_settings(row, col, low, high, square_value, square, noise):
    r0, c0 = _example_corner()
    row = r0 if row is None else check.integer(row, "row", low=0)
    col = c0 if col is None else check.integer(col, "col", low=0)
    if row > 3:
        raise ValueError(f"row: expected an integer from 0 to 3, got {row}")
    if col > 3:
        raise ValueError(f"col: expected an integer from 0 to 3, got {col}")
    low, high = check.noise_range(low, high)
    square_value = check.real(square_value, "square_value")
    square = check.flag(square, "square")
    noise = check.integer(noise, "noise", low=0)
    if noise >= NOISE_PATTERNS:
        raise ValueError(f"noise: expected an integer from 0 to {NOISE_PATTERNS - 1}, got {noise}")
    return dict(
        row=row, col=col, low=low, high=high, square_value=square_value, square=square, noise=noise
    )


def _image(row, col, low, high, square_value, square, noise):
    x = low + (high - low) * _noise(noise)
    if square:
        x = x.copy()
        x[row : row + 3, col : col + 3] = square_value
    return x


# ---------------------------------------------------------------- the explorer widget


class Explorer(w.VBox):
    """Controls above an Output holding the current view; redrawn on every change.

    Attributes: ``controls`` (dict name -> widget), ``output`` (the ``Output``), ``view`` (the
    object shown: it has a text form and an HTML form), ``last_redraw_ms``. :meth:`redraw`
    recomputes and redraws; its text form (``repr``) is the view's text form.
    """

    def __init__(self, title, controls, layout_rows, compute, live=True, **kwargs):
        self.controls = dict(controls)
        self.output = w.Output(layout=w.Layout(width="100%", overflow="auto"))
        self._compute = compute
        self.view = None
        self.last_redraw_ms = math.nan
        header = w.HTML(f"<b>{title}</b>")
        super().__init__([header, *layout_rows, self.output], **kwargs)
        # live: every change of a control redraws; otherwise only the buttons do.
        for control in self.controls.values():
            if isinstance(control, w.Button):
                control.on_click(lambda _button: self.redraw())
            elif live:
                control.observe(lambda _change: self.redraw(), names="value")
        self.redraw()

    def values(self):
        """The controls' current values, by name (buttons left out)."""
        return {k: c.value for k, c in self.controls.items() if not isinstance(c, w.Button)}

    def redraw(self):
        """Recompute the view from the controls and show it; returns the view."""
        start = time.perf_counter()
        try:
            view = self._compute(self.values())
        except (ValueError, TypeError) as err:  # shown, not raised: the reader sees why
            view = _message(str(err))
        self.view = view
        data = {"text/plain": repr(view)}
        for mime, method in (("text/html", "_repr_html_"), ("image/png", "_repr_png_")):
            if hasattr(view, method):
                value = getattr(view, method)()
                if value is not None:
                    data[mime] = value
        self.output.outputs = ({"output_type": "display_data", "data": data, "metadata": {}},)
        self.last_redraw_ms = (time.perf_counter() - start) * 1000.0
        return view

    def __repr__(self):
        return repr(self.view)

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs) or {}
        data["text/plain"] = repr(self.view)
        return data


def _message(text):
    """What an explorer shows instead of its view when a control's value is refused."""
    return View(text, f'<div style="color:#b2182b;font-family:monospace">{html.escape(text)}</div>')


# ---------------------------------------------------------------- controls


def _image_controls(s):
    c = {
        "square": w.Checkbox(
            value=s["square"],
            description="square in the image (class 1)",
            indent=False,
            layout=w.Layout(width="250px"),
        ),
        "row": _number(s["row"], "square's top row", 0, 3),
        "col": _number(s["col"], "square's left column", 0, 3),
        "low": _number(s["low"], "noise: lowest value", -1.0, 2.0, 0.05),
        "high": _number(s["high"], "noise: highest value", -1.0, 2.0, 0.05),
        "square_value": _number(s["square_value"], "square's value", -1.0, 2.0, 0.05),
        "noise": _number(s["noise"], "noise pattern", 0, NOISE_PATTERNS - 1),
    }
    rows = [
        w.HBox(
            [
                w.VBox([c["row"], c["col"], c["square"]]),
                w.VBox([c["low"], c["high"], c["square_value"], c["noise"]]),
            ]
        )
    ]
    return c, rows


def _x_from(v):
    low, high = v["low"], v["high"]
    if not low < high:
        raise ValueError(
            f"noise: expected lowest value < highest value, got {fmt(low, 2)}, {fmt(high, 2)}"
        )
    return _image(v["row"], v["col"], low, high, v["square_value"], v["square"], v["noise"])


def _kernel_controls(kernel, conv_bias):
    c = {
        f"K{i}{j}": _number(float(kernel[i, j]), f"K[{i},{j}]", step=0.1, label_width=44, width=124)
        for i in range(3)
        for j in range(3)
    }
    grid = w.GridBox(
        list(c.values()),
        layout=w.Layout(grid_template_columns="repeat(3, 128px)", grid_gap="2px"),
    )
    # unbounded, like the weights: a trained b_c (about -4.6 in the training chapter) is kept
    c["conv_bias"] = _number(float(conv_bias), "bias b_c", step=0.05)
    row = w.HBox(
        [
            w.VBox([w.HTML("kernel K (type a weight, or step it with the arrow keys)"), grid]),
            w.VBox([c["conv_bias"]]),
        ],
        layout=w.Layout(align_items="flex-start"),
    )
    return c, [row]


def _kernel_from(v):
    return np.array([[v[f"K{i}{j}"] for j in range(3)] for i in range(3)], dtype=np.float64)


def _dense_controls(weights, fc_bias):
    c = {
        f"w{k}": _number(float(weights[k]), f"w[{k}]", step=0.1, label_width=36, width=116)
        for k in range(4)
    }
    c["fc_bias"] = _number(float(fc_bias), "bias b_f", step=0.1, label_width=60, width=140)
    row = w.VBox(
        [w.HTML("dense layer: weights w, bias b_f"), w.HBox(list(c.values()))],
    )
    return c, [row]


def _params_from(v):
    return Params(
        _kernel_from(v),
        float(v["conv_bias"]),
        np.array([v[f"w{k}"] for k in range(4)], dtype=np.float64),
        float(v["fc_bias"]),
    )


def _check_params_arg(params):
    if params is None:
        return running_example()[2]
    if not isinstance(params, Params):
        raise TypeError(
            f"params: expected a cnn6.Params (see cnn6.init_params), got {type(params).__name__}"
        )
    kernel = check.array(params.kernel, "params.kernel", (2,))
    weights = check.array(params.weights, "params.weights", (1,))
    if kernel.shape != (3, 3) or weights.shape != (4,):
        raise ValueError(
            f"params: expected kernel (3, 3) and weights (4,), got "
            f"{kernel.shape} and {weights.shape}"
        )
    return Params(
        kernel,
        check.real(params.conv_bias, "params.conv_bias"),
        weights,
        check.real(params.fc_bias, "params.fc_bias"),
    )


def _square_mask(v):
    mask = np.zeros((6, 6), dtype=bool)
    if v["square"]:
        mask[v["row"] : v["row"] + 3, v["col"] : v["col"] + 3] = True
    return mask


# ---------------------------------------------------------------- chapter 1: the data


def explore_data(
    row=None, col=None, low=0.0, high=1.0, square_value=1.0, square=True, noise=0, digits=2
):
    """Explorer of the input image: the square's row and column (0..3), the noise range
    [low, high], the square's value, the noise pattern; the square's pixels are outlined.

    Defaults: the running example's image. Returns an :class:`Explorer`.
    """
    s = _image_settings(row, col, low, high, square_value, square, noise)
    digits = check_digits(digits)
    c, rows = _image_controls(s)

    def compute(v):
        x = _x_from(v)
        label = 1 if v["square"] else 0
        where = f"square at row {v['row']}, column {v['col']}" if v["square"] else "no square"
        low, high = v["low"], v["high"]
        return Row(
            [Matrix(x, "x", digits=digits, highlight=_square_mask(v))],
            f"class {label} ({where}); noise Uniform({fmt(low, 2)}, {fmt(high, 2)}), "
            f"square_value {fmt(v['square_value'], 2)}",
        )

    return Explorer("The input image x", c, rows, compute)


# ---------------------------------------------------------------- chapter 2: convolution


def explore_convolution(
    params=None,
    row=None,
    col=None,
    low=0.0,
    high=1.0,
    square_value=1.0,
    square=True,
    noise=0,
    digits=2,
):
    """Explorer of z1 = x ⋆ K + b_c: the image's controls (see :func:`explore_data`), the nine
    kernel weights K[i,j] and the bias b_c. params: a :class:`cnn6.Params` whose kernel and
    conv_bias start the controls (default: the running example's). Returns an
    :class:`Explorer`.
    """
    params = _check_params_arg(params)
    s = _image_settings(row, col, low, high, square_value, square, noise)
    digits = check_digits(digits)
    c, rows = _image_controls(s)
    ck, krows = _kernel_controls(params.kernel, params.conv_bias)

    def compute(v):
        x, kernel, b = _x_from(v), _kernel_from(v), float(v["conv_bias"])
        z1 = forward(Params(kernel, b, params.weights, params.fc_bias), x).z1
        return Row(
            [
                Matrix(x, "x", digits=digits, highlight=_square_mask(v)),
                "⋆",
                Matrix(kernel, "K", digits=digits),
                "+",
                Matrix(b, "b_c", digits=digits),
                "=",
                Matrix(z1, "z1", digits=digits),
            ],
            "z1 = x ⋆ K + b_c",
        )

    return Explorer("Convolution: z1 = x ⋆ K + b_c", {**c, **ck}, rows + krows, compute)


# ---------------------------------------------------------------- chapter 4: max-pool


def explore_maxpool(
    params=None,
    row=None,
    col=None,
    low=0.0,
    high=1.0,
    square_value=1.0,
    square=True,
    noise=0,
    activation="relu",
    digits=2,
):
    """Explorer of z1 → a1 → a2: the image's and the kernel's controls and the activation; the
    winner of each 2x2 window is outlined in a1. Returns an :class:`Explorer`.
    """
    params = _check_params_arg(params)
    s = _image_settings(row, col, low, high, square_value, square, noise)
    activation = check.activation(activation)
    digits = check_digits(digits)
    c, rows = _image_controls(s)
    ck, krows = _kernel_controls(params.kernel, params.conv_bias)
    ck["activation"] = _choice(_ACTIVATIONS, activation, "activation")
    krows[0].children[1].children += (ck["activation"],)

    def compute(v):
        x = _x_from(v)
        p = Params(_kernel_from(v), float(v["conv_bias"]), params.weights, params.fc_bias)
        t = forward(p, x, activation=v["activation"])
        return Row(
            [
                Matrix(x, "x", digits=digits, highlight=_square_mask(v)),
                "conv →",
                Matrix(t.z1, "z1", digits=digits),
                f"{v['activation']} →",
                Matrix(t.a1, "a1", digits=digits, highlight=winners(t.pool_idx, t.a1.shape)),
                "max-pool →",
                Matrix(t.a2, "a2", digits=digits),
            ],
            "max-pool: each 2×2 window of a1 keeps its maximum (outlined)",
        )

    return Explorer("Max-pool: a2 = maxpool(a1)", {**c, **ck}, rows + krows, compute)


# ---------------------------------------------------------------- chapters 7-11: the network


def explore_network(
    params=None,
    y=None,
    row=None,
    col=None,
    low=0.0,
    high=1.0,
    square_value=1.0,
    square=True,
    noise=0,
    activation="relu",
    lr=LEARNING_RATE,
    digits=3,
):
    """Explorer of the whole network on one image: every matrix of the forward pass, the loss,
    every delta of the backward pass, the four parameter gradients dK, db_c, dw, db_f, and the
    loss after one step of gradient descent with learning rate η = `lr`.

    Controls: the image's (see :func:`explore_data`), the kernel's nine weights K[i,j], the
    bias b_c, the four dense weights w[k], the bias b_f, the label y, the activation, the
    learning rate η. params: start values (default: the running example's); y: 0 or 1
    (default: 1 with the square, 0 without); lr: default :data:`cnn6.example.LEARNING_RATE`,
    the step chapter 11 takes (every max-pool window stays active after it). Returns an
    :class:`Explorer`.
    """
    params = _check_params_arg(params)
    s = _image_settings(row, col, low, high, square_value, square, noise)
    y = (1 if s["square"] else 0) if y is None else int(check.labels(y, "y", None))
    activation = check.activation(activation)
    lr = check.real(lr, "lr", low=0.01, high=5.0)
    digits = check_digits(digits)
    c, rows = _image_controls(s)
    ck, krows = _kernel_controls(params.kernel, params.conv_bias)
    cd, drows = _dense_controls(params.weights, params.fc_bias)
    extra = {
        "y": _choice([("0 (no square)", 0), ("1 (square)", 1)], y, "label y", width=280),
        "activation": _choice(_ACTIVATIONS, activation, "activation"),
        "lr": _number(lr, "learning rate η", 0.01, 5.0, 0.01),
    }
    krows[0].children[1].children += (extra["activation"], extra["lr"], extra["y"])
    c["square"].observe(lambda ch: setattr(extra["y"], "value", int(ch["new"])), names="value")

    def compute(v):
        x, p = _x_from(v), _params_from(v)
        t = forward(p, x, v["y"], activation=v["activation"])
        g = backward(p, t, v["y"], with_dx=True)  # the whole pass, down to the image
        after = sgd_step(p, g, v["lr"])
        t_after = forward(after, x, v["y"], activation=v["activation"])
        step = Row(
            [
                Matrix(t.loss, "loss before", digits=digits),
                f"one step, η = {fmt(v['lr'], 3)} →",
                Matrix(t_after.loss, "loss after", digits=digits),
                "   ",
                Matrix(after.kernel, "new K", digits=digits),
                Matrix(after.conv_bias, "new b_c", digits=digits),
                Matrix(after.weights, "new w", digits=digits),
                Matrix(after.fc_bias, "new b_f", digits=digits),
            ],
            # (a caption: no symbols, the view's HTML sets captions in capitals)
            "one step of gradient descent: each parameter minus the learning rate times its"
            " gradient",
        )
        trace = show_trace(t, g, digits=digits)
        return Stack([*trace.rows, step])

    return Explorer(
        "The whole network: forward, loss, backward, one step",
        {**c, **ck, **cd, **extra},
        rows + krows + drows,
        compute,
    )


# ---------------------------------------------------------------- chapter 12: training


def _train_default(name):
    """A default of :func:`cnn6.train`, read from its signature (the explorer starts there)."""
    return inspect.signature(train).parameters[name].default


_TRAIN_RATES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def explore_training(
    n=4000,
    lr=None,
    epochs=None,
    optimizer=None,
    square_value=1.0,
    seed=0,
    n_test=2000,
    digits=3,
):
    """Explorer of training: the learning rate η, the number of epochs, the optimizer, the
    size of the training set, the square's value (its contrast with the noise in [0, 1]) and
    the seed. The button trains a network and shows the loss and accuracy curves, the learned
    parameters and the accuracy on `n_test` test images. The explorer trains once when it is
    created, so its first view is a real run.

    Each run is the training chapter's, step for step: ``rng = np.random.default_rng(seed)``
    draws `n` training images, then `n_test` test images, then the start
    :func:`cnn6.init_params`, and :func:`cnn6.train` trains with the test set as validation.
    lr, epochs, optimizer: default :func:`cnn6.train`'s own. So with every default the first
    view is the chapter's training run (seed 0, 4,000 training and 2,000 test images, the
    default recipe). Returns an :class:`Explorer`.
    """
    n = check.integer(n, "n", low=20)
    if n > 4000:
        raise ValueError(f"n: expected an integer from 20 to 4000, got {n}")
    lr = _train_default("lr") if lr is None else check.real(lr, "lr", low=0.0, low_open=True)
    if lr > 1.0:
        raise ValueError(f"lr: expected a learning rate in (0, 1], got {lr}")
    epochs = _train_default("epochs") if epochs is None else check.integer(epochs, "epochs", low=5)
    if epochs > 100:
        raise ValueError(f"epochs: expected an integer from 5 to 100, got {epochs}")
    optimizer = _train_default("optimizer") if optimizer is None else optimizer
    if optimizer not in ("sgd", "momentum", "adam"):
        raise ValueError(f"optimizer: expected 'sgd', 'momentum' or 'adam', got {optimizer!r}")
    square_value = check.real(square_value, "square_value", low=0.0, high=2.0)
    seed = check.integer(seed, "seed", low=0)
    if seed > 20:
        raise ValueError(f"seed: expected an integer from 0 to 20, got {seed}")
    n_test = check.integer(n_test, "n_test", low=1)
    digits = check_digits(digits)
    rates = sorted({*_TRAIN_RATES, float(lr)})
    c = {
        "lr": _choice([(fmt(r, 3), r) for r in rates], float(lr), "learning rate η"),
        "epochs": _number(epochs, "epochs", 5, 100),
        "optimizer": _choice(["sgd", "momentum", "adam"], optimizer, "optimizer"),
        "n": _number(n, "training images", 20, 4000, 20),
        "square_value": _number(square_value, "square's value", 0.0, 2.0, 0.05),
        "seed": _number(seed, "seed", 0, 20),
    }
    # White on a dark blue: 8:1 contrast (the "primary" style's lighter blue gives 3:1).
    button = w.Button(
        description="train a network",
        style={"button_color": "#1d4f91", "text_color": "white"},
        layout=w.Layout(width="160px"),
    )
    c["train"] = button
    rows = [
        w.HBox(
            [
                w.VBox([c["lr"], c["epochs"], c["optimizer"]]),
                w.VBox([c["n"], c["square_value"], c["seed"]]),
            ]
        ),
        button,
    ]

    def compute(v):
        rng = np.random.default_rng(v["seed"])
        X, y = make_dataset(v["n"], rng, square_value=v["square_value"])
        X_test, y_test = make_dataset(n_test, rng, square_value=v["square_value"])
        params, history = train(
            init_params(rng),
            X,
            y,
            rng=rng,
            lr=v["lr"],
            epochs=v["epochs"],
            optimizer=v["optimizer"],
            validation=(X_test, y_test),
        )
        test_acc = accuracy(params, X_test, y_test)
        return _training_view(v, history, params, test_acc, n_test, digits)

    # Training takes seconds: only the button starts it (and the first view).
    return Explorer("Training", c, rows, compute, live=False)


def _training_view(v, history, params, test_acc, n_test, digits):
    epochs = np.arange(1, len(history.loss) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.0, 2.8), dpi=80, facecolor="white")
    ax1.plot(epochs, history.loss, label="training", color="#2166ac")
    if history.val_loss:
        ax1.plot(epochs, history.val_loss, label="test", color="#b2182b", ls="--")
    ax1.set_xlabel("epoch")
    ax1.set_title("loss (mean BCE)")
    ax1.legend()
    ax2.plot(epochs, history.accuracy, label="training", color="#2166ac")
    if history.val_accuracy:
        ax2.plot(epochs, history.val_accuracy, label="test", color="#b2182b", ls="--")
    ax2.set_ylim(0.4, 1.02)
    ax2.set_xlabel("epoch")
    ax2.set_title("accuracy")
    ax2.legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    png = buf.getvalue()
    summary = Row(
        [
            Matrix(params.kernel, "learned K", digits=digits),
            Matrix(params.conv_bias, "b_c", digits=digits),
            Matrix(params.weights, "w", digits=digits),
            Matrix(params.fc_bias, "b_f", digits=digits),
        ],
        f"after {len(history.loss)} epochs ({v['optimizer']}, learning rate {fmt(v['lr'], 3)}, "
        f"{v['n']} images, seed {v['seed']}): training loss {fmt(history.loss[-1], digits)}, "
        f"training accuracy {fmt(history.accuracy[-1], 3)}, "
        f"test accuracy {fmt(test_acc, 3)} on {n_test} new images",
    )
    alt = (
        f"Loss and accuracy per epoch, {len(history.loss)} epochs: training loss from "
        f"{fmt(history.loss[0], digits)} to {fmt(history.loss[-1], digits)}, training accuracy "
        f"from {fmt(history.accuracy[0], 3)} to {fmt(history.accuracy[-1], 3)}"
    )
    if history.val_accuracy:
        alt += (
            f"; test accuracy from {fmt(history.val_accuracy[0], 3)} "
            f"to {fmt(history.val_accuracy[-1], 3)}"
        )
    img = (
        f'<img alt="{html.escape(alt)}" style="max-width:100%" '
        f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
    )
    # The curves are inside the HTML (no separate PNG form: the output holds them once).
    return View(repr(summary), f"<div>{img}</div>{summary._repr_html_()}")
