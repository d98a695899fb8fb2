"""How cnn6 shows its numbers: one matrix, a row of matrices, a whole trace, the pipeline.

Every number the book prints goes through :func:`fmt`. Every display object has two forms:

- an HTML form (``_repr_html_``), inline CSS only, no scripts, no ids, drawn on its own light
  card so that it reads the same in the static book, JupyterLab and VS Code, light or dark;
  each matrix is a ``<table>`` with a caption (its name and shape) and row and column headers
  (the indices), so that a screen reader reads it as a table, and every text has a contrast of
  4.5:1 or more with what it is drawn on (:func:`cnn6.view.kit.contrast`);
- a fixed-format text form (``repr``), which nbval compares byte for byte.

This module only reads what the numerical core returns; the core never imports it. Colours,
the digits check and the text-and-HTML view come from the shared kit (:mod:`cnn6.view.kit`).
"""

from __future__ import annotations

import base64
import copy
import html
import inspect
import io
import math
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .. import validation as check
from ..data import SQUARE_SIZE
from .kit import (
    CMAPS,
    INK,
    KINDS,
    OUTLINE,
    WHITE,
    View,
    check_digits,
    colour,
    limits,
    real,
    winners,
)

__all__ = [
    "CMAPS",
    "Gallery",
    "Matrix",
    "Row",
    "fmt",
    "pipeline",
    "plot_images",
    "plot_matrix",
    "show_figure",
    "show_matrix",
    "show_row",
    "show_source",
    "show_trace",
]

# _MUTED on the white card: 6.4:1; white on _STRONG (a highlighted pipeline step): 5.2:1.
_INK, _MUTED, _OUTLINE, _STRONG = INK, "#57606a", OUTLINE, "#c2410c"
_MONO = "ui-monospace,SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono',monospace"
_SANS = "system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"
_CARD = (
    f"display:inline-block;background:#ffffff;color:{_INK};border:1px solid #d0d7de;"
    f"border-radius:8px;padding:8px 12px;margin:4px 0;font-family:{_SANS};"
)
# The caption: colour, side and alignment set here, as the book's theme restyles captions.
_CAPTION = (
    f"caption-side:top;font-family:{_MONO};font-size:13px;text-align:center;white-space:nowrap;"
    f"padding:0 0 4px 0;margin:0;color:{_INK};background:{WHITE};"
)
_TABLE = (
    "border-collapse:collapse;border-spacing:0;margin:0 auto;border:none;table-layout:auto;"
    f"background:{WHITE};"
)
# Row and column headers (the indices): small and muted, still 6.4:1 on the card.
_TH = (
    f"padding:0 4px;font-family:{_MONO};font-size:10px;font-weight:400;color:{_MUTED};"
    f"background:{WHITE};border:none;text-align:center;vertical-align:middle;line-height:1.2;"
)
# Read by screen readers, not drawn (the usual clip: the text keeps its place in the page).
_SPOKEN = (
    "position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;"
    "clip:rect(0,0,0,0);white-space:nowrap;border:0;"
)
_TD = (
    f"padding:3px 7px;min-width:3em;height:1.6em;text-align:right;vertical-align:middle;"
    f"border:1px solid #ffffff;font-family:{_MONO};font-size:13px;"
    f"font-variant-numeric:tabular-nums;line-height:1.2;white-space:nowrap;"
)
_TITLE = (
    f"font-size:11px;letter-spacing:0.06em;text-transform:uppercase;color:{_MUTED};"
    f"margin:6px 0 2px 0;"
)


# ---------------------------------------------------------------- numbers and validation


def fmt(value, digits=4):
    """The number `value` in fixed point with `digits` decimals, as a string.

    Negative zero prints as zero (``fmt(-0.00001) == "0.0000"``); numpy scalars print as plain
    numbers; NaN and infinities print as ``nan``, ``inf``, ``-inf``.
    """
    digits = check_digits(digits)
    x = real(value, "value")
    if not math.isfinite(x):
        return str(x)
    text = f"{x:.{digits}f}"
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]
    return text


def _as_array(a, name, ndims=(0, 1, 2)):
    """`a` as a new float64 array of finite numbers with one of the allowed numbers of axes.

    The core's check, except that a boolean mask (such as ``z1 > 0``) is shown as 0/1.
    """
    if isinstance(a, np.ndarray) and a.dtype == np.bool_:
        a = a.astype(np.float64)
    return check.array(a, name, tuple(ndims)).copy()


