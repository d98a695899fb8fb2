"""The explorers in the static book, as a keyboard and a screen reader meet them.

Each explorer of ``cnn6.view.widgets`` is saved as the static book saves it (the widget state
that ``make execute`` stores, ``ipywidgets.embed``) into a page that loads the book's own copy
of the widgets' HTML manager (``_vendor/widgets``, from npm), and opened in Debian's chromium
with every off-site request blocked. No kernel runs: the page is what a reader of the book gets.
Required, for every explorer:

- every control the package made is in the page, under the accessible name that is its label
  (found by role and name, the way a screen reader finds it), and nothing in the explorer has
  an input role without a name (the accessibility tree, as chromium exposes it);
- Tab reaches every control in order, and the arrow keys move each number box and drop-down
  (Space ticks the check box).

The chapters' pages, built, are checked by the browser tests of the whole book.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ipywidgets import Button, Checkbox, Dropdown, embed
from test_browser import CHROMIUM, browser_type_launch_args  # noqa: F401

from cnn6.view import widgets

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "_vendor" / "widgets"
SHOTS = ROOT / "_build" / "screenshots" / "explorers"
pytestmark = pytest.mark.browser

EXPLORERS = {
    "data": widgets.explore_data,
    "convolution": widgets.explore_convolution,
    "maxpool": widgets.explore_maxpool,
    "network": widgets.explore_network,
    "training": lambda: widgets.explore_training(n=60, epochs=5, n_test=40),
}

# The roles of form fields: each must have a name (WAI-ARIA; axe's rules label,
# aria-input-field-name, select-name, button-name).
FIELD_ROLES = ("slider", "spinbutton", "combobox", "listbox", "checkbox", "textbox", "button")
# A line of the accessibility tree for a field with no name, or with the name "null" (what
# ipywidgets leaves when a number box has no description).
UNNAMED = re.compile(
    rf"""^\s*- '?({"|".join(FIELD_ROLES)})(?: "null")?(?: \[[^\]]*\])*'?(?::.*)?$""", re.M
)


def _role(control) -> str:
    if isinstance(control, Button):
        return "button"
    if isinstance(control, Dropdown):
        return "combobox"
    if isinstance(control, Checkbox):
        return "checkbox"
    return "spinbutton"  # IntText, FloatText and their bounded forms: <input type=number>


def _page(explorer, path: Path) -> Path:
    """The explorer saved as the static book saves it, with the book's widget manager."""
    data = embed.embed_data(views=[explorer])
    views = "\n".join(
        '<script type="application/vnd.jupyter.widget-view+json">'
        + embed.escape_script(json.dumps(spec))
        + "</script>"
        for spec in data["view_specs"]
    )
    path.write_text(
        f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>explorer</title>
<script src="{(VENDOR / "require.js").as_uri()}"></script>
<script src="{(VENDOR / "embed-amd.js").as_uri()}"></script>
</head><body><main>
<script type="application/vnd.jupyter.widget-state+json">
{embed.escape_script(json.dumps(data["manager_state"]))}
</script>
{views}
</main></body></html>
""",
        encoding="utf-8",
    )
    return path


def test_vendored_widget_manager_is_there():
    assert (VENDOR / "embed-amd.js").is_file(), "run `make vendor` (the book's browser assets)"
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} not found: the browser tests need it"


@pytest.mark.parametrize("name", EXPLORERS)
def test_explorer_is_labelled_and_keyboard_operable(browser, tmp_path, name):
    explorer = EXPLORERS[name]()
    controls = list(explorer.controls.items())
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.route(re.compile(r"^https?://"), lambda route: route.abort())
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(_page(explorer, tmp_path / f"{name}.html").as_uri())
        root = page.locator(".widget-vbox").first
        root.wait_for(timeout=30_000)
        page.locator(".widget-output table, .widget-output img").first.wait_for(timeout=30_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

        # every control, found by its role and its label, as a screen reader finds it
        fields = {}
        for key, control in controls:
            found = page.get_by_role(_role(control), name=control.description, exact=True)
            assert found.count() == 1, f"{name}: {key} as {_role(control)} {control.description!r}"
            fields[key] = found
        tree = root.aria_snapshot()
        unnamed = UNNAMED.findall(tree)
        assert not unnamed, f"{name}: form fields without a name:\n{tree}"

        # Tab walks the controls in order (a check box sits after the two number boxes it
        # follows in its column; the order is the page's, so collect and compare sets too)
        fields[controls[0][0]].focus()
        reached = []
        for _ in range(len(controls) + 5):
            reached.append(
                page.evaluate(
                    "() => { const e = document.activeElement;"
                    " return e.labels && e.labels.length ? e.labels[0].innerText"
                    " : (e.innerText || e.getAttribute('aria-label') || '').trim(); }"
                )
            )
            page.keyboard.press("Tab")
        labels = [c.description for _, c in controls]
        missing = [label for label in labels if label not in reached]
        assert not missing, f"{name}: Tab never reaches {missing} (reached {reached})"

        # the keys move every value
        for key, control in controls:
            field = fields[key]
            if isinstance(control, Button):
                continue
            field.focus()
            if isinstance(control, Checkbox):
                before = field.is_checked()
                page.keyboard.press("Space")
                assert field.is_checked() != before, f"{name}: Space does not tick {key}"
                continue
            before = field.input_value()
            page.keyboard.press("ArrowUp" if isinstance(control, Dropdown) else "ArrowDown")
            if field.input_value() == before:  # at the bottom of its range: the other way
                page.keyboard.press("ArrowDown" if isinstance(control, Dropdown) else "ArrowUp")
            assert field.input_value() != before, f"{name}: the arrow keys do not move {key}"
    finally:
        context.close()
    assert not errors, f"{name}: {errors}"
