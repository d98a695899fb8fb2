"""Sphinx extension of the cnn6 book: math that MathJax accepts also builds in the PDF.

MathJax reads ``\\text{square_value}`` as the text "square_value"; LaTeX stops on the ``_``
(a subscript outside math mode). For the LaTeX builder only, this extension escapes ``_`` (and
``#``, ``%``, ``&``) inside ``\\text{...}``, ``\\textrm``, ``\\textit``, ``\\textbf``,
``\\texttt``, ``\\textsf`` and ``\\mbox`` in every formula, so that the PDF shows what the
web page shows.

The chapters write a solution's title and a warning's title in HTML (``<summary>``, ``<p
class="admonition-title">``), which every notebook front-end renders; LaTeX drops raw HTML, so
for the LaTeX builder each such title becomes a bold paragraph of its own.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes

_TEXT_COMMAND = re.compile(r"\\(?:text(?:rm|it|bf|tt|sf)?|mbox)\s*\{")
_SPECIAL = re.compile(r"(?<!\\)([_#%&])")
_HTML_TITLE = re.compile(r"<summary>(.*?)</summary>|<p class=\"admonition-title\">(.*?)</p>", re.S)
_TAG = re.compile(r"<[^>]+>")


def escape_text_in_math(tex: str) -> str:
    """`tex` with ``_ # % &`` escaped inside the text commands' braces (nesting respected)."""
    out, pos = [], 0
    for match in _TEXT_COMMAND.finditer(tex):
        if match.start() < pos:
            continue  # inside a text command already handled
        start = match.end()
        depth, k = 1, start
        while k < len(tex) and depth:
            if tex[k] == "\\":
                k += 2
                continue
            depth += {"{": 1, "}": -1}.get(tex[k], 0)
            k += 1
        if depth:
            break  # unbalanced: leave the rest as it is (LaTeX will say where)
        out.append(tex[pos:start])
        out.append(_SPECIAL.sub(r"\\\1", tex[start : k - 1]))
        out.append("}")
        pos = k
    out.append(tex[pos:])
    return "".join(out)


def _fix_math(app: Any, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "latex":
        return
    for node in list(doctree.findall(lambda n: isinstance(n, (nodes.math, nodes.math_block)))):
        text = node.astext()
        fixed = escape_text_in_math(text)
        if fixed != text:
            node.children = [nodes.Text(fixed)]


def _html_titles(app: Any, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "latex":
        return
    for node in list(doctree.findall(nodes.raw)):
        if "html" not in node.get("format", "").split():
            continue
        titles = [_TAG.sub("", a or b).strip() for a, b in _HTML_TITLE.findall(node.astext())]
        if titles:
            node.replace_self([nodes.paragraph("", "", nodes.strong(t, t)) for t in titles])


def setup(app: Any) -> dict:
    app.connect("doctree-resolved", _fix_math)
    app.connect("doctree-resolved", _html_titles)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
