"""The whole book builds as one PDF (`make pdf`: Sphinx's LaTeX builder and pdflatex).

The PDF is built in the copy of the repository that the HTML build of the tests made
(``built_book`` in conftest.py: no stale ``_build``, no race with another build, and the
parsed pages are reused), then read back with ``pdftotext``: it must hold the book's title and
the title of every page in ``_toc.yml``, have at least two pages per page of the book, carry the
figures, and print every character (xelatex logs "Missing character" for any that no font has).

Needs Debian's ``latexmk``, ``texlive-latex-extra``, ``texlive-xetex``, ``fonts-freefont-otf``,
``fonts-dejavu-core`` and ``poppler-utils``: ``make test`` installs them when missing (as root).
Without them the test fails; it never skips.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
import yaml
from test_browser import ROOT, toc_pages

# Built in the copy of the HTML build (``built_book``, conftest.py), whose doctrees it reuses.
pytestmark = [pytest.mark.book, pytest.mark.pdf]

TOOLS = ("latexmk", "xelatex", "pdftotext", "pdfimages")
PDF_NAME = "cnn6.pdf"


def page_title(path: Path) -> str:
    """The first level-1 heading of a Markdown page or a notebook's Markdown cells."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    raise AssertionError(f"{path} has no level-1 heading")