def _check_kind(kind):
    if kind not in KINDS:
        raise ValueError(f"kind must be 'value' or 'grad', got {kind!r}")
    return kind


def _check_name(name, label="name"):
    if name is not None and not isinstance(name, str):
        raise TypeError(f"{label} must be a string or None, got {type(name).__name__}")
    return name


def _shape_text(shape):
    """() -> 'scalar', (4,) -> '4', (4, 4) -> '4×4'."""
    return "scalar" if shape == () else "×".join(str(s) for s in shape)


def _shape_spoken(shape):
    """() -> 'scalar', (4,) -> 'vector of 4', (4, 4) -> '4 by 4': the shape said aloud."""
    if shape == ():
        return "scalar"
    return f"vector of {shape[0]}" if len(shape) == 1 else " by ".join(str(s) for s in shape)


# ---------------------------------------------------------------- one matrix


def _highlight_mask(highlight, shape):
    """The cells to outline, as a boolean grid of shape (rows, cols) (1-d -> 1 row)."""
    grid = (1, 1) if len(shape) == 0 else (1, shape[0]) if len(shape) == 1 else shape
    if highlight is None:
        return np.zeros(grid, dtype=bool)
    if isinstance(highlight, np.ndarray) and highlight.dtype == np.bool_:
        if highlight.shape != shape:
            raise ValueError(
                f"highlight must be a boolean mask of shape {shape} like a, "
                f"got shape {highlight.shape}"
            )
        return highlight.reshape(grid).copy()
    if isinstance(highlight, (str, bytes)) or not hasattr(highlight, "__iter__"):
        raise TypeError(
            "highlight must be a boolean mask or a collection of (row, col) cells, "
            f"got {type(highlight).__name__}"
        )
    mask = np.zeros(grid, dtype=bool)
    for cell in highlight:
        idx = (cell,) if isinstance(cell, (int, np.integer)) else tuple(np.atleast_1d(cell))
        ok = len(idx) == len(shape) and all(
            isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)) and 0 <= i < n
            for i, n in zip(idx, shape, strict=True)
        )
        if not ok:
            raise ValueError(f"highlight cells must be indices inside shape {shape}, got {cell!r}")
        mask[(0, 0) if not shape else (0, idx[0]) if len(shape) == 1 else idx] = True
    return mask


def _outline(mask, i, j):
    """CSS drawing the outer edges of the highlighted region around cell (i, j)."""
    if not mask[i, j]:
        return ""
    rows, cols = mask.shape
    sides = [
        (i == 0 or not mask[i - 1, j], "0 3px"),
        (i == rows - 1 or not mask[i + 1, j], "0 -3px"),
        (j == 0 or not mask[i, j - 1], "3px 0"),
        (j == cols - 1 or not mask[i, j + 1], "-3px 0"),
    ]
    shadows = ",".join(f"inset {offset} 0 0 {_OUTLINE}" for edge, offset in sides if edge)
    return f"box-shadow:{shadows};font-weight:700;" if shadows else "font-weight:700;"


