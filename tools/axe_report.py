"""axe-core's findings on the built book, counted per rule: a report, not a test.

Serves a built book (``_build/html`` by default: run ``make book`` first) on 127.0.0.1, runs
axe-core (WCAG 2.0/2.1/2.2 A and AA) on every page in the light and the dark theme (each
page loaded once, the theme switched in it), exactly as
tests/test_accessibility.py does (the code is shared: tests/accessibility.py), and prints a
Markdown table of rule x impact x elements x pages for each theme, then the time taken.
``--details`` also lists every violation with a few of its elements' selectors.

Run: ``.venv/bin/python tools/axe_report.py [--html DIR] [--themes light dark] [--details]``.
Needs ``make vendor`` (axe-core from npm) and Debian's chromium (``make browser``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from accessibility import (  # noqa: E402
    THEMES,
    audit,
    axe_source,
    book_pages,
    pinned_axe_version,
    table,
)
from playwright.sync_api import sync_playwright  # noqa: E402
from test_browser import CHROMIUM, CHROMIUM_FLAGS, Server  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--themes", nargs="+", choices=THEMES, default=list(THEMES))
    parser.add_argument("--details", action="store_true", help="list every violation")
    args = parser.parse_args(argv)
    if not (args.html / "index.html").is_file():
        parser.error(f"--html {args.html}: no built book there (run `make book`)")
    source = axe_source()
    pages = book_pages(args.html)
    server = Server(args.html)
    found = []
    start = time.perf_counter()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            found += audit(browser, server.base, pages, source, themes=args.themes)
            browser.close()
    finally:
        server.stop()
    elapsed = time.perf_counter() - start
    print(
        f"axe-core {pinned_axe_version()} on {len(pages)} pages of {args.html}, "
        f"themes: {', '.join(args.themes)}\n"
    )
    print(table(found, themes=args.themes))
    clean = {
        t: len(pages)
        - len({v.page for v in found if v.theme == t and v.impact in ("critical", "serious")})
        for t in args.themes
    }
    print()
    for t in args.themes:
        print(f"{t}: {clean[t]} of {len(pages)} pages free of serious and critical violations")
    print(f"time: {elapsed:.0f} s ({elapsed / (len(pages) * len(args.themes)):.1f} s per page)")
    if args.details:
        print()
        for v in found:
            print(v.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
