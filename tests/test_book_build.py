"""The book builds with zero warnings (-W -n) and its root page carries the title."""

from __future__ import annotations

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


def test_console_errors_of_the_stock_theme_are_fixed(built_book) -> None:
    _, html = built_book
    page = (html / "book" / "intro.html").read_text(encoding="utf-8")
    # One THEBE_JS_URL declaration: the stock build has two, and the second is a console error.
    assert page.count("const THEBE_JS_URL") == 1
    # A valid default mode; the stock build has `|| ""` and the theme logs "Got invalid theme mode".
    assert 'document.documentElement.dataset.mode = localStorage.getItem("mode") || "light"' in page
