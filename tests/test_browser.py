"""The built book in a real browser (Debian's chromium driven by playwright), offline.

The book is built once per run from a copy of the repository (``built_book`` in conftest.py,
shared with the build and PDF tests) and served by ``python -m http.server`` on 127.0.0.1.
Every page listed in ``_toc.yml`` (so a new chapter is tested as soon as it is in the table of
contents) is opened, and must have:

- no error in the browser console and no uncaught exception;
- no failed request (HTTP status >= 400, aborted load) and no request off the site (anything
  but 127.0.0.1 is recorded and blocked: the book must work with no internet);
- every ``<img>`` loaded (``naturalWidth > 0``);
- every equation typeset by MathJax (each ``.math`` node holds an ``mjx-container``, no
  ``mjx-merror``, no ``$``/``\\(`` left in the prose);
- each exercise solution hidden until its toggle is clicked, and shown after;
- each animation player advancing when its Play button is clicked;
- each widget rendered from its stored state (no blank, no "Error displaying widget"), and
  each explorer's output showing its matrices.

A screenshot of each page's first screen (the 1280x900 viewport, PNG) goes to
``_build/screenshots/`` for review: a full-page one of a long chapter cost up to 6 s of
software rendering, most of a page's time.

Nothing waits a fixed time: each check waits for what it needs (the widgets drawn, the images
loaded, MathJax's promise), and the page is closed only once every request it sent has been
answered and two more frames are drawn, so a late request or console error is still seen.

A reader may also open ``_build/html/index.html`` straight from the disk, without a server:
the index and the pages that carry widgets, animations and the most mathematics are checked
again through ``file://`` URLs, with every other request blocked in the same way.

Independently of the chapters, a small fixture notebook (math, an exercise, the three
animations and the network explorer) is executed with its widget state stored, built into a
copy of the book and checked the same way, with the checks that depend on content made
strict: labelled controls shown, the explorer's matrices shown, every animation advancing.

Chromium: Debian's ``chromium-headless-shell`` (``/usr/bin/chromium-headless-shell``, or
``$CNN6_CHROMIUM``): the same Chromium as Debian's ``chromium``, built as the headless shell
that Playwright's own headless runs use, which draws the same pages for less CPU than the full
browser run headless (none of these tests needs the full browser). ``make test`` installs the
package when it is missing. Without it these tests fail, they never skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from helpers import COPY_PATTERNS

# The book's pages use the build shared with the other tests (``built_book``, conftest.py).
pytestmark = [pytest.mark.book, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("CNN6_CHROMIUM", "/usr/bin/chromium-headless-shell")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
COPY_IGNORE = shutil.ignore_patterns(*COPY_PATTERNS)
FIXTURE_PAGE = "book/browser_fixture"


def toc_pages(toc_file: Path = ROOT / "_toc.yml") -> list[str]:
    """The root and every ``file:`` of the table of contents, in order (no extension)."""
    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                pages.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return [
        str(Path(p).with_suffix("")) if Path(p).suffix in (".md", ".ipynb") else p for p in pages
    ]


PAGES = toc_pages()


# ---------------------------------------------------------------- browser and server


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Debian's chromium-headless-shell, never a browser downloaded by ``playwright install``
    (headless by nature; playwright passes ``--headless`` itself)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium-headless-shell. "
            "As root: apt-get update && apt-get install -y --no-install-recommends "
            "chromium-headless-shell (`make test` does it), or set CNN6_CHROMIUM to a "
            "chromium executable."
        )
    return {"executable_path": CHROMIUM, "args": CHROMIUM_FLAGS, "headless": True}


def _build(source: Path) -> Path:
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    if not jupyter_book.is_file():
        pytest.fail(f"jupyter-book is not installed beside {sys.executable}")
    if not (source / "_vendor" / ".installed").is_file():
        pytest.fail(
            f"{source / '_vendor'} is missing: run `make vendor` (the book's browser "
            "assets, from npm)"
        )
    result = subprocess.run(
        [str(jupyter_book), "build", str(source), "-n", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if result.returncode != 0:
        pytest.fail(
            f"jupyter-book build {source} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return source / "_build" / "html"


class Server:
    """``python -m http.server`` on 127.0.0.1 and a free port, serving `folder`."""

    def __init__(self, folder: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}/"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                str(self.port),
                "--directory",
                str(folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    pytest.fail(f"http.server did not start on port {self.port}")
                time.sleep(0.1)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def site(built_book):
    """The shared build of the book (a copy's ``_build/html``) served; yields the base URL.
    Its warnings fail test_book_build; here only a missing site fails."""
    if not (built_book.html / "index.html").is_file():
        pytest.fail(
            f"jupyter-book build failed ({built_book.returncode}):\n"
            f"{built_book.stdout[-4000:]}\n{built_book.stderr[-4000:]}"
        )
    server = Server(built_book.html)
    yield server.base
    server.stop()


# ---------------------------------------------------------------- one page, every check


@dataclass
class PageLog:
    offsite: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    pending: dict = field(default_factory=dict)  # requests sent, not yet answered or failed


def open_page(browser, base: str, path: str):
    """A new page at `base` + `path`, loaded, with every off-site request blocked and logged,
    and every request followed until it is answered or fails (``log.pending``)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log = PageLog()

    def route(r):
        url = r.request.url
        if url.startswith(base):
            r.continue_()
        else:
            log.offsite.append(url[:200])
            r.abort()

    def failed(r):
        log.pending.pop(r, None)
        if r.url.startswith(base):
            log.failed.append(f"{r.url[:200]}: {r.failure}")

    context.route("**/*", route)
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and log.console.append(f"{m.text[:300]} ({m.location.get('url', '')[-80:]})")
        ),
    )
    page.on("pageerror", lambda e: log.console.append(f"uncaught: {str(e)[:300]}"))
    page.on("request", lambda r: log.pending.__setitem__(r, r.url[:200]))
    page.on("requestfinished", lambda r: log.pending.pop(r, None))
    page.on("requestfailed", failed)
    page.on(
        "response",
        lambda r: r.status >= 400 and log.failed.append(f"{r.url[:200]}: HTTP {r.status}"),
    )
    page.goto(base + path, wait_until="load", timeout=60_000)
    return page, log