class Matrix:
    """An annotated view of a scalar, a vector (shown as a row) or a matrix.

    values: float64 array, shape () / (n,) / (rows, cols); name: str or None; kind: "value"
    (sequential scale) or "grad" (diverging, white at zero, limits +-max|a|); digits: decimals.
    """

    def __init__(self, a, name=None, kind="value", digits=3, highlight=None, vmin=None, vmax=None):
        self.values = _as_array(a, "a")
        self.name = _check_name(name)
        self.kind = _check_kind(kind)
        self.digits = check_digits(digits)
        self.limits = limits(self.values, kind, vmin, vmax)
        self.mask = _highlight_mask(highlight, self.values.shape)

    @property
    def title(self):
        shape = f"({_shape_text(self.values.shape)})"
        return f"{self.name} {shape}" if self.name else shape

    def _grid(self):
        return self.values.reshape(self.mask.shape)

    def _text_lines(self):
        cells = [[fmt(v, self.digits) for v in row] for row in self._grid()]
        width = max(len(c) for row in cells for c in row)
        lines = [self.title]
        for i, row in enumerate(cells):
            parts = [
                f"[{c.rjust(width)}]" if self.mask[i, j] else f" {c.rjust(width)} "
                for j, c in enumerate(row)
            ]
            lines.append(" ".join(parts).rstrip())
        return lines

    def __repr__(self):
        return "\n".join(self._text_lines())

    def _caption(self):
        """The caption: the name and the shape as the text form prints them, e.g. "z1 (4×4)";
        a screen reader says "z1, 4 by 4" instead (the drawn shape is aria-hidden)."""
        name = f"<b>{html.escape(self.name)}</b> " if self.name else ""
        shape, spoken = self.values.shape, _shape_spoken(self.values.shape)
        if shape == ():
            drawn = f'<span style="color:{_MUTED}">(scalar)</span>'
        else:
            drawn = (
                f'<span aria-hidden="true" style="color:{_MUTED}">({_shape_text(shape)})</span>'
                f'<span style="{_SPOKEN}">{", " if self.name else ""}{spoken}</span>'
            )
        return f'<caption style="{_CAPTION}">{name}{drawn}</caption>'

    def _html_block(self):
        """The matrix as a table: caption, a header row of column indices (vectors and
        matrices), a header cell of the row index at the start of each row (matrices)."""
        ndim = self.values.ndim
        # a scalar's cell is as wide as its caption: its number is centred in it
        align = "text-align:center;" if ndim == 0 else ""
        rows = []
        if ndim:
            corner = f'<td style="{_TH}"></td>' if ndim == 2 else ""
            heads = "".join(
                f'<th scope="col" style="{_TH}">{j}</th>' for j in range(self.mask.shape[1])
            )
            rows.append(f"<thead><tr>{corner}{heads}</tr></thead>")
        body = []
        for i, row in enumerate(self._grid()):
            cells = [f'<th scope="row" style="{_TH}">{i}</th>'] if ndim == 2 else []
            for j, v in enumerate(row):
                bg, ink = colour(v, self.limits, self.kind)
                style = f"{_TD}{align}background:{bg};color:{ink};{_outline(self.mask, i, j)}"
                cells.append(f'<td style="{style}">{fmt(v, self.digits)}</td>')
            body.append(f'<tr style="background:transparent">{"".join(cells)}</tr>')
        rows.append(f"<tbody>{''.join(body)}</tbody>")
        return (
            f'<div style="display:inline-block;vertical-align:middle">'
            f'<table style="{_TABLE}">{self._caption()}{"".join(rows)}</table></div>'
        )

    def _repr_html_(self):
        return f'<div style="{_CARD}">{self._html_block()}</div>'


def show_matrix(a, name=None, kind="value", digits=3, highlight=None, vmin=None, vmax=None):
    """A :class:`Matrix`: each value of `a` (shape (), (n,) or (rows, cols)) in its coloured cell.

    highlight: a boolean mask shaped like `a`, or (row, col) cells (ints for a vector), outlined.
    vmin, vmax: fix the colour limits (to compare matrices); with kind="grad" only vmax, the
    half-width of the symmetric scale.
    """
    return Matrix(a, name=name, kind=kind, digits=digits, highlight=highlight, vmin=vmin, vmax=vmax)


# ---------------------------------------------------------------- rows and stacks of matrices


def _token_html(token):
    size = "22px" if len(token) <= 2 else "12px"
    return (
        f'<div style="font-family:{_SANS};font-size:{size};color:{_MUTED};padding:0 2px;'
        f'white-space:nowrap">{html.escape(token)}</div>'
    )


def _side_by_side(blocks, width=100):
    """Text blocks (lists of lines; a one-line block is a token) left to right, wrapped."""
    bands, band, used = [], [], 0
    for lines in blocks:
        w = max(len(line) for line in lines)
        if band and used + w > width:  # wrap; an operator moves on with what follows it
            carry = [band.pop()] if len(band) > 1 and len(band[-1]) == 1 else []
            bands.append(band)
            band, used = carry, sum(len(t[0]) + 2 for t in carry)
        band.append(lines)
        used += w + 2
    bands.append(band)
    out = []
    for band in bands:
        height = max(len(lines) for lines in band)
        rows = [""] * height
        for lines in band:
            top = height // 2 if len(lines) == 1 else 0
            padded = [""] * top + lines + [""] * (height - top - len(lines))
            w = max(len(line) for line in lines)
            rows = [r + p.ljust(w) + "  " for r, p in zip(rows, padded, strict=True)]
        out.append("\n".join(r.rstrip() for r in rows))
    return "\n\n".join(out)


