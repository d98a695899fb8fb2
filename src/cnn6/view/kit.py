"""The presentation kit that display, animation and widgets share.

- :data:`SCALES`, :data:`CMAPS`: the two colour scales ("value": light to mid blue; "grad":
  blue, white at zero, red), as stops for the HTML cells and as matplotlib colour maps;
- :func:`check_digits`: the one check of a number of decimals;
- :func:`limits`: the (lo, hi) of a colour scale; :func:`colour`: a value's cell colour and
  the colour of the text printed on it (:func:`text_on`: black or white, whichever contrasts
  more);
- :func:`luminance`, :func:`contrast`: the WCAG 2.1 relative luminance and contrast ratio, the
  one formula every view's colours are checked with (text needs 4.5:1, :data:`MIN_CONTRAST`);
- :func:`winners`: the max-pool's winners as a boolean mask of its input;
- :class:`View`: a finished view, a fixed text form (what nbval compares) and, optionally,
  HTML, Markdown and a PNG.

It reads nothing of the numerical core but the argument checks.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from matplotlib.colors import LinearSegmentedColormap

from .. import validation as check

__all__ = [
    "BLACK",
    "CMAPS",
    "INK",
    "KINDS",
    "MAX_DIGITS",
    "MIN_CONTRAST",
    "OUTLINE",
    "SCALES",
    "View",
    "WHITE",
    "check_digits",
    "colour",
    "contrast",
    "limits",
    "luminance",
    "real",
    "text_on",
    "winners",
]

INK = "#1f2328"  # text on the light cards, and the outline of a window in the animations
BLACK, WHITE = "#000000", "#ffffff"  # the text printed on a coloured cell
MIN_CONTRAST = 4.5  # WCAG 2.1 AA, normal text: (L_light + 0.05) / (L_dark + 0.05) >= 4.5
OUTLINE = "#f08c00"  # highlighted cells

KINDS = ("value", "grad")
# Colour scales as (position, colour) stops. The same stops colour the HTML cells and the figures:
# "value" is sequential (light to mid blue), "grad" diverges around zero (blue, white, red).
# Every fill is light enough for black text at 5:1 or more, for normal colour vision and under
# simulated deuteranopia and protanopia, which darken reds and shift blues; darker fills would
# need white text somewhere, and the switch point reads below 4.5:1 for those readers
# (tests/test_colours.py measures both).
SCALES = {
    "value": ((0.0, "#f7fbff"), (0.5, "#9ecae1"), (1.0, "#3a86c8")),
    "grad": (
        (0.0, "#3a86c0"),
        (0.25, "#92c5de"),
        (0.5, "#ffffff"),
        (0.75, "#f4a582"),
        (1.0, "#e56b52"),
    ),
}
CMAPS = {
    kind: LinearSegmentedColormap.from_list(f"cnn6_{kind}", stops) for kind, stops in SCALES.items()
}

MAX_DIGITS = 10


def check_digits(digits, name="digits"):
    """The number of decimals to print: an int from 0 to :data:`MAX_DIGITS` (bools refused)."""
    digits = check.integer(digits, name, low=0)
    if digits > MAX_DIGITS:
        raise ValueError(f"{name}: expected an integer from 0 to {MAX_DIGITS}, got {digits}")
    return digits


def real(value, name):
    """One real number (Python, numpy or 0-d array) as a float, NaN and inf kept; bools refused."""
    if isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise ValueError(f"{name} must be a single number, got an array of shape {value.shape}")
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    return float(value)


def limits(values, kind, vmin=None, vmax=None):
    """(lo, hi) of the colour scale of `values` (an array), hi > lo.

    kind "value": (min, max) of `values`, or `vmin`, `vmax` where given. kind "grad": symmetric,
    (-m, m) with m = `vmax` or max |values|; `vmin` must then be None.
    """
    if kind == "grad":
        if vmin is not None:
            raise ValueError(
                "vmin must be None when kind='grad' (the scale is symmetric: pass vmax)"
            )
        m = float(np.max(np.abs(values))) if vmax is None else real(vmax, "vmax")
        if m < 0 or not math.isfinite(m):
            raise ValueError(f"vmax must be a finite number >= 0 when kind='grad', got {m}")
        m = m or 1.0
        return -m, m
    lo = float(np.min(values)) if vmin is None else real(vmin, "vmin")
    hi = float(np.max(values)) if vmax is None else real(vmax, "vmax")
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        raise ValueError(f"vmin and vmax must be finite with vmin <= vmax, got {lo}, {hi}")
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _at(t, kind):
    """The colour at position t in [0, 1] of the scale `kind`, as '#rrggbb'."""
    stops = SCALES[kind]
    for (p0, c0), (p1, c1) in zip(stops, stops[1:], strict=False):
        if t <= p1:
            f = (t - p0) / (p1 - p0)
            rgb = [
                round(int(c0[k : k + 2], 16) * (1 - f) + int(c1[k : k + 2], 16) * f)
                for k in (1, 3, 5)
            ]
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return stops[-1][1]


def luminance(rgb):
    """The WCAG 2.1 relative luminance of the colour `rgb` ('#rrggbb'), from 0 (black) to 1."""
    if not (isinstance(rgb, str) and len(rgb) == 7 and rgb[0] == "#"):
        raise ValueError(f"rgb must be a colour '#rrggbb', got {rgb!r}")
    try:
        channels = [int(rgb[k : k + 2], 16) / 255 for k in (1, 3, 5)]
    except ValueError:
        raise ValueError(f"rgb must be a colour '#rrggbb', got {rgb!r}") from None
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    """The WCAG 2.1 contrast ratio of the colours `a` and `b` ('#rrggbb'), from 1 to 21:
    (L1 + 0.05) / (L2 + 0.05), L1 the lighter one's luminance. Text needs 4.5 (AA)."""
    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def colour(value, lims, kind):
    """(background, text colour) of the cell of `value` on the scale `kind` with limits `lims`.

    Values outside the limits take the colour of the nearest end. The text is black or white,
    whichever contrasts more with the background (white below the luminance
    sqrt(1.05 * 0.05) - 0.05 = 0.179, where both give 4.58:1), so any fill reads at 4.58:1 or
    more (:data:`MIN_CONTRAST` is 4.5); the fills of :data:`SCALES` all take black.
    """
    lo, hi = lims
    background = _at(min(max((value - lo) / (hi - lo), 0.0), 1.0), kind)
    return background, text_on(background)


