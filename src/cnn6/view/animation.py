"""Animations that play in the static book, with no kernel: a window sliding over a matrix.

- :func:`animate_convolution`: the 3x3 kernel slides over the 6x6 image and ``z1`` fills in,
  cell by cell, each frame showing the window, the kernel, their element-wise products and
  the sum;
- :func:`animate_kernel_gradient`: the 4x4 ``dz1`` slides over ``x`` and ``dK`` fills in;
- :func:`animate_maxpool`: each 2x2 window of ``a1`` and its maximum, and, given ``da2``, the
  gradient routed back to the winner of each window.

Each returns a :class:`JSAnimation`, which a notebook displays as the HTML of matplotlib's
``FuncAnimation.to_jshtml()`` (the frames inlined as PNG, the player's buttons and slider), made
deterministic and self-contained:

- the random id that ``to_jshtml`` draws for every animation is replaced by a hash of the
  content, so the same call gives byte-identical HTML (nbval compares it);
- the link to the Font Awesome style sheet on a CDN is removed and the icons of the buttons are
  small inline SVG drawings: the page makes no off-site request and the buttons show anywhere;
- the frames are re-encoded as palette PNGs (at most 64 colours), which divides their size by
  about three.

Its text form (compared by nbval) says what the animation shows and prints the final
matrices; its PNG form, the last frame, is what the PDF book shows. The numbers come from
:mod:`cnn6.naive`, the network in plain loops, whose loops the frames step through.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.gridspec import GridSpec

from .. import naive
from .. import validation as check
from .display import Matrix, Row, fmt, plot_matrix, show_row
from .kit import CMAPS, INK, OUTLINE, View, check_digits, colour, limits, winners

__all__ = ["JSAnimation", "animate_convolution", "animate_kernel_gradient", "animate_maxpool"]

_EMPTY = "#f6f8fa"  # a cell not computed yet
_EMPTY_EDGE = "#d0d7de"
_WINDOW = OUTLINE  # outline of the current window (display's highlight colour)

# ---------------------------------------------------------------- the HTML player


def _svg(body):
    return (
        '<svg width="14" height="14" viewBox="0 0 16 16" fill="currentColor" aria-hidden="true" '
        f'style="vertical-align:middle">{body}</svg>'
    )


# Font Awesome 4 names used by matplotlib's template -> inline drawings.
_ICONS = {
    "fa fa-minus": _svg('<rect x="3" y="7" width="10" height="2"/>'),
    "fa fa-plus": _svg(
        '<rect x="3" y="7" width="10" height="2"/><rect x="7" y="3" width="2" height="10"/>'
    ),
    "fa fa-play": _svg('<polygon points="4,2 14,8 4,14"/>'),
    "fa fa-play fa-flip-horizontal": _svg('<polygon points="12,2 2,8 12,14"/>'),
    "fa fa-pause": _svg(
        '<rect x="3" y="2" width="3.5" height="12"/><rect x="9.5" y="2" width="3.5" height="12"/>'
    ),
    "fa fa-step-forward": _svg(
        '<polygon points="3,2 11,8 3,14"/><rect x="11" y="2" width="2" height="12"/>'
    ),
    "fa fa-step-backward": _svg(
        '<rect x="3" y="2" width="2" height="12"/><polygon points="13,2 5,8 13,14"/>'
    ),
    "fa fa-fast-forward": _svg(
        '<polygon points="1,2 7,8 1,14"/><polygon points="7,2 13,8 '
        '7,14"/><rect x="13" y="2" width="2" height="12"/>'
    ),
    "fa fa-fast-backward": _svg(
        '<rect x="1" y="2" width="2" height="12"/><polygon points="9,2 '
        '3,8 9,14"/><polygon points="15,2 9,8 15,14"/>'
    ),
}
_ICON_RE = re.compile(r'<i class="(fa [^"]+)"></i>')
_LINK_RE = re.compile(r'<link rel="stylesheet"\s+href="https?://[^"]*"\s*/?>\s*')
_FRAME_RE = re.compile(r'"data:image/png;base64,((?:[A-Za-z0-9+/=]|\\\n)+)"')
_ID_RE = re.compile(r"_anim_img([0-9a-f]{32})")


def _small_png(data):
    """The PNG `data` as a palette PNG of at most 64 colours (deterministic)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        small = im.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=0)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _clean_jshtml(text):
    """Deterministic, self-contained HTML from ``FuncAnimation.to_jshtml()``."""
    text = _LINK_RE.sub("", text, count=1)

    def icon(match):
        if match.group(1) not in _ICONS:
            raise RuntimeError(f"unknown icon {match.group(1)!r} in matplotlib's player")
        return _ICONS[match.group(1)]

    text = _ICON_RE.sub(icon, text)

    def frame(match):
        png = base64.b64decode(match.group(1).replace("\\\n", ""))
        return '"data:image/png;base64,' + base64.b64encode(_small_png(png)).decode("ascii") + '"'

    text = _FRAME_RE.sub(frame, text)
    found = _ID_RE.search(text)
    if found is None or "https://" in text or "http://" in text:
        raise RuntimeError("matplotlib's to_jshtml template changed: update cnn6.view.animation")
    random_id = found.group(1)
    digest = hashlib.sha256(text.replace(random_id, "").encode("utf-8")).hexdigest()[:32]
    return text.replace(random_id, digest)


