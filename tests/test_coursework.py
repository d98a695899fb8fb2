"""The coursework: the feedback checks, the instructor notebooks, and the nbgrader round trip.

- the reference solutions (the instructor notebooks' code) pass every public and hidden check;
- a stub that raises NotImplementedError fails every check with "not implemented yet";
- each typical wrong solution (tests/wrong_solutions.py) fails with its intended hint;
- with nbgrader installed (``make test`` installs requirements-coursework.txt first): the
  student notebooks generated as ``make assignments`` does hold stubs and no solution, fail
  every check, score 0, and score full marks once the reference solutions are pasted in.
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from wrong_solutions import WRONG, _conv_ref

from cnn6 import feedback
from cnn6.feedback import a1_conv_forward

# Slow (nbgrader generates and grades every assignment): `make check` leaves it out.
pytestmark = pytest.mark.coursework

ROOT = Path(__file__).resolve().parents[1]
COURSEWORK = ROOT / "coursework"
SOURCE = COURSEWORK / "source"
ASSIGNMENTS = sorted(p.name for p in SOURCE.iterdir() if (p / f"{p.name}.ipynb").is_file())

# assignment -> (check function, name of the function the student writes)
TASKS = {
    "a1_conv_forward": ("check_conv2d_forward", "conv2d_forward"),
    "a2_maxpool_forward": ("check_maxpool2d_forward", "maxpool2d_forward"),
    "a3_maxpool_backward": ("check_maxpool2d_backward", "maxpool2d_backward"),
    "a4_relu_backward": ("check_relu_backward", "relu_backward"),
    "a5_conv_kernel_grad": ("check_conv2d_kernel_grad", "conv2d_kernel_grad"),
    "a6_training_step": ("check_training_step", "training_step"),
}
CHECK_NAMES = sorted({check for check, _ in TASKS.values()})


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def run_cells(nb, namespace: dict, *, skip_errors: bool = False) -> dict:
    """Execute a notebook's code cells in ``namespace``, in-process (no kernel: fast).

    Returns {grade_id of a grade cell: the exception it raised, or None}. Other cells that
    raise are skipped when ``skip_errors`` (a student notebook's "try it" cells use the stub).
    """
    verdicts = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = nbgrader_meta(cell)
        try:
            exec(compile(cell.source, f"<cell {meta.get('grade_id')}>", "exec"), namespace)
            error = None
        except Exception as exc:  # collected, judged by the caller
            error = exc
            if not (skip_errors or meta.get("grade")):
                raise
        if meta.get("grade"):
            verdicts[meta["grade_id"]] = error
    return verdicts


@pytest.fixture(scope="module")
def references() -> dict:
    """The instructor notebooks run top to bottom; returns each one's namespace."""
    spaces = {}
    for aid in ASSIGNMENTS:
        nb = nbformat.read(SOURCE / aid / f"{aid}.ipynb", as_version=4)
        namespace: dict = {}
        verdicts = run_cells(nb, namespace)
        failed = {gid: err for gid, err in verdicts.items() if err is not None}
        assert not failed, f"{aid}: the instructor notebook fails its own checks: {failed}"
        assert len(verdicts) >= 2, f"{aid}: expected a public and hidden check cells"
        spaces[aid] = namespace
    return spaces


# --------------------------------------------------------------------------- the notebooks
def test_every_task_has_an_instructor_notebook():
    assert ASSIGNMENTS == sorted(TASKS), ASSIGNMENTS


@pytest.mark.parametrize("aid", sorted(TASKS))
def test_instructor_notebook_structure(aid):
    """A link to the book, one solution cell, a public check cell, then hidden ones: one per
    part of the hidden cases, each scored on its own, none re-running the public cases."""
    nb = nbformat.read(SOURCE / aid / f"{aid}.ipynb", as_version=4)
    check, func = TASKS[aid]
    intro = nb.cells[0].source
    assert intro.startswith("# Assignment") and "/book/" in intro
    solutions = [c for c in nb.cells if nbgrader_meta(c).get("solution")]
    assert len(solutions) == 1 and f"def {func}(" in solutions[0].source
    assert "### BEGIN SOLUTION" in solutions[0].source and '"""' in solutions[0].source
    graded = [c for c in nb.cells if nbgrader_meta(c).get("grade")]
    assert [c.source.strip() for c in graded][0] == f"{check}({func})"
    parts = getattr(feedback, check).__module__
    task = importlib.import_module(parts).TASK
    assert len(graded) == 1 + len(task.parts)
    for cell, part in zip(graded[1:], task.parts, strict=True):
        assert "### BEGIN HIDDEN TESTS" in cell.source and "hidden=True" in cell.source
        assert f'part="{part}"' in cell.source
    assert all(nbgrader_meta(c).get("points", 0) > 0 for c in graded)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


# --------------------------------------------------------------------------- (a) references
@pytest.mark.parametrize("aid", sorted(TASKS))
@pytest.mark.parametrize("seed", [None, 0, 1, 12345])
def test_reference_passes_public_and_hidden(references, aid, seed, capsys):
    check, func = TASKS[aid]
    getattr(feedback, check)(references[aid][func], hidden=True, seed=seed)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith(f"{func}: all ") and line.endswith("hidden checks passed.")


@pytest.mark.parametrize("aid", sorted(TASKS))
def test_public_check_prints_one_line(references, aid, capsys):
    check, func = TASKS[aid]
    getattr(feedback, check)(references[aid][func])
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "public checks passed." in out and "hidden" not in out


# --------------------------------------------------------------------------- (b) stubs
@pytest.mark.parametrize("check", CHECK_NAMES)
@pytest.mark.parametrize("hidden", [False, True])
def test_stub_fails_with_not_implemented(check, hidden):
    def stub(*args):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="is not implemented yet"):
        getattr(feedback, check)(stub, hidden=hidden)