def text_on(background):
    """The colour of text on `background` ('#rrggbb'): black or white, whichever contrasts more
    (4.58:1 at worst, at the luminance sqrt(1.05 * 0.05) - 0.05 where the two are equal)."""
    return WHITE if contrast(background, WHITE) > contrast(background, BLACK) else BLACK


def winners(pool_idx, shape):
    """The max-pool's winners as a boolean mask of `shape` (its input's, one image).

    pool_idx: int array, any shape, of flat row-major indices into that input (the second
    result of ``cnn6.maxpool2d_forward``, or part of it: the first windows only).
    """
    mask = np.zeros(int(np.prod(shape)), dtype=bool)
    mask[np.asarray(pool_idx).ravel()] = True
    return mask.reshape(shape)


class View:
    """A finished view: its text form (``repr``, fixed format) and, where given, its HTML,
    Markdown and PNG forms, each shown by the front end that understands it.

    Attributes: ``text`` (str), ``html`` (str or None), ``markdown`` (str or None), ``png``
    (bytes or None).
    """

    def __init__(self, text, html=None, *, markdown=None, png=None):
        self.text, self.html, self.markdown, self.png = text, html, markdown, png

    def __repr__(self):
        return self.text

    def _repr_html_(self):
        return self.html

    def _repr_markdown_(self):
        return self.markdown

    def _repr_png_(self):
        return self.png