class JSAnimation(View):
    """An animation to display in a notebook: HTML player (``_repr_html_``), text form
    (``repr``) and the last frame as a PNG (``_repr_png_``, for the PDF book).

    Attributes: ``html`` (str), ``text`` (str), ``png`` (bytes), ``frames`` (int).
    """

    def __init__(self, html, text, png, frames):
        super().__init__(text, html, png=png)
        self.frames = frames


def _render(fig, draw, nframes, interval, dpi):
    """Run `draw(k)` for each frame through FuncAnimation.to_jshtml; returns (html, last PNG)."""
    # FuncAnimation redraws the canvas after each frame for a screen; saving draws it again.
    # This figure is never on a screen: skip the first draw (halves the time).
    fig.canvas.draw_idle = lambda *args, **kwargs: None
    anim = FuncAnimation(fig, draw, frames=nframes, interval=interval, repeat=True, blit=False)
    with plt.rc_context({"savefig.dpi": dpi, "animation.embed_limit": 20.0}):
        # HTMLWriter saves frames at the figure's dpi.
        fig.set_dpi(dpi)
        html = _clean_jshtml(anim.to_jshtml(default_mode="loop"))
        draw(nframes - 1)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return html, _small_png(buf.getvalue())


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


def _box(ax, top, left, height, width, edge=_WINDOW):
    """Outline cells [top, top+height) x [left, left+width) of the matrix drawn on `ax`."""
    ax.add_patch(
        plt.Rectangle(
            (left - 0.5, top - 0.5), width, height, fill=False, edgecolor=edge, lw=3, zorder=5
        )
    )


