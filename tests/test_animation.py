"""The animations' HTML player (cnn6.view.animation), read as HTML outside a browser.

What each player block must hold: one image per frame with its alternative text, one
description per frame that names the window and the value the engine computes there, buttons
with accessible names and a labelled frame slider, nothing that plays by itself, nothing from
another site, the same bytes on every run; and, once a sanitizer has removed its script and
style (an untrusted notebook, a notebook viewer), the first frame, its description, a note
and the list of every description, with no dead control left. tests/test_animation_browser.py
drives the same blocks in Chromium.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from helpers import animations

import cnn6
from cnn6.view import animation
from cnn6.view.display import fmt

# drawn once, on the worker that also runs test_interactive's animation tests
pytestmark = pytest.mark.xdist_group("animations")

X, Y, PARAMS = cnn6.running_example()
TRACE = cnn6.forward(PARAMS, X, Y)
GRADS = cnn6.backward(PARAMS, TRACE, Y)
BUTTONS = {"First frame", "Previous frame", "Play", "Next frame", "Last frame"}
VOID = {"img", "input", "br", "hr", "meta", "link", "source", "wbr", "col", "area"}


class Fragment(HTMLParser):
    """The elements of an HTML fragment, in document order: dicts with ``tag``, ``attrs``
    (a dict), ``text`` (all the text inside the element) and ``parents`` (the tags of the
    elements around it)."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements, self._open = [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = {
            "tag": tag,
            "attrs": dict(attrs),
            "text": "",
            "parents": [e["tag"] for e in self._open],
        }
        self.elements.append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self._open.pop()

    def handle_endtag(self, tag):
        for k in range(len(self._open) - 1, -1, -1):
            if self._open[k]["tag"] == tag:
                del self._open[k:]
                return

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def all(self, tag, **attrs):
        return [
            e
            for e in self.elements
            if e["tag"] == tag
            and all(e["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def one(self, tag, **attrs):
        found = self.all(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]


def player_data(html):
    """The JSON the player's script reads (the frames after the first, alts, controls, ...)."""
    source = Fragment(html).one("script", type="application/json")["text"]
    return json.loads(source)


def sanitized(html):
    """What a notebook sanitizer leaves of the block: no script, no style (with their
    content), no ``aria-*`` or ``data-*`` attribute."""
    html = re.sub(r"<(script|style)\b[^>]*>.*?</\1>", "", html, flags=re.S)
    return re.sub(r'\s(?:aria|data)-[\w-]+="[^"]*"', "", html)


@pytest.fixture(scope="module")
def players():
    """The three animations of the book on the running example (small frames: fast)."""
    return animations()


# ---------------------------------------------------------------- structure


@pytest.mark.parametrize("name", ["convolution", "kernel gradient", "max-pool backward"])
def test_every_frame_has_an_image_alt_and_a_description(players, name):
    a = players[name]
    page = Fragment(a.html)
    data = player_data(a.html)
    img = page.one("img", **{"class": "cnn6-player-frame"})
    assert img["attrs"]["src"].startswith("data:image/png;base64,")
    assert len(data["frames"]) == a.frames - 1  # the first frame is the <img>'s own
    assert all(f.startswith("data:image/png;base64,") for f in data["frames"])
    alts = data["alts"]
    assert len(alts) == a.frames and img["attrs"]["alt"] == alts[0]
    assert all(alt.startswith(f"Frame {k + 1} of {a.frames}: ") for k, alt in enumerate(alts))
    assert len(set(alts)) == a.frames
    steps = [li["text"] for li in page.all("li")]
    assert steps == list(a.steps) and len(steps) == a.frames
    live = page.one("p", aria_live="polite")
    assert live["text"] == steps[0]


@pytest.mark.parametrize("name", ["convolution", "max-pool"])
def test_controls_are_named_buttons_and_a_labelled_slider(players, name):
    a = players[name]
    controls = Fragment(player_data(a.html)["controls"])
    buttons = controls.all("button")
    assert {b["attrs"].get("aria-label") for b in buttons} == BUTTONS
    assert all(b["attrs"].get("type") == "button" for b in buttons)
    assert all(not b["text"].strip() for b in buttons)  # icons only: the name is aria-label
    assert all(s["attrs"].get("aria-hidden") == "true" for s in controls.all("svg"))
    slider = controls.one("input", type="range")
    assert "label" in slider["parents"]  # labelled by the <label> around it
    label = controls.one("label")
    assert label["text"].strip() == "Frame"
    assert (slider["attrs"]["min"], slider["attrs"]["max"]) == ("1", str(a.frames))
    assert slider["attrs"]["value"] == "1"
    group = controls.one("div", role="group")
    assert group["attrs"]["aria-label"].endswith(": controls")


def test_nothing_plays_by_itself(players):
    for a in players.values():
        assert "autoplay" not in a.html.lower()
        js = Fragment(a.html).all("script")[-1]["text"]
        # the timer is set in go(), and go() is called from the Play button's click only
        assert js.count("setInterval(") == 1 and js.count("go();") == 1
        assert re.search(r'if \(action === "play"\) \{\s*if \(timer === null\) go\(\)', js)


def test_a_player_needs_nothing_from_another_site(players):
    for a in players.values():
        assert "http://" not in a.html and "https://" not in a.html
        assert "<link" not in a.html and "@import" not in a.html
        sources = re.findall(r'\bsrc="([^"]*)"', a.html)
        assert sources and all(s.startswith("data:image/png;base64,") for s in sources)


# ---------------------------------------------------------------- the engine's numbers


def test_convolution_steps_name_each_window_and_its_value(players):
    a = players["convolution"]
    z1 = TRACE.z1  # the engine's vectorised convolution, not the loops the frames use
    cells = [(i, j) for i in range(4) for j in range(4)]
    assert len(a.steps) == len(cells) + 1
    for k, (i, j) in enumerate(cells):
        assert a.steps[k].startswith(
            f"Step {k + 1} of 16: window at rows {i}-{i + 2}, columns {j}-{j + 2} of x; "
            f"z1[{i}, {j}] = "
        ), a.steps[k]
        assert a.steps[k].endswith(f" = {fmt(z1[i, j], 2)}"), a.steps[k]
    assert "all 16 windows" in a.steps[-1] and "4×4" in a.steps[-1]


def test_kernel_gradient_steps_name_each_window_and_its_value(players):
    a = players["kernel gradient"]
    dk = GRADS.kernel  # the engine's gradient
    for k, (u, v) in enumerate((u, v) for u in range(3) for v in range(3)):
        assert a.steps[k].startswith(
            f"Step {k + 1} of 9: window at rows {u}-{u + 3}, columns {v}-{v + 3} of x "
        ), a.steps[k]
        assert a.steps[k].endswith(f"dK[{u}, {v}] = sum(window ⊙ dz1) = {fmt(dk[u, v], 2)}")


def test_max_pool_steps_name_each_window_its_winner_and_the_route(players):
    forward, backward = players["max-pool"], players["max-pool backward"]
    a1, da2, da1 = TRACE.a1, GRADS.da2, GRADS.da1
    for k, (p, q) in enumerate((p, q) for p in range(2) for q in range(2)):
        block = a1[2 * p : 2 * p + 2, 2 * q : 2 * q + 2]
        r, c = np.unravel_index(np.argmax(block), block.shape)
        r, c = 2 * p + r, 2 * q + c
        head = (
            f"Step {k + 1} of 4: window at rows {2 * p}-{2 * p + 1}, columns {2 * q}-{2 * q + 1}"
            f" of a1; its maximum a1[{r}, {c}] = {fmt(a1[r, c], 2)} goes to a2[{p}, {q}]"
        )
        assert forward.steps[k] == head
        assert da1[r, c] == da2[p, q]  # the engine routed it there
        assert backward.steps[k] == (
            f"{head}; backward, da2[{p}, {q}] = {fmt(da2[p, q], 2)} goes back to "
            f"da1[{r}, {c}], the window's other 3 cells get 0"
        )


# ---------------------------------------------------------------- determinism


def test_each_player_is_marked_by_a_hash_of_its_content(players):
    """No random id: the same call marks its block the same way (test_interactive checks the
    whole HTML is byte-identical), and different animations get different marks."""

    def mark(a):
        return Fragment(a.html).one("div", **{"class": "cnn6-player"})["attrs"]["data-cnn6-player"]

    marks = {name: mark(a) for name, a in players.items()}
    assert all(re.fullmatch(r"[0-9a-f]{16}", m) for m in marks.values())
    assert len(set(marks.values())) == len(players)
    assert mark(animation.animate_maxpool(TRACE.a1, dpi=30)) == marks["max-pool"]
    assert " id=" not in players["convolution"].html  # nothing two copies on a page could share


# ---------------------------------------------------------------- where scripts do not run


@pytest.mark.parametrize("name", ["convolution", "max-pool backward"])
def test_without_its_script_a_player_is_a_frame_a_note_and_the_descriptions(players, name):
    a = players[name]
    page = Fragment(sanitized(a.html))
    assert not page.all("button") and not page.all("input")  # no dead control
    img = page.one("img")
    assert img["attrs"]["alt"] == player_data(a.html)["alts"][0]
    note = page.one("p", **{"class": "cnn6-player-note"})["text"]
    assert f"first of {a.frames} frames" in note and "JavaScript" in note
    assert page.one("p", **{"class": "cnn6-player-step"})["text"] == a.steps[0]
    assert [li["text"] for li in page.all("li")] == list(a.steps)


# ---------------------------------------------------------------- the player's own checks


def test_player_arguments_are_checked(players):
    png = animation._small_png(players["max-pool"].png)
    with pytest.raises(ValueError, match="^alts, steps: expected one per frame"):
        animation._player_html([png, png], ["a"], ["s", "t"], 500, "t")
    with pytest.raises(ValueError, match="^frames: expected a non-empty list of PNG"):
        animation._player_html([b"GIF89a"], ["a"], ["s"], 500, "t")
    with pytest.raises(ValueError, match="^interval"):
        animation._player_html([png], ["a"], ["s"], 10, "t")
