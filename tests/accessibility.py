"""axe-core over the built book, as a reader sees it in the light or the dark theme.

Shared by the accessibility tests (tests/test_accessibility.py) and the report script
(tools/axe_report.py), so that both count the same things.

- axe-core comes from npm, pinned in package-lock.json; ``make vendor`` installs it into
  ``node_modules/``, and it is read from there: it is never copied into the book.
- The pages are every HTML page of the build (found in the build, not listed by hand), except
  the theme's own assets under ``_static/`` and the redirect ``index.html``.
- Each page is loaded once and audited in both themes. The theme is chosen as a reader does:
  a click on the theme's switch in the page's header, which pydata-sphinx-theme stores in
  ``localStorage`` (key ``mode``), so the next page opens in it. A page is audited in the theme
  it opens in, then the switch is clicked until the other theme shows and it is audited again;
  the order alternates from page to page, so each theme is met both as loaded and as switched
  to. An audit starts once the ``<html>`` element carries ``data-mode`` and ``data-theme`` of
  the theme, the widgets are drawn, the images loaded, the mathematics typeset, the fonts
  loaded and the theme's colour transitions finished (no fixed wait).
- The rules: WCAG 2.0, 2.1 and 2.2, levels A and AA (axe's tags below).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
THEMES = ("light", "dark")
# A violation of these impacts fails the tests; the others are printed.
FAILING = ("critical", "serious")
IMPACTS = ("critical", "serious", "moderate", "minor")

_REDIRECT = re.compile(r"<meta[^>]+http-equiv=[\"']refresh", re.IGNORECASE)


def pinned_axe_version() -> str:
    """The axe-core version package-lock.json pins."""
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    return lock["packages"]["node_modules/axe-core"]["version"]


def axe_source() -> str:
    """axe.min.js as installed by ``make vendor`` (npm ci), checked against the pin."""
    if not AXE_JS.is_file():
        raise FileNotFoundError(
            f"{AXE_JS} is missing: run `make vendor` (npm ci installs axe-core, pinned in "
            "package-lock.json)"
        )
    source = AXE_JS.read_text(encoding="utf-8")
    pinned = pinned_axe_version()
    if not source.startswith(f"/*! axe v{pinned}\n"):
        raise RuntimeError(f"{AXE_JS} is not axe-core {pinned}: run `make vendor` again")
    return source


def book_pages(html: Path) -> list[str]:
    """Every page of the build under ``html``, as paths relative to it: the theme's assets
    (folders starting with ``_``) and redirects (a meta refresh) left out."""
    pages = []
    for page in sorted(html.rglob("*.html")):
        rel = page.relative_to(html)
        if any(part.startswith("_") for part in rel.parts[:-1]):
            continue
        if _REDIRECT.search(page.read_text(encoding="utf-8", errors="replace")[:4000]):
            continue
        pages.append(rel.as_posix())
    return pages


@dataclass(frozen=True)
class Violation:
    """One axe rule failed on one page in one theme, by ``elements`` elements."""

    rule: str
    impact: str
    page: str
    theme: str
    elements: int
    targets: tuple[str, ...]  # CSS selectors of the elements, as axe gives them
    help: str

    def line(self, examples: int = 3) -> str:
        shown = ", ".join(self.targets[:examples])
        more = f" (+{self.elements - examples} more)" if self.elements > examples else ""
        return (
            f"{self.rule} ({self.impact}) on {self.page} [{self.theme}]: {self.elements} "
            f"element(s): {shown}{more}; {self.help}"
        )


def new_reader(browser, base: str, offsite: list[str] | None = None):
    """A browser context (1280x900) that lets through requests to ``base`` only (the others
    are blocked, and listed in ``offsite`` when given) and a page in it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def route(r):
        if r.request.url.startswith(base):
            r.continue_()
        else:
            if offsite is not None:
                offsite.append(r.request.url[:200])
            r.abort()

    context.route("**/*", route)
    return context.new_page()


JS_APPLIED = """theme => document.documentElement.dataset.mode === theme
  && document.documentElement.dataset.theme === theme"""

JS_SETTLED = r"""async () => {
  for (let i = 0; i < 200 && document.querySelector('.math') && !(window.MathJax
       && MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 50));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise)
    await MathJax.startup.promise;
  const views = Array.from(document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]'));
  for (let i = 0; i < 600 && !views.every(s => s.parentElement.querySelector(
       '.jupyter-widgets, .widget-box, .lm-Widget')); i++)
    await new Promise(r => setTimeout(r, 50));
  await Promise.all(Array.from(document.images).filter(i => i.loading !== 'lazy' && !i.complete)
    .map(i => new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r);
                                 setTimeout(r, 10000); })));
  await document.fonts.ready;
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  // the theme's colour transitions (0.15 s), started by the frame above
  await Promise.all(document.getAnimations().filter(a => a instanceof CSSTransition)
                    .map(a => a.finished.catch(() => null)));
  return true;
}"""


