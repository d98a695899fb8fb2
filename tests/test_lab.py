"""The chapters where students open them: a real JupyterLab, and a renderer with no MyST.

**JupyterLab.** One server from this environment (``python -m jupyter lab``) for the whole
module, on 127.0.0.1 and a port it picks itself (read back from its runtime file), with a
token set here, its root a temporary copy of ``book/`` (Run All writes outputs and saves: the
repository is never touched), its settings in a temporary folder (notebook windowing off, so
that every cell is in the page; the notebook's kernel started without asking, as the
"Always start the preferred kernel" box of JupyterLab's dialog does; no news or update
checks). Debian's chromium loads JupyterLab once, in one page, and opens every chapter of
``_toc.yml`` in it as a tab (two at a time, each with its own fresh kernel; the longest chapter
first) and, as a person would, clicks Edit → Clear Outputs of All Cells, then
Run → Run All Cells, waits for every cell to run and the kernel to be idle, then File → Save
Notebook; then shuts the kernel down and closes the tab. While chapters run, the launcher's
tab is at the front: the running notebooks' tabs are hidden, so chromium does not lay out
every output as it arrives; each is brought to the front to be saved and inspected. The
kernels use one BLAS thread each (two cores, shared with chromium). Required, per chapter:

- every code cell ran, in order, and the saved notebook holds no error output except in the
  cells tagged ``raises-exception``, which JupyterLab runs past and which must raise;
- in the chapters that show an explorer: its controls render, each a form field named by its
  label (no unnamed slider handle), and the keyboard drives it: an arrow key on a number box
  (and Enter on the train button, where there is one) redraws the view with the live kernel;
- the rendered text holds none of ``{ref}``, ``{exercise}``, ``{solution}``, ``:label:``,
  ``:class:`` or a ``(name)=`` line, and its mathematics is typeset;
- every exercise of the notebook is there and framed, and every solution is hidden until its
  summary is clicked, and visible after.

**Plain renderer.** nbconvert's HTML exporter (no MyST), standing in for Colab, GitHub's viewer
and nbviewer, run once over every notebook of the book (in the background, while JupyterLab
starts), each page opened in chromium with every off-site request blocked: no solution visible
without a click, none of the MyST syntax above in the text.

**The animations' player**, in the same server: a notebook with the players' outputs stored
opens untrusted (a frame, a note and the descriptions, no control); run, each player has its
controls and plays from the keyboard.

Screenshots (the exercises of each chapter, in JupyterLab and in the plain page) go to
``_build/screenshots/lab/``. Without chromium these tests fail; they never skip.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from test_animation_browser import INTERVAL, players  # noqa: F401  (the two animations)
from test_browser import CHROMIUM, browser_type_launch_args, toc_pages  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
pytestmark = pytest.mark.browser  # a JupyterLab server, driven in chromium

SHOTS = ROOT / "_build" / "screenshots" / "lab"
NOTEBOOKS = [Path(p).name + ".ipynb" for p in toc_pages() if (ROOT / f"{p}.ipynb").is_file()]
# Chapters (kernels) running at once: the longest holds one core, the short ones follow each
# other on the other. Measured on this 2-core machine with the running tabs hidden: two and
# three at a time take the same wall time (138 s) and CPU; two keep fewer kernels in memory.
PARALLEL = 2
# playwright's waits poll every POLL ms, not on every animation frame
POLL = 250
RUN_TIMEOUT = 900  # seconds for one chapter's Run All, on a loaded machine
# Started first: its Run All is the longest (twenty training runs), so the other kernel works
# through the short chapters meanwhile instead of waiting for it at the end.
LONGEST = ("12_training.ipynb",)
PHASES: dict[str, dict[str, float]] = {}  # seconds per phase of each chapter (printed)

RAW_SYNTAX = re.compile(r"\{ref\}|\{exercise\}|\{solution\}|:label:|:class:|^\([\w.-]+\)=$", re.M)


def _expected(name: str) -> dict:
    """What the stored notebook says the page must show."""
    nb = nbformat.read(BOOK / name, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = [c for c in nb.cells if c.cell_type == "code"]
    return {
        "exercises": len(re.findall(r'<div class="exercise"', markdown)),
        "solutions": len(re.findall(r'<details class="solution"', markdown)),
        "explorer": any(re.search(r"\bexplore_\w+\(", c.source) for c in code),
        "math": "$" in markdown,
    }


# ---------------------------------------------------------------- JupyterLab


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a temporary copy of book/: (base URL, token, root folder)."""
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "book"
    shutil.copytree(BOOK, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_ext"))
    settings = tmp / "settings" / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none", "autoStartDefaultKernel": True}), encoding="utf-8"
    )
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"checkForUpdates": False, "fetchNews": "false"}), encoding="utf-8"
    )
    token = secrets.token_hex(16)
    runtime = tmp / "runtime"
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        # kernels of this environment first, as in the Makefile
        "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter"),
        "PYTHONHASHSEED": "0",
        # one thread of BLAS per kernel: PARALLEL kernels and chromium share two cores, and
        # OpenBLAS threads that wait for a core spin (measured: 1.5 times the CPU per run)
        **{f"{lib}_NUM_THREADS": "1" for lib in ("OPENBLAS", "OMP", "MKL")},
    }
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={tmp / 'settings'}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
        # window.jupyterapp: the test opens each chapter in the page it has (no reload) and
        # reads which cells ran and whether each notebook's kernel is idle
        "--LabApp.expose_app_in_browser=True",
    ]
    if os.geteuid() == 0:  # as `make lab` does: JupyterLab refuses root without it
        command.append("--allow-root")
    log = (tmp / "server.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not list(runtime.glob("jpserver-*.json")):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("JupyterLab did not start:\n" + (tmp / "server.log").read_text())
            time.sleep(0.3)
        info = json.loads(next(runtime.glob("jpserver-*.json")).read_text(encoding="utf-8"))
        yield f"http://127.0.0.1:{info['port']}", token, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _menu(page, menu: str, item: str) -> None:
    dialog = page.locator(".jp-Dialog")
    if dialog.count():
        raise AssertionError(f"a JupyterLab dialog is open: {dialog.first.inner_text()!r}")
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item}$")).first.click()


