"""book/_ext/cnn6_latex.py: the HTML titles of solutions and warnings survive in the PDF."""

import sys
from pathlib import Path
from types import SimpleNamespace

from docutils import nodes
from docutils.utils import new_document

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
import cnn6_latex  # noqa: E402


def _document(*raw_html):
    doc = new_document("test")
    for html in raw_html:
        doc += nodes.raw(html, html, format="html")
    doc += nodes.paragraph("", "The window is")
    return doc


def _app(fmt):
    return SimpleNamespace(builder=SimpleNamespace(format=fmt))


def test_html_titles_become_bold_paragraphs_in_latex():
    doc = _document(
        '<details class="solution">\n<summary>Solution to Exercise 2.1</summary>',
        '<div class="admonition warning">\n<p class="admonition-title"><strong>What the '
        "original notebook did</strong></p>",
        "</details>",
    )
    cnn6_latex._html_titles(_app("latex"), doc, "book/02_convolution")
    assert [p.astext() for p in doc.findall(nodes.strong)] == [
        "Solution to Exercise 2.1",
        "What the original notebook did",
    ]
    raw = [n.astext() for n in doc.findall(nodes.raw)]
    assert raw == ["</details>"]  # raw HTML without a title stays (LaTeX drops it)


def test_html_builder_keeps_the_raw_html():
    doc = _document('<details class="solution">\n<summary>Solution to Exercise 2.1</summary>')
    cnn6_latex._html_titles(_app("html"), doc, "book/02_convolution")
    assert len(list(doc.findall(nodes.raw))) == 1
    assert not list(doc.findall(nodes.strong))
