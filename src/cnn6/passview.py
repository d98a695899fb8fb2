"""The whole pass on one page: every forward value of one image with its gradient under it.

    x → z1 → a1 → a2 → a3 → z4 → a4 → loss      (forward values, top row)
    dx   dz1  da1  da2  da3  dz4   ·    1        (the gradient of the loss with respect to each)
    K, b_c by the convolution and w, b_f by the dense layer, each with its gradient under it.

A view: it reads a trace (``cnn6.forward``) and its gradients (``cnn6.backward``) and draws them
with the package's public display helpers; it computes nothing of the network itself.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

# (forward field, its title, gradient field or None, the gradient's title, width of the column)
_STEPS = (
    ("x", "x", "dx", "dx", 6),
    ("z1", "z1", "dz1", "dz1", 4),
    ("a1", "a1", "da1", "da1", 4),
    ("a2", "a2", "da2", "da2", 2.5),
    ("a3", "a3", "da3", "da3", 4),
    ("z4", "z4", "dz4", "dz4", 1.4),
    ("a4", "a4", None, "(dz4 = a4 − y)", 1.4),
    ("loss", "loss", None, "dloss = 1", 1.4),
)
# parameters: (field, title, gradient title, column): K and b_c where the convolution is,
# w and b_f where the dense layer is
_PARAMS = (
    ("kernel", "K", "dK", 1),
    ("conv_bias", "b_c", "db_c", 2),
    ("weights", "w", "dw", 4),
    ("fc_bias", "b_f", "db_f", 5),
)


class PassView:
    """The figure (``figure``, a matplotlib Figure), its text form (``repr``), which lists
    every matrix of the figure, each value with its gradient under it, for nbval to compare,
    and its text alternative (``alt``: what the figure shows and its main numbers), the
    ``alt`` of the image in its HTML form (``cnn6.show_figure``'s forms)."""

    def __init__(self, figure, text, alt):
        self.figure, self.text, self.alt = figure, text, alt

    def __repr__(self):
        return self.text

    def _figure(self):
        from .view.display import show_figure

        return show_figure(self.figure, self.alt, dpi=80)

    def _repr_png_(self):
        return self._figure().png

    def _repr_html_(self):
        return self._figure().html

    def _repr_mimebundle_(self, include=None, exclude=None):
        view = self._figure()
        return {"text/plain": self.text, "text/html": view.html, "image/png": view.png}


def _largest(named, count, digits):
    """The `count` entries of largest size among the arrays in `named` ({name: array}), as
    "dK[1, 0] = -0.41" (no index for a scalar), largest first."""
    entries = []
    for name, a in named.items():
        for index, v in np.ndenumerate(np.asarray(a, dtype=float)):
            where = f"[{', '.join(str(i) for i in index)}]" if index else ""
            entries.append((-abs(v), f"{name}{where} = {_fmt(v, digits)}"))
    entries.sort(key=lambda e: e[0])  # stable: ties keep the order of `named`
    return [text for _, text in entries[:count]]


def _fmt(value, digits):
    import cnn6

    return cnn6.fmt(value, digits)


def _alt(trace, grads, params, digits):
    """What the figure shows, in words, with its main numbers."""
    y = getattr(trace, "y", None)
    label = "" if y is None else f"label y = {_fmt(np.asarray(y), 0)}, "
    parameters = {"dK": grads.kernel, "db_c": grads.conv_bias, "dw": grads.weights,
                  "db_f": grads.fc_bias}  # fmt: skip
    return (
        "The whole pass for one image as coloured matrices with their numbers. Top row, the "
        "forward values x (6x6), z1, a1 (4x4), a2 (2x2), a3 (4), z4, a4 and the loss; under "
        "each, the gradient of the loss with respect to it; below, the parameters K, b_c, w, "
        "b_f and their gradients. The max-pool's winners are outlined in a1 and da1. "
        f"Here {label}z4 = {_fmt(trace.z4, digits)}, prediction a4 = {_fmt(trace.a4, digits)}, "
        f"loss = {_fmt(trace.loss, digits + 1)}, dz4 = {_fmt(grads.dz4, digits)}. Largest "
        f"parameter gradients: {'; '.join(_largest(parameters, 3, digits))}. Largest entry "
        f"of dx: {_largest({'dx': grads.dx}, 1, digits)[0]}."
    )


def _pair(trace, grads):
    """Check that trace and grads describe one image; return the two as dicts of arrays."""
    for obj, name, fields in (
        (trace, "trace", [s[0] for s in _STEPS]),
        (grads, "grads", [s[2] for s in _STEPS if s[2]] + [p[0] for p in _PARAMS]),
    ):
        missing = [f for f in fields if not hasattr(obj, f)]
        if missing:
            raise TypeError(
                f"{name}: expected a cnn6 result with fields {missing}, got {obj!r:.80}"
            )
    if np.ndim(trace.x) != 2:
        raise ValueError(
            f"trace: expected the trace of one image (6, 6), got x {np.shape(trace.x)}"
        )
    if trace.loss is None:
        raise ValueError("trace: expected a trace with a loss (call cnn6.forward with y)")
    if grads.dx is None:
        raise ValueError(
            "grads: expected dx too; call cnn6.backward(params, trace, y, with_dx=True)"
        )
    if np.shape(grads.dz1) != np.shape(trace.z1):
        raise ValueError(
            f"grads: expected the gradients of this trace, got dz1 {np.shape(grads.dz1)}"
        )
    fwd = {s[0]: np.asarray(getattr(trace, s[0]), dtype=float) for s in _STEPS}
    back = {s[2]: np.asarray(getattr(grads, s[2]), dtype=float) for s in _STEPS if s[2]}
    return fwd, back


def show_pass(trace, grads, params, digits=2):
    """The whole pass on one page, for one image: a :class:`PassView`.

    trace: ``cnn6.forward(params, x, y)`` of one image (6, 6); grads: ``cnn6.backward`` of it;
    params: the cnn6.Params of that pass (drawn with their gradients); digits: decimals shown.
    """
    import cnn6  # the public display helpers (fmt, show_matrix, show_row, plot_matrix)

    fwd, back = _pair(trace, grads)
    if not isinstance(params, cnn6.Params):
        raise TypeError(f"params: expected a cnn6.Params, got {type(params).__name__}")
    if not np.allclose(cnn6.forward(params, trace.x).z4, trace.z4):
        raise ValueError("params: expected the parameters of this trace")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 6:
        raise ValueError(f"digits: expected an int from 0 to 6, got {digits!r}")

    fig = plt.figure(figsize=(20, 12))
    grid = fig.add_gridspec(4, len(_STEPS), width_ratios=[s[4] for s in _STEPS],
                            height_ratios=[6, 6, 3.5, 3.5], hspace=0.4, wspace=0.3)  # fmt: skip
    # the winners of the max-pool, outlined in a1 and da1: the only cells the gradient crosses
    winners = np.zeros(fwd["a1"].size, dtype=bool)
    winners[np.asarray(trace.pool_idx).ravel()] = True
    winners = winners.reshape(fwd["a1"].shape)
    lines = [f"the whole pass on one page (loss {cnn6.fmt(trace.loss, digits + 1)})",
             "[ ] marks the winners of the max-pool in a1 and da1", ""]  # fmt: skip
    for col, (field, title, dfield, dtitle, _) in enumerate(_STEPS):
        top, bottom = fig.add_subplot(grid[0, col]), fig.add_subplot(grid[1, col])
        mark = winners if field == "a1" else None
        cnn6.plot_matrix(top, fwd[field], title, digits=digits, highlight=mark)
        delta = back[dfield] if dfield else (np.ones(()) if field == "loss" else None)
        if delta is None:
            bottom.set_axis_off()
            bottom.text(0.5, 0.5, dtitle, ha="center", va="center", fontsize=10)
            lines += [repr(cnn6.show_matrix(fwd[field], title, digits=digits + 1)), dtitle, ""]
        else:
            name = dtitle if dfield else "dloss"
            cnn6.plot_matrix(bottom, delta, name, kind="grad", digits=digits, highlight=mark)
            lines += [repr(cnn6.show_matrix(fwd[field], title, digits=digits + 1, highlight=mark)),
                      repr(cnn6.show_matrix(delta, name, "grad", digits + 1, highlight=mark)),
                      ""]  # fmt: skip
    for field, title, dtitle, col in _PARAMS:
        value = np.asarray(getattr(params, field), dtype=float)
        grad = np.asarray(getattr(grads, field), dtype=float)
        cnn6.plot_matrix(fig.add_subplot(grid[2, col]), value, title, digits=digits)
        cnn6.plot_matrix(fig.add_subplot(grid[3, col]), grad, dtitle, kind="grad", digits=digits)
        lines += [repr(cnn6.show_matrix(value, title, digits=digits + 1)),
                  repr(cnn6.show_matrix(grad, dtitle, "grad", digits + 1)), ""]  # fmt: skip
    for y_pos, label in ((0.8, "forward"), (0.56, "gradient\nof the loss"),
                         (0.27, "parameters\nand their\ngradients")):  # fmt: skip
        fig.text(0.005, y_pos, label, fontsize=11, fontweight="bold", va="center")
    fig.suptitle(
        "The whole pass on one page: x → z1 → a1 → a2 → a3 → z4 → a4 → loss, "
        "and under each value the gradient of the loss",
        fontsize=14,
        y=0.93,
    )
    plt.close(fig)
    return PassView(fig, "\n".join(lines).rstrip(), _alt(trace, grads, params, digits))