def choose_theme(page, base: str, path: str, theme: str) -> None:
    """Open ``path`` and click the theme's switch until the page is in ``theme``, as a reader
    does; the theme stores the choice in localStorage."""
    page.goto(base + path, wait_until="load", timeout=60_000)
    switch_theme(page, theme)


def switch_theme(page, theme: str) -> None:
    """Click the open page's theme switch (light, dark, auto, light, ...) until the page shows
    ``theme``; the theme stores it in localStorage, as for a reader."""
    switch = page.locator("button.theme-switch-button:visible").first
    for _ in range(3):
        if page.evaluate(JS_APPLIED, theme):
            break
        switch.click()
        page.wait_for_timeout(50)
    page.wait_for_function(JS_APPLIED, arg=theme, timeout=10_000)
    stored = page.evaluate("() => localStorage.getItem('mode')")
    if stored != theme:
        raise AssertionError(f"the theme's switch stored mode {stored!r}, not {theme!r}")


def settle(page, path: str, theme: str) -> None:
    """Wait until the open page shows ``theme`` and has settled (see the module)."""
    try:
        page.wait_for_function(JS_APPLIED, arg=theme, timeout=10_000)
    except Exception as error:
        shown = page.evaluate("() => Object.assign({}, document.documentElement.dataset)")
        raise AssertionError(f"{path} is not in the {theme} theme: <html> has {shown}") from error
    page.evaluate(JS_SETTLED)


def open_settled(page, base: str, path: str, theme: str) -> None:
    """Open ``path`` and wait until it shows ``theme`` and has settled (see the module)."""
    page.goto(base + path, wait_until="load", timeout=60_000)
    settle(page, path, theme)


JS_AXE = """async tags => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                          resultTypes: ['violations']});
  return {version: axe.version, violations: result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.map(t => Array.isArray(t) ? t.join(' >>> ') : t)
                                      .join(' | '))}))};
}"""


def run_axe(page, source: str, path: str, theme: str) -> list[Violation]:
    """axe-core (``source``) run on the open page: one :class:`Violation` per failed rule."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=source)
    result = page.evaluate(JS_AXE, list(AXE_TAGS))
    return [
        Violation(
            rule=v["id"],
            impact=v["impact"] or "minor",
            page=path,
            theme=theme,
            elements=len(v["targets"]),
            targets=tuple(v["targets"]),
            help=v["help"],
        )
        for v in result["violations"]
    ]


def audit(browser, base: str, pages: list[str], source: str, themes=THEMES, on_page=None):
    """Every page of ``pages`` (paths under ``base``) in each of ``themes``, in one browser
    context, each page loaded once (see the module); returns the violations.
    ``on_page(page, path, theme)`` is called on each settled page in each theme."""
    offsite: list[str] = []
    page = new_reader(browser, base, offsite)
    try:
        choose_theme(page, base, pages[0], themes[0])
        found = []
        for k, path in enumerate(pages):
            # the theme the page opens in (the last one chosen) first, then the other(s)
            order = list(themes) if k % 2 == 0 else list(reversed(themes))
            for n, theme in enumerate(order):
                if n == 0:
                    open_settled(page, base, path, theme)
                else:
                    switch_theme(page, theme)
                    settle(page, path, theme)
                found += run_axe(page, source, path, theme)
                if on_page is not None:
                    on_page(page, path, theme)
    finally:
        page.context.close()
    return found


def table(violations: list[Violation], themes=THEMES) -> str:
    """A Markdown table: rule, impact, then elements and pages in each theme."""
    rows: dict[tuple[str, str], dict[str, list]] = defaultdict(
        lambda: {t: [0, set()] for t in themes}
    )
    for v in violations:
        cell = rows[(v.rule, v.impact)][v.theme]
        cell[0] += v.elements
        cell[1].add(v.page)
    head = ["rule", "impact"]
    for t in themes:
        head += [f"elements ({t})", f"pages ({t})"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    order = sorted(rows, key=lambda k: (IMPACTS.index(k[1]), -sum(c[0] for c in rows[k].values())))
    for rule, impact in order:
        cells = [rule, impact]
        for t in themes:
            n, pages = rows[(rule, impact)][t]
            cells += [str(n), str(len(pages))]
        lines.append("| " + " | ".join(cells) + " |")
    if not rows:
        lines.append("| (none) |" + " |" * (len(head) - 1))
    return "\n".join(lines)