# --------------------------------------------------------------------------- (c) wrong solutions
@pytest.mark.parametrize("check, wrong, hint", [w[1:] for w in WRONG], ids=[w[0] for w in WRONG])
def test_wrong_solution_gets_its_hint(check, wrong, hint):
    expected = feedback.HINTS[hint].split("{")[0] if hint in feedback.HINTS else hint
    with pytest.raises(AssertionError) as failure:
        getattr(feedback, check)(wrong, hidden=True)
    assert expected in str(failure.value), str(failure.value)


def test_wrong_solutions_cover_every_check():
    assert {w[1] for w in WRONG} == set(CHECK_NAMES)


def test_failure_message_names_case_entry_and_values():
    def off(x, kernel, bias=0.0, stride=1):
        z = _conv_ref(x, kernel, bias, stride)
        z[..., 1, 2] += 0.5
        return z

    with pytest.raises(AssertionError) as failure:
        feedback.check_conv2d_forward(off)
    text = str(failure.value)
    assert "the case 'the running example: x, K and b_c of the book' fails" in text
    assert "z[1, 2] differs: expected 0.5540, got 1.0540 (1 of 16 entries differ)." in text
    assert "expected" in text and "Hint:" in text


def test_hidden_cases_are_marked_hidden():
    def one_image_only(x, kernel, bias=0.0, stride=1):
        height, width = x.shape
        return _conv_ref(x, kernel, bias, stride)

    feedback.check_conv2d_forward(one_image_only)  # the public cases hold no batch
    with pytest.raises(AssertionError, match="the hidden case 'a batch of 3 images' fails"):
        feedback.check_conv2d_forward(one_image_only, hidden=True)


def test_student_exception_is_reported_and_chained():
    def broken(dout, z):
        return dout * (z > 0) + undefined_name  # noqa: F821

    with pytest.raises(AssertionError, match="raised NameError") as failure:
        feedback.check_relu_backward(broken)
    assert isinstance(failure.value.__cause__, NameError)


def test_training_step_may_use_layer_functions(references):
    """The reference step calls cnn6.forward and cnn6.maxpool2d_backward: both allowed."""
    feedback.check_training_step(references["a6_training_step"]["training_step"], hidden=True)


def test_hidden_cases_depend_on_seed():
    public_a, hidden_a = a1_conv_forward.cases(True, 1)
    _, hidden_b = a1_conv_forward.cases(True, 2)
    assert any(
        not np.array_equal(a.args[0], b.args[0]) for a, b in zip(hidden_a, hidden_b, strict=True)
    )
    public_b, _ = a1_conv_forward.cases(True, 2)
    assert all(
        np.array_equal(a.args[0], b.args[0]) for a, b in zip(public_a, public_b, strict=True)
    )


# --------------------------------------------------------------------------- arguments
@pytest.mark.parametrize("check", CHECK_NAMES)
def test_non_callable_is_a_type_error_naming_the_argument(check):
    with pytest.raises(TypeError, match="^student_fn: expected a function"):
        getattr(feedback, check)(np.zeros(3))


@pytest.mark.parametrize(
    "hidden, seed, error, match",
    [
        ("yes", None, TypeError, "^hidden: expected True or False"),
        (1, None, TypeError, "^hidden:"),
        (True, 1.5, TypeError, "^seed: expected an integer"),
        (True, True, TypeError, "^seed:"),
        (True, -1, ValueError, "^seed: expected an integer >= 0"),
    ],
)
def test_options_are_validated(hidden, seed, error, match):
    with pytest.raises(error, match=match):
        feedback.check_relu_backward(lambda dout, z: dout * (z > 0), hidden=hidden, seed=seed)