# The notebook panel with DOM id `id`, found in JupyterLab's main area.
JS_PANEL = "Array.from(jupyterapp.shell.widgets('main')).find(w => w.id === id)"

JS_OPEN = """name => jupyterapp.commands
    .execute('docmanager:open', {path: name, factory: 'Notebook'})
    .then(panel => panel.context.ready.then(() => panel.id))"""

JS_KERNEL_IDLE = f"""id => {{
  const panel = {JS_PANEL};
  const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle';
}}"""

JS_PROMPTS = """id => Array.from(document.getElementById(id)
    .querySelectorAll('.jp-CodeCell .jp-InputPrompt')).map(e => e.textContent.trim())"""

JS_SAVED = f"id => !{JS_PANEL}.context.model.dirty"

JS_FINISHED = (
    f"id => ({JS_PROMPTS})(id).every(p => /^\\[\\d+\\]:$/.test(p)) && ({JS_KERNEL_IDLE})(id)"
)

JS_STATE = """id => {
  const root = document.getElementById(id);
  const md = Array.from(root.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown'));
  const exercises = Array.from(root.querySelectorAll('.jp-RenderedMarkdown div.exercise'));
  const fields = Array.from(root.querySelectorAll(
    '.jupyter-widgets input, .jupyter-widgets select, .jupyter-widgets button'));
  const named = f => (f.labels && f.labels.length && f.labels[0].innerText.trim())
    || (f.tagName === 'BUTTON' && f.innerText.trim()) || f.getAttribute('aria-label');
  return {
    text: md.map(e => e.innerText).join('\\n'),
    math: root.querySelectorAll('.jp-RenderedMarkdown mjx-container').length,
    rawMath: md.filter(e => /\\$\\$|\\\\begin\\{/.test(e.innerText)).length,
    exercises: exercises.length,
    framed: exercises.filter(e => parseFloat(getComputedStyle(e).borderLeftWidth) > 0).length,
    controls: fields.filter(named).length,
    unnamed: fields.filter(f => !named(f)).map(f => f.outerHTML.slice(0, 120))
      .concat(Array.from(root.querySelectorAll('[role=slider]'))
        .filter(e => !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
        .map(e => 'role=slider: ' + e.outerHTML.slice(0, 100))),
    widgetErrors: (root.innerText.match(/Error displaying widget/g) || []).length,
  };
}"""


