"""`make grade` (coursework/course.py grade) warns instead of changing scores silently.

A small class graded through nbgrader itself, by the command line as a teacher runs it, twice:
a student who deleted a hidden check cell (restored, with a warning naming student and cell,
and scored in full), one whose notebook is misnamed as browsers name a second download (matched,
with a warning) beside a notebook that matches no assignment (listed as not graded), and one who
edited a locked check cell (restored by nbgrader; its warning is printed). The second run grades
another student: scores.csv then holds both runs, read from the whole gradebook.
"""

from __future__ import annotations

import csv
import subprocess
import sys

import nbformat
import pytest
from test_coursework import (
    COURSEWORK,
    SOURCE,
    _course_module,
    _need_nbgrader,
    _strip_markers,
    nbgrader_meta,
)

pytestmark = [pytest.mark.coursework, pytest.mark.filterwarnings("ignore:.*not in session.*")]

A1 = "a1_conv_forward"


def _solved(student_nb) -> nbformat.NotebookNode:
    """The student notebook of a1 with the reference solution pasted in."""
    source = nbformat.read(SOURCE / A1 / f"{A1}.ipynb", as_version=4)
    (solution,) = [c for c in source.cells if nbgrader_meta(c).get("solution")]
    nb = nbformat.read(student_nb, as_version=4)
    (cell,) = [c for c in nb.cells if nbgrader_meta(c).get("solution")]
    cell.source = _strip_markers(solution.source)
    return nb


def _grade(folder, course) -> subprocess.CompletedProcess:
    command = [sys.executable, str(COURSEWORK / "course.py"), "grade", str(folder)]
    return subprocess.run(
        [*command, "--course", str(course)], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    _need_nbgrader()
    base = tmp_path_factory.mktemp("grading")
    notebooks = _course_module().build(base / "dist")
    course = base / "dist" / "autograder"
    first = base / "first"
    for name in ("dora", "eve", "trent"):
        (first / name).mkdir(parents=True)
    deleted = _solved(notebooks[A1])
    deleted.cells = [
        c for c in deleted.cells if nbgrader_meta(c).get("grade_id") != "hidden_conv2d_forward"
    ]
    nbformat.write(deleted, first / "dora" / f"{A1}.ipynb")
    nbformat.write(_solved(notebooks[A1]), first / "eve" / "A1_conv_forward (1).ipynb")
    nbformat.write(_solved(notebooks[A1]), first / "eve" / "notes.ipynb")
    tampered = _solved(notebooks[A1])
    (check,) = [
        c for c in tampered.cells if nbgrader_meta(c).get("grade_id") == "check_conv2d_forward"
    ]
    check.source = "pass  # the check, switched off"
    nbformat.write(tampered, first / "trent" / f"{A1}.ipynb")
    second = base / "second"
    (second / "zed").mkdir(parents=True)
    nbformat.write(nbformat.read(notebooks[A1], as_version=4), second / "zed" / f"{A1}.ipynb")
    one = _grade(first, course)
    assert one.returncode == 0, one.stdout + one.stderr
    with open(course / "scores.csv", newline="") as handle:
        after_one = list(csv.DictReader(handle))
    two = _grade(second, course)
    assert two.returncode == 0, two.stdout + two.stderr
    with open(course / "scores.csv", newline="") as handle:
        after_two = list(csv.DictReader(handle))
    return {"one": one, "two": two, "after_one": after_one, "after_two": after_two}


def _score(rows, student):
    (row,) = [r for r in rows if r["student"] == student and r["assignment"] == A1]
    return float(row["score"]), float(row["max_score"])


def test_deleted_hidden_cell_is_restored_with_a_warning(runs):
    out = runs["one"].stdout
    assert (
        "WARNING  dora a1_conv_forward: cell 'hidden_conv2d_forward' (a graded cell) was "
        "missing; restored from the source" in out
    ), out
    assert _score(runs["after_one"], "dora") == (3.0, 3.0)


def test_misnamed_file_is_matched_and_others_listed(runs):
    out = runs["one"].stdout
    assert "WARNING  eve: A1_conv_forward (1).ipynb graded as a1_conv_forward" in out, out
    assert "WARNING  eve: notes.ipynb NOT GRADED: its name matches no assignment" in out, out
    assert _score(runs["after_one"], "eve") == (3.0, 3.0)


def test_tampered_cell_is_reported(runs):
    out = runs["one"].stdout
    lines = [line for line in out.splitlines() if line.startswith("WARNING  trent a1_conv_forward")]
    assert any("checksum" in line and "check_conv2d_forward" in line for line in lines), out
    assert _score(runs["after_one"], "trent") == (3.0, 3.0)  # the check restored and run


def test_scores_csv_holds_the_whole_gradebook(runs):
    students = sorted(r["student"] for r in runs["after_two"])
    assert students == ["dora", "eve", "trent", "zed"]
    assert _score(runs["after_two"], "zed") == (0.0, 3.0)
    assert _score(runs["after_two"], "dora") == (3.0, 3.0)


def test_no_kernel_transport_warning(runs):
    for run in (runs["one"], runs["two"]):
        assert "without encryption" not in run.stdout + run.stderr