def quiet(page, log: PageLog, timeout: float = 30.0) -> list[str]:
    """Wait until every request the page has sent is answered (or failed), then until the
    page has drawn two more frames (whatever was queued has run, and its console messages
    have arrived); returns the requests still unanswered after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        page.evaluate(JS_FRAMES)
        if not log.pending or time.monotonic() > deadline:
            return [f"request never answered: {url}" for url in log.pending.values()]
        page.wait_for_timeout(50)


JS_FRAMES = """() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"""

JS_IMAGES = r"""async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => (i.complete && i.src) ? null : new Promise(r => {
    i.addEventListener('load', r); i.addEventListener('error', r); setTimeout(r, 10000); })));
  return {count: imgs.length,
          broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0))
                      .map(i => (i.getAttribute('src') || '(no src)').slice(0, 120))};
}"""

JS_MATH = r"""async () => {
  const nodes = Array.from(document.querySelectorAll('.math'));
  if (nodes.length === 0) return {count: 0, problems: []};
  for (let i = 0; i < 400 && !(window.MathJax && MathJax.startup && MathJax.startup.promise);
       i++) await new Promise(r => setTimeout(r, 50));
  if (!(window.MathJax && MathJax.startup)) {
    return {count: nodes.length, problems: ['MathJax never loaded']};
  }
  await MathJax.startup.promise;
  const problems = [];
  nodes.forEach((n, k) => {
    const raw = Array.from(n.childNodes).filter(c => c.nodeType === 3)
                     .map(c => c.textContent).join('').trim();
    const what = n.textContent.slice(0, 80);
    if (!n.querySelector('mjx-container')) problems.push(`not typeset: ${what}`);
    else if (n.querySelector('mjx-merror')) problems.push(`TeX error: ${what}`);
    else if (/\\\(|\\\[|\$/.test(raw)) problems.push(`raw TeX left: ${raw.slice(0, 80)}`);
  });
  const article = document.querySelector('article') || document.body;
  const copy = article.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, .math, .cell_output, '
                        + '.output, .highlight, .jupyter-widgets, .cnn6-player')
      .forEach(e => e.remove());
  const left = copy.textContent.match(/\$\$|\\\(|\\\[|\$[^\s$][^$\n]{0,200}\$/);
  if (left) problems.push(`math not typeset in the text: ${left[0].slice(0, 80)}`);
  return {count: nodes.length, problems};
}"""

JS_WIDGETS = r"""async () => {
  const views = Array.from(document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]'));
  const rendered = s => s.parentElement.querySelector('.jupyter-widgets, .widget-box, .lm-Widget');
  const outputs_filled = () => Array.from(document.querySelectorAll('.widget-output'))
    .every(o => o.querySelector('table, img'));
  // the widgets' manager (require.js, then embed-amd.js) renders them after the page's load
  for (let i = 0; i < 600 && !(views.every(rendered) && outputs_filled()); i++)
    await new Promise(r => setTimeout(r, 50));
  const problems = [];
  views.forEach((s, k) => { if (!rendered(s)) problems.push(`widget ${k} not rendered`); });
  if (/Error displaying widget|Error rendering/.test(document.body.innerText))
    problems.push('a widget shows an error');
  const outputs = Array.from(document.querySelectorAll('.widget-output'));
  outputs.forEach((o, k) => {
    if (!o.querySelector('table, img')) problems.push(`explorer output ${k} is blank`);
  });
  // the explorers' controls: form fields, each named by its own label
  const fields = Array.from(document.querySelectorAll(
    '.jupyter-widgets input, .jupyter-widgets select'));
  const controls = fields.filter(f => f.labels && f.labels.length
    && f.labels[0].innerText.trim()).length;
  if (fields.length > controls)
    problems.push(`${fields.length - controls} controls without a label`);
  if (outputs.length && !controls) problems.push('an explorer shows no control');
  return {views: views.length, problems, controls,
          tables: outputs.reduce((n, o) => n + o.querySelectorAll('table').length, 0),
          text: outputs.map(o => o.innerText).join('\n')};
}"""


JS_DETAILS_OPEN = "els => els.map(e => e.tagName === 'DETAILS' ? e.open : null)"


def check_solutions(page) -> tuple[int, list[str]]:
    """Every solution is hidden, then shown once its toggle is clicked (a real click on the
    ``<summary>`` of a ``<details class="solution">``, or on the toggle of a dropdown)."""
    problems = []
    solutions = page.locator(".solution")
    count = solutions.count()
    before = solutions.evaluate_all(JS_DETAILS_OPEN)  # True/False for details, None otherwise
    for k in range(count):
        sol = solutions.nth(k)
        if before[k] is not None:
            if before[k]:
                problems.append(f"solution {k} is open before any click")
            sol.locator("summary").first.click()
            continue
        body = sol.locator(":scope > :not(.admonition-title)")
        if body.count() == 0:
            problems.append(f"solution {k} has no body")
            continue
        if any(body.nth(j).is_visible() for j in range(body.count())):
            problems.append(f"solution {k} is visible before its toggle is clicked")
        toggle = sol.locator("button.toggle-button, .admonition-title").first
        toggle.click()
        try:
            body.first.wait_for(state="visible", timeout=5_000)
        except Exception:
            problems.append(f"solution {k} stays hidden after its toggle is clicked")
    after = solutions.evaluate_all(JS_DETAILS_OPEN)
    problems += [
        f"solution {k} did not open when clicked"
        for k in range(count)
        if before[k] is not None and not after[k]
    ]
    return count, problems


def check_animations(page) -> tuple[int, list[str]]:
    """Each animation player (cnn6.view.animation) shows its first frame and its controls,
    and advances (frame index, image and description) when its Play button is pressed."""
    problems = []
    animations = page.locator("div.cnn6-player")
    count = animations.count()
    for k in range(count):
        anim = animations.nth(k)
        anim.scroll_into_view_if_needed()
        img = anim.locator("img.cnn6-player-frame").first
        step = anim.locator(".cnn6-player-step").first
        slider = anim.locator("input[type=range]")
        if not (img.get_attribute("src") or "").startswith("data:image/png"):
            problems.append(f"animation {k} shows no frame")
            continue
        if slider.count() != 1 or anim.get_by_role("button").count() != 5:
            problems.append(f"animation {k}: its controls are missing (did its script run?)")
            continue
        src0, frame0, step0 = img.get_attribute("src"), slider.input_value(), step.inner_text()
        anim.get_by_role("button", name="Play").click()
        try:
            page.wait_for_function(
                "([s, v]) => s.value !== v", arg=[slider.element_handle(), frame0], timeout=10_000
            )
        except Exception:
            problems.append(f"animation {k} does not advance when played")
        else:
            if img.get_attribute("src") == src0 or step.inner_text() == step0:
                problems.append(f"animation {k}: the frame index moves, the image or text does not")
        anim.get_by_role("button", name="Pause").click()
        if anim.locator("button svg").count() != 5:
            problems.append(f"animation {k}: its buttons have no icons")
    return count, problems


def screenshot_name(path: str) -> str:
    return path.replace("/", "_") + ".png"


def check_page(browser, base: str, path: str, shot: Path) -> dict:
    """Open the page, run every check; returns the counts and the list of problems.
    ``shot``: a PNG of the page's first screen (1280x900), for review."""
    page, log = open_page(browser, base, path)
    problems = []
    try:
        widgets = page.evaluate(JS_WIDGETS)  # first: it waits until the widgets are drawn
        problems += widgets["problems"]
        images = page.evaluate(JS_IMAGES)
        problems += [f"image not loaded: {src}" for src in images["broken"]]
        math = page.evaluate(JS_MATH)
        problems += math["problems"]
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot))
        n_solutions, found = check_solutions(page)
        problems += found
        n_animations, found = check_animations(page)
        problems += found
        problems += quiet(page, log)
    finally:
        page.context.close()
    problems += [f"off-site request: {url}" for url in log.offsite]
    problems += [f"failed request: {what}" for what in log.failed]
    problems += [f"console: {what}" for what in log.console]
    return {
        "problems": problems,
        "images": images["count"],
        "math": math["count"],
        "solutions": n_solutions,
        "animations": n_animations,
        "widgets": widgets["views"],
        "controls": widgets["controls"],
        "tables": widgets["tables"],
        "widget_text": widgets["text"],
    }


# ---------------------------------------------------------------- the book's pages


def test_toc_lists_pages():
    assert PAGES[0] == "book/intro"
    assert len(PAGES) == len(set(PAGES)) >= 2
    for page in PAGES:
        assert any((ROOT / f"{page}{ext}").is_file() for ext in (".md", ".ipynb")), page


@pytest.mark.parametrize("path", PAGES)
def test_page(browser, site, path):
    result = check_page(browser, site, f"{path}.html", SCREENSHOTS / screenshot_name(path))
    assert not result["problems"], f"{path}:\n  " + "\n  ".join(result["problems"])


def check_redirect(browser, base):
    """index.html at ``base`` sends the reader to the first page, with nothing failing."""
    page, log = open_page(browser, base, "index.html")
    try:
        page.wait_for_url(f"**/{PAGES[0]}.html", timeout=15_000)
    finally:
        page.context.close()
    assert not log.offsite and not log.failed and not log.console, log


def test_index_redirects_to_the_first_page(browser, site):
    check_redirect(browser, site)


# ---------------------------------------------------------------- opened from the disk
# the pages with widgets and animations (chapters 2 and 12) and the intro (the first page)
DISK_PAGES = [PAGES[0], "book/02_convolution", "book/12_training"]


@pytest.fixture(scope="session")
def disk_site(site, built_book):
    """The same build (``site`` checks it) as a ``file://`` URL, with no server."""
    return built_book.html.as_uri() + "/"


@pytest.mark.parametrize("path", DISK_PAGES)
def test_page_opened_from_disk(browser, disk_site, path):
    assert path in PAGES
    result = check_page(
        browser, disk_site, f"{path}.html", SCREENSHOTS / ("file_" + screenshot_name(path))
    )
    assert result["math"] > 0, f"{path}: no mathematics found"
    assert not result["problems"], f"{path} from disk:\n  " + "\n  ".join(result["problems"])


def test_index_opened_from_disk_redirects_to_the_first_page(browser, disk_site):
    check_redirect(browser, disk_site)


# ---------------------------------------------------------------- the fixture page


def _fixture_notebook():
    import nbformat

    nb = nbformat.v4.new_notebook()
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb.cells = [
        md(
            "# Browser fixture\n\nInline math $z_1 = x \\star K + b$ and display math:\n\n"
            "$$\\frac{\\partial L}{\\partial K} = x \\star \\delta_{z_1}$$"
        ),
        code(
            "import cnn6\nfrom cnn6.view.animation import animate_convolution, "
            "animate_kernel_gradient, animate_maxpool\nfrom cnn6.view.widgets import "
            "explore_network\n\nx, y, params = cnn6.running_example()\n"
            "trace = cnn6.forward(params, x, y)\ngrads = cnn6.backward(params, trace, y)"
        ),
        # small frames (dpi 30): what is checked (the player) does not depend on their size
        code("animate_convolution(x, params.kernel, params.conv_bias, dpi=30)"),
        code("animate_kernel_gradient(x, grads.dz1, dpi=30)"),
        code("animate_maxpool(trace.a1, grads.da2, dpi=30)"),
        code("explore_network()"),
        code("from cnn6.view.widgets import explore_training\n\nexplore_training(n=100, epochs=5)"),
        md(
            '<div class="exercise">\n\n**Exercise 1.1.** Compute $z_1[0, 0]$ by hand.\n\n</div>'
            '\n\n<details class="solution">\n<summary>Solution to Exercise 1.1</summary>\n\n'
            "The sum of the window times the kernel, plus $b$.\n\n</details>"
        ),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory):
    """A copy of the book whose table of contents holds the root page and the fixture,
    executed as ``make execute`` does (widget state stored)."""
    import nbformat

    source = tmp_path_factory.mktemp("browser") / "cnn6"
    shutil.copytree(ROOT, source, ignore=COPY_IGNORE)
    notebook = source / f"{FIXTURE_PAGE}.ipynb"
    nbformat.write(_fixture_notebook(), notebook)
    # A kernel of this environment: jupyter_client runs a "python" kernel with sys.executable.
    env = {
        **os.environ,
        "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter"),
        "PYTHONHASHSEED": "0",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--inplace",
            "--ExecutePreprocessor.kernel_name=python3",
            "--ExecutePreprocessor.timeout=600",
            "--ExecutePreprocessor.store_widget_state=True",
            str(notebook),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    if result.returncode != 0:
        pytest.fail(f"executing the fixture notebook failed:\n{result.stderr[-4000:]}")
    (source / "_toc.yml").write_text(
        f"format: jb-book\nroot: book/intro\nchapters:\n  - file: {FIXTURE_PAGE}\n",
        encoding="utf-8",
    )
    server = Server(_build(source))
    yield server.base
    server.stop()


def test_fixture_page(browser, fixture_site):
    """Math, a solution, three animations and two explorers: all work offline."""
    result = check_page(
        browser,
        fixture_site,
        f"{FIXTURE_PAGE}.html",
        SCREENSHOTS / ("fixture_" + screenshot_name(FIXTURE_PAGE)),
    )
    assert not result["problems"], "\n  ".join(result["problems"])
    assert result["math"] >= 3
    assert result["solutions"] == 1
    assert result["animations"] == 3
    assert result["widgets"] == 2
    # The explorer's labelled controls, and its initial view: every matrix of the trace.
    assert result["controls"] >= 6
    assert result["tables"] >= 20
    for name in (
        "x (6×6)",
        "z1 (4×4)",
        "a2 (2×2)",
        "loss",
        "dz1 (4×4)",
        "dK (3×3)",
        "loss after",
        "after 5 epochs",
    ):
        assert name.lower() in result["widget_text"].lower(), name  # titles: CSS upper case