def _check_solutions(page, id: str) -> tuple[int, list[str]]:
    """Each <details class="solution">: closed, body hidden; clicked: open, body visible."""
    problems = []
    solutions = page.locator(f"#{id} .jp-RenderedMarkdown details.solution")
    count = solutions.count()
    for k in range(count):
        sol = solutions.nth(k)
        body = sol.locator(":scope > :not(summary)")
        if body.count() == 0:
            problems.append(f"solution {k} has no body")
            continue
        sol.locator("summary").scroll_into_view_if_needed()
        if sol.evaluate("e => e.open") or body.first.is_visible():
            problems.append(f"solution {k} is visible before its summary is clicked")
        sol.locator("summary").click()
        try:
            body.first.wait_for(state="visible", timeout=5_000)
        except Exception:
            problems.append(f"solution {k} stays hidden after its summary is clicked")
    return count, problems


def _drive_explorer(page, id: str) -> str | None:
    """With the chapter's kernel alive: an arrow key on the first explorer's first number box
    (then Enter on its button, if it has one: the training explorer redraws on the button
    only) must redraw its view. Returns what went wrong, or None."""
    explorer = page.locator(f"#{id} .jp-OutputArea-output .widget-vbox").first
    field = explorer.locator("input[type=number]").first
    output = explorer.locator(".widget-output").first
    before = output.inner_text()
    field.scroll_into_view_if_needed()
    field.focus()
    value = field.input_value()
    page.keyboard.press("ArrowUp")
    if field.input_value() == value:  # at the top of its range
        page.keyboard.press("ArrowDown")
    if field.input_value() == value:
        return "the arrow keys do not move the explorer's first number box"
    button = explorer.locator("button.jupyter-button")
    if button.count():
        button.first.focus()
        page.keyboard.press("Enter")
    try:
        page.wait_for_function(
            "([e, t]) => e.innerText !== t",
            arg=[output.element_handle(), before],
            polling=POLL,
            timeout=60_000,
        )
    except Exception:
        return "the explorer's view did not redraw after a key press"
    return None


def _start(page, name: str) -> str:
    """Open a chapter in a new tab of the JupyterLab page, clear its outputs, Run All Cells.
    Returns the notebook panel's DOM id."""
    t0 = time.monotonic()
    id = page.evaluate(JS_OPEN, name)
    # The kernel is ready (a Run All sent before that is lost): it is idle.
    page.wait_for_function(JS_KERNEL_IDLE, arg=id, polling=POLL, timeout=180_000)
    page.locator(f"#{id} .jp-CodeCell").first.wait_for(timeout=60_000)
    t1 = time.monotonic()
    _menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(
        f"id => ({JS_PROMPTS})(id).every(p => p === '[ ]:')", arg=id, polling=POLL, timeout=30_000
    )
    _menu(page, "Run", "Run All Cells")
    _park(page)
    PHASES[name] = {"open": t1 - t0, "clear": time.monotonic() - t1, "run0": time.monotonic()}
    return id


def _finished(page, id: str) -> bool:
    """Every code cell shows its execution count and the kernel is idle; or a dialog waits
    for an answer (_inspect reports it). The kernel is idle for a moment between two cells,
    so idle alone does not mean that Run All is done."""
    if page.locator(".jp-Dialog").count():
        return True
    return page.evaluate(JS_FINISHED, id)


