"""The built book against WCAG 2.1 AA (and 2.0, 2.2 A/AA), checked by axe-core in chromium.

Every page of the build (``book_pages``: found in the build, so a new chapter is checked as
soon as it is built) is opened once and shown in the light theme and in the dark theme, chosen
with the theme's own switch as a reader does, and axe-core (pinned in package-lock.json, read
from node_modules/, never served by the book) runs on it in each theme once it has settled
(``accessibility.audit``: one audit of both themes per run, shared by the two tests that each
assert on one theme). A serious or critical violation fails the theme's test with the rule,
the impact, the page, the theme and a few of the elements' selectors; moderate and minor ones
are printed (``pytest -rP`` shows them). tools/axe_report.py prints the same findings
counted per rule.

Also checked here: axe finds violations planted in a page (so a clean result means something),
axe-core is not copied into the book, the theme's search field still opens the search (click
and keyboard shortcut) under its new accessible name, and the colour switch says the mode.
A screenshot of one matrix in each theme goes to ``_build/screenshots/a11y/``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from accessibility import (
    AXE_TAGS,
    FAILING,
    THEMES,
    audit,
    axe_source,
    book_pages,
    choose_theme,
    new_reader,
    pinned_axe_version,
    run_axe,
    table,
)
from test_browser import (
    PAGES,
    Server,
    browser_type_launch_args,  # noqa: F401  (Debian's chromium)
)

pytestmark = [pytest.mark.book, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots" / "a11y"
# A matrix of the book: a table in a cell's output (cnn6.view.display).
MATRIX = ".cell_output table"


@pytest.fixture(scope="module")
def source() -> str:
    try:
        return axe_source()
    except (FileNotFoundError, RuntimeError) as error:
        pytest.fail(str(error))


@pytest.fixture(scope="module")
def book(built_book) -> Path:
    if not (built_book.html / "index.html").is_file():
        pytest.fail(
            f"jupyter-book build failed ({built_book.returncode}):\n"
            f"{built_book.stdout[-4000:]}\n{built_book.stderr[-4000:]}"
        )
    return built_book.html


@pytest.fixture(scope="module")
def served(book):
    """The shared build served on 127.0.0.1 (a port of its own); yields the base URL."""
    server = Server(book)
    yield server.base
    server.stop()


# ---------------------------------------------------------------- the tool itself


def test_axe_finds_planted_violations(browser, source):
    """A page with a low-contrast text, an unlabelled input, an image without alt text and a
    button whose name hides its visible text: axe reports each, with its impact."""
    page = browser.new_page()
    try:
        page.set_content(
            '<html lang="en"><head><title>planted</title></head><body><main>'
            '<p style="color:#bbbbbb;background:#ffffff">faint text</p>'
            '<input type="text"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
            '<button aria-label="Find">Search Ctrl+K</button></main></body></html>'
        )
        found = {v.rule: v for v in run_axe(page, source, "planted.html", "light")}
    finally:
        page.close()
    assert {"color-contrast", "label", "image-alt", "label-content-name-mismatch"} <= set(found)
    assert found["color-contrast"].impact == "serious"
    assert found["label"].impact == "critical"
    assert found["image-alt"].targets == ("img",)


def test_axe_is_pinned_and_not_in_the_book(book, source):
    assert pinned_axe_version().startswith("4.14.")
    served_scripts = [p.relative_to(book) for p in book.rglob("*.js") if "axe" in p.name]
    assert not served_scripts, f"axe-core is copied into the book: {served_scripts}"
    for page in book.rglob("*.html"):
        assert "axe.min.js" not in page.read_text(encoding="utf-8"), page


def test_every_page_of_the_build_is_audited(book):
    pages = book_pages(book)
    assert "index.html" not in pages  # the redirect to the first page
    assert "search.html" in pages
    assert not [p for p in pages if p.startswith("_")]
    missing = [p for p in PAGES if f"{p}.html" not in pages]
    assert not missing, f"pages of _toc.yml not audited: {missing}"


# ---------------------------------------------------------------- every page, both themes


@pytest.fixture(scope="module")
def audited(browser, served, book, source):
    """Both themes audited on every page, each page loaded once: (pages, violations,
    screenshots of a matrix per theme, seconds)."""
    pages = book_pages(book)
    shots = {}

    def screenshot_a_matrix(page, path, theme):
        matrix = page.locator(MATRIX).first
        if theme not in shots and matrix.count():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shot = SCREENSHOTS / f"matrix-{theme}.png"
            matrix.locator("xpath=..").screenshot(path=str(shot))
            shots[theme] = f"{shot} ({path})"

    start = time.perf_counter()
    found = audit(browser, served, pages, source, on_page=screenshot_a_matrix)
    return pages, found, shots, time.perf_counter() - start


@pytest.mark.parametrize("theme", THEMES)
def test_pages_have_no_serious_violation(audited, theme):
    pages, found, shots, elapsed = audited
    found = [v for v in found if v.theme == theme]
    failing = [v for v in found if v.impact in FAILING]
    others = [v for v in found if v.impact not in FAILING]
    print(f"axe-core {pinned_axe_version()} ({', '.join(AXE_TAGS)}), {theme} theme:")
    print(f"{len(pages)} pages in both themes in {elapsed:.0f} s; matrix screenshot: {shots}")
    print(table(found, themes=(theme,)))
    for v in others:
        print("  " + v.line())
    assert theme in shots, f"no matrix ({MATRIX}) on any page to screenshot in the {theme} theme"
    assert not failing, (
        f"{len(failing)} serious or critical violation(s) in the {theme} theme:\n  "
        + "\n  ".join(v.line() for v in failing)
    )


# ---------------------------------------------------------------- the theme's own controls

OPEN_DIALOG = "() => document.getElementById('pst-search-dialog').open"


def test_search_field_is_named_by_its_text_and_opens_search(browser, served):
    """The search field's accessible name is its visible text with the shortcut; a click and
    Ctrl+K each open the search dialog with the cursor in its input; Escape closes it."""
    page = new_reader(browser, served)
    try:
        page.goto(served + f"{PAGES[1]}.html", wait_until="load")
        page.wait_for_load_state("networkidle")
        field = page.locator("button.search-button-field:visible").first
        assert field.get_attribute("aria-label") is None
        name = " ".join(field.inner_text().split())
        assert name.startswith("Search") and name.endswith("K"), name
        assert page.get_by_role("button", name=name, exact=True).first.is_visible()
        assert not page.evaluate(OPEN_DIALOG)
        field.click()
        page.wait_for_function(OPEN_DIALOG, timeout=5_000)
        assert page.evaluate("() => document.activeElement.matches('#pst-search-dialog input')")
        page.keyboard.press("Escape")
        page.wait_for_function(f"() => !({OPEN_DIALOG})()", timeout=5_000)
        page.keyboard.press("Control+k")
        page.wait_for_function(OPEN_DIALOG, timeout=5_000)
        page.keyboard.type("kernel")
        assert page.locator("#pst-search-dialog input").input_value() == "kernel"
    finally:
        page.context.close()


def test_colour_switch_is_named_by_the_mode_it_shows(browser, served):
    """The colour switch's accessible name says the mode on view, and follows each click
    through the theme's cycle of modes; the choice holds on the next page."""
    names = {
        "light": "Color mode: Light",
        "dark": "Color mode: Dark",
        "auto": "Color mode: System Settings",
    }
    mode = "() => document.documentElement.dataset.mode"
    page = new_reader(browser, served)
    try:
        choose_theme(page, served, f"{PAGES[1]}.html", "light")
        seen = []
        for _ in range(3):
            seen.append(page.evaluate(mode))
            switch = page.get_by_role("button", name=names[seen[-1]], exact=True)
            assert switch.count() == 1 and switch.is_visible(), seen
            switch.click()
            page.wait_for_function(f"m => ({mode})() !== m", arg=seen[-1], timeout=5_000)
        assert sorted(seen) == sorted(names), seen
        now = page.evaluate(mode)
        page.goto(served + f"{PAGES[0]}.html", wait_until="load")
        assert page.get_by_role("button", name=names[now], exact=True).is_visible()
    finally:
        page.context.close()
