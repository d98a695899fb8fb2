"""The print edition's Sphinx extension (book/_ext/cnn6_print.py), on a tiny book.

A three-page book in a temporary folder is built with Sphinx's LaTeX builder (no pdflatex:
the LaTeX source is read) and its HTML builder: the solutions move to the end of their chapter
in the LaTeX only, with page references both ways; the parts and chapter numbers are set; the
web address comes from the repository setting. ``tests/test_pdf.py`` checks the real PDF.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.book  # Sphinx builds of a three-page book

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from cnn6_print import pages_address  # noqa: E402

CONF = f"""
import sys
sys.path.insert(0, {str(ROOT / "book" / "_ext")!r})
project = "tiny"
extensions = ["myst_parser", "cnn6_print"]
myst_enable_extensions = ["dollarmath"]
html_theme_options = {{"repository_url": "https://github.com/Some-Owner/tiny", "path_to_docs": ""}}
latex_documents = [("index", "tiny.tex", "Tiny", "Someone", "manual")]
"""
INDEX = """# Tiny

Opening words.

```{toctree}
:caption: Part one
:numbered:

one
```

```{toctree}
:caption: Extras

extra
```

## Who it is for

Readers.
"""
ONE = """# First chapter

Some text.

## Play with it

Controls.

## Exercises

<div class="exercise">

**Exercise 1.1** (by hand). Count the widgets on this page.

</div>

<details class="solution">
<summary>Solution to Exercise 1.1</summary>

There are exactly seventeen widgets here.

$$
a = b
$$

</details>

Text after the exercises.
"""
EXTRA = "# Extra page\n\nNothing numbered here.\n"


def build(source: Path, builder: str) -> Path:
    out = source / "_build" / builder
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", builder, str(source), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("tiny")
    for name, text in [
        ("conf.py", CONF),
        ("index.md", INDEX),
        ("one.md", ONE),
        ("extra.md", EXTRA),
    ]:
        (source / name).write_text(text, encoding="utf-8")
    return source


def test_latex_moves_the_solution_to_the_end_of_its_chapter(tiny):
    tex = (build(tiny, "latex") / "tiny.tex").read_text(encoding="utf-8")
    body = tex[tex.index(r"\begin{document}") :]
    exercise = body.index("Count the widgets")
    note = body.index(r"Solution on page }\emph{\pageref{cnnsix-sol-1.1}}")
    solutions = body.index(r"\section*{Solutions to the exercises of Chapter 1}")
    heading = body.index(r"\label{cnnsix-sol-1.1}")
    answer = body.index("exactly seventeen widgets")
    math = body.index("a = b")
    after = body.index("Text after the exercises")
    extra = body.index(r"\chapter{Extra page}")
    assert exercise < note < after < solutions < heading < answer < math < extra
    assert body.count("exactly seventeen widgets") == 1
    assert r"Exercise 1.1}, page \pageref{cnnsix-ex-1.1}" in body
    assert body.index(r"\label{cnnsix-ex-1.1}") < exercise
    # Front matter, parts, the chapter's number, and unnumbered chapters after it.
    assert body.index(r"\chapter{Introduction}") < body.index("Opening words")
    assert body.index(r"\section{Who it is for}") < body.index(r"\cnnsixpart{Part one}")
    assert body.index(r"\cnnsixnumbered\setcounter{chapter}{0}") < body.index(
        r"\chapter{First chapter}"
    )
    assert body.index(r"\cnnsixpart{Extras}") < body.index(r"\cnnsixunnumbered", extra - 40)
    # The live page's address, with a QR code, at the chapter's start and under "Play with it".
    address = "https://some-owner.github.io/tiny/one.html"
    assert body.count(rf"\qrcode[height=1.6cm]{{{address}}}") == 2
    assert r"\url{https://some-owner.github.io/tiny/index.html}" in body


def test_html_keeps_the_solution_in_its_dropdown(tiny):
    html = (build(tiny, "html") / "one.html").read_text(encoding="utf-8")
    opening = html.index('<details class="solution">')
    assert opening < html.index("exactly seventeen widgets") < html.index("</details>")
    assert "Solution on page" not in html and "qrcode" not in html


@pytest.mark.parametrize(
    ("url", "path", "expected"),
    [
        ("https://github.com/cnn6-book/cnn6", "", "https://cnn6-book.github.io/cnn6/"),
        ("https://github.com/Owner/Repo.git", "docs/", "https://owner.github.io/Repo/docs/"),
        ("https://github.com/owner/owner.github.io", "", "https://owner.github.io/"),
    ],
)
def test_pages_address_follows_the_repository(url, path, expected):
    assert pages_address(url, path) == expected


@pytest.mark.parametrize("url", ["", "https://gitlab.com/a/b", "https://github.com/only-owner"])
def test_pages_address_refuses_what_is_not_a_github_repository(url):
    with pytest.raises(ValueError, match="repository_url: expected https://github.com/OWNER/REPO"):
        pages_address(url)