def _inspect(page, id: str, name: str, root: Path, seconds: float) -> dict:
    """Bring the chapter's tab to the front, save the notebook, then read what JupyterLab
    shows and what it saved."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count():
        page.screenshot(path=str(SHOTS / f"jupyterlab_{Path(name).stem}_dialog.png"))
        return {"dialog": dialog.first.inner_text(), "seconds": seconds}
    ph = PHASES[name]
    t = time.monotonic()
    ph["run"] = t - ph.pop("run0")
    page.evaluate("id => jupyterapp.shell.activateById(id)", id)
    _menu(page, "File", "Save Notebook")
    page.wait_for_function(JS_SAVED, arg=id, polling=POLL, timeout=30_000)
    ph["save"] = time.monotonic() - t
    t = time.monotonic()
    state = page.evaluate(JS_STATE, id)
    ph["state"] = time.monotonic() - t
    t = time.monotonic()
    heading = page.locator(f"#{id} .jp-RenderedMarkdown h2", has_text="Exercises")
    if heading.count():
        heading.first.scroll_into_view_if_needed()
        page.evaluate(
            "id => document.querySelector(`#${id} .jp-WindowedPanel-outer, #${id} .jp-Notebook`)"
            ".scrollBy(0, -60)",
            id,
        )
    page.screenshot(path=str(SHOTS / f"jupyterlab_{Path(name).stem}.png"))
    ph["shot"] = time.monotonic() - t
    t = time.monotonic()
    state["solutions"], state["solution_problems"] = _check_solutions(page, id)
    ph["solutions"] = time.monotonic() - t
    t = time.monotonic()
    if heading.count():
        page.screenshot(path=str(SHOTS / f"jupyterlab_{Path(name).stem}_solution_open.png"))
    ph["shot"] += time.monotonic() - t
    t = time.monotonic()
    saved = nbformat.read(root / name, as_version=4)
    code = [c for c in saved.cells if c.cell_type == "code"]
    state["counts"] = [c.execution_count for c in code]
    state["errors"] = [
        (k, "raises-exception" in c.metadata.get("tags", []), out.get("ename"))
        for k, c in enumerate(code)
        for out in c.outputs
        if out.output_type == "error"
    ]
    state["meant"] = [
        k for k, c in enumerate(code) if "raises-exception" in c.metadata.get("tags", [])
    ]
    ph["read"] = time.monotonic() - t
    t = time.monotonic()
    state["keyboard"] = _drive_explorer(page, id) if _expected(name)["explorer"] else None
    ph["explorer"] = time.monotonic() - t
    state["seconds"] = seconds
    return state


JS_PARK = """async () => {
  const launcher = Array.from(jupyterapp.shell.widgets('main'))
    .find(w => w.node.querySelector('.jp-Launcher'))
    || await jupyterapp.commands.execute('launcher:create');
  jupyterapp.shell.activateById(launcher.id);
}"""


def _park(page) -> None:
    """Bring the launcher's tab to the front: the running notebooks' tabs are hidden (lumino
    hides them with display: none), so chromium lays none of their outputs out while they
    run; each is brought to the front when it is inspected."""
    page.evaluate(JS_PARK)


def _close(page, id: str) -> None:
    """Shut the chapter's kernel down (frees its memory) and close its tab."""
    page.evaluate("id => jupyterapp.shell.activateById(id)", id)
    _menu(page, "Kernel", "Shut Down Kernel")
    page.evaluate(f"id => {JS_PANEL}.dispose()", id)
    _park(page)


@pytest.fixture(scope="module")
def lab_results(request, browser, lab, plain_export):
    """Every chapter the session's tests ask for (all of them, unless -k selects some), run
    in one JupyterLab page, PARALLEL at a time: {notebook: what was seen}."""
    base, token, root = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    wanted = {
        item.callspec.params["name"]
        for item in request.session.items
        if getattr(item, "module", None) is request.module and item.name.startswith("test_chapter_")
    }
    waiting = [n for n in NOTEBOOKS if n in wanted]
    waiting.sort(key=lambda n: n not in LONGEST)  # stable: the table of contents' order after
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    results, running = {}, {}
    start = time.monotonic()
    try:
        page.goto(f"{base}/lab?reset&token={token}")
        page.wait_for_function("() => window.jupyterapp && jupyterapp.shell", timeout=120_000)
        page.evaluate("() => jupyterapp.restored.then(() => true)")
        while waiting or running:
            while waiting and len(running) < PARALLEL:
                name = waiting.pop(0)
                opened = time.monotonic()
                running[name] = (_start(page, name), opened)
            for name, (id, started) in list(running.items()):
                elapsed = time.monotonic() - started
                if _finished(page, id) or elapsed > RUN_TIMEOUT:
                    results[name] = _inspect(page, id, name, root, elapsed)
                    results[name]["timed_out"] = elapsed > RUN_TIMEOUT
                    if "dialog" not in results[name]:
                        t = time.monotonic()
                        _close(page, id)
                        PHASES[name]["close"] = time.monotonic() - t
                    del running[name]
            time.sleep(0.5)
    finally:
        context.close()
    print(f"\nJupyterLab: {len(results)} notebooks in {time.monotonic() - start:.0f} s")
    for name, seen in results.items():
        print(f"  {name:<28} opened and run in {seen['seconds']:5.1f} s", end="")
        print("".join(f" {k} {v:.1f}" for k, v in PHASES.get(name, {}).items()))
    return results