class Row:
    """Matrices and string tokens (operators such as "⋆", "+", "=", "→") in one wrapping row."""

    def __init__(self, items, title=None):
        self.items, self.title = list(items), title

    def _html_inner(self):
        # An operator stays on the line of the matrix that follows it when the row wraps.
        parts, pending = [], []
        for it in self.items:
            if isinstance(it, str):
                pending.append(_token_html(it))
                continue
            block = it._html_block()
            if pending:
                block = (
                    f'<div style="display:flex;align-items:center;gap:10px">'
                    f"{''.join(pending)}{block}</div>"
                )
                pending = []
            parts.append(block)
        parts.extend(pending)
        title = f'<div style="{_TITLE}">{html.escape(self.title)}</div>' if self.title else ""
        return (
            f'{title}<div style="display:flex;flex-wrap:wrap;align-items:center;'
            f'gap:8px 10px">{"".join(parts)}</div>'
        )

    def _text(self):
        blocks = [[it] if isinstance(it, str) else it._text_lines() for it in self.items]
        body = _side_by_side(blocks)
        return f"{self.title}\n{body}" if self.title else body

    def __repr__(self):
        return self._text()

    def _repr_html_(self):
        return f'<div style="{_CARD}">{self._html_inner()}</div>'


class Stack:
    """Titled rows one under the other (what :func:`show_trace` returns)."""

    def __init__(self, rows):
        self.rows = list(rows)

    def __repr__(self):
        return "\n\n".join(row._text() for row in self.rows)

    def _repr_html_(self):
        return f'<div style="{_CARD}">{"".join(row._html_inner() for row in self.rows)}</div>'


def show_row(*items, names=None, kind="value", digits=3):
    """Several matrices side by side, e.g. ``show_row(x, "⋆", K, "+", b, "=", z1,
    names=["x", "K", "b", "z1"])``.

    items: arrays (shown with `kind` and `digits`), :class:`Matrix` objects (kept as they are,
    unless `names` renames them) and strings (tokens drawn between them).
    names: None or one name (or None) per non-string item.
    """
    if not items:
        raise ValueError("items must contain at least one matrix or token, got none")
    _check_kind(kind)
    check_digits(digits)
    arrays = [it for it in items if not isinstance(it, str)]
    if names is None:
        names = [None] * len(arrays)
    elif isinstance(names, str) or len(names) != len(arrays):
        raise ValueError(
            f"names must be a list with one name per matrix ({len(arrays)}), got {names!r}"
        )
    names = iter(names)
    out = []
    for k, it in enumerate(items):
        if isinstance(it, str):
            out.append(it)
            continue
        name = _check_name(next(names), "names[...]")
        if isinstance(it, Matrix):
            if name is not None:
                it = copy.copy(it)
                it.name = name
            out.append(it)
        else:
            out.append(Matrix(_as_array(it, f"items[{k}]"), name, kind, digits))
    return Row(out)


# ---------------------------------------------------------------- a whole trace


def _field(obj, objname, field, ndim, index):
    """Field `field` of `obj` as float64, checked to have `ndim` axes; sample `index` if given."""
    if not hasattr(obj, field):
        raise TypeError(f"{objname} must have a field {field!r} (a cnn6 result object)")
    arr = _as_array(getattr(obj, field), f"{objname}.{field}", (ndim + (index is not None),))
    return arr if index is None else arr[index]


