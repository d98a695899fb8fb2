"""Sphinx extension of the cnn6 book: clean pages that work offline, with no request off the site.

The browser assets (MathJax 3, RequireJS, the Jupyter widgets HTML manager and its fonts) are
installed from npm by ``make vendor`` into ``_vendor/``, which ``_config.yml`` lists in
``html_static_path`` and points ``mathjax_path`` and ``nb_ipywidgets_js`` at. The script order
on a page is set with priorities: MathJax's configuration (500), then the shim below (510),
then MathJax itself (520, ``mathjax_options`` in ``_config.yml``); on a page with widgets,
RequireJS's configuration below (450), then RequireJS and the widgets' HTML manager (500, in
that order). This extension, through Sphinx's public API only:

- serves ``static/cnn6.css``, the book's frame for the exercises and solutions that the notebooks
  write as plain HTML (``<div class="exercise">``, ``<details class="solution">``), so that
  JupyterLab, Colab and other viewers show them without any extension;
- stops the build with a clear message when ``_vendor/`` was not made;
- gives MathJax 3 the ``MathJax.Hub.Queue`` of MathJax 2, which the widgets' HTML manager
  calls to typeset a widget's label (without it: a console error on every page with a widget);
- tells the HTML manager where its fonts are: by default it looks for them beside the page,
  under ``@jupyter-widgets/html-manager/dist/`` (the RequireJS name of its module), hence a
  RequireJS ``paths`` entry to the folder it is served from (404 errors otherwise);
- drops the second copy of an inline script that the stock build adds twice to every page
  (sphinx-thebe's configuration: a console error, "Identifier 'THEBE_JS_URL' has already been
  declared");
- names the toggle of a hidden cell input or output by its visible text ("Show code cell
  output"): myst-nb's ``<summary aria-label="Toggle hidden content">`` hid that text from the
  accessible name (WCAG 2.5.3, axe's label-content-name-mismatch); its HTML visitor is replaced
  through ``app.add_node(..., override=True)``, once every extension is set up;
- after the build, fails it if any page loads a script, style sheet, font or image from another
  site (a check, so that a new theme version or a new output cannot slip one in).
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

from sphinx.errors import ConfigError, ExtensionError

STATIC = Path(__file__).resolve().parent / "static"
VENDOR = "_vendor"
REQUIRED = (
    "mathjax/es5/tex-mml-chtml.js",
    "widgets/require.js",
    "widgets/embed-amd.js",
)

# MathJax 2's Hub.Queue on MathJax 3: queue(["Typeset", MathJax.Hub, element]) typesets the
# element once MathJax 3 is ready. Before MathJax has loaded, window.MathJax is its
# configuration: the shim adds the same Hub there and re-adds it when start-up is done.
MATHJAX2_SHIM = """(function () {
  function queue() {
    for (var i = 0; i < arguments.length; i++) {
      var job = arguments[i];
      if (Array.isArray(job) && job[0] === "Typeset" && window.MathJax &&
          window.MathJax.typesetPromise) {
        window.MathJax.typesetPromise(job[2] ? [job[2]] : undefined).catch(function (err) {
          console.warn("MathJax typeset failed", err);
        });
      }
    }
  }
  var mj = window.MathJax = window.MathJax || {};
  if (mj.version) { if (!mj.Hub) { mj.Hub = {Queue: queue}; } return; }
  mj.startup = mj.startup || {};
  var ready = mj.startup.ready;
  mj.startup.ready = function () {
    if (ready) { ready(); } else { window.MathJax.startup.defaultReady(); }
    window.MathJax.Hub = {Queue: queue};
  };
})();"""

# Where RequireJS looks for the manager's modules, and so where the manager loads its fonts
# from: the book's _static/widgets/ folder, found from the page's root (Sphinx writes it in
# <html data-content_root="...">). A global `require` object defined before require.js loads
# is RequireJS's configuration.
WIDGETS_CONFIG = """(function () {
  var root = document.documentElement.dataset.content_root || "";
  var folder = new URL(root + "_static/widgets", document.baseURI).href;
  window.__jupyter_widgets_assets_path__ = folder + "/";
  window.require = {paths: {"@jupyter-widgets/html-manager/dist": folder}};
})();"""
WIDGETS_LOADER = "widgets/require.js"

# src= or href= pointing off the site, in a tag that makes the browser fetch it.
_REMOTE = re.compile(
    r"<(script|link|img|iframe|source|video|audio)\b[^>]*?\b(src|href)=[\"']"
    r"((?:https?:)?//[^\"']+)",
    re.IGNORECASE,
)


def _check_vendor(app: Any) -> None:
    if app.builder.format != "html":
        return
    root = Path(app.confdir) / VENDOR
    missing = [p for p in REQUIRED if not (root / p).is_file()]
    if missing:
        raise ConfigError(
            f"the book's browser assets are missing ({', '.join(missing)} under {root}); "
            "run `make vendor` (npm ci, then a copy into _vendor/)"
        )


def _configure_widgets(app: Any, pagename: str, templatename: str, context: dict, doctree: Any):
    """On a page that loads the widgets (myst-nb adds RequireJS to it), configure RequireJS."""
    scripts = context.get("script_files") or []
    if any(str(getattr(s, "filename", s) or "").endswith(WIDGETS_LOADER) for s in scripts):
        app.add_js_file(None, body=WIDGETS_CONFIG, priority=450)


def _drop_duplicate_inline_scripts(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[str] = set()
    kept = []
    for script in scripts:
        body = getattr(script, "attributes", {}).get("body")
        if not getattr(script, "filename", script) and body:
            if body in seen:
                continue
            seen.add(body)
        kept.append(script)
    scripts[:] = kept  # in place: the template reads this list


def _no_remote_assets(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    found = []
    for page in sorted(Path(app.outdir).rglob("*.html")):
        for match in _REMOTE.finditer(page.read_text(encoding="utf-8", errors="replace")):
            tag, _, url = match.groups()
            rel = match.group(0).lower()
            if tag.lower() == "link" and not any(
                kind in rel for kind in ("stylesheet", "preload", "icon")
            ):
                continue  # <link rel="canonical" ...> and the like: not fetched
            found.append(f"{page.relative_to(app.outdir)}: <{tag}> {url}")
    if found:
        raise ExtensionError(
            "pages load assets from other sites (the book must work offline):\n  "
            + "\n  ".join(found[:20])
        )


def _visit_hidden_cell(self: Any, node: Any) -> None:
    """myst-nb's HideCodeCellNode, as myst-nb writes it, but with no aria-label on <summary>:
    the name of the toggle is then its text on view (only one of the two prompts is shown)."""
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n<summary>\n')
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n')
    self.body.append("</summary>\n")


def _depart_hidden_cell(self: Any, node: Any) -> None:
    self.body.append("</details>\n")


def _name_hidden_cell_toggles(app: Any) -> None:
    from myst_nb.sphinx_ import HideCodeCellNode

    app.add_node(HideCodeCellNode, override=True, html=(_visit_hidden_cell, _depart_hidden_cell))


def _add_static_path(app: Any, config: Any) -> None:
    config.html_static_path.append(str(STATIC))


def setup(app: Any) -> dict:
    app.connect("config-inited", _add_static_path)
    app.add_css_file("cnn6.css")
    app.connect("builder-inited", _check_vendor)
    app.connect("builder-inited", _name_hidden_cell_toggles)
    app.add_js_file(None, body=MATHJAX2_SHIM, priority=510)
    # Late, so that every other extension has added its scripts to the page.
    app.connect("html-page-context", _configure_widgets, priority=800)
    app.connect("html-page-context", _drop_duplicate_inline_scripts, priority=900)
    app.connect("build-finished", _no_remote_assets)
    return {"version": "0.2", "parallel_read_safe": True, "parallel_write_safe": True}
