"""Small Sphinx extension for the cnn6 book: clean up the stock HTML.

The stock Jupyter Book 1 build adds sphinx-thebe's inline configuration script
(``const THEBE_JS_URL = ...``) twice to every page, and the browser then logs
``Identifier 'THEBE_JS_URL' has already been declared``. This extension drops
every inline script whose body already appeared on the page. (The second stock
console error, ``Got invalid theme mode``, is fixed in ``_config.yml`` with
``html_context: {default_mode: light}``.)

It also serves ``static/cnn6.css``, the book's frame for the exercises and solutions that the
notebooks write as plain HTML (``<div class="exercise">``, ``<details class="solution">``),
so that JupyterLab, Colab and other viewers show them without any extension.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STATIC = Path(__file__).resolve().parent / "static"


def _drop_duplicate_inline_scripts(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[str] = set()
    kept = []
    for script in scripts:
        filename = getattr(script, "filename", script)
        body = getattr(script, "attributes", {}).get("body")
        if not filename and body:
            if body in seen:
                continue
            seen.add(body)
        kept.append(script)
    # Replace the list's contents in place: the template reads this object.
    scripts[:] = kept


def _add_static_path(app: Any, config: Any) -> None:
    config.html_static_path.append(str(STATIC))


def setup(app: Any) -> dict:
    app.connect("config-inited", _add_static_path)
    app.add_css_file("cnn6.css")
    # A late priority, so that every other extension has added its scripts.
    app.connect("html-page-context", _drop_duplicate_inline_scripts, priority=900)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
