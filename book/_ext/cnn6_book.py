"""Sphinx extension of the cnn6 book: clean pages that work offline, with no request off the site.

The browser assets (MathJax 3, RequireJS, the Jupyter widgets HTML manager and its fonts) are
installed from npm by ``make vendor`` into ``_vendor/``, which ``_config.yml`` lists in
``html_static_path`` and points ``mathjax_path`` and ``nb_ipywidgets_js`` at. The script order
on a page is set with priorities: MathJax's configuration (500), then the shim below (510),
then MathJax itself (520, ``mathjax_options`` in ``_config.yml``); on a page with widgets,
RequireJS's configuration below (450), then RequireJS and the widgets' HTML manager (500, in
that order). This extension, through Sphinx's public API only:

- stops the build with a clear message when ``_vendor/`` was not made;
- gives MathJax 3 the ``MathJax.Hub.Queue`` of MathJax 2, which the widgets' HTML manager
  calls to typeset a widget's label (without it: a console error on every page with a widget);
- tells the HTML manager where its fonts are: by default it looks for them beside the page,
  under ``@jupyter-widgets/html-manager/dist/`` (the RequireJS name of its module), hence a
  RequireJS ``paths`` entry to the folder it is served from (404 errors otherwise);
- drops the second copy of an inline script that the stock build adds twice to every page
  (sphinx-thebe's configuration: a console error, "Identifier 'THEBE_JS_URL' has already been
  declared");
- after the build, fails it if any page loads a script, style sheet, font or image from another
  site (a check, so that a new theme version or a new output cannot slip one in).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sphinx.errors import ConfigError, ExtensionError

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


def setup(app: Any) -> dict:
    app.connect("builder-inited", _check_vendor)
    app.add_js_file(None, body=MATHJAX2_SHIM, priority=510)
    # Late, so that every other extension has added its scripts to the page.
    app.connect("html-page-context", _configure_widgets, priority=800)
    app.connect("html-page-context", _drop_duplicate_inline_scripts, priority=900)
    app.connect("build-finished", _no_remote_assets)
    return {"version": "0.2", "parallel_read_safe": True, "parallel_write_safe": True}
