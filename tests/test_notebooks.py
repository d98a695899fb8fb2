"""The structure of the committed chapters: executed in order, with outputs, in the toc.

nbval checks that the stored outputs are still what the code gives; these tests check that
the stored notebooks are complete: every code cell run once, top to bottom, in one kernel,
and showing what it computes.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
# The landing notebook `make lab` opens: not a page of the book (excluded in _config.yml).
LANDING = BOOK / "start_here.ipynb"
NOTEBOOKS = sorted(p for p in BOOK.glob("*.ipynb") if p != LANDING)
CHAPTERS = [nb for nb in NOTEBOOKS if re.match(r"\d\d_", nb.name)]


@functools.cache
def _read(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path``, read (and validated) once per test run; tests only read it."""
    return nbformat.read(path, as_version=4)


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part.get("chapters", [])]
    return files


def _code_cells(path):
    nb = _read(path)
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _only_setup(source: str) -> bool:
    """True when a cell only imports, defines, assigns, asserts or sets up the kernel."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith("%")]
    tree = ast.parse("\n".join(lines))
    setup = (
        ast.Import,
        ast.ImportFrom,
        ast.FunctionDef,
        ast.ClassDef,
        ast.Assign,
        ast.AnnAssign,
        ast.AugAssign,
        ast.Assert,
    )
    return all(isinstance(node, setup) or _configures_ipython(node) for node in tree.body)


def _configures_ipython(node) -> bool:
    """A statement such as ``get_ipython().InteractiveTB.set_mode(...)``: kernel set-up."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    inner = node.value.func
    while isinstance(inner, (ast.Attribute, ast.Call)):
        inner = inner.value if isinstance(inner, ast.Attribute) else inner.func
    return isinstance(inner, ast.Name) and inner.id == "get_ipython"


def test_book_has_chapters():
    assert len(CHAPTERS) >= 13, [p.name for p in NOTEBOOKS]