def test_core_does_not_import_the_feedback():
    """The numerical core stays importable with numpy alone: importing cnn6 and running a
    forward and backward pass loads neither the feedback nor matplotlib."""
    code = (
        "import sys, cnn6; x, y, p = cnn6.running_example(); "
        "cnn6.backward(p, cnn6.forward(p, x, y), y); "
        "print('cnn6.feedback' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --------------------------------------------------------------------------- (d) nbgrader
def _need_nbgrader():
    if importlib.util.find_spec("nbgrader") is None:
        pytest.fail("nbgrader is missing: `make test` installs requirements-coursework.txt")


def _course_module():
    spec = importlib.util.spec_from_file_location("cnn6_course", COURSEWORK / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _strip_markers(source: str) -> str:
    return "\n".join(
        line
        for line in source.splitlines()
        if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``make assignments`` into a temporary folder, then two students graded: one who pasted
    the reference solutions into the student notebooks (graded in-process), one who handed
    them in untouched (graded at the same time by the command line, on a copy of the course)."""
    _need_nbgrader()
    course = _course_module()
    base = tmp_path_factory.mktemp("coursework")
    out = base / "dist"
    notebooks = course.build(out)
    for aid, path in notebooks.items():
        source = nbformat.read(SOURCE / aid / f"{aid}.ipynb", as_version=4)
        solution = {
            nbgrader_meta(c)["grade_id"]: _strip_markers(c.source)
            for c in source.cells
            if nbgrader_meta(c).get("solution")
        }
        student = nbformat.read(path, as_version=4)
        (base / "untouched" / "untouched").mkdir(parents=True, exist_ok=True)
        nbformat.write(student, base / "untouched" / "untouched" / f"{aid}.ipynb")
        for cell in student.cells:
            if nbgrader_meta(cell).get("grade_id") in solution:
                cell.source = solution[nbgrader_meta(cell)["grade_id"]]
        (base / "pasted" / "pasted").mkdir(parents=True, exist_ok=True)
        nbformat.write(student, base / "pasted" / "pasted" / f"{aid}.ipynb")
    copy = base / "autograder_copy"
    shutil.copytree(out / "autograder", copy)
    command = [
        sys.executable,
        str(COURSEWORK / "course.py"),
        "grade",
        str(base / "untouched"),
        "--course",
        str(copy),
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as other:
        rows = course.grade(base / "pasted", out / "autograder")
        log = other.communicate(timeout=300)[0]
    assert other.returncode == 0, log
    with open(copy / "scores.csv", newline="") as handle:
        rows += [
            dict(row, score=float(row["score"]), max_score=float(row["max_score"]))
            for row in csv.DictReader(handle)
        ]
    return {"out": out, "copy": copy, "notebooks": notebooks, "rows": rows, "log": log}


def test_build_writes_student_and_autograder_files(built):
    out = built["out"]
    assert sorted(built["notebooks"]) == ASSIGNMENTS
    assert sorted(p.name for p in (out / "student").iterdir()) == sorted(
        [f"{a}.ipynb" for a in ASSIGNMENTS] + ["README.md", "requirements.txt"]
    )
    autograder = out / "autograder"
    for name in ("nbgrader_config.py", "gradebook.db", "source", "release", "scores.csv"):
        assert (autograder / name).exists(), name


def test_student_tree_is_publishable(built):
    """dist/student/ can be published as it is: no solution, no hidden check, no seed, and
    links that lead to the built book, not into the repository that holds the solutions."""
    files = sorted((built["out"] / "student").rglob("*"))
    assert all(p.is_file() for p in files)
    for path in files:
        text = path.read_text()
        for secret in ("BEGIN SOLUTION", "HIDDEN TESTS", "seed=", "hidden=True", "/blob/"):
            assert secret not in text, (path.name, secret)
    for aid in ASSIGNMENTS:
        intro = nbformat.read(built["notebooks"][aid], as_version=4).cells[0].source
        assert "(https://cnn6-book.github.io/cnn6/book/" in intro, intro


@pytest.mark.parametrize("aid", sorted(TASKS))
def test_student_notebook_has_stubs_and_no_solution(built, aid):
    student = nbformat.read(built["notebooks"][aid], as_version=4)
    source = nbformat.read(SOURCE / aid / f"{aid}.ipynb", as_version=4)
    text = "\n".join(c.source for c in student.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "hidden=True" not in text
    assert all(
        not c.get("outputs") and c.get("execution_count") is None
        for c in student.cells
        if c.cell_type == "code"
    )
    (solution,) = [c for c in student.cells if nbgrader_meta(c).get("solution")]
    assert solution.source.rstrip().endswith("raise NotImplementedError()")
    (reference,) = [c for c in source.cells if nbgrader_meta(c).get("solution")]
    body = reference.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
    code = {
        line.strip()
        for c in student.cells
        if c.cell_type == "code"
        for line in c.source.splitlines()
    }
    solution_lines = [line.strip() for line in body.splitlines() if len(line.strip()) > 12]
    assert solution_lines and not code.intersection(solution_lines)


@pytest.mark.parametrize("aid", sorted(TASKS))
def test_student_notebook_fails_every_check(built, aid):
    student = nbformat.read(built["notebooks"][aid], as_version=4)
    verdicts = run_cells(student, {}, skip_errors=True)
    assert verdicts, "no check cell"
    public = [err for gid, err in verdicts.items() if gid.startswith("check_")]
    assert len(public) == 1 and isinstance(public[0], AssertionError)
    assert "is not implemented yet" in str(public[0])


def test_pasted_reference_scores_full_marks(built):
    rows = [r for r in built["rows"] if r["student"] == "pasted"]
    assert sorted(r["assignment"] for r in rows) == ASSIGNMENTS
    for row in rows:
        assert row["max_score"] > 0 and row["score"] == row["max_score"], row


def test_untouched_student_notebook_scores_zero(built):
    rows = [r for r in built["rows"] if r["student"] == "untouched"]
    assert sorted(r["assignment"] for r in rows) == ASSIGNMENTS
    for row in rows:
        assert row["score"] == 0, row


def test_scores_csv_and_command_line_output(built):
    lines = (built["out"] / "autograder" / "scores.csv").read_text().splitlines()
    assert lines[0] == "student,assignment,score,max_score"
    assert len(lines) == 1 + len(ASSIGNMENTS)
    assert "untouched        a1_conv_forward        0 / 3" in built["log"]
    assert f"scores: {built['copy'] / 'scores.csv'}" in built["log"]


def test_text_feedback_does_not_load_matplotlib():
    """A check's text needs numpy alone: a failing check loads no plotting library."""
    code = (
        "import sys; from cnn6 import feedback\n"
        "try:\n"
        "    feedback.check_relu_backward(lambda dout, z: dout)\n"
        "except AssertionError as failure:\n"
        "    print('Hint:' in str(failure), 'matplotlib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


# --------------------------------------------------------------------------- partial credit
@pytest.mark.parametrize("aid", sorted(TASKS))
def test_parts_split_the_hidden_cases(aid):
    """Every hidden case belongs to one part of the task, and every part has cases."""
    module = importlib.import_module(getattr(feedback, TASKS[aid][0]).__module__)
    public, hidden = module.cases(True, 1)
    assert {c.part for c in hidden} == set(module.TASK.parts)
    assert not any(c.hidden for c in public) and all(c.hidden for c in hidden)


def test_a_part_runs_its_hidden_cases_only(references, capsys):
    """The graded cell of one part does not re-run the public cases: a3 written for one image
    fails the public batch case and the "batch" part, and passes the other parts."""
    wrong = dict((w[0], w[2]) for w in WRONG)["route-one-image-only"]
    with pytest.raises(AssertionError, match="a batch of 2 images"):
        feedback.check_maxpool2d_backward(wrong)
    with pytest.raises(AssertionError, match="the hidden case 'a batch"):
        feedback.check_maxpool2d_backward(wrong, hidden=True, part="batch")
    for part in ("single", "overlap"):
        feedback.check_maxpool2d_backward(wrong, hidden=True, part=part)
    out = capsys.readouterr().out
    assert "maxpool2d_backward: all 2 hidden checks of part 'overlap' passed." in out


@pytest.mark.parametrize("wrong_id", ["step-gate-at-zero", "step-route-last-on-tie"])
def test_a6_hidden_cases_catch_what_the_public_ones_cannot(wrong_id):
    """Mistakes the public cases cannot see (z1 never exactly 0, no tied maxima there) fail
    the "conv" part, and only it: the dense layer's part still passes."""
    wrong = dict((w[0], w[2]) for w in WRONG)[wrong_id]
    feedback.check_training_step(wrong)
    feedback.check_training_step(wrong, hidden=True, part="dense")
    with pytest.raises(AssertionError, match="the hidden case"):
        feedback.check_training_step(wrong, hidden=True, part="conv")


@pytest.mark.parametrize(
    "hidden, part, match",
    [
        (True, "batches", "^part: expected None or one of 'single', 'batch', 'overlap'"),
        (False, "batch", "^part: 'batch' names hidden cases; pass hidden=True"),
    ],
)
def test_part_is_validated(hidden, part, match):
    with pytest.raises(ValueError, match=match):
        feedback.check_maxpool2d_backward(lambda d, a, s, t: a, hidden=hidden, part=part)