def test_chromium_is_there():
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} not found: the JupyterLab tests need it"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_chapter_runs_in_jupyterlab(lab_results, name):
    seen, expected = lab_results[name], _expected(name)
    assert "dialog" not in seen, f"{name}: JupyterLab asks: {seen['dialog']!r}"
    assert not seen["timed_out"], f"{name}: Run All did not finish in {RUN_TIMEOUT} s"
    assert seen["counts"] == list(range(1, len(seen["counts"]) + 1)), (
        f"{name}: execution counts after Run All: {seen['counts']}"
    )
    unexpected = [e for e in seen["errors"] if not e[1]]
    assert not unexpected, (
        f"{name}: error outputs in cells not tagged raises-exception: {unexpected}"
    )
    raised = sorted({k for k, meant, _ in seen["errors"] if meant})
    assert raised == seen["meant"], f"{name}: cells meant to raise {seen['meant']}, raised {raised}"
    assert seen["widgetErrors"] == 0, f"{name}: a widget failed to display"
    if expected["explorer"]:
        assert seen["controls"] > 0, f"{name}: the explorer shows no control"
        assert not seen["unnamed"], f"{name}: explorer controls without a name: {seen['unnamed']}"
        assert seen["keyboard"] is None, f"{name}: {seen['keyboard']}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_chapter_reads_in_jupyterlab(lab_results, name):
    seen, expected = lab_results[name], _expected(name)
    assert "dialog" not in seen, f"{name}: JupyterLab asks: {seen['dialog']!r}"
    raw = RAW_SYNTAX.findall(seen["text"])
    assert not raw, f"{name}: MyST syntax shown raw in JupyterLab: {raw}"
    if expected["math"]:
        assert seen["math"] > 0 and seen["rawMath"] == 0, f"{name}: mathematics not typeset"
    assert seen["exercises"] == expected["exercises"], name
    assert seen["framed"] == seen["exercises"], f"{name}: an exercise has no frame"
    assert seen["solutions"] == expected["solutions"], f"{name}: solutions rendered"
    assert not seen["solution_problems"], f"{name}: {seen['solution_problems']}"


# ---------------------------------------------------------------- a renderer with no MyST

JS_PLAIN = """() => ({
  text: Array.from(document.querySelectorAll('.jp-MarkdownCell')).map(e => e.innerText).join('\\n'),
  cells: document.querySelectorAll('.jp-MarkdownCell').length,
  solutions: Array.from(document.querySelectorAll('details.solution')).map(d => ({
    open: d.open,
    hidden: Array.from(d.children).filter(c => c.tagName !== 'SUMMARY')
      .every(c => !c.checkVisibility()),
    summary: (d.querySelector('summary') || {innerText: ''}).innerText,
  })),
  exercises: document.querySelectorAll('div.exercise').length,
})"""


@pytest.fixture(scope="module")
def plain_export(tmp_path_factory):
    """nbconvert's HTML exporter (no MyST support), once over every notebook of the book, in
    a process of its own started now: it runs while JupyterLab starts. Yields (process, folder)."""
    out = tmp_path_factory.mktemp("plain")
    log = (out / "nbconvert.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--output-dir", str(out)]
        + [str(BOOK / name) for name in NOTEBOOKS],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process, out
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        log.close()


@pytest.fixture(scope="module")
def plain_pages(plain_export):
    """Every notebook of the book as nbconvert's HTML: {name: path}."""
    process, out = plain_export
    if process.wait(timeout=600) != 0:
        pytest.fail("nbconvert --to html failed:\n" + (out / "nbconvert.log").read_text())
    return {name: out / f"{Path(name).stem}.html" for name in NOTEBOOKS}


