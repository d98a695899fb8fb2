"""The colour scales of the view (cnn6.view.kit): every number printed on a cell reads at WCAG AA
(4.5:1) or more, for normal colour vision and for the two common colour-vision deficiencies.

Deuteranopia and protanopia are simulated with coloraide (a maintained colour library, a test
dependency only), by three published methods: Brettel 1997, Viénot 1999 and Machado 2009, each
at full severity (dichromacy, the hardest case). "Readable" means, under each simulation:

- text: the number's colour on its cell's colour still has a contrast of 4.5:1 or more;
- "value" scale: lightness (CIELAB L*) falls at every step from the light end to the dark end
  (each 1/64 of the scale by 0.25 or more), so larger values stay darker (no reversal, no
  plateau);
- "grad" scale: the two arms stay apart, and apart from white (zero): for any |value| of at least
  a quarter of the scale's half-width, the colours of -v and +v differ by a CIEDE2000 distance
  of 10 or more, and each differs from white by 5 or more (2 is about a just noticeable
  difference).
"""

from __future__ import annotations

import numpy as np
import pytest
from coloraide import Color

from cnn6.view import display as D
from cnn6.view import kit

CVD = [
    (kind, method) for kind in ("deutan", "protan") for method in ("brettel", "vienot", "machado")
]
POSITIONS = np.linspace(0.0, 1.0, 4097)  # finer than the 8-bit steps: every colour of a scale
ARMS_MIN, WHITE_MIN, FROM = 10.0, 5.0, 0.25  # CIEDE2000 thresholds, for |value| >= FROM


def seen(rgb, cvd=None):
    """The colour '#rrggbb' as seen with normal vision (cvd None) or under the simulation cvd."""
    colour = Color(rgb)
    return colour if cvd is None else colour.filter(cvd[0], method=cvd[1]).convert("srgb").fit()


def scale(kind, n):
    """n colours evenly spaced along the scale `kind`, from position 0 to 1."""
    return [kit.colour(t, (0.0, 1.0), kind) for t in np.linspace(0.0, 1.0, n)]


def test_the_wcag_formula_agrees_with_the_library():
    rng = np.random.default_rng(0)
    colours = ["#{:02x}{:02x}{:02x}".format(*rgb) for rgb in rng.integers(0, 256, (60, 3))]
    for a, b in zip(colours, colours[::-1], strict=True):
        # the library derives luminance from its own sRGB matrix: agreement to 1e-3 relative
        assert kit.contrast(a, b) == pytest.approx(Color(a).contrast(b, method="wcag21"), rel=1e-3)


@pytest.mark.parametrize("kind", kit.KINDS)
def test_every_position_of_each_scale_has_readable_text(kind):
    ratios = [kit.contrast(*kit.colour(t, (0.0, 1.0), kind)) for t in POSITIONS]
    assert min(ratios) >= 5.0  # the margin the scales were chosen with (AA is 4.5)
    # the figures draw the same scale through a 256-step colour map: each step too
    cmap = kit.CMAPS[kind]
    for k in range(cmap.N):
        fill = "#{:02x}{:02x}{:02x}".format(*(round(c * 255) for c in cmap(k)[:3]))
        assert kit.contrast(fill, kit.text_on(fill)) >= kit.MIN_CONTRAST, (k, fill)


def test_the_card_colours_have_readable_text():
    white = kit.WHITE
    for ink in (kit.INK, D._MUTED):  # text, captions' shapes, the index headers, titles
        assert kit.contrast(ink, white) >= kit.MIN_CONTRAST
    assert kit.contrast(kit.WHITE, D._STRONG) >= kit.MIN_CONTRAST  # a highlighted step


@pytest.mark.parametrize("cvd", CVD, ids=lambda c: "-".join(c))
@pytest.mark.parametrize("kind", kit.KINDS)
def test_text_stays_readable_under_simulated_deficiency(kind, cvd):
    worst = min(
        seen(fill, cvd).contrast(seen(text, cvd), method="wcag21")
        for fill, text in scale(kind, 257)
    )
    assert worst >= kit.MIN_CONTRAST


@pytest.mark.parametrize("cvd", [None, *CVD], ids=lambda c: "normal" if c is None else "-".join(c))
def test_value_scale_darkens_at_every_step(cvd):
    lightness = [seen(fill, cvd).convert("lab-d65")["lightness"] for fill, _ in scale("value", 65)]
    steps = np.diff(lightness)
    assert np.all(steps < -0.25), steps.max()  # each 1/64 of the scale darker by 0.25 or more
    assert lightness[0] - lightness[-1] > 40  # and the whole scale spans a wide range


@pytest.mark.parametrize("cvd", [None, *CVD], ids=lambda c: "normal" if c is None else "-".join(c))
def test_grad_arms_stay_apart_and_apart_from_white(cvd):
    lims, white = (-1.0, 1.0), Color("white")
    for v in np.linspace(FROM, 1.0, 31):
        negative = seen(kit.colour(-v, lims, "grad")[0], cvd)
        positive = seen(kit.colour(v, lims, "grad")[0], cvd)
        assert negative.delta_e(positive, method="2000") >= ARMS_MIN, v
        assert negative.delta_e(white, method="2000") >= WHITE_MIN, v
        assert positive.delta_e(white, method="2000") >= WHITE_MIN, v


def test_the_simulation_can_tell_a_bad_scale():
    """The checks above fail on scales known to fail: pure red against pure green is one colour
    for a deuteranope, and white text on mid grey reads at 3.9:1."""
    red, green = seen("#cc3333", CVD[0]), seen("#33aa33", CVD[0])
    assert Color("#cc3333").delta_e(Color("#33aa33"), method="2000") > 40
    assert red.delta_e(green, method="2000") < ARMS_MIN
    assert kit.contrast("#808080", kit.WHITE) < kit.MIN_CONTRAST
