"""The whole book builds as one PDF (`make pdf`: Sphinx's LaTeX builder and pdflatex).

The PDF is built in the copy of the repository that the HTML build of the tests made
(``built_book`` in conftest.py: no stale ``_build``, no race with another build, and the
parsed pages are reused), then read back with ``pdftotext``: it must hold the book's title and
the title of every page in ``_toc.yml``, have at least two pages per page of the book, carry the
figures, and print every character (no "no glyph" warning: see ``latex_elements`` in
``_config.yml``).

Needs Debian's ``latexmk``, ``texlive-latex-extra``, ``texlive-fonts-recommended``,
``tex-gyre`` and ``poppler-utils``: ``make test`` installs them when missing (as root).
Without them the test fails; it never skips.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
import yaml
from test_browser import ROOT, toc_pages

# Built in the copy of the HTML build (``built_book``, conftest.py), whose doctrees it reuses.
pytestmark = [pytest.mark.book, pytest.mark.pdf]

TOOLS = ("latexmk", "pdflatex", "pdftotext", "pdfimages")
PDF_NAME = "cnn6.pdf"


def page_title(path: Path) -> str:
    """The first level-1 heading of a Markdown page or a notebook's Markdown cells."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    raise AssertionError(f"{path} has no level-1 heading")


def words(text: str) -> list[str]:
    """Lower-case words of `text`, math ($...$), code marks and punctuation left out."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\$[^$]*\$", " ", text)
    return re.findall(r"[a-z0-9]+", text.lower())


def contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[k : k + n] == needle for k in range(len(haystack) - n + 1))


@pytest.fixture(scope="module")
def pdf(built_book) -> tuple[Path, float]:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.fail(
            f"missing {', '.join(missing)}: as root, apt-get install -y "
            "--no-install-recommends latexmk texlive-latex-extra "
            "texlive-fonts-recommended tex-gyre poppler-utils (`make test` does it)"
        )
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    source = built_book.source
    start = time.perf_counter()
    result = subprocess.run(
        [str(jupyter_book), "build", str(source), "--builder", "pdflatex"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    seconds = time.perf_counter() - start
    out = source / "_build" / "latex" / PDF_NAME
    if result.returncode != 0 or not out.is_file():
        log = source / "_build" / "latex" / PDF_NAME.replace(".pdf", ".log")
        errors = ""
        if log.is_file():
            errors = "\n".join(
                line
                for line in log.read_text(errors="replace").splitlines()
                if line.startswith("!") or line.startswith("l.")
            )
        pytest.fail(
            f"the PDF build failed ({result.returncode}) after {seconds:.0f} s:\n"
            f"{errors[-3000:]}\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}"
        )
    print(f"PDF built in {seconds:.1f} s")
    return out, seconds


def test_pdf_holds_every_title(pdf):
    path, _ = pdf
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    stream = words(text)
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert contains(stream, words(config["title"])), "the book's title"
    missing = []
    for page in toc_pages():
        source = next(
            ROOT / f"{page}{ext}" for ext in (".md", ".ipynb") if (ROOT / f"{page}{ext}").is_file()
        )
        title = page_title(source)
        if not contains(stream, words(title)):
            missing.append(f"{page}: {title!r}")
    assert not missing, "titles not found in the PDF:\n  " + "\n  ".join(missing)


def test_pdf_has_pages_figures_and_every_glyph(pdf):
    path, _ = pdf
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 2 * len(toc_pages()), pages
    images = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    notebooks_with_figures = [
        p
        for p in toc_pages()
        if (ROOT / f"{p}.ipynb").is_file()
        and '"image/png"' in (ROOT / f"{p}.ipynb").read_text(encoding="utf-8")
    ]
    assert len(images) >= len(notebooks_with_figures), (len(images), notebooks_with_figures)
    log = path.with_suffix(".log").read_text(errors="replace")
    assert "no glyph" not in log, (
        "a Unicode character has no LaTeX definition: declare it in latex_elements.preamble "
        "in _config.yml"
    )