def show_trace(trace, grads=None, index=0, digits=3):
    """Every matrix of a forward pass (``cnn6.forward``), and of the backward pass if `grads`
    (``cnn6.backward``) is given, as titled rows. For a batch trace, sample `index` is shown;
    the loss is the batch mean and the parameter gradients are those of the whole batch.
    The winners of the max-pool are outlined in a1 (and da1).
    """
    digits = check_digits(digits)
    x_all = _as_array(getattr(trace, "x", None), "trace.x", (2, 3))
    n = x_all.shape[0] if x_all.ndim == 3 else None
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"index must be an int, got {type(index).__name__}")
    if not 0 <= index < (n or 1):
        raise ValueError(f"index must be in 0..{(n or 1) - 1} for this trace, got {index}")
    i = None if n is None else int(index)
    f = {
        k: _field(trace, "trace", k, d, i)
        for k, d in (("x", 2), ("z1", 2), ("a1", 2), ("a2", 2), ("a3", 1), ("z4", 0), ("a4", 0))
    }
    pool = np.asarray(getattr(trace, "pool_idx", None))
    if not np.issubdtype(pool.dtype, np.integer) or pool.shape != np.shape(trace.a2):
        raise ValueError(
            f"trace.pool_idx must be an int array shaped like trace.a2, "
            f"got {pool.dtype} {pool.shape}"
        )
    pool = pool if i is None else pool[i]
    if pool.min() < 0 or pool.max() >= f["a1"].size:
        raise ValueError("trace.pool_idx must hold flat indices into a1")
    won = winners(pool, f["a1"].shape)
    act = {"relu": "ReLU", "leaky_relu": "leaky ReLU", "elu": "ELU"}.get(
        getattr(trace, "activation", "relu"), str(getattr(trace, "activation", ""))
    )

    def m(a, name, kind="value", highlight=None):
        return Matrix(a, name, kind, digits, highlight)

    fwd = [
        m(f["x"], "x"),
        "conv →",
        m(f["z1"], "z1"),
        f"{act} →",
        m(f["a1"], "a1", highlight=won),
        "max-pool →",
        m(f["a2"], "a2"),
        "flatten →",
        m(f["a3"], "a3"),
        "dense →",
        m(f["z4"], "z4"),
        "sigmoid →",
        m(f["a4"], "a4"),
    ]
    if getattr(trace, "loss", None) is not None:
        y = getattr(trace, "y", None)
        y_text = "" if y is None else f", y = {fmt(np.asarray(y)[() if i is None else i], 0)}"
        fwd += [
            f"BCE{y_text} →",
            m(_as_array(trace.loss, "trace.loss", (0,)), "loss (batch mean)" if n else "loss"),
        ]
    title = "forward" + (f" (sample {i} of {n})" if n else "")
    rows = [Row(fwd, title)]
    if grads is not None:
        g = {
            k: _field(grads, "grads", k, d, i)
            for k, d in (("dz4", 0), ("da3", 1), ("da2", 2), ("da1", 2), ("dz1", 2))
        }
        back = [
            m(g["dz4"], "dz4", "grad"),
            "· w →",
            m(g["da3"], "da3", "grad"),
            "un-flatten →",
            m(g["da2"], "da2", "grad"),
            "to the max →",
            m(g["da1"], "da1", "grad", won),
            f"· {act}′(z1) →",
            m(g["dz1"], "dz1", "grad"),
        ]
        if getattr(grads, "dx", None) is not None:
            back += ["conv with K →", m(_field(grads, "grads", "dx", 2, i), "dx", "grad")]
        rows.append(Row(back, "backward"))
        # each gradient titled with its name on the notation page: dK, db_c, dw, db_f
        params = [
            m(_field(grads, "grads", k, d, None), name, "grad")
            for k, d, name in (
                ("kernel", 2, "dK"),
                ("conv_bias", 0, "db_c"),
                ("weights", 1, "dw"),
                ("fc_bias", 0, "db_f"),
            )
        ]
        rows.append(Row(params, "parameter gradients" + (" (whole batch)" if n else "")))
    return Stack(rows)


# ---------------------------------------------------------------- the pipeline

_FORWARD = (
    ("x", "input", "6×6"),
    ("z1", "conv", "4×4"),
    ("a1", "ReLU", "4×4"),
    ("a2", "max-pool", "2×2"),
    ("a3", "flatten", "4"),
    ("z4", "dense", "scalar"),
    ("a4", "sigmoid", "scalar"),
    ("loss", "BCE", "scalar"),
)
# Backward steps (key, label, operation, shape), each in the column of its forward step;
# None under a4: dz4 = a4 - y goes through the sigmoid and the loss in one step.
_BACKWARD = (
    ("dkernel", "dK, db_c", "x ⋆ dz1", "3×3, 1"),
    ("dz1", "dz1", "· ReLU′", "4×4"),
    ("da1", "da1", "to the max", "4×4"),
    ("da2", "da2", "un-flatten", "2×2"),
    ("da3", "da3", "dz4 · w", "4"),
    ("dz4", "dz4", "a4 − y", "scalar"),
    None,
    ("loss", "loss", "start", "scalar"),
)


def _box(label, op, shape, strong, backward):
    bg, border, ink = (
        (_STRONG, _STRONG, "#ffffff")
        if strong
        else ("#fbeeee", "#e3b8b8", _INK)
        if backward
        else ("#eef2f7", "#c3cedb", _INK)
    )
    sub = "#ffffff" if strong else _MUTED
    return (
        f'<div style="background:{bg};border:1.5px solid {border};color:{ink};'
        f"border-radius:10px;padding:5px 6px;min-width:54px;text-align:center;"
        f'white-space:nowrap"><div style="font-family:{_MONO};font-size:14px;'
        f'font-weight:700">{html.escape(label)}</div><div style="font-size:11px">'
        f'{html.escape(op)}</div><div style="font-family:{_MONO};font-size:11px;'
        f'color:{sub}">{shape}</div></div>'
    )


