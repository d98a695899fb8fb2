"""Animations that play in the static book, with no kernel: a window sliding over a matrix.

- :func:`animate_convolution`: the 3x3 kernel slides over the 6x6 image and ``z1`` fills in,
  cell by cell, each frame showing the window, the kernel, their element-wise products and
  the sum;
- :func:`animate_kernel_gradient`: the 4x4 ``dz1`` slides over ``x`` and ``dK`` fills in;
- :func:`animate_maxpool`: each 2x2 window of ``a1`` and its maximum, and, given ``da2``, the
  gradient routed back to the winner of each window.

Each returns a :class:`JSAnimation` with three forms:

- HTML: a small player of the project's own. Every frame is drawn with matplotlib and saved
  as a palette PNG; the frames, one alternative text and one description per frame are
  inlined in one self-contained block (no request to another site, no id that changes
  between runs). Its buttons and frame slider work with the keyboard, nothing moves
  until the reader asks, and each frame's description (which window, which value) is shown
  beside the image in a live region. Where scripts do not run (an untrusted notebook, a
  notebook viewer), the block shows the first frame, its description, a note and the list of
  every frame's description;
- text (``repr``, compared by nbval): what the animation shows and the final matrices;
- PNG: the last frame, which the PDF book shows.

The numbers come from :mod:`cnn6.naive`, the network in plain loops, whose loops the frames
step through; the windows (which pixels each frame outlines, and which its description
names) come from the engine's :func:`cnn6.window_indices` and the max-pool's indices.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.gridspec import GridSpec

from .. import naive
from .. import validation as check
from ..layers import window_indices
from .display import Matrix, Row, fmt, plot_matrix, show_row
from .kit import CMAPS, INK, OUTLINE, View, check_digits, colour, limits, winners

__all__ = [
    "JSAnimation",
    "animate_convolution",
    "animate_kernel_gradient",
    "animate_maxpool",
]

_EMPTY = "#f6f8fa"  # a cell not computed yet
_EMPTY_EDGE = "#d0d7de"
_WINDOW = OUTLINE  # outline of the current window (display's highlight colour)

# ---------------------------------------------------------------- the HTML player


def _svg(body):
    return f'<svg viewBox="0 0 16 16" aria-hidden="true" focusable="false">{body}</svg>'


_ICONS = {
    "first": _svg('<rect x="2" y="2" width="2" height="12"/><polygon points="14,2 5,8 14,14"/>'),
    "previous": _svg('<polygon points="12,2 3,8 12,14"/>'),
    "play": _svg('<polygon points="4,2 14,8 4,14"/>'),
    "pause": _svg(
        '<rect x="3" y="2" width="3.5" height="12"/><rect x="9.5" y="2" width="3.5" height="12"/>'
    ),
    "next": _svg('<polygon points="4,2 13,8 4,14"/>'),
    "last": _svg('<polygon points="2,2 11,8 2,14"/><rect x="12" y="2" width="2" height="12"/>'),
}
# (action, accessible name) of each button, in order; "play" toggles to "Pause" while playing.
_BUTTONS = (
    ("first", "First frame"),
    ("previous", "Previous frame"),
    ("play", "Play"),
    ("next", "Next frame"),
    ("last", "Last frame"),
)

# Colours are inherited from the page (the book's light or dark theme, JupyterLab's theme), so
# the controls have the contrast of the text around them; focus is a ring of the same colour.
_CSS = """\
.cnn6-player{margin:.5rem 0 1rem}
.cnn6-player figure{margin:0}
.cnn6-player figcaption{margin:0;color:inherit;font:inherit;text-align:left}
.cnn6-player img.cnn6-player-frame{display:block;max-width:100%;height:auto;background:#fff}
.cnn6-player-controls{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem;margin:.5rem 0}
.cnn6-player button{display:inline-flex;align-items:center;justify-content:center;\
min-width:2.5rem;min-height:2.5rem;padding:0 .6rem;border:1px solid currentColor;\
border-radius:.375rem;background:transparent;color:inherit;font:inherit;cursor:pointer}
.cnn6-player button:hover{background:rgba(128,128,128,.2)}
.cnn6-player button:focus-visible,.cnn6-player input:focus-visible,\
.cnn6-player summary:focus-visible{outline:3px solid currentColor;outline-offset:2px}
.cnn6-player svg{width:1rem;height:1rem;fill:currentColor}
.cnn6-player-slider{display:inline-flex;align-items:center;gap:.4rem;margin-left:.4rem}
.cnn6-player input[type=range]{width:12rem;max-width:50vw;accent-color:currentColor}
.cnn6-player-count{font-variant-numeric:tabular-nums}
.cnn6-player-step{margin:.25rem 0;min-height:3em}
.cnn6-player-note{font-style:italic}
"""

# Starts every player of the page not started yet (its own block through currentScript, even
# before the block is in the document). Plays only when asked, stops at the last frame and on
# any other click or key inside the player (Enter and Space on Play toggle it through its
# click); while playing, the live region is quiet.
_JS = """\
(function () {
  "use strict";
  function start(host) {
    if (!host || host.hasAttribute("data-cnn6-ready")) return;
    var source = host.querySelector("script.cnn6-player-data");
    var img = host.querySelector("img.cnn6-player-frame");
    var step = host.querySelector(".cnn6-player-step");
    if (!source || !img || !step) return;
    host.setAttribute("data-cnn6-ready", "");
    var data = JSON.parse(source.textContent);
    var steps = Array.prototype.map.call(
      host.querySelectorAll(".cnn6-player-steps li"), function (li) { return li.textContent; });
    var frames = [img.getAttribute("src")].concat(data.frames);
    var last = frames.length - 1, k = 0, timer = null;
    var note = host.querySelector(".cnn6-player-note");
    if (note) note.parentNode.removeChild(note);
    var holder = document.createElement("div");
    holder.innerHTML = data.controls;
    var bar = holder.firstElementChild;
    img.parentNode.insertBefore(bar, img.nextSibling);
    var slider = bar.querySelector("input[type=range]");
    var count = bar.querySelector(".cnn6-player-count");
    var play = bar.querySelector("button[data-action=play]");
    function show(j) {
      k = Math.max(0, Math.min(last, j));
      img.src = frames[k];
      img.alt = data.alts[k];
      step.textContent = steps[k];
      slider.value = String(k + 1);
      slider.setAttribute("aria-valuetext", (k + 1) + " of " + frames.length);
      count.textContent = (k + 1) + " / " + frames.length;
    }
    function playing(on) {
      var name = on ? "Pause" : "Play";
      play.setAttribute("aria-label", name);
      play.title = name;
      play.innerHTML = on ? data.icons.pause : data.icons.play;
      step.setAttribute("aria-live", on ? "off" : "polite");
    }
    function stop() {
      if (timer === null) return;
      clearInterval(timer);
      timer = null;
      playing(false);
    }
    function go() {
      if (k === last) show(0);
      playing(true);
      timer = setInterval(function () {
        var next = k + 1;
        if (next >= last) stop();
        show(next);
      }, data.interval);
    }
    bar.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) return;
      var action = button.getAttribute("data-action");
      if (action === "play") {
        if (timer === null) go(); else stop();
        return;
      }
      stop();
      show({first: 0, previous: k - 1, next: k + 1, last: last}[action]);
    });
    slider.addEventListener("input", function () {
      stop();
      show(Number(slider.value) - 1);
    });
    host.addEventListener("keydown", function (event) {
      var toggles = event.target === play && (event.key === "Enter" || event.key === " ");
      if (!toggles) stop();
    });
    host.addEventListener("pointerdown", function (event) {
      if (!play.contains(event.target)) stop();
    });
    show(0);
  }
  var me = document.currentScript;
  if (me) start(me.parentNode);
  var hosts = document.querySelectorAll("div.cnn6-player");
  for (var i = 0; i < hosts.length; i++) start(hosts[i]);
})();
"""


def _controls(count, title):
    """The player's buttons and frame slider (inserted by its script, so that they never show
    where scripts do not run)."""
    buttons = "".join(
        f'<button type="button" data-action="{action}" aria-label="{name}" title="{name}">'
        f"{_ICONS[action]}</button>"
        for action, name in _BUTTONS
    )
    return (
        f'<div class="cnn6-player-controls" role="group" aria-label="{html.escape(title)}: '
        f'controls">{buttons}<label class="cnn6-player-slider">Frame <input type="range" '
        f'min="1" max="{count}" step="1" value="1" aria-valuetext="1 of {count}"></label>'
        f'<span class="cnn6-player-count">1 / {count}</span></div>'
    )


def _data_uri(png):
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _player_html(frames, alts, steps, interval, title):
    """One self-contained HTML block that plays `frames`, with no request off the page.

    frames: PNG images (bytes), one per frame; alts: the alternative text of each frame's
    image; steps: the description of each frame shown beside it (in an ``aria-live="polite"``
    region); interval: milliseconds per frame when playing; title: what the animation shows
    (names the controls and the list of descriptions). Deterministic: the same arguments give
    the same bytes, and the block is marked with a hash of its content, not a random id.

    Without scripts the block is the first frame, its description, a note and the list of
    every description; the script adds the buttons (first, previous, play/pause, next, last)
    and a labelled frame slider, and plays only when Play is pressed.
    """
    frames, alts, steps = list(frames), [str(a) for a in alts], [str(s) for s in steps]
    if not frames or not all(isinstance(f, bytes) and f.startswith(b"\x89PNG") for f in frames):
        raise ValueError("frames: expected a non-empty list of PNG images (bytes)")
    if not (len(alts) == len(steps) == len(frames)):
        raise ValueError(
            f"alts, steps: expected one per frame ({len(frames)}), got {len(alts)} and {len(steps)}"
        )
    interval = check.integer(interval, "interval", low=50)
    count = len(frames)
    data = {
        "frames": [_data_uri(f) for f in frames[1:]],  # the first is the <img>'s own src
        "alts": alts,  # the steps are read from the list of descriptions
        "interval": interval,
        "controls": _controls(count, title),
        "icons": {"play": _ICONS["play"], "pause": _ICONS["pause"]},
    }
    # "<" escaped: the JSON can never close its <script> element
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    content = "\0".join([blob, _data_uri(frames[0]), title, *alts, *steps])
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]
    from PIL import Image

    with Image.open(io.BytesIO(frames[0])) as im:
        width, height = im.size
    esc = html.escape
    items = "".join(f"<li>{esc(s)}</li>" for s in steps)
    note = (
        f"This is the first of {count} frames. The player needs JavaScript, which does not "
        "run here: run the cell in a trusted notebook, or open the book's web page, to play "
        "it. Every frame is described in the list below."
    )
    return (
        f'<div class="cnn6-player" data-cnn6-player="{digest}">\n'
        f"<style>\n{_CSS}</style>\n"
        f'<figure>\n<img class="cnn6-player-frame" src="{_data_uri(frames[0])}" '
        f'alt="{esc(alts[0])}" width="{width}" height="{height}">\n'
        f'<figcaption>\n<p class="cnn6-player-note">{note}</p>\n'
        f'<p class="cnn6-player-step" aria-live="polite">{esc(steps[0])}</p>\n'
        "</figcaption>\n</figure>\n"
        f'<details class="cnn6-player-steps"><summary>{esc(title)}: the {count} frames in '
        f"words</summary>\n<ol>{items}</ol>\n</details>\n"
        f'<script type="application/json" class="cnn6-player-data">{blob}</script>\n'
        f"<script>\n{_JS}</script>\n</div>"
    )


def _small_png(data):
    """The PNG `data` as a palette PNG of at most 64 colours (deterministic)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        small = im.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=0)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


