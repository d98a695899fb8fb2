"""The animations' player in a real browser (Debian's chromium driven by playwright).

A small page of our own holds two players (the max-pool with its backward pass, and the kernel
gradient); no server, no book build. On it:

- nothing moves until a key is pressed, with or without ``prefers-reduced-motion``;
- with the keyboard alone (Tab to a button, Enter or Space; arrows, Home and End on the frame
  slider) the frame, its alternative text and its description change together, in one player
  only; Play advances it, and any other key stops it;
- axe-core finds no serious or critical violation of the WCAG 2.x A and AA rules, on a light
  and on a dark page, before and after the players start;
- with JavaScript off, each player is its first frame, a note and the list of descriptions.

axe-core: ``node_modules/axe-core/axe.min.js`` (npm). Chromium: as in tests/test_browser.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_browser import CHROMIUM, browser_type_launch_args  # noqa: F401

import cnn6
from cnn6.view import animation

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
INTERVAL = 200  # ms per frame while playing: short, so that the waits below stay short
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
THEMES = {
    # the book's light and dark page colours (sphinx-book-theme's text on its background)
    "light": "body { background: #ffffff; color: #222832; }",
    "dark": "body { background: #121212; color: #ced6dd; }",
}


@pytest.fixture(scope="module")
def players():
    x, y, params = cnn6.running_example()
    trace = cnn6.forward(params, x, y)
    grads = cnn6.backward(params, trace, y)
    return [
        animation.animate_maxpool(trace.a1, grads.da2, interval=INTERVAL, dpi=30),
        animation.animate_kernel_gradient(x, grads.dz1, interval=INTERVAL, dpi=30),
    ]


def page_html(players, theme="light"):
    blocks = "\n".join(
        f"<section><h2>Animation {k + 1}</h2>\n{a.html}\n</section>" for k, a in enumerate(players)
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Two players</title><style>{THEMES[theme]}</style></head>\n"
        f"<body><main><h1>Two players</h1>\n{blocks}\n</main></body></html>"
    )


def open_player_page(browser, players, theme="light", **context_args):
    """A page with the two players, every request off the page refused, errors recorded."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, **context_args)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    context.route("**/*", lambda r: r.abort())  # the page is set directly: nothing to fetch
    page.set_content(page_html(players, theme), wait_until="load")
    return page, errors


JS_STATE = """() => Array.from(document.querySelectorAll('div.cnn6-player')).map(p => ({
  src: p.querySelector('img.cnn6-player-frame').getAttribute('src'),
  alt: p.querySelector('img.cnn6-player-frame').getAttribute('alt'),
  step: p.querySelector('.cnn6-player-step').textContent,
  slider: (p.querySelector('input[type=range]') || {}).value,
  buttons: p.querySelectorAll('button').length,
}))"""


def state(page):
    return page.evaluate(JS_STATE)


def frame(players, k, j):
    """What player `k` shows at frame `j` (0-based): its alt and description."""
    data = json.loads(players[k].html.split('class="cnn6-player-data">')[1].split("</script>")[0])
    return data["alts"][j], players[k].steps[j]


def focused(page):
    return page.evaluate(
        "() => { const e = document.activeElement; const p = e.closest('div.cnn6-player');"
        " return {label: e.getAttribute('aria-label') || (e.labels && e.labels[0] &&"
        " e.labels[0].textContent.trim()) || e.tagName, type: e.type || '',"
        " player: Array.from(document.querySelectorAll('div.cnn6-player')).indexOf(p)}; }"
    )


def tab_to(page, label, player, limit=40):
    """Press Tab until the control named `label` of player `player` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now["label"] == label and now["player"] == player:
            return
    raise AssertionError(f"Tab never reached {label!r} of player {player}")


def test_keyboard_alone_steps_and_plays_one_player(browser, players):
    page, errors = open_player_page(browser, players)
    try:
        start = state(page)
        assert [s["buttons"] for s in start] == [5, 5]
        assert [s["slider"] for s in start] == ["1", "1"]
        for k, s in enumerate(start):
            assert (s["alt"], s["step"]) == frame(players, k, 0)
        page.wait_for_timeout(3 * INTERVAL)
        assert state(page) == start, "a player moved before any key was pressed"

        tab_to(page, "Next frame", 0)
        page.keyboard.press("Enter")
        now = state(page)
        assert (now[0]["alt"], now[0]["step"]) == frame(players, 0, 1)
        assert now[0]["src"] != start[0]["src"] and now[0]["slider"] == "2"
        assert now[1] == start[1], "the other player moved"
        page.keyboard.press("Space")
        assert (state(page)[0]["alt"], state(page)[0]["step"]) == frame(players, 0, 2)

        tab_to(page, "Frame", 0)
        assert focused(page)["type"] == "range"
        page.keyboard.press("ArrowRight")
        assert state(page)[0]["step"] == frame(players, 0, 3)[1]
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")
        assert state(page)[0]["step"] == frame(players, 0, 1)[1]
        page.keyboard.press("End")
        last = players[0].frames - 1
        assert (state(page)[0]["alt"], state(page)[0]["step"]) == frame(players, 0, last)
        page.keyboard.press("Home")
        assert state(page)[0]["step"] == frame(players, 0, 0)[1]

        # Play on the second player: it advances by itself, then any other key stops it.
        tab_to(page, "Play", 1)
        page.keyboard.press("Enter")
        assert focused(page)["label"] == "Pause"
        page.wait_for_function(
            "() => document.querySelectorAll('div.cnn6-player')[1]"
            ".querySelector('input[type=range]').valueAsNumber >= 3",
            timeout=10 * INTERVAL,
        )
        page.keyboard.press("Tab")  # focus moves on to the next frame button: play stops
        stopped = state(page)
        assert stopped[1]["step"] != players[1].steps[0]
        page.wait_for_timeout(3 * INTERVAL)
        assert state(page) == stopped, "play did not stop on a key press"
        assert stopped[0]["step"] == frame(players, 0, 0)[1]
        assert page.get_by_role("button", name="Play").count() == 2
        assert not errors, errors
    finally:
        page.context.close()


def test_play_stops_at_the_last_frame(browser, players):
    page, errors = open_player_page(browser, players)
    try:
        page.get_by_role("button", name="Play").first.focus()
        page.keyboard.press("Space")
        last = players[0].frames - 1
        page.wait_for_function(
            "() => document.querySelector('div.cnn6-player button[data-action=play]')"
            ".getAttribute('aria-label') === 'Play'",
            timeout=(last + 5) * INTERVAL,
        )
        end = state(page)
        assert (end[0]["alt"], end[0]["step"]) == frame(players, 0, last)
        live = page.locator("div.cnn6-player .cnn6-player-step").first
        assert live.get_attribute("aria-live") == "polite"
        page.wait_for_timeout(3 * INTERVAL)
        assert state(page) == end
        assert not errors, errors
    finally:
        page.context.close()


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_nothing_moves_until_asked(browser, players, motion):
    page, errors = open_player_page(browser, players, reduced_motion=motion)
    try:
        start = state(page)
        page.wait_for_timeout(4 * INTERVAL)
        assert state(page) == start
        assert [s["slider"] for s in start] == ["1", "1"]
        assert not errors, errors
    finally:
        page.context.close()


def run_axe(page):
    if not AXE.is_file():
        pytest.fail(f"{AXE} not found: run `npm install` (axe-core is in package.json)")
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))",
        AXE_TAGS,
    )


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_axe_finds_no_serious_violation(browser, players, theme):
    page, errors = open_player_page(browser, players, theme)
    try:
        found = run_axe(page)
        page.get_by_role("button", name="Next frame").first.click()
        page.get_by_role("button", name="Play").last.click()  # while one plays
        found += run_axe(page)
        serious = [v for v in found if v["impact"] in ("serious", "critical")]
        assert not serious, json.dumps(serious, indent=1)
        for v in found:  # moderate and minor: reported, not failed
            print(f"axe ({theme}): {v['impact']} {v['id']} {v['nodes']}")
        assert not errors, errors
    finally:
        page.context.close()


def test_without_javascript_a_player_is_its_first_frame_and_descriptions(browser, players):
    page, _ = open_player_page(browser, players, java_script_enabled=False)
    try:
        assert page.locator("div.cnn6-player button, div.cnn6-player input").count() == 0
        for k, a in enumerate(players):
            player = page.locator("div.cnn6-player").nth(k)
            assert player.locator("img").get_attribute("alt") == frame(players, k, 0)[0]
            assert player.locator(".cnn6-player-note").is_visible()
            assert player.locator(".cnn6-player-step").inner_text() == a.steps[0]
            player.locator("summary").click()  # the list of every frame's description
            assert player.locator("li").all_inner_texts() == list(a.steps)
    finally:
        page.context.close()