def test_every_notebook_is_in_the_toc_and_every_toc_entry_exists():
    toc = _toc_files()
    for path in NOTEBOOKS:
        assert f"book/{path.stem}" in toc, f"{path.name} is not in _toc.yml"
    for entry in toc:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), entry


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_executed_once_in_order(path):
    counts = [cell.execution_count for cell in _code_cells(path)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts}; run `make execute` (fresh kernel, in order)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_show_what_they_compute(path):
    for k, cell in enumerate(_code_cells(path)):
        tags = cell.metadata.get("tags", [])
        if "remove-cell" in tags:
            continue
        assert cell.outputs or _only_setup(cell.source), (
            f"{path.name}, code cell {k}: no output; end the cell with the value to show"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_errors_only_where_meant(path):
    for k, cell in enumerate(_code_cells(path)):
        errors = [out for out in cell.outputs if out.output_type == "error"]
        meant = "raises-exception" in cell.metadata.get("tags", [])
        assert bool(errors) == meant, f"{path.name}, code cell {k}: error output {errors!r:.200}"
        if meant:
            assert "# NBVAL_RAISES_EXCEPTION" in cell.source, f"{path.name}, code cell {k}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_raw_numpy_scalar_reprs(path):
    for k, cell in enumerate(_code_cells(path)):
        for out in cell.outputs:
            text = out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
            assert "np.float64(" not in text, f"{path.name}, code cell {k}: format with cnn6.fmt"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_installs_the_engine_on_a_fresh_kernel(path):
    first = _code_cells(path)[0]
    assert "cnn6-install" in first.metadata.get("tags", []), path.name


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_shape(path):
    nb = _read(path)
    markdown = [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    assert re.match(r"# \S", markdown[0]), f"{path.name}: the title first"
    text = "\n".join(markdown)
    assert "## Summary" in text, path.name
    assert len(re.findall(EXERCISE, text)) >= 3, f"{path.name}: at least three exercises"
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert "cnn6.pipeline(" in code, f"{path.name}: the pipeline picture at the top"


# ------------------------------------------------- exercises, solutions and cross-references
# The chapters are written in CommonMark + HTML that every notebook front-end renders the same
# way (JupyterLab, Notebook 7, Colab, GitHub, nbviewer, VS Code) and that the book styles
# (book/_ext/static/cnn6.css): no MyST role, directive or label, numbers written by hand.
EXERCISE = re.compile(
    r'^<div class="exercise"[^>]*>\n\n\*\*Exercise (\d+)\.(\d+)\.\*\* \S.*?\n\n</div>$', re.M | re.S
)
SOLUTION = re.compile(
    r'^<details class="solution">\n<summary>Solution to Exercise (\d+)\.(\d+)</summary>\n\n'
    r"(.*?)\n\n</details>$",
    re.M | re.S,
)
MYST_ONLY = {
    "a label line": re.compile(r"^\([\w.-]+\)=\s*$", re.M),
    "a role": re.compile(r"\{[a-z][\w:-]*\}`"),
    "a directive": re.compile(r"^(`{3,}|:{3,})\s*\{[\w:-]+\}", re.M),
    "a directive option": re.compile(r"^:(label|class|name|nonumber|hidden):", re.M),
}


def _numbered_chapters() -> dict[str, tuple[int, str]]:
    """book/<stem> -> (number, title) from the numbered parts of _toc.yml, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    numbered = [
        e["file"] for part in toc["parts"] if part.get("numbered") for e in part["chapters"]
    ]
    chapters = {}
    for number, entry in enumerate(numbered, start=1):
        path = ROOT / f"{entry}.ipynb"
        first = next(c.source for c in _read(path).cells if c.cell_type == "markdown")
        chapters[Path(entry).name] = (number, re.match(r"# (.+)", first).group(1).strip())
    return chapters


def _markdown(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    nb = _read(path)
    return "\n\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")


def _exercises(text: str) -> list[tuple[int, int]]:
    return [(int(n), int(k)) for n, k in EXERCISE.findall(text)]


def _solutions(text: str) -> list[tuple[int, int]]:
    """The exercise number of every solution that has a body."""
    return [(int(n), int(k)) for n, k, body in SOLUTION.findall(text) if body.strip()]


PAGES = [*NOTEBOOKS, LANDING, *sorted(BOOK.glob("*.md"))]


def test_chapter_numbers_follow_the_toc():
    chapters = _numbered_chapters()
    # the numbered parts number their chapters 1, 2, 3, ... in toc order, with no gap
    assert [n for n, _ in chapters.values()] == list(range(1, len(chapters) + 1)), chapters
    assert set(chapters) == {p.stem for p in CHAPTERS}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_exercises_numbered_by_chapter_each_with_one_solution(path):
    number, _ = _numbered_chapters()[path.stem]
    text = _markdown(path)
    exercises = _exercises(text)
    assert exercises == [(number, k) for k in range(1, len(exercises) + 1)], (
        f"{path.name} is chapter {number}: exercises {exercises}, not {number}.1, {number}.2..."
    )
    # Every exercise block and every solution block is well formed: count the bare openings too.
    assert len(re.findall(r'<div class="exercise"', text)) == len(exercises), path.name
    solutions = _solutions(text)
    assert len(re.findall(r"<details", text)) == len(solutions), (
        f"{path.name}: a malformed solution"
    )
    assert solutions == exercises, f"{path.name}: solutions {solutions} for exercises {exercises}"
    # Each solution directly follows its exercise.
    pairs = re.findall(
        r"\*\*Exercise (\d+\.\d+)\.\*\*.*?</div>\n+<details[^>]*>\n<summary>"
        r"Solution to Exercise (\d+\.\d+)<",
        text,
        re.S,
    )
    assert [a for a, b in pairs if a == b] == [f"{n}.{k}" for n, k in exercises], path.name


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_no_myst_only_syntax(path):
    text = _markdown(path)
    for what, pattern in MYST_ONLY.items():
        found = pattern.search(text)
        assert not found, f"{path.name}: {what} {found.group(0)!r}, which only MyST renders"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_chapter_and_exercise_references_agree_with_the_toc(path):
    """ "Chapter N, Title" names chapter N of the toc by its title; a link to a chapter
    carries its number; "Exercise N.k" exists in chapter N."""
    chapters = _numbered_chapters()
    by_number = {n: (stem, title) for stem, (n, title) in chapters.items()}
    exercises = {stem: _exercises(_markdown(BOOK / f"{stem}.ipynb")) for stem in chapters}
    text = _markdown(path)
    for m in re.finditer(r"\bChapter (\d+)(, )?", text):
        number = int(m.group(1))
        assert number in by_number, f"{path.name}: {m.group(0)!r}: no chapter {number}"
        if m.group(2):
            title = by_number[number][1]
            assert text[m.end() :].startswith(title), (
                f"{path.name}: {text[m.start() : m.end() + 60]!r}: chapter {number} is {title!r}"
            )
    links = re.findall(r"\[([^\]]+)\]\(([\w.-]+?)\.ipynb(?:#[\w-]+)?\)", text)
    for label, stem in links:
        assert (BOOK / f"{stem}.ipynb").exists(), f"{path.name}: link to a missing {stem}.ipynb"
        if stem in chapters:
            number, title = chapters[stem]
            assert label in (str(number), f"Chapter {number}, {title}"), (
                f"{path.name}: [{label}]({stem}.ipynb): chapter {number} is {title!r}"
            )
    for n, k in re.findall(r"\bExercise (\d+)\.(\d+)", text):
        stem = by_number[int(n)][0]
        assert (int(n), int(k)) in exercises[stem], f"{path.name}: Exercise {n}.{k} does not exist"
    if path.stem in chapters:
        own = chapters[path.stem][0]
        for n, _ in re.findall(r"\*\*Exercise (\d+)\.(\d+)\.\*\*", text):
            assert int(n) == own, f"{path.name} is chapter {own}: it holds Exercise {n}.x"


def test_landing_lists_every_chapter_and_the_ones_with_explorers():
    """start_here.ipynb (what `make lab` opens): outside the book, no code, every chapter
    linked in order, and "(explorer)" exactly on the chapters that show an explorer."""
    assert f"book/{LANDING.stem}" not in _toc_files()
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert f"book/{LANDING.name}" in config["exclude_patterns"]
    nb = _read(LANDING)
    assert [cell.cell_type for cell in nb.cells] == ["markdown"]
    text = nb.cells[0].source
    listed = re.findall(
        r"^- \[Chapter (\d+), [^\]]+\]\((\w+)\.ipynb\)( \(explorer\))?$", text, re.M
    )
    chapters = _numbered_chapters()
    assert [(int(n), stem) for n, stem, _ in listed] == sorted(
        (n, stem) for stem, (n, _) in chapters.items()
    )
    with_explorer = sorted(
        chapters[p.stem][0]
        for p in CHAPTERS
        if any(
            re.search(r"\bexplore_\w+\(", c.source) for c in _read(p).cells if c.cell_type == "code"
        )
    )
    assert [int(n) for n, _, mark in listed if mark] == with_explorer
    numbers = ", ".join(map(str, with_explorer[:-1])) + f" and {with_explorer[-1]}"
    assert f"Chapters {numbers} have an explorer" in " ".join(text.split())


def test_reference_checks_can_fail():
    """The checks above reject what they are meant to reject."""
    assert MYST_ONLY["a role"].search("see {ref}`ch-conv`")
    assert MYST_ONLY["a label line"].search("(ch-conv)=\n# Convolution")
    assert MYST_ONLY["a directive"].search("```{exercise}\n:label: x\n")
    assert MYST_ONLY["a directive"].search("::::{solution} x")
    assert MYST_ONLY["a directive option"].search(":class: dropdown")
    assert not MYST_ONLY["a role"].search("$\\frac{a}{b}$ and `x[0]`")
    block = '<div class="exercise">\n\n**Exercise 2.1.** Text.\n\n</div>'
    assert _exercises(block) == [(2, 1)]
    assert _exercises(block.replace("\n\n**", "\n**")) == []
    answer = (
        '<details class="solution">\n<summary>Solution to Exercise 2.1</summary>\n\n'
        "{}\n\n</details>"
    )
    assert _solutions(answer.format("The sum.")) == [(2, 1)]
    assert _solutions(answer.format("")) == []


# --------------------------------------------------------------------------- nbval sanitizers
def _sanitize(text: str) -> str:
    """Apply .nbval-sanitize.cfg as nbval does (its own parser, then re.sub in file order)."""
    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns((ROOT / ".nbval-sanitize.cfg").read_text(encoding="utf-8"))
    assert len(patterns) == 2, patterns  # a pattern nbval cannot parse is silently dropped
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<object at 0x7f3a2c1d>", "<object at 0xADDRESS>"),
        ("a 300x200 figure", "a 300x200 figure"),
        (
            "dz1: relative error 5.3e-11 < 1e-7: passes",
            "dz1: relative error (round-off, below 1e-8) < 1e-7: passes",
        ),
        ("kernel     relative error 1.4e-10", "kernel     relative error (round-off, below 1e-8)"),
        (
            "relative error, engine:   1.1e-10 < 1e-7: passes",
            "relative error, engine:   (round-off, below 1e-8) < 1e-7: passes",
        ),
        ("relative error 9.9e-09", "relative error (round-off, below 1e-8)"),
        # what a wrong gradient or a loose check prints is compared digit for digit
        ("dK from da1 ⊙ a1:       relative error 1.3e-01", None),
        ("relative error 2.0e-07 < 1e-7", None),
        ("relative error 0.0012", None),
        ("loss 1.4e-10", None),
    ],
)
def test_sanitizers_touch_only_addresses_and_round_off(text, expected):
    assert _sanitize(text) == (text if expected is None else expected)


def test_every_round_off_error_the_book_prints_is_asserted_in_its_cell():
    """A relative error is only sanitized where the cell itself asserts the 1e-7 bound."""
    seen = set()
    for path in NOTEBOOKS:
        for cell in _code_cells(path):
            outputs = cell.get("outputs", [])
            text = "".join(out.get("text", "") for out in outputs if out.get("name") == "stdout")
            if _sanitize(text) != text and "0xADDRESS" not in _sanitize(text):
                seen.add(path.name)
                assert re.search(
                    r"assert .*relative_error|assert .*< ?1e-7|check_gradient", cell.source
                ), (path.name, cell.source[:200])
    # chapters 7 to 10 each check their gradients against finite differences
    backward = {"07_backward_dense.ipynb", "08_backward_maxpool.ipynb", "09_backward_relu.ipynb"}
    assert backward | {"10_backward_conv.ipynb"} <= seen, seen
