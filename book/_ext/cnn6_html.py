"""Small Sphinx extension for the cnn6 book: clean up the stock HTML.

The stock Jupyter Book 1 build adds sphinx-thebe's inline configuration script
(``const THEBE_JS_URL = ...``) twice to every page, and the browser then logs
``Identifier 'THEBE_JS_URL' has already been declared``. This extension drops
every inline script whose body already appeared on the page. (The second stock
console error, ``Got invalid theme mode``, is fixed in ``_config.yml`` with
``html_context: {default_mode: light}``.)
"""

from __future__ import annotations

from typing import Any


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


def setup(app: Any) -> dict:
    # A late priority, so that every other extension has added its scripts.
    app.connect("html-page-context", _drop_duplicate_inline_scripts, priority=900)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