class JSAnimation(View):
    """An animation to display in a notebook: HTML player (``_repr_html_``), text form
    (``repr``) and the last frame as a PNG (``_repr_png_``, for the PDF book).

    Attributes: ``html`` (str), ``text`` (str), ``png`` (bytes), ``frames`` (int), ``steps``
    (the description of each frame, a tuple of ``frames`` str).
    """

    def __init__(self, html, text, png, frames, steps=()):
        super().__init__(text, html, png=png)
        self.frames = frames
        self.steps = tuple(steps)


def _animation(fig, draw, alts, steps, interval, dpi, title, text):
    """Draw each frame (`draw(k)` for k = 0, 1, ...; one per entry of `steps`) into a palette
    PNG, close `fig`, and return the :class:`JSAnimation` that plays them."""
    frames = []
    for k in range(len(steps)):
        draw(k)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        frames.append(_small_png(buf.getvalue()))
    plt.close(fig)
    html_block = _player_html(frames, alts, steps, interval, title)
    return JSAnimation(html_block, text, frames[-1], len(frames), steps)


def _span(pixels, width):
    """(first row, last row, first column, last column) of the flat row-major `pixels` of a
    matrix `width` columns wide: the rectangle a window covers."""
    rows, cols = np.divmod(np.asarray(pixels), width)
    return int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())


