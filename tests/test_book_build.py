"""The book builds with zero warnings (-W -n) and its root page carries the title."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.book

TITLE = "cnn6: a convolutional network, every number shown"


@pytest.fixture(scope="module")
def built_book(built_book) -> tuple[subprocess.CompletedProcess, Path]:
    """The build shared by the build, browser and PDF tests (``built_book`` of conftest.py,
    from a copy of the repository) as (the finished command, the HTML folder)."""
    result = subprocess.CompletedProcess(
        ["jupyter-book", "build"], built_book.returncode, built_book.stdout, built_book.stderr
    )
    return result, built_book.html


def test_build_succeeds_without_warnings(built_book) -> None:
    result, _ = built_book
    assert result.returncode == 0, (
        f"jupyter-book build failed ({result.returncode}):\n{result.stdout[-6000:]}\n"
        f"{result.stderr[-6000:]}"
    )
    assert "WARNING" not in result.stderr, result.stderr[-6000:]


def test_root_page_has_the_title(built_book) -> None:
    _, html = built_book
    intro = html / "book" / "intro.html"
    assert intro.is_file(), f"no {intro}"
    assert TITLE in intro.read_text(encoding="utf-8")
    # The top-level index.html redirects to the root page.
    assert "book/intro.html" in (html / "index.html").read_text(encoding="utf-8")


def test_notation_page_is_linked(built_book) -> None:
    _, html = built_book
    intro = (html / "book" / "intro.html").read_text(encoding="utf-8")
    assert 'href="notation.html' in intro
    assert (html / "book" / "notation.html").is_file()


def test_no_inline_script_runs_twice(built_book) -> None:
    """The stock build repeats sphinx-thebe's inline configuration on every page, and the
    browser then fails on the second copy (a console error, which the browser tests catch in
    the served book); book/_ext/cnn6_book.py keeps one copy of each inline script."""
    _, html = built_book
    for page in sorted(html.rglob("*.html")):
        bodies = re.findall(r"<script>(.+?)</script>", page.read_text(encoding="utf-8"), re.S)
        repeated = {body[:60] for body in bodies if bodies.count(body) > 1}
        assert not repeated, f"{page.relative_to(html)} repeats inline scripts: {repeated}"