def _window_mask(shape, top, left, height, width):
    mask = np.zeros(shape, dtype=bool)
    mask[top : top + height, left : left + width] = True
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
    oh, ow = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    products = np.array(
        [[x[i : i + kh, j : j + kw] * kernel for j in range(ow)] for i in range(oh)]
    )
    z1 = naive.conv2d(x, kernel, bias)  # the loop these frames step through, window by window
    z1_limits = limits(z1, "value")
    k_limits = limits(kernel, "value")
    p_limits = limits(products, "value")

    fig, axes, cells = _sliding_figure(x.shape[1], kw, (oh, ow))

    def draw(frame):
        for ax in axes:
            ax.clear()
        final = frame >= len(cells)
        i, j = cells[min(frame, len(cells) - 1)]
        window = None if final else _window_mask(x.shape, i, j, kh, kw)
        plot_matrix(axes[0], x, "x", digits=digits, highlight=window)
        plot_matrix(axes[1], kernel, "K", digits=digits, vmin=k_limits[0], vmax=k_limits[1])
        filled = _first_cells((oh, ow), len(cells) if final else frame + 1)
        if final:
            axes[2].set_axis_off()
            axes[2].text(
                0.5,
                0.5,
                f"z1 = x ⋆ K + b\nb = {fmt(bias, digits)}",
                ha="center",
                va="center",
                fontsize=10,
                transform=axes[2].transAxes,
            )
            fig.suptitle(f"z1 = x ⋆ K + b: all {len(cells)} windows done", fontsize=11)
        else:
            plot_matrix(
                axes[2],
                products[i, j],
                "window ⊙ K",
                digits=digits,
                vmin=p_limits[0],
                vmax=p_limits[1],
            )
            total = products[i, j].sum()
            fig.suptitle(
                f"z1[{i}, {j}] = sum(x[{i}:{i + kh}, {j}:{j + kw}] ⊙ K) + b = {fmt(total, digits)}"
                f" + ({fmt(bias, digits)}) = {fmt(z1[i, j], digits)}",
                fontsize=11,
            )
        _plot_partial(axes[3], z1, filled, "z1", "value", digits, z1_limits)
        if not final:
            _box(axes[3], i, j, 1, 1)

    html, png = _render(fig, draw, len(cells) + 1, interval, dpi)
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
        f"Animation ({len(cells) + 1} frames): the {kh}×{kw} kernel K slides over x "
        f"({x.shape[0]}×{x.shape[1]}); each stop gives one value of z1 = sum(window ⊙ K) + b."
        f"\n{row!r}"
    )
    return JSAnimation(html, text, png, len(cells) + 1)


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
    kh, kw = x.shape[0] - oh + 1, x.shape[1] - ow + 1
    products = np.array([[x[u : u + oh, v : v + ow] * dz1 for v in range(kw)] for u in range(kh)])
    dk = naive.conv2d(x, dz1)  # dK = x ⋆ dz1, one kernel weight per window
    dk_limits, d_limits, p_limits = (limits(a, "grad") for a in (dk, dz1, products))

    fig, axes, cells = _sliding_figure(x.shape[1], ow, (kh, kw))

    def draw(frame):
        for ax in axes:
            ax.clear()
        final = frame >= len(cells)
        u, v = cells[min(frame, len(cells) - 1)]
        window = None if final else _window_mask(x.shape, u, v, oh, ow)
        plot_matrix(axes[0], x, "x", digits=digits, highlight=window)
        plot_matrix(axes[1], dz1, "dz1", kind="grad", digits=digits, vmax=d_limits[1])
        filled = _first_cells((kh, kw), len(cells) if final else frame + 1)
        if final:
            axes[2].set_axis_off()
            axes[2].text(
                0.5,
                0.5,
                "dK = x ⋆ dz1",
                ha="center",
                va="center",
                fontsize=10,
                transform=axes[2].transAxes,
            )
            fig.suptitle(f"dK = x ⋆ dz1: all {len(cells)} kernel weights done", fontsize=11)
        else:
            plot_matrix(
                axes[2],
                products[u, v],
                "window ⊙ dz1",
                kind="grad",
                digits=digits,
                vmax=p_limits[1],
            )
            fig.suptitle(
                f"dK[{u}, {v}] = sum(x[{u}:{u + oh}, {v}:{v + ow}] ⊙ dz1) = "
                f"{fmt(dk[u, v], digits)}",
                fontsize=11,
            )
        _plot_partial(axes[3], dk, filled, "dK", "grad", digits, dk_limits)
        if not final:
            _box(axes[3], u, v, 1, 1)

    html, png = _render(fig, draw, len(cells) + 1, interval, dpi)
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
        f"Animation ({len(cells) + 1} frames): dz1 ({oh}×{ow}) slides over x "
        f"({x.shape[0]}×{x.shape[1]}); each stop gives one weight's gradient "
        f"dK[u, v] = sum(x window ⊙ dz1).\n{row!r}"
    )
    return JSAnimation(html, text, png, len(cells) + 1)


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

    windows = [(p, q) for p in range(ph) for q in range(pw)]
    # the max-pool in plain loops: a2, and where each window's maximum sits in a1 (flat index)
    a2, pool_idx = naive.maxpool2d(a1)
    winner = {w: divmod(int(pool_idx[w]), a1.shape[1]) for w in windows}  # (row, column)
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
            ax.clear()
        final = frame >= len(windows)
        done = len(windows) if final else frame + 1
        p, q = windows[min(frame, len(windows) - 1)]
        won = winners(pool_idx.ravel()[:done], a1.shape)  # windows go in row-major order
        plot_matrix(
            axes[0], a1, "a1", digits=digits, highlight=won, vmin=a_limits[0], vmax=a_limits[1]
        )
        filled = _first_cells((ph, pw), done)
        _plot_partial(axes[1], a2, filled, "a2", "value", digits, a_limits)
        if not final:
            _box(axes[0], 2 * p, 2 * q, 2, 2, INK)
            _box(axes[1], p, q, 1, 1, INK)
        r, c = winner[p, q]
        if final:
            title = f"max-pool 2×2, stride 2: all {len(windows)} windows done"
        else:
            title = (
                f"a2[{p}, {q}] = max(a1[{2 * p}:{2 * p + 2}, {2 * q}:{2 * q + 2}]) = "
                f"a1[{r}, {c}] = {fmt(a2[p, q], digits)}"
            )
        if da2 is not None:
            plot_matrix(axes[2], da2, "da2", kind="grad", digits=digits)
            lim = limits(da2, "grad")
            _plot_partial(
                axes[3],
                da1,
                np.ones(a1.shape, dtype=bool) if final else _routed(a1.shape, windows[:done]),
                "da1",
                "grad",
                digits,
                lim,
            )
            if not final:
                _box(axes[2], p, q, 1, 1, INK)
                _box(axes[3], 2 * p, 2 * q, 2, 2, INK)
                title += f"  →  da1[{r}, {c}] = da2[{p}, {q}] = {fmt(da2[p, q], digits)}"
        fig.suptitle(title, fontsize=10)

    html, png = _render(fig, draw, len(windows) + 1, interval, dpi)
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
    text = f"Animation ({len(windows) + 1} frames): {what} (winners in brackets).\n{Row(items)!r}"
    return JSAnimation(html, text, png, len(windows) + 1)