def _where(span):
    r0, r1, c0, c1 = span
    return f"rows {r0}-{r1}, columns {c0}-{c1}"


# ---------------------------------------------------------------- drawing helpers


def _plot_partial(ax, values, filled, name, kind, digits, lims):
    """Draw `values` with only the cells where `filled` is True coloured and printed."""
    lo, hi = lims
    rows, cols = values.shape
    ax.imshow(np.ma.masked_array(values, ~filled), cmap=CMAPS[kind], vmin=lo, vmax=hi)
    ax.set_facecolor(_EMPTY)
    for (i, j), v in np.ndenumerate(values):
        if filled[i, j]:
            ink = colour(v, lims, kind)[1]
            ax.text(j, i, fmt(v, digits), ha="center", va="center", color=ink, fontsize=9)
        else:
            ax.text(j, i, "?", ha="center", va="center", color=_EMPTY_EDGE, fontsize=9)
    for k in range(rows + 1):
        ax.axhline(k - 0.5, color="#ffffff", lw=1)
    for k in range(cols + 1):
        ax.axvline(k - 0.5, color="#ffffff", lw=1)
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_title(f"{name} ({rows}×{cols})")


def _formula(ax, text):
    """The last frame's middle panel: no matrix, the layer's formula in its centre."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=10, transform=ax.transAxes)


def _box(ax, span, edge=_WINDOW):
    """Outline the rectangle `span` (first row, last row, first column, last column) of the
    matrix drawn on `ax`."""
    r0, r1, c0, c1 = span
    ax.add_patch(
        plt.Rectangle(
            (c0 - 0.5, r0 - 0.5),
            c1 - c0 + 1,
            r1 - r0 + 1,
            fill=False,
            edgecolor=edge,
            lw=3,
            zorder=5,
        )
    )


def _wipe(ax):
    """Remove what the previous frame drew on `ax` (its title too), keeping its ticks: the
    same picture as ``ax.clear()`` for frames drawn in order, in two thirds of the time."""
    for artist in [*ax.images, *ax.texts, *ax.lines, *ax.patches, *ax.collections]:
        artist.remove()
    ax.set_title("")


def _pixels_mask(shape, pixels):
    """A boolean mask of `shape` with the flat row-major `pixels` set."""
    mask = np.zeros(shape, dtype=bool)
    mask.flat[np.asarray(pixels).ravel()] = True
    return mask


def _check_common(digits, interval, dpi):
    digits = check_digits(digits)
    interval = check.integer(interval, "interval", low=50)
    dpi = check.integer(dpi, "dpi", low=30)
    if dpi > 200:
        raise ValueError(f"dpi: expected an integer from 30 to 200, got {dpi}")
    return digits, interval, dpi


def _matrix(value, name, max_size=12):
    arr = check.array(value, name, (2,))
    if max(arr.shape) > max_size:
        raise ValueError(f"{name}: expected at most {max_size} rows and columns, got {arr.shape}")
    return arr


def _sliding(x, slider, out):
    """A matrix of shape `slider` sliding over `x` with stride 1: the windows' flat pixels
    (``window_indices``, one row per window, row-major), each window's element-wise products
    with `slider`, and ``(i, j)`` of the `out` cell each window gives."""
    idx = window_indices(*x.shape, *slider.shape, 1)  # (P, rows * cols of slider)
    products = x.ravel()[idx].reshape((-1, *slider.shape)) * slider
    cells = [divmod(p, out.shape[1]) for p in range(idx.shape[0])]
    return idx, products, cells


# ---------------------------------------------------------------- convolution


def animate_convolution(x, kernel, bias=0.0, *, digits=2, interval=900, dpi=72):
    """The kernel sliding over `x`: one frame per output cell, then the complete result.

    x: the image, shape (H, W) (6x6 in the book); kernel: shape (kh, kw), at most x's shape;
    bias: the convolution bias b. Each frame outlines the window in x, prints the window's
    element-wise products with the kernel and their sum, and fills in that cell of
    z1 = x ⋆ K + b (cross-correlation, stride 1, no padding), shape (H-kh+1, W-kw+1).
    digits: decimals printed; interval: milliseconds per frame; dpi: resolution of the frames.
    Returns a :class:`JSAnimation`.
    """
    x = _matrix(x, "x")
    kernel = _matrix(kernel, "kernel")
    bias = check.real(bias, "bias")
    digits, interval, dpi = _check_common(digits, interval, dpi)
    kh, kw = kernel.shape
    if kh > x.shape[0] or kw > x.shape[1]:
        raise ValueError(
            f"kernel: expected a kernel no larger than x {x.shape}, got {kernel.shape}"
        )
    z1 = naive.conv2d(x, kernel, bias)  # the loop these frames step through, window by window
    oh, ow = z1.shape
    idx, products, cells = _sliding(x, kernel, z1)
    spans = [_span(pixels, x.shape[1]) for pixels in idx]
    z1_limits = limits(z1, "value")
    k_limits = limits(kernel, "value")
    p_limits = limits(products, "value")

    fig, axes = _sliding_figure(x.shape[1], kw, ow)
    n = len(cells)

    def draw(frame):
        for ax in axes:
            _wipe(ax)
        final = frame >= n
        window = None if final else _pixels_mask(x.shape, idx[frame])
        plot_matrix(axes[0], x, "x", digits=digits, highlight=window)
        plot_matrix(axes[1], kernel, "K", digits=digits, vmin=k_limits[0], vmax=k_limits[1])
        filled = _first_cells((oh, ow), n if final else frame + 1)
        if final:
            _formula(axes[2], f"z1 = x ⋆ K + b\nb = {fmt(bias, digits)}")
            fig.suptitle(f"z1 = x ⋆ K + b: all {n} windows done", fontsize=11)
        else:
            i, j = cells[frame]
            r0, r1, c0, c1 = spans[frame]
            plot_matrix(
                axes[2],
                products[frame],
                "window ⊙ K",
                digits=digits,
                vmin=p_limits[0],
                vmax=p_limits[1],
            )
            total = products[frame].sum()
            fig.suptitle(
                f"z1[{i}, {j}] = sum(x[{r0}:{r1 + 1}, {c0}:{c1 + 1}] ⊙ K) + b = "
                f"{fmt(total, digits)} + ({fmt(bias, digits)}) = {fmt(z1[i, j], digits)}",
                fontsize=11,
            )
            _box(axes[3], (i, i, j, j))
        _plot_partial(axes[3], z1, filled, "z1", "value", digits, z1_limits)

    steps, alts = [], []
    for p, (i, j) in enumerate(cells):
        steps.append(
            f"Step {p + 1} of {n}: window at {_where(spans[p])} of x; "
            f"z1[{i}, {j}] = sum(window ⊙ K) + b = {fmt(products[p].sum(), digits)} + "
            f"({fmt(bias, digits)}) = {fmt(z1[i, j], digits)}"
        )
        alts.append(
            f"Frame {p + 1} of {n + 1}: x with the window at {_where(spans[p])} outlined, "
            f"the kernel K, the window's products with K, and z1 filled in up to z1[{i}, {j}]"
        )
    steps.append(f"Done: all {n} windows give z1 = x ⋆ K + b, shape {oh}×{ow}")
    alts.append(f"Frame {n + 1} of {n + 1}: x, the kernel K and the complete z1 ({oh}×{ow})")

    row = show_row(
        x,
        "⋆",
        kernel,
        "+",
        Matrix(bias, digits=digits),
        "=",
        z1,
        names=["x", "K", "b", "z1"],
        digits=digits,
    )
    text = (
        f"Animation ({n + 1} frames): the {kh}×{kw} kernel K slides over x "
        f"({x.shape[0]}×{x.shape[1]}); each stop gives one value of z1 = sum(window ⊙ K) + b."
        f"\n{row!r}"
    )
    title = "The convolution z1 = x ⋆ K + b, window by window"
    return _animation(fig, draw, alts, steps, interval, dpi, title, text)


# ---------------------------------------------------------------- kernel gradient


def animate_kernel_gradient(x, dz1, *, digits=2, interval=1100, dpi=72):
    """dL/dK = x ⋆ dz1: the delta dz1 sliding over the input x, one frame per kernel weight.

    x: the input image, shape (H, W); dz1: the delta of the convolution's output, shape
    (oh, ow) with oh <= H and ow <= W; the kernel gradient dK then has shape (H-oh+1, W-ow+1)
    (3x3 for the book's 6x6 image and 4x4 dz1). Each frame outlines the window of x that
    weight K[u, v] saw, prints the products with dz1 and their sum, and fills in dK[u, v].
    Returns a :class:`JSAnimation`.
    """
    x = _matrix(x, "x")
    dz1 = _matrix(dz1, "dz1")
    digits, interval, dpi = _check_common(digits, interval, dpi)
    oh, ow = dz1.shape
    if oh > x.shape[0] or ow > x.shape[1]:
        raise ValueError(f"dz1: expected a delta no larger than x {x.shape}, got {dz1.shape}")
    dk = naive.conv2d(x, dz1)  # dK = x ⋆ dz1, one kernel weight per window
    kh, kw = dk.shape
    idx, products, cells = _sliding(x, dz1, dk)
    spans = [_span(pixels, x.shape[1]) for pixels in idx]
    dk_limits, d_limits, p_limits = (limits(a, "grad") for a in (dk, dz1, products))

    fig, axes = _sliding_figure(x.shape[1], ow, kw)
    n = len(cells)

    def draw(frame):
        for ax in axes:
            _wipe(ax)
        final = frame >= n
        window = None if final else _pixels_mask(x.shape, idx[frame])
        plot_matrix(axes[0], x, "x", digits=digits, highlight=window)
        plot_matrix(axes[1], dz1, "dz1", kind="grad", digits=digits, vmax=d_limits[1])
        filled = _first_cells((kh, kw), n if final else frame + 1)
        if final:
            _formula(axes[2], "dK = x ⋆ dz1")
            fig.suptitle(f"dK = x ⋆ dz1: all {n} kernel weights done", fontsize=11)
        else:
            u, v = cells[frame]
            r0, r1, c0, c1 = spans[frame]
            plot_matrix(
                axes[2],
                products[frame],
                "window ⊙ dz1",
                kind="grad",
                digits=digits,
                vmax=p_limits[1],
            )
            fig.suptitle(
                f"dK[{u}, {v}] = sum(x[{r0}:{r1 + 1}, {c0}:{c1 + 1}] ⊙ dz1) = "
                f"{fmt(dk[u, v], digits)}",
                fontsize=11,
            )
            _box(axes[3], (u, u, v, v))
        _plot_partial(axes[3], dk, filled, "dK", "grad", digits, dk_limits)

    steps, alts = [], []
    for p, (u, v) in enumerate(cells):
        steps.append(
            f"Step {p + 1} of {n}: window at {_where(spans[p])} of x (what weight K[{u}, {v}] "
            f"multiplies); dK[{u}, {v}] = sum(window ⊙ dz1) = {fmt(dk[u, v], digits)}"
        )
        alts.append(
            f"Frame {p + 1} of {n + 1}: x with the window at {_where(spans[p])} outlined, "
            f"dz1, the window's products with dz1, and dK filled in up to dK[{u}, {v}]"
        )
    steps.append(f"Done: all {n} kernel weights give dK = x ⋆ dz1, shape {kh}×{kw}")
    alts.append(f"Frame {n + 1} of {n + 1}: x, dz1 and the complete dK ({kh}×{kw})")

    row = show_row(
        x,
        "⋆",
        Matrix(dz1, kind="grad", digits=digits),
        "=",
        Matrix(dk, kind="grad", digits=digits),
        names=["x", "dz1", "dK"],
        digits=digits,
    )
    text = (
        f"Animation ({n + 1} frames): dz1 ({oh}×{ow}) slides over x "
        f"({x.shape[0]}×{x.shape[1]}); each stop gives one weight's gradient "
        f"dK[u, v] = sum(x window ⊙ dz1).\n{row!r}"
    )
    title = "The kernel gradient dK = x ⋆ dz1, weight by weight"
    return _animation(fig, draw, alts, steps, interval, dpi, title, text)


# ---------------------------------------------------------------- max-pool


def animate_maxpool(a1, da2=None, *, digits=2, interval=1200, dpi=72):
    """2x2 max-pool, stride 2, one window per frame: its maximum goes to a2; with `da2`, the
    gradient of each a2 value goes back to that maximum's position in da1 (zeros elsewhere).

    a1: shape (H, W), H and W even (4x4 in the book); da2: None or shape (H/2, W/2). Ties go
    to the first maximum in row-major order, as in the engine. Returns a :class:`JSAnimation`.
    """
    a1 = _matrix(a1, "a1")
    if a1.shape[0] % 2 or a1.shape[1] % 2:
        raise ValueError(f"a1: expected an even number of rows and columns, got {a1.shape}")
    ph, pw = a1.shape[0] // 2, a1.shape[1] // 2
    if da2 is not None:
        da2 = _matrix(da2, "da2")
        if da2.shape != (ph, pw):
            raise ValueError(f"da2: expected shape {(ph, pw)} (the shape of a2), got {da2.shape}")
    digits, interval, dpi = _check_common(digits, interval, dpi)

    # the max-pool in plain loops: a2, and where each window's maximum sits in a1 (flat index)
    a2, pool_idx = naive.maxpool2d(a1)
    idx = window_indices(*a1.shape, 2, 2, 2)  # the windows' flat pixels, row-major
    n = idx.shape[0]
    spans = [_span(pixels, a1.shape[1]) for pixels in idx]
    windows = [divmod(p, pw) for p in range(n)]  # (p, q): the a2 cell of each window
    winner = [divmod(int(w), a1.shape[1]) for w in pool_idx.ravel()]  # (row, column) in a1
    da1 = None if da2 is None else naive.maxpool2d_backward(da2, pool_idx, a1.shape)
    a_limits = limits(a1, "value")

    panels = 2 if da2 is None else 4
    fig = plt.figure(figsize=(3.9 if da2 is None else 7.8, 3.0), facecolor="white")
    ratios = [a1.shape[1], pw] + ([pw, a1.shape[1]] if da2 is not None else [])
    grid = GridSpec(
        1,
        panels,
        figure=fig,
        width_ratios=ratios,
        wspace=0.4,
        left=0.05,
        right=0.98,
        top=0.84,
        bottom=0.08,
    )
    axes = [fig.add_subplot(grid[0, k]) for k in range(panels)]

    def draw(frame):
        for ax in axes:
            _wipe(ax)
        final = frame >= n
        done = n if final else frame + 1
        won = winners(pool_idx.ravel()[:done], a1.shape)  # windows go in row-major order
        plot_matrix(
            axes[0], a1, "a1", digits=digits, highlight=won, vmin=a_limits[0], vmax=a_limits[1]
        )
        filled = _first_cells((ph, pw), done)
        _plot_partial(axes[1], a2, filled, "a2", "value", digits, a_limits)
        if final:
            title = f"max-pool 2×2, stride 2: all {n} windows done"
        else:
            (p, q), (r, c) = windows[frame], winner[frame]
            _box(axes[0], spans[frame], INK)
            _box(axes[1], (p, p, q, q), INK)
            r0, r1, c0, c1 = spans[frame]
            title = (
                f"a2[{p}, {q}] = max(a1[{r0}:{r1 + 1}, {c0}:{c1 + 1}]) = "
                f"a1[{r}, {c}] = {fmt(a2[p, q], digits)}"
            )
        if da2 is not None:
            plot_matrix(axes[2], da2, "da2", kind="grad", digits=digits)
            lim = limits(da2, "grad")
            known = _pixels_mask(a1.shape, idx[:done])  # the routed windows' whole blocks
            _plot_partial(axes[3], da1, known, "da1", "grad", digits, lim)
            if not final:
                _box(axes[2], (p, p, q, q), INK)
                _box(axes[3], spans[frame], INK)
                title += f"  →  da1[{r}, {c}] = da2[{p}, {q}] = {fmt(da2[p, q], digits)}"
        fig.suptitle(title, fontsize=10)

    steps, alts = [], []
    for k, ((p, q), (r, c)) in enumerate(zip(windows, winner, strict=True)):
        step = (
            f"Step {k + 1} of {n}: window at {_where(spans[k])} of a1; its maximum "
            f"a1[{r}, {c}] = {fmt(a1[r, c], digits)} goes to a2[{p}, {q}]"
        )
        alt = (
            f"Frame {k + 1} of {n + 1}: a1 with the window at {_where(spans[k])} outlined and "
            f"the maxima found so far marked, and a2 filled in up to a2[{p}, {q}]"
        )
        if da2 is not None:
            others = idx.shape[1] - 1
            step += (
                f"; backward, da2[{p}, {q}] = {fmt(da2[p, q], digits)} goes back to "
                f"da1[{r}, {c}], the window's other {others} cells get 0"
            )
            alt += "; da2, and da1 filled in for the windows up to this one"
        steps.append(step)
        alts.append(alt)
    done = f"Done: all {n} windows give a2 = max-pool(a1), shape {ph}×{pw}"
    alt = f"Frame {n + 1} of {n + 1}: a1 with every window's maximum marked, and the complete a2"
    if da2 is not None:
        done += "; da1 holds each da2 value at its window's maximum, zeros elsewhere"
        alt += ", da2 and the complete da1"
    steps.append(done)
    alts.append(alt)

    won_all = winners(pool_idx, a1.shape)
    items = [
        Matrix(a1, "a1", digits=digits, highlight=won_all),
        "max-pool →",
        Matrix(a2, "a2", digits=digits),
    ]
    if da2 is not None:
        items += [
            "   ",
            Matrix(da2, "da2", "grad", digits),
            "to the max →",
            Matrix(da1, "da1", "grad", digits, highlight=won_all),
        ]

    what = "each 2×2 window of a1 gives its maximum to a2"
    if da2 is not None:
        what += "; each da2 value goes back to that maximum in da1, zeros elsewhere"
    text = f"Animation ({n + 1} frames): {what} (winners in brackets).\n{Row(items)!r}"
    title = (
        "The max-pool" + ("" if da2 is None else " and its backward pass") + ", window by window"
    )
    return _animation(fig, draw, alts, steps, interval, dpi, title, text)


def _sliding_figure(width, slider_width, out_width):
    """Four panels for a matrix sliding over x: x (``width`` columns), the sliding matrix,
    the window's products with it (both ``slider_width``), and the output (``out_width``).
    Returns (figure, axes)."""
    fig = plt.figure(figsize=(10, 3.6), facecolor="white")
    grid = GridSpec(
        1,
        4,
        figure=fig,
        width_ratios=[width, slider_width, slider_width, out_width],
        wspace=0.3,
        left=0.03,
        right=0.99,
        top=0.85,
        bottom=0.08,
    )
    return fig, [fig.add_subplot(grid[0, k]) for k in range(4)]


def _first_cells(shape, count):
    """A boolean mask of ``shape`` with its first ``count`` cells (row-major) set."""
    mask = np.zeros(shape, dtype=bool)
    mask.flat[:count] = True
    return mask