class Pipeline:
    """The network as a row of steps (and the backward steps under it); see :func:`pipeline`."""

    def __init__(self, marked, direction):
        self.marked, self.direction = marked, direction

    def __repr__(self):
        lines = ["forward pass"]
        lines += [
            f"{'▶' if k in self.marked else ' '} {k:<7}{op:<12}{shape}" for k, op, shape in _FORWARD
        ]
        if self.direction == "backward":
            lines.append("backward pass")
            lines += [
                f"{'▶' if s[0] in self.marked else ' '} {s[1]:<7}{s[2]:<12}{s[3]}"
                for s in reversed(_BACKWARD)
                if s
            ]
        return "\n".join(lines)

    def _repr_html_(self):
        arrow = f'<div style="text-align:center;color:{_MUTED};font-size:16px">{{}}</div>'
        label = f'<div style="grid-column:1 / -1;{_TITLE}">{{}}</div>'
        cells = [label.format("forward pass")]
        for k, (key, op, shape) in enumerate(_FORWARD):
            cells += ([arrow.format("→")] if k else []) + [
                _box(key, op, shape, key in self.marked, False)
            ]
        if self.direction == "backward":
            cells.append(label.format("backward pass (the deltas flow right to left)"))
            for k, step in enumerate(_BACKWARD):
                if k:
                    near_gap = step is None or _BACKWARD[k - 1] is None
                    cells.append(arrow.format("" if near_gap else "←"))
                cells.append(
                    arrow.format("⟵")
                    if step is None
                    else _box(step[1], step[2], step[3], step[0] in self.marked, True)
                )
        columns = " ".join(["auto 16px"] * (len(_FORWARD) - 1) + ["auto"])
        return (
            f'<div style="{_CARD}max-width:100%;overflow-x:auto;box-sizing:border-box">'
            f'<div style="display:inline-grid;grid-template-columns:{columns};gap:4px 2px;'
            f'align-items:center">{"".join(cells)}</div></div>'
        )


def pipeline(highlight=None, direction="forward"):
    """The picture x → z1 → a1 → a2 → a3 → z4 → a4 → loss, each step with its operation and
    shape, the steps named in `highlight` (a name or a list of names) in a strong colour.

    direction="backward" adds the deltas under it: loss → dz4 → da3 → da2 → da1 → dz1 → dK, db_c
    (highlight names "dz4", "da3", "da2", "da1", "dz1", "dkernel").
    """
    if direction not in ("forward", "backward"):
        raise ValueError(f"direction must be 'forward' or 'backward', got {direction!r}")
    keys = [s[0] for s in _FORWARD] + [s[0] for s in _BACKWARD if s and s[0] != "loss"]
    marked = [] if highlight is None else [highlight] if isinstance(highlight, str) else highlight
    if not isinstance(marked, (list, tuple, set, frozenset)):
        raise TypeError(f"highlight must be a step name or a list of them, got {highlight!r}")
    for key in marked:
        if key not in keys:
            raise ValueError(f"highlight must name steps among {keys}, got {key!r}")
        if direction == "forward" and key not in [s[0] for s in _FORWARD]:
            raise ValueError(f"highlight {key!r} is a backward step: pass direction='backward'")
    return Pipeline(frozenset(marked), direction)


# ---------------------------------------------------------------- source code


def show_source(obj):
    """The source code of a function, class or module of the package (``inspect.getsource``),
    as a view whose text form is the source and whose Markdown form is a Python code block
    (highlighted by the book's theme, by JupyterLab and by VS Code)."""
    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError) as err:
        raise TypeError(
            f"obj must be a Python function, class or module with source code, got {obj!r} ({err})"
        ) from None
    source = textwrap.dedent(source).rstrip("\n")
    fence = "````" if "```" in source else "```"
    return View(source, markdown=f"{fence}python\n{source}\n{fence}")


# ---------------------------------------------------------------- matplotlib figures


