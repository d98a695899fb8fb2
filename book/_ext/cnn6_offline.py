"""Sphinx extension of the cnn6 book: the pages work offline, with no request off the site.

The browser assets (MathJax 3, RequireJS, the Jupyter widgets HTML manager and its fonts) are
installed from npm by ``make vendor`` into ``_vendor/``, which ``_config.yml`` lists in
``html_static_path`` (and points ``mathjax_path`` and ``nb_ipywidgets_js`` at). This extension:

- stops the build with a clear message when ``_vendor/`` was not made;
- adds, before MathJax, a few lines that give MathJax 3 the ``MathJax.Hub.Queue`` of MathJax 2,
  which the widgets' HTML manager calls to typeset a widget's label (without it: a console
  error on every page with a widget);
- tells the HTML manager where its fonts are: by default it looks for them beside the page,
  under ``@jupyter-widgets/html-manager/dist/`` (the RequireJS name of its module), hence a
  RequireJS ``paths`` entry to the folder it is served from (404 errors otherwise);
- drops the ``data-jupyter-widgets-cdn`` fallback: every widget the book uses is built into the
  HTML manager, so nothing is ever fetched from a CDN;
- after the build, fails it if any page still loads a script, style sheet, font or image from
  another site (a check, so that a new theme version or a new output cannot slip one in).
"""

from __future__ import annotations

import posixpath
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
WIDGETS_MANAGER = "widgets/embed-amd.js"
# Where RequireJS looks for the manager's modules, and so where the manager loads its fonts from.
WIDGETS_PATHS = """(function () {
  var folder = new URL(%r, document.baseURI).href.replace(/\\/$/, "");
  window.__jupyter_widgets_assets_path__ = folder + "/";
  window.require.config({paths: {"@jupyter-widgets/html-manager/dist": folder}});
})();"""

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


def _fix_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any):
    scripts = context.get("script_files")
    if not scripts:
        return
    from sphinx.builders.html._assets import _JavaScript

    bodies = {getattr(s, "attributes", {}).get("body") for s in scripts}
    mathjax = app.config.mathjax_path
    k = 0
    while k < len(scripts):
        script = scripts[k]
        filename = str(getattr(script, "filename", script) or "")
        attributes = getattr(script, "attributes", None)
        if attributes is not None and "data-jupyter-widgets-cdn" in attributes:
            attributes.pop("data-jupyter-widgets-cdn")
        insert = None
        if mathjax and filename.endswith(mathjax):
            insert = MATHJAX2_SHIM
        elif filename.endswith(WIDGETS_MANAGER):
            insert = WIDGETS_PATHS % context["pathto"](posixpath.dirname(filename) + "/", 1)
        if insert is not None and insert not in bodies:
            scripts.insert(k, _JavaScript("", body=insert))
            bodies.add(insert)
            k += 1
        k += 1


def _no_remote_assets(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    found = []
    for page in sorted(Path(app.outdir).rglob("*.html")):
        for match in _REMOTE.finditer(page.read_text(encoding="utf-8", errors="replace")):
            tag, _, url = match.groups()
            if (
                tag.lower() == "link"
                and "stylesheet" not in match.group(0).lower()
                and "preload" not in match.group(0).lower()
                and "icon" not in match.group(0).lower()
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
    # After sphinx.ext.mathjax (priority 500) has added its scripts.
    app.connect("html-page-context", _fix_scripts, priority=800)
    app.connect("build-finished", _no_remote_assets)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