def _routed(shape, windows):
    """The cells of da1 already known once `windows` have been routed: their whole 2x2 block."""
    mask = np.zeros(shape, dtype=bool)
    for p, q in windows:
        mask[2 * p : 2 * p + 2, 2 * q : 2 * q + 2] = True
    return mask


def _sliding_figure(width, slider_width, out_shape):
    """Four panels for a matrix sliding over x: x (``width`` columns), the sliding matrix,
    the window's products with it (both ``slider_width``), and the output (``out_shape``).
    Returns (figure, axes, the output's cells in the order the frames fill them)."""
    fig = plt.figure(figsize=(10, 3.6), facecolor="white")
    grid = GridSpec(
        1,
        4,
        figure=fig,
        width_ratios=[width, slider_width, slider_width, out_shape[1]],
        wspace=0.3,
        left=0.03,
        right=0.99,
        top=0.85,
        bottom=0.08,
    )
    axes = [fig.add_subplot(grid[0, k]) for k in range(4)]
    cells = [(i, j) for i in range(out_shape[0]) for j in range(out_shape[1])]
    return fig, axes, cells


def _first_cells(shape, count):
    """A boolean mask of ``shape`` with its first ``count`` cells (row-major) set."""
    mask = np.zeros(shape, dtype=bool)
    mask.flat[:count] = True
    return mask