def words(text: str) -> list[str]:
    """Lower-case words of `text`, math ($...$), code marks and punctuation left out."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\$[^$]*\$", " ", text)
    return re.findall(r"[a-z0-9]+", text.lower())


def contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[k : k + n] == needle for k in range(len(haystack) - n + 1))


@pytest.fixture(scope="module")
def pdf(built_book) -> tuple[Path, float]:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.fail(
            f"missing {', '.join(missing)}: as root, apt-get install -y "
            "--no-install-recommends latexmk texlive-latex-extra texlive-xetex "
            "fonts-freefont-otf fonts-dejavu-core poppler-utils (`make test` does it)"
        )
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    source = built_book.source
    start = time.perf_counter()
    result = subprocess.run(
        [str(jupyter_book), "build", str(source), "--builder", "pdflatex"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    seconds = time.perf_counter() - start
    out = source / "_build" / "latex" / PDF_NAME
    if result.returncode != 0 or not out.is_file():
        log = source / "_build" / "latex" / PDF_NAME.replace(".pdf", ".log")
        errors = ""
        if log.is_file():
            errors = "\n".join(
                line
                for line in log.read_text(errors="replace").splitlines()
                if line.startswith("!") or line.startswith("l.")
            )
        pytest.fail(
            f"the PDF build failed ({result.returncode}) after {seconds:.0f} s:\n"
            f"{errors[-3000:]}\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}"
        )
    print(f"PDF built in {seconds:.1f} s")
    return out, seconds


def test_pdf_holds_every_title(pdf):
    path, _ = pdf
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    stream = words(text)
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert contains(stream, words(config["title"])), "the book's title"
    missing = []
    for page in toc_pages():
        source = next(
            ROOT / f"{page}{ext}" for ext in (".md", ".ipynb") if (ROOT / f"{page}{ext}").is_file()
        )
        title = page_title(source)
        if not contains(stream, words(title)):
            missing.append(f"{page}: {title!r}")
    assert not missing, "titles not found in the PDF:\n  " + "\n  ".join(missing)


def test_pdf_has_pages_figures_and_every_glyph(pdf):
    path, _ = pdf
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 2 * len(toc_pages()), pages
    images = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    notebooks_with_figures = [
        p
        for p in toc_pages()
        if (ROOT / f"{p}.ipynb").is_file()
        and '"image/png"' in (ROOT / f"{p}.ipynb").read_text(encoding="utf-8")
    ]
    assert len(images) >= len(notebooks_with_figures), (len(images), notebooks_with_figures)
    log = path.with_suffix(".log").read_text(errors="replace")
    missing = sorted({line for line in log.splitlines() if line.startswith("Missing character")})
    assert not missing, "characters no font of the PDF has (see latex_elements.fontpkg):\n" + (
        "\n".join(missing)
    )


# ---------------------------------------------------------------- the print edition
# (book/_ext/cnn6_print.py: front matter, parts, the web book's chapter numbers, solutions at
# the end of each chapter with page references both ways, links to the live chapters)

ROMAN = re.compile(r"^[ivxlc]+$")
EXERCISE_HTML = re.compile(
    r'<div class="exercise"[^>]*>\s*?\n\s*\n\*\*Exercise (\d+)\.(\d+)\b[^*]*\*\*(.*?)(?:\n\s*\n|$)',
    re.S,
)
SOLUTION_HTML = re.compile(
    r'<details class="solution">\s*<summary>Solution to Exercise (\d+)\.(\d+)</summary>'
    r"\s*?\n\s*\n(.*?)</details>",
    re.S,
)
# Chapters not yet rewritten keep sphinx-exercise directives: read those as well.
EXERCISE_MYST = re.compile(
    r"^(`{3,})\{exercise\}\n:label: (\S+)\n(?::\S+:[^\n]*\n)*\n(.*?)\n\1$", re.S | re.M
)
SOLUTION_MYST = re.compile(
    r"^(`{3,})\{solution\} (\S+)\n(?::\S+:[^\n]*\n)*\n(.*?)\n\1$", re.S | re.M
)


def pdf_pages(path: Path, layout: bool = False) -> list[str]:
    """The text of every page of the PDF (poppler's pdftotext), in order."""
    args = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), str(path), "-"]
    text = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def footer(page_layout: str) -> str:
    lines = [line.strip() for line in page_layout.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def printed_number(page_layout: str) -> str | None:
    """The page number printed in the footer (arabic or roman), None on a page without one."""
    match = re.match(r"^(\S+)\s{2,}", footer(page_layout)) or re.search(
        r"(?:^|\s{2,})(\S+)$", footer(page_layout)
    )
    number = match.group(1) if match else None
    return number if number and (number.isdigit() or ROMAN.match(number)) else None


def chapter_in_footer(page_layout: str) -> int | None:
    """The chapter number in the running foot: "26  Chapter 2. Convolution", "2.11. Summary  25"."""
    match = re.search(r"Chapter (\d+)\.", footer(page_layout)) or re.match(
        r"^(\d+)\.\d+\.\s", footer(page_layout)
    )
    return int(match.group(1)) if match else None


def toc_parts() -> list[tuple[str, bool, list[str]]]:
    """(caption, numbered, pages) of every part of `_toc.yml`."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [
        (
            part["caption"],
            bool(part.get("numbered")),
            [str(Path(c["file"]).with_suffix("")) for c in part["chapters"]],
        )
        for part in toc["parts"]
    ]


def source_of(page: str) -> Path:
    return next(
        ROOT / f"{page}{ext}" for ext in (".md", ".ipynb") if (ROOT / f"{page}{ext}").is_file()
    )


def web_numbers() -> dict[str, int]:
    """Chapter number of every page of a numbered part, as the web book numbers them: Jupyter
    Book numbers the chapters of numbered parts consecutively across parts."""
    pages = [p for _, numbered, chapters in toc_parts() if numbered for p in chapters]
    return {page: k for k, page in enumerate(pages, start=1)}


def markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


def exercises_and_solutions(page: str) -> list[tuple[str, str, str]]:
    """(number "N.k", exercise text, solution text) of every exercise of a chapter."""
    text = markdown_of(source_of(page))
    pairs = {}
    for m in EXERCISE_HTML.finditer(text):
        pairs[f"{m[1]}.{m[2]}"] = [m[3], None]
    for m in SOLUTION_HTML.finditer(text):
        pairs.setdefault(f"{m[1]}.{m[2]}", [None, None])[1] = m[3]
    labels = {}
    for k, m in enumerate(EXERCISE_MYST.finditer(text), start=1):
        labels[m[2]] = f"{web_numbers()[page]}.{k}"
        pairs[labels[m[2]]] = [m[3], None]
    for m in SOLUTION_MYST.finditer(text):
        pairs[labels[m[2]]][1] = m[3]
    return [(number, ex, sol) for number, (ex, sol) in pairs.items()]


def locate(text: str, pages: list[list[str]]) -> tuple[int, int] | None:
    """(page index, word index) of the first five-word run of `text` (outside math and code
    blocks) that occurs on exactly one page; None if no run does."""
    prose = re.sub(r"\$\$.*?\$\$|```.*?```", "\n\n", text, flags=re.S)
    for segment in re.split(r"\$[^$]*\$|\n\s*\n", prose):
        w = words(segment)
        for k in range(len(w) - 4):
            run = w[k : k + 5]
            hits = [
                (p, j)
                for p, page in enumerate(pages)
                for j in range(len(page) - 4)
                if page[j : j + 5] == run
            ]
            if len({p for p, _ in hits}) == 1:
                return hits[0]
    return None


@pytest.fixture(scope="module")
def pages(pdf) -> tuple[list[str], list[str]]:
    path, _ = pdf
    return pdf_pages(path), pdf_pages(path, layout=True)


def test_pdf_chapters_are_numbered_as_the_web_book(pages):
    raw, layout = pages
    start = next((k for k, p in enumerate(raw) if "CONTENTS" in p.split("\n")), None)
    assert start is not None, "no page titled Contents"
    end = next((k for k in range(start, len(raw)) if "INTRODUCTION" in raw[k].split("\n")), None)
    assert end is not None, "no chapter Introduction after the contents"
    numbered, unnumbered = [], []
    for line in "\n".join(layout[start:end]).splitlines():
        line = line.strip()
        if m := re.match(r"^(\d+)\s+(\S.*?)\s{2,}(\d+)$", line):
            numbered.append((int(m[1]), words(m[2]), m[3]))
        elif (m := re.match(r"^(\D\S*(?: \S+)*)\s{2,}(\S+)$", line)) and ". ." not in line:
            unnumbered.append((words(m[1]), m[2]))
    expected = sorted((n, words(page_title(source_of(p)))) for p, n in web_numbers().items())
    assert [(n, t) for n, t, _ in numbered] == expected, "numbered chapters in the contents"
    # Front matter: the root page (as "Introduction") and the notation, roman page numbers;
    # every part's caption, then the chapters of the unnumbered parts, unnumbered.
    front = [(words("Introduction"), True)]
    for caption, is_numbered, chapters in toc_parts():
        front.append((words(caption), None))
        if not is_numbered:
            front.extend((words(page_title(source_of(p))), None) for p in chapters)
    assert [t for t, _ in unnumbered] == [t for t, _ in front], "parts and unnumbered chapters"
    first_numbered_part = next(k for k, (_, n, _) in enumerate(toc_parts()) if n)
    roman = [bool(ROMAN.match(page)) for _, page in unnumbered]
    lines_before_main = 1 + sum(
        1 + (0 if n else len(c)) for _, n, c in toc_parts()[:first_numbered_part]
    )
    assert all(roman[:lines_before_main]) and not any(roman[lines_before_main:]), unnumbered
    assert numbered[0][2] != "1" and unnumbered[lines_before_main][1] == "1", "page 1: part one"
    # Running feet ("Chapter 2. Convolution") agree with the web numbering too.
    titles = dict(expected)
    feet = {
        (int(m[1]), tuple(words(m[2])))
        for page in layout
        if (m := re.search(r"Chapter (\d+)\. (.*)$", footer(page)))
    }
    assert feet, "no running foot names a chapter"
    wrong = [(n, t) for n, t in feet if titles.get(n) != list(t)]
    assert not wrong, f"running feet with another chapter's number: {wrong}"


def test_pdf_exercises_sit_in_their_chapter_and_solutions_on_later_pages(pages):
    raw, layout = pages
    page_words = [words(p) for p in raw]
    chapter_of = [chapter_in_footer(p) for p in layout]
    problems, count = [], 0
    for page, number in web_numbers().items():
        for label, exercise, solution in exercises_and_solutions(page):
            count += 1
            if int(label.split(".")[0]) != number:
                problems.append(f"{page}: Exercise {label} in chapter {number}")
            if solution is None:
                problems.append(f"{page}: Exercise {label} has no solution")
                continue
            at_ex, at_sol = locate(exercise, page_words), locate(solution, page_words)
            if at_ex is None or at_sol is None:
                problems.append(f"{page}: Exercise {label} or its solution not found in the PDF")
                continue
            p_ex, p_sol = at_ex[0], at_sol[0]
            if chapter_of[p_ex] != number or chapter_of[p_sol] != number:
                problems.append(
                    f"Exercise {label}: on pages of chapters {chapter_of[p_ex]}, "
                    f"{chapter_of[p_sol]}, not {number}"
                )
            if p_sol <= p_ex:
                problems.append(f"Exercise {label}: its solution is not on a later page")
            # The page references, both ways, name the pages the texts are on.
            after = page_words[p_ex][at_ex[1] :] + page_words[p_ex + 1]
            ref = next(
                (
                    after[j + 3]
                    for j in range(len(after) - 3)
                    if after[j : j + 3] == ["solution", "on", "page"]
                ),
                None,
            )
            if ref not in {printed_number(layout[p]) for p in (p_sol - 1, p_sol)}:
                problems.append(
                    f"Exercise {label}: 'Solution on page {ref}', solution on page "
                    f"{printed_number(layout[p_sol])}"
                )
            back = re.search(rf"Exercise {re.escape(label)}, page (\S+)", "\f".join(raw))
            if back is None or back[1] != printed_number(layout[p_ex]):
                problems.append(
                    f"Exercise {label}: the solution's reference {back and back[0]!r}, "
                    f"exercise on page {printed_number(layout[p_ex])}"
                )
    assert count, "no exercise found in the chapters"
    assert not problems, "\n".join(problems)
    # Every exercise label printed at the start of a line sits on a page of its chapter.
    stray = [
        (m[0], chapter_of[p])
        for p, text in enumerate(raw)
        for m in re.finditer(r"^Exercise (\d+)\.\d+\b", text, re.M)
        if chapter_of[p] is not None and int(m[1]) != chapter_of[p]
    ]
    assert not stray, stray


def test_pdf_links_every_chapter_to_the_web_book(pages):
    raw, _ = pages
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    owner, repo = config["repository"]["url"].rstrip("/").split("/")[-2:]
    site = f"https://{owner.lower()}.github.io/{repo}/"
    text = re.sub(r"\s+", "", "".join(raw))  # a long address breaks across lines
    missing = [p for p in toc_pages() if f"{site}{p}.html" not in text]
    assert not missing, f"no printed link to the live page of {missing}"
    for page in web_numbers():
        plays = markdown_of(source_of(page)).count("## Play with it")
        assert text.count(f"{site}{page}.html") >= 1 + plays, (page, plays)