@pytest.fixture(scope="module")
def plain_page(browser):
    """One chromium page for every plain page: no site but the page itself (the exporter's
    MathJax and require.js come from a CDN)."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.route(re.compile(r"^https?://"), lambda route: route.abort())
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_plain_renderer_hides_solutions_and_shows_no_myst(plain_page, plain_pages, name):
    expected = _expected(name)
    page = plain_page
    page.goto(plain_pages[name].as_uri())
    seen = page.evaluate(JS_PLAIN)
    heading = page.locator("h2", has_text="Exercises")
    if heading.count():
        heading.first.scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"plain_{Path(name).stem}.png"))
    assert seen["cells"] > 0, f"{name}: no Markdown cell found in the exported page"
    raw = RAW_SYNTAX.findall(seen["text"])
    assert not raw, f"{name}: MyST syntax shown raw by a plain renderer: {raw}"
    assert seen["exercises"] == expected["exercises"], name
    assert len(seen["solutions"]) == expected["solutions"], name
    for k, sol in enumerate(seen["solutions"]):
        assert not sol["open"] and sol["hidden"], f"{name}: solution {k} visible without a click"
        assert re.fullmatch(r"Solution to Exercise \d+\.\d+", sol["summary"].strip()), sol


# ---------------------------------------------------------------- the animations' player
# In the same JupyterLab server as the chapters (one server for the session's JupyterLab tests).

LAB_SOURCE = (
    "import cnn6\nfrom cnn6.view.animation import animate_kernel_gradient, animate_maxpool\n\n"
    "x, y, params = cnn6.running_example()\ntrace = cnn6.forward(params, x, y)\n"
    "grads = cnn6.backward(params, trace, y)"
)
LAB_CELLS = (
    f"animate_maxpool(trace.a1, grads.da2, interval={INTERVAL}, dpi=30)",
    f"animate_kernel_gradient(x, grads.dz1, interval={INTERVAL}, dpi=30)",
)

JS_LAB = """() => Array.from(document.querySelectorAll('.jp-OutputArea-output')).map(o => ({
  images: o.querySelectorAll('img').length,
  buttons: o.querySelectorAll('button').length,
  sliders: o.querySelectorAll('input[type=range]').length,
  ready: o.querySelectorAll('div.cnn6-player[data-cnn6-ready]').length,
  note: Array.from(o.querySelectorAll('p')).some(p => /needs JavaScript/.test(p.innerText)),
  items: o.querySelectorAll('li').length,
  text: o.innerText,
}))"""


def _stored_notebook(animations):
    """The two cells with the outputs stored as `make execute` stores them (not signed: a
    notebook someone else ran opens untrusted)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(LAB_SOURCE, execution_count=1)]
    for k, (source, a) in enumerate(zip(LAB_CELLS, animations, strict=True)):
        data = {
            "text/plain": repr(a),
            "text/html": a.html,
            "image/png": base64.b64encode(a.png).decode("ascii"),
        }
        output = nbformat.v4.new_output("execute_result", data=data, execution_count=k + 2)
        nb.cells.append(nbformat.v4.new_code_cell(source, execution_count=k + 2, outputs=[output]))
    return nb


def test_player_in_jupyterlab_untrusted_then_run(browser, lab, players):  # noqa: F811
    """Opened with stored outputs (untrusted: JupyterLab drops the scripts), each player is
    its first frame, a note and the descriptions, with no control; once the cells have run
    (trusted), each has its controls and plays from the keyboard."""
    base, token, root = lab
    nbformat.write(_stored_notebook(players), root / "player.ipynb")
    context = browser.new_context(viewport={"width": 1200, "height": 1400})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{base}/lab/tree/player.ipynb?reset&token={token}")
        page.locator(".jp-OutputArea-output img").nth(1).wait_for(timeout=120_000)
        stored = page.evaluate(JS_LAB)
        assert len(stored) == 2, stored
        for out, a in zip(stored, players, strict=True):
            assert (out["images"], out["buttons"], out["sliders"], out["ready"]) == (1, 0, 0, 0)
            assert out["note"] and out["items"] == a.frames and a.steps[0] in out["text"]

        id = page.evaluate("() => jupyterapp.shell.currentWidget.id")  # the notebook's panel
        page.wait_for_function(JS_KERNEL_IDLE, arg=id, polling=POLL, timeout=180_000)
        _menu(page, "Edit", "Clear Outputs of All Cells")
        page.wait_for_function(
            f"id => ({JS_PROMPTS})(id).every(p => p === '[ ]:')", arg=id, polling=POLL
        )
        _menu(page, "Run", "Run All Cells")
        page.wait_for_function(
            f"id => ({JS_PROMPTS})(id).every(p => /^\\[\\d+\\]:$/.test(p))",
            arg=id,
            polling=POLL,
            timeout=300_000,
        )
        page.wait_for_function(JS_KERNEL_IDLE, arg=id, polling=POLL, timeout=180_000)
        ran = page.evaluate(JS_LAB)
        for out in ran:
            assert (out["images"], out["buttons"], out["sliders"], out["ready"]) == (1, 5, 1, 1)
            assert not out["note"]
        player = page.locator("div.cnn6-player").nth(1)
        player.get_by_role("button", name="Play").focus()
        page.keyboard.press("Enter")
        slider = player.locator("input[type=range]")
        page.wait_for_function(
            "s => s.valueAsNumber >= 3", arg=slider.element_handle(), timeout=10 * INTERVAL
        )
        page.keyboard.press("Tab")  # any other key stops it
        frame_then = slider.input_value()
        page.wait_for_timeout(3 * INTERVAL)
        assert slider.input_value() == frame_then
        step = int(frame_then) - 1
        assert player.locator(".cnn6-player-step").inner_text() == players[1].steps[step]
        assert not errors, errors
    finally:
        context.close()