def plot_matrix(ax, a, name=None, kind="value", digits=2, highlight=None, vmin=None, vmax=None):
    """Draw `a` (shape (), (n,) or (rows, cols)) on the matplotlib Axes `ax`, each value printed
    in its cell, with the colours of :func:`show_matrix`; returns `ax`."""
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    mat = Matrix(a, name=name, kind=kind, digits=digits, highlight=highlight, vmin=vmin, vmax=vmax)
    lo, hi = mat.limits
    grid = mat._grid()
    ax.imshow(grid, cmap=CMAPS[kind], vmin=lo, vmax=hi)
    for (i, j), v in np.ndenumerate(grid):
        ax.text(
            j,
            i,
            fmt(v, mat.digits),
            ha="center",
            va="center",
            color=colour(v, mat.limits, kind)[1],
            fontsize=9,
            fontweight="bold" if mat.mask[i, j] else "normal",
        )
    for (i, j), on in np.ndenumerate(mat.mask):  # outer edges of the highlighted region
        if not on:
            continue
        for di, dj, xs, ys in (
            (-1, 0, (-0.5, 0.5), (-0.5, -0.5)),
            (1, 0, (-0.5, 0.5), (0.5, 0.5)),
            (0, -1, (-0.5, -0.5), (-0.5, 0.5)),
            (0, 1, (0.5, 0.5), (-0.5, 0.5)),
        ):
            r, c = i + di, j + dj
            if not (0 <= r < grid.shape[0] and 0 <= c < grid.shape[1] and mat.mask[r, c]):
                ax.plot(
                    [j + xs[0], j + xs[1]],
                    [i + ys[0], i + ys[1]],
                    color=_OUTLINE,
                    lw=3,
                    solid_capstyle="projecting",
                )
    ax.set_xticks(range(grid.shape[1]))
    ax.set_yticks(range(grid.shape[0]) if mat.values.ndim == 2 else [])
    ax.set_title(mat.title)
    return ax


class Gallery(Figure):
    """The matplotlib Figure of :func:`plot_images`, shown with its text alternative.

    ``alt`` (str): what the figure shows, generated from the data; a chapter that redraws the
    axes may replace it. A notebook shows the figure as an image whose ``alt`` is that text
    (HTML), as that text (plain, what nbval compares) and as a PNG (the print edition): the
    forms of :func:`show_figure`.
    """

    alt = None

    def __repr__(self):
        return f"[figure] {self.alt}" if self.alt else super().__repr__()

    def _repr_mimebundle_(self, include=None, exclude=None):
        if not self.alt:
            return None
        view = show_figure(self, self.alt, dpi=round(self.dpi))
        return {"text/plain": view.text, "text/html": view.html, "image/png": view.png}


def _square_at(image):
    """(row, col) of the top-left corner of the one SQUARE_SIZE block of `image` whose values
    are all equal (the square of class 1 on noise), or None when there is no such block or more
    than one: then the square is not located."""
    k = SQUARE_SIZE
    rows, cols = image.shape
    found = [
        (r, c)
        for r in range(rows - k + 1)
        for c in range(cols - k + 1)
        if np.ptp(image[r : r + k, c : c + k]) == 0
    ]
    return found[0] if len(found) == 1 else None


def _check_corners(corners, n, shape):
    """`corners` as an int array (n, 2): a square's top-left corner, or (-1, -1) for none."""
    c = np.asarray(corners)
    if c.shape != (n, 2) or not np.issubdtype(c.dtype, np.integer):
        raise ValueError(
            f"corners must be an int array of shape ({n}, 2) (make_dataset's corners), "
            f"got {c.dtype} {c.shape}"
        )
    limit = np.array(shape) - SQUARE_SIZE
    none = (c == -1).all(axis=1)
    inside = ((c >= 0) & (c <= limit)).all(axis=1)
    if not np.all(none | inside):
        raise ValueError(
            f"corners must hold (-1, -1) or a corner in 0..{limit[0]} x 0..{limit[1]}, "
            f"got {c[~(none | inside)][0].tolist()}"
        )
    return c


