"""book/_ext/cnn6_print.py: a warning's HTML title survives in the PDF as a bold paragraph."""

import sys
from pathlib import Path

from docutils import nodes
from docutils.utils import new_document

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
import cnn6_print  # noqa: E402


def test_warning_titles_become_bold_paragraphs():
    doc = new_document("test")
    for html in (
        '<div class="admonition warning">\n<p class="admonition-title"><strong>What the '
        "original notebook did</strong></p>",
        "</div>",
    ):
        doc += nodes.raw(html, html, format="html")
    doc += nodes.paragraph("", "The window is")
    cnn6_print.warning_titles(doc)
    assert [p.astext() for p in doc.findall(nodes.strong)] == ["What the original notebook did"]
    assert [n.astext() for n in doc.findall(nodes.raw)] == ["</div>"]  # no title: LaTeX drops it
