"""Sphinx extension of the cnn6 book: the PDF as a print edition (LaTeX builder only).

The LaTeX builder assembles the whole book into one doctree; for that tree only (the HTML
pages are not touched), this extension

- makes the introduction and the notation front matter: unnumbered chapters on roman-numbered
  pages, the introduction's sections inside one chapter "Introduction";
- prints every caption of ``_toc.yml``'s parts as a LaTeX ``\\part`` (unnumbered, as on the
  web), and gives every chapter of a numbered part the number the web book gives it
  (Sphinx's section numbers); chapters of unnumbered parts stay unnumbered;
- moves every solution, written in the notebooks as
  ``<details class="solution"><summary>Solution to Exercise 2.1</summary> ... </details>``
  (raw HTML around ordinary Markdown, dropped by LaTeX), to a section "Solutions" at the end
  of its chapter that starts on a new page, with page references both ways: "Solution on
  page N" where the solution was, "Exercise 2.1, page M" above the solution;
- prints the title of each warning box, written in HTML (``<p class="admonition-title">``,
  which LaTeX drops with the rest of the raw HTML), as a bold paragraph;
- prints the chapter's web address (GitHub Pages of the ``repository`` in ``_config.yml``),
  with a QR code, under each chapter's title and each "Play with it" heading.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from docutils import nodes
from sphinx import addnodes
from sphinx.util.texescape import escape

_SOLUTION_OPEN = re.compile(r"<details\b[^>]*\bclass\s*=\s*\"[^\"]*\bsolution\b", re.I)
_SUMMARY = re.compile(r"<summary\b[^>]*>(.*?)</summary>", re.I | re.S)
_DETAILS_CLOSE = re.compile(r"</details\s*>", re.I)
_EXERCISE_NAME = re.compile(r"Exercise\s+(\d+(?:\.\d+)*)")
_EXERCISE_OPEN = re.compile(r"<div\b[^>]*\bclass\s*=\s*\"[^\"]*\bexercise\b", re.I)
_PLAY_TITLE = "Play with it"
ON_THE_WEB = "This chapter on the web:"
PLAY_ONLINE = "The controls respond in the live chapter (from the web page: Binder or Colab):"
_WARNING_TITLE = re.compile(
    r"<p\b[^>]*\bclass\s*=\s*\"admonition-title\"[^>]*>(.*?)</p>", re.I | re.S
)

PREAMBLE = r"""
\usepackage{qrcode}
% cnn6_print: numbered and unnumbered stretches of the book (sphinxmanual sets 2).
\newcommand{\cnnsixnumbered}{\setcounter{secnumdepth}{2}}
\newcommand{\cnnsixunnumbered}{\setcounter{secnumdepth}{-2}}
% A part page with an unnumbered title, as the web book's captions.
\newcommand{\cnnsixpart}[1]{\cnnsixunnumbered\part{#1}}
"""

# Sphinx's table of contents resets the page numbers to arabic after it; here the roman
# numbers run on through the front matter, and the first numbered part starts page 1. (Sphinx
# would also title it with the first part's caption, "Before we start".)
TABLE_OF_CONTENTS = r"""
\pagenumbering{roman}
\begingroup\setlength{\parskip}{0pt}\sphinxtableofcontentshook
\renewcommand{\contentsname}{Contents}\tableofcontents\endgroup
\cleardoublepage
"""
MAIN_MATTER = r"\cleardoublepage\pagenumbering{arabic}"


def _raw(tex: str, inline: bool = False) -> nodes.raw:
    return nodes.raw("", tex if inline else tex + "\n", format="latex")


def pages_address(repository_url: str, path_to_book: str = "") -> str:
    """The address of the published book: GitHub Pages of the repository at `repository_url`.

    ``https://github.com/OWNER/REPO`` gives ``https://owner.github.io/REPO/`` (a repository
    named ``OWNER.github.io`` is published at the root), followed by `path_to_book`.
    """
    parsed = urlparse(repository_url or "")
    parts = [p for p in parsed.path.split("/") if p]
    if parsed.netloc.lower() != "github.com" or len(parts) < 2:
        raise ValueError(
            f"repository_url: expected https://github.com/OWNER/REPO, got {repository_url!r}"
        )
    owner, repo = parts[0].lower(), parts[1].removesuffix(".git")
    base = f"https://{owner}.github.io/"
    if repo.lower() != f"{owner}.github.io":
        base += f"{repo}/"
    path = (path_to_book or "").strip("/")
    return base + (f"{path}/" if path else "")


def _live_link(text: str, address: str) -> nodes.raw:
    """`text` and the web `address` below it, printed as a link, a QR code beside them."""
    return _raw(
        "\\par\\noindent\\begin{minipage}[c]{\\dimexpr\\linewidth-2cm\\relax}\\small\\raggedright\n"
        f"{escape(text)}\\\\\\url{{{address}}}\n"
        "\\end{minipage}\\hfill\\qrcode[height=1.6cm]{" + address + "}\\par\\medskip"
    )


def _parts(env: Any) -> list[tuple[str, bool, list[str]]]:
    """(caption, numbered, docnames) of every toctree of the root document, in order."""
    root = env.get_doctree(env.config.root_doc)
    return [
        (t.get("caption") or "", bool(t.get("numbered")), [str(f) for f in t["includefiles"]])
        for t in root.findall(addnodes.toctree)
    ]


def _is_raw_html(node: nodes.Node, pattern: re.Pattern) -> bool:
    return (
        isinstance(node, nodes.raw)
        and "html" in node.get("format", "").split()
        and bool(pattern.search(node.astext()))
    )


def _is_exercise_start(node: nodes.Node) -> bool:
    return _is_raw_html(node, _EXERCISE_OPEN)


def _solution_blocks(chapter: nodes.section, docname: str) -> list[tuple[nodes.Node, int, str]]:
    """(first node, number of sibling nodes, summary text) of every solution in `chapter`."""
    blocks = []
    for node in chapter.findall(nodes.Element):
        if _is_raw_html(node, _SOLUTION_OPEN):
            siblings = node.parent.children
            start = end = siblings.index(node)
            while end < len(siblings) and not _is_raw_html(siblings[end], _DETAILS_CLOSE):
                end += 1
            if end == len(siblings):
                raise ValueError(f'{docname}: <details class="solution"> without </details>')
            summary = _SUMMARY.search(node.astext())
            if summary is None:
                raise ValueError(f"{docname}: a solution without <summary>")
            blocks.append((node, end - start + 1, re.sub(r"<[^>]+>", "", summary.group(1))))
    return blocks


def _collect_solutions(chapter: nodes.section, docname: str) -> list[tuple[str, list]]:
    """Take every solution out of `chapter`: (exercise number, the solution's nodes), in order.

    Each solution is replaced by a paragraph "Solution on page N", and its exercise gets a
    label for the page reference back.
    """
    found = []
    for first, count, summary in _solution_blocks(chapter, docname):
        name = _EXERCISE_NAME.search(summary)
        if name is None:
            raise ValueError(f"{docname}: solution title {summary!r} names no 'Exercise N.k'")
        number = name.group(1)
        parent = first.parent
        start = parent.index(first)
        if count == 1:  # a sphinx-exercise solution: its body without its title
            body = [c for c in first.children if not isinstance(c, nodes.title)]
        else:  # the Markdown between <details ...><summary>...</summary> and </details>
            body = parent.children[start + 1 : start + count - 1]
        note = nodes.paragraph()
        note += nodes.emphasis("", "Solution on page ")
        note += _raw(f"\\emph{{\\pageref{{cnnsix-sol-{number}}}}}.", inline=True)
        parent[start : start + count] = [note]
        # The label goes inside the exercise's first paragraph, so that its page is the one
        # the exercise's text starts on.
        exercise = next(
            (parent[k] for k in range(start - 1, -1, -1) if _is_exercise_start(parent[k])), note
        )
        first = exercise.next_node(nodes.paragraph, include_self=True, descend=True, siblings=True)
        anchor = _raw(f"\\phantomsection\\label{{cnnsix-ex-{number}}}", inline=True)
        if first is None:
            parent.insert(parent.index(note), anchor)
        else:
            first.insert(0, anchor)
        found.append((number, body))
    return found


def _solutions_section(chapter_number: str, solutions: list[tuple[str, list]]) -> list:
    """A new page "Solutions", each solution under "Exercise N.k, page M"."""
    title = f"Solutions to the exercises of Chapter {chapter_number}" if chapter_number else ""
    out = [
        _raw(
            f"\\clearpage\\phantomsection\\section*{{{escape(title or 'Solutions')}}}"
            "\\addcontentsline{toc}{section}{Solutions}"
        )
    ]
    for number, block in solutions:
        heading = nodes.paragraph()
        heading += _raw(f"\\phantomsection\\label{{cnnsix-sol-{number}}}", inline=True)
        heading += nodes.strong("", f"Exercise {number}")
        heading += _raw(f", page \\pageref{{cnnsix-ex-{number}}}", inline=True)
        out.append(heading)
        out.extend(block)
    return out


def _chapter_of(start: addnodes.start_of_file) -> nodes.section | None:
    return next((c for c in start.children if isinstance(c, nodes.section)), None)


def _insert_after_title(section: nodes.section, node: nodes.Node) -> None:
    title = next(k for k, c in enumerate(section.children) if isinstance(c, nodes.title))
    section.insert(title + 1, node)


def _print_edition(app: Any, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "latex" or docname != app.config.root_doc:
        return
    env = app.env
    options = app.config.html_theme_options or {}
    site = pages_address(options.get("repository_url", ""), options.get("path_to_docs", ""))
    root = next(iter(doctree.findall(nodes.section)))
    warning_titles(doctree)

    # Front matter: the root page's own text and sections (all but its toctrees) become one
    # unnumbered chapter, ahead of the parts.
    toctrees = [c for c in root.children if "toctree-wrapper" in c.get("classes", [])]
    intro = nodes.section(ids=["cnnsix-introduction"], names=["introduction"])
    intro += nodes.title("", "Introduction")
    intro += _live_link(ON_THE_WEB, site + f"{docname}.html")
    intro.extend(c for c in root.children[1:] if c not in toctrees)
    root[1:] = [_raw("\\cnnsixunnumbered"), intro, *toctrees]

    starts = {s["docname"]: s for s in doctree.findall(addnodes.start_of_file)}
    main_matter_started = False
    for caption, numbered, docnames in _parts(env):
        present = [starts[d] for d in docnames if d in starts]
        if not present:
            continue
        first = present[0]
        before = []
        if numbered and not main_matter_started:
            before.append(_raw(MAIN_MATTER))
            main_matter_started = True
        if caption:
            before.append(_raw(f"\\cnnsixpart{{{escape(caption)}}}"))
        first.parent.insert(first.parent.index(first), before)
        for start in present:
            doc = start["docname"]
            chapter = _chapter_of(start)
            if chapter is None:
                continue
            number = env.toc_secnumbers.get(doc, {}).get("")
            if numbered and number:
                label = ".".join(map(str, number))
                start.parent.insert(
                    start.parent.index(start),
                    _raw(f"\\cnnsixnumbered\\setcounter{{chapter}}{{{number[0] - 1}}}"),
                )
            else:
                label = ""
                start.parent.insert(start.parent.index(start), _raw("\\cnnsixunnumbered"))
            address = site + f"{doc}.html"
            _insert_after_title(chapter, _live_link(ON_THE_WEB, address))
            for section in list(chapter.findall(nodes.section)):
                title = section.next_node(nodes.title)
                if title is not None and title.astext().strip() == _PLAY_TITLE:
                    _insert_after_title(section, _live_link(PLAY_ONLINE, address))
            solutions = _collect_solutions(chapter, doc)
            if solutions:
                chapter.extend(_solutions_section(label, solutions))


def warning_titles(doctree: nodes.Node) -> None:
    """Each raw HTML warning title in `doctree` becomes a bold paragraph of its own."""
    for node in list(doctree.findall(nodes.raw)):
        if _is_raw_html(node, _WARNING_TITLE):
            title = re.sub(r"<[^>]+>", "", _WARNING_TITLE.search(node.astext()).group(1)).strip()
            node.replace_self(nodes.paragraph("", "", nodes.strong(title, title)))


def _latex_settings(app: Any, config: Any) -> None:
    elements = config.latex_elements
    elements["preamble"] = elements.get("preamble", "") + PREAMBLE
    elements.setdefault("tableofcontents", TABLE_OF_CONTENTS)


def setup(app: Any) -> dict:
    app.connect("config-inited", _latex_settings)
    app.connect("doctree-resolved", _print_edition)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