def _gallery_alt(X, y, proba, corners, digits):
    """The text alternative of a gallery: what it shows, then each image in reading order."""
    n, rows, cols = X.shape
    lo, hi = limits(X, "value")
    k = SQUARE_SIZE
    words = [
        f"{n} image{'s' if n > 1 else ''} of {rows}x{cols} pixels, shaded from light "
        f"({fmt(lo, 2)}) to dark blue ({fmt(hi, 2)}); a square is a {k}x{k} block of one "
        f"value; rows and columns count from 0."
    ]
    for i in range(n):
        parts = [] if y is None else [f"class {int(y[i])}"]
        if corners is not None:
            at = None if corners[i][0] < 0 else tuple(int(v) for v in corners[i])
        else:
            at = _square_at(X[i])
        if at is not None:
            r, c = at
            parts.append(f"square at rows {r}-{r + k - 1}, columns {c}-{c + k - 1}")
        elif y is not None and y[i] == 1:
            parts.append("square not located")
        elif y is None and corners is None:
            parts.append("no square found")
        if proba is not None:
            parts.append(f"P(1)={fmt(proba[i], digits)}")
        words.append(f"Image {i + 1}: {', '.join(parts) or 'no square'}.")
    return " ".join(words)


def plot_images(X, y=None, proba=None, ncols=8, size=1.3, digits=2, corners=None):
    """A gallery of the images X, shape (n, rows, cols) or (rows, cols), on one shared colour
    scale, titled ``y=1`` and/or ``P(1)=0.97``; returns the matplotlib Figure (a
    :class:`Gallery`, shown with a text alternative generated from the data: each image's
    class, its square's place and P(1)).

    corners: int (n, 2), the top-left corner of each image's square, (-1, -1) for none (as
    ``make_dataset(..., return_corners=True)`` gives them). Without it the square is found as
    the one 3x3 block of equal values, and said "not located" in a class-1 image without one.

    The figure is closed in pyplot, so a notebook shows it once: when it is a cell's value.
    """
    X = _as_array(X, "X", (2, 3))
    X = X[None] if X.ndim == 2 else X
    n = X.shape[0]
    if y is not None:
        y = _as_array(y, "y", (0, 1)).reshape(-1)
        if y.shape != (n,) or not np.all((y == 0) | (y == 1)):
            raise ValueError(f"y must hold {n} labels, each 0 or 1, got {y}")
    if proba is not None:
        proba = _as_array(proba, "proba", (0, 1)).reshape(-1)
        if proba.shape != (n,) or np.any((proba < 0) | (proba > 1)):
            raise ValueError(f"proba must hold {n} probabilities in [0, 1], got {proba}")
    if corners is not None:
        corners = _check_corners(corners, n, X.shape[1:])
    if isinstance(ncols, (bool, np.bool_)) or not isinstance(ncols, (int, np.integer)):
        raise TypeError(f"ncols must be an int >= 1, got {type(ncols).__name__}")
    if ncols < 1:
        raise ValueError(f"ncols must be an int >= 1, got {ncols}")
    size = real(size, "size")
    if not 0 < size <= 10:
        raise ValueError(f"size must be a number of inches in (0, 10], got {size}")
    digits = check_digits(digits)
    ncols = min(int(ncols), n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(ncols * size, nrows * (size + 0.35)),
        squeeze=False,
        FigureClass=Gallery,
    )
    lo, hi = limits(X, "value")
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= n:
            continue
        ax.imshow(X[k], cmap=CMAPS["value"], vmin=lo, vmax=hi)
        title = [] if y is None else [f"y={int(y[k])}"]
        title += [] if proba is None else [f"P(1)={fmt(proba[k], digits)}"]
        ax.set_title("  ".join(title), fontsize=9)
    fig.tight_layout()
    fig.alt = _gallery_alt(X, y, proba, corners, digits)
    plt.close(fig)
    return fig


def figure_png(fig, dpi=80):
    """The matplotlib Figure `fig` as PNG bytes (tight box, no timestamp: deterministic)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def show_figure(fig, alt, dpi=80):
    """A matplotlib Figure shown with its text alternative: a :class:`~cnn6.view.kit.View`.

    alt: what the figure shows, in a sentence or two (non-empty str). It is the image's ``alt``
    in HTML (what a screen reader says), and the view's text form (what nbval compares, and
    what a plain-text front end prints). The PNG form serves the print edition.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt must be a non-empty string saying what the figure shows")
    dpi = check.integer(dpi, "dpi", low=20)
    png = figure_png(fig, dpi)
    plt.close(fig)
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    alt = " ".join(alt.split())
    # class "dark-light": the book's theme then leaves the image as drawn in its dark mode,
    # rather than dimming it (which would take the numbers on the cells below 4.5:1)
    html_form = (
        f'<img src="{src}" alt="{html.escape(alt)}" class="dark-light" '
        f'style="max-width:100%;height:auto">'
    )
    return View(f"[figure] {alt}", html_form, png=png)
