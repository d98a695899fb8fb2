"""Build and grade the cnn6 coursework with nbgrader (an optional extra: the book never needs it).

    python coursework/course.py build [--out dist]
        <out>/autograder/  an nbgrader course directory: nbgrader_config.py, source/ (the
                           instructor notebooks), release/ and gradebook.db (generated)
        <out>/student/     what students get, a tree to publish on its own: one notebook per
                           assignment (every solution replaced by a stub that raises
                           NotImplementedError, hidden checks removed, outputs cleared), a
                           README.md and a requirements.txt
    python coursework/course.py grade SUBMISSIONS [--course dist/autograder] [--feedback]
        SUBMISSIONS/<student>/<assignment>.ipynb (or nbgrader's own
        SUBMISSIONS/<student>/<assignment>/<assignment>.ipynb): each notebook is run top to
        bottom in a fresh kernel with the hidden checks put back, and scored; <course>/scores.csv
        then holds every score of the gradebook (this run's and earlier ones'). --feedback also
        writes one HTML page per notebook under <course>/feedback/<student>/<assignment>/, with
        every check's message. Lines starting WARNING: a deleted cell put back, a misnamed
        notebook matched (case, " (1)" or "-Copy1" suffixes) or another one not graded, and
        nbgrader's own warnings (an edited locked cell). Run it again to regrade.

`make assignments` runs the first command, `make grade SUBMISSIONS=folder` the second. The same
steps by hand, inside <out>/autograder: `nbgrader generate_assignment a1_conv_forward`,
`nbgrader autograde a1_conv_forward`, `nbgrader generate_feedback a1_conv_forward`,
`nbgrader export` (see the book's instructor guide); `nbgrader autograde` skips a student graded
before unless given `--force`.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source"
CONFIG = HERE / "nbgrader_config.py"
# What the student tree asks to install: the engine, which is public (the book shows it).
STUDENT_REQUIREMENTS = "cnn6 @ git+https://github.com/cnn6-book/cnn6\n"


def assignments(source: Path = SOURCE) -> list[str]:
    """The assignment ids: the folders of ``source`` that hold a notebook of the same name."""
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())


def _api(course: Path):
    """An nbgrader API object for the course directory ``course`` and its nbgrader_config.py."""
    # nbgrader starts kernels by name; make sure this environment's Jupyter comes first.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def _ok(result: dict, what: str) -> None:
    if not result.get("success"):
        details = "\n".join(filter(None, (result.get("log"), result.get("error"))))
        raise RuntimeError(f"nbgrader {what} failed:\n{details}")


def build(out: Path, source: Path = SOURCE) -> dict[str, Path]:
    """Generate the student notebooks and the autograder's course directory under ``out``.

    Refreshes ``<out>/autograder`` (its source/, release/ and config; a gradebook and graded
    submissions already there are kept) and rewrites ``<out>/student``, the tree to publish to
    students (as a repository or branch of its own): the student notebooks, a README and a
    requirements.txt, and no solution, hidden check or seed. Returns the student notebooks by
    assignment id.
    """
    out = Path(out)
    course, student = out / "autograder", out / "student"
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy(CONFIG, course / "nbgrader_config.py")
    for name in ("source", "release"):
        shutil.rmtree(course / name, ignore_errors=True)
    shutil.copytree(
        source,
        course / "source",
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
    )
    shutil.rmtree(student, ignore_errors=True)
    student.mkdir(parents=True)
    api = _api(course)
    notebooks = {}
    for aid in assignments(source):
        _ok(api.generate_assignment(aid), f"generate_assignment {aid}")
        notebooks[aid] = Path(shutil.copy(course / "release" / aid / f"{aid}.ipynb", student))
    shutil.copy(HERE / "student_README.md", student / "README.md")
    (student / "requirements.txt").write_text(STUDENT_REQUIREMENTS)
    return notebooks


# " (1)", " (2)": a browser's second download; "-Copy1": Jupyter's "Duplicate"
_STRAY = re.compile(r"(\s*\(\d+\)|[-_ ]copy\d*)+$", re.IGNORECASE)


def _assignment_of(path: Path, known: list[str]) -> str | None:
    """The assignment a notebook's file name means, whatever its case and copy suffixes."""
    base = _STRAY.sub("", path.stem).strip().lower()
    return next((aid for aid in known if aid.lower() == base), None)


def _collect(submissions: Path, known: list[str]) -> list[tuple[str, str, Path]]:
    """(student, assignment, notebook) for every notebook handed in.

    A notebook is found as <student>/<assignment>.ipynb or <student>/<assignment>/<assignment>
    .ipynb; failing those, by a name that differs only in case or a copy suffix
    ("A3_maxpool_backward.ipynb", "a1_conv_forward (1).ipynb"), with a warning. Every other
    notebook in a student's folder is listed as not graded.
    """
    found = []
    for folder in sorted(p for p in Path(submissions).iterdir() if p.is_dir()):
        notebooks = sorted(
            p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
        )
        used = set()
        for aid in known:
            exact = [p for p in (folder / f"{aid}.ipynb", folder / aid / f"{aid}.ipynb")]
            exact = [p for p in exact if p.is_file()]
            renamed = [p for p in notebooks if p not in exact and _assignment_of(p, known) == aid]
            if exact:
                path = exact[0]
            elif renamed:
                path = max(renamed, key=lambda p: (p.stat().st_mtime, str(p)))
                _warn(
                    f"{folder.name}: {path.relative_to(folder)} graded as {aid} "
                    f"(the file is misnamed)"
                )
            else:
                continue
            found.append((folder.name, aid, path))
            used.update(exact + renamed)
            for other in exact[1:] + [p for p in renamed if p != path]:
                _warn(
                    f"{folder.name}: {other.relative_to(folder)} NOT GRADED: "
                    f"{path.relative_to(folder)} is graded as {aid}"
                )
        for other in notebooks:
            if other not in used:
                _warn(
                    f"{folder.name}: {other.relative_to(folder)} NOT GRADED: its name matches "
                    f"no assignment ({', '.join(known)})"
                )
    return found


def _warn(text: str) -> None:
    print(f"WARNING  {text}", flush=True)


def _restore_cells(notebook: Path, release: Path, student_id: str, aid: str) -> set[str]:
    """Put back, from the released notebook, every nbgrader cell the student deleted (nbgrader
    would score a deleted graded cell as zero, silently), each where it was, with a warning.
    Returns their grade ids."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    released = nbformat.read(release, as_version=4)

    def gid(cell):
        return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")

    have = {gid(c) for c in nb.cells} - {None}
    position = 0  # where the next restored cell goes: after the last cell known so far
    restored = set()
    for cell in released.cells:
        name = gid(cell)
        if name is None:
            continue
        if name in have:
            position = next(i for i, c in enumerate(nb.cells) if gid(c) == name) + 1
            continue
        nb.cells.insert(position, cell)
        position += 1
        restored.add(name)
        graded = " (a graded cell)" if cell.metadata["nbgrader"].get("grade") else ""
        _warn(f"{student_id} {aid}: cell {name!r}{graded} was missing; restored from the source")
    if restored:
        nbformat.write(nb, notebook)
    return restored


def _nbgrader_warnings(result: dict, student_id: str, aid: str, restored: set[str]) -> None:
    """Print the warnings nbgrader logged (a locked cell changed, a checksum...): it fixes what
    it can, but the teacher should know. (Not those about the cells just restored: the student
    copy of a hidden cell differs from the source's, by design.)"""
    for line in (result.get("log") or "").splitlines():
        if any(f"cell {name} " in line for name in restored):
            continue
        if line.startswith(("[WARNING]", "[ERROR]")):
            _warn(f"{student_id} {aid}: nbgrader says: {line.split(']', 1)[1].strip()}")


def _autograde(api, course: Path, handed_in, feedback: bool) -> None:
    for student_id, aid, path in handed_in:
        dest = course / "submitted" / student_id / aid
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        shutil.copy(path, dest / f"{aid}.ipynb")
        release = course / "release" / aid / f"{aid}.ipynb"
        restored = _restore_cells(dest / f"{aid}.ipynb", release, student_id, aid)
        result = api.autograde(aid, student_id)
        _ok(result, f"autograde {aid} for {student_id}")
        _nbgrader_warnings(result, student_id, aid, restored)
        if feedback:
            _ok(api.generate_feedback(aid, student_id), f"generate_feedback {aid} {student_id}")


def scores(course: Path) -> list[dict]:
    """Every graded submission in the course's gradebook, this run's and earlier runs'."""
    from nbgrader.api import Gradebook, MissingEntry

    api = _api(Path(course))
    rows = []
    with Gradebook(api.coursedir.db_url) as gradebook:
        for student in sorted(s.id for s in gradebook.students):
            for aid in sorted(a.name for a in gradebook.assignments):
                try:
                    submission = gradebook.find_submission(aid, student)
                except MissingEntry:
                    continue
                rows.append(
                    {
                        "student": student,
                        "assignment": aid,
                        "score": submission.score,
                        "max_score": submission.max_score,
                    }
                )
    return rows


def grade(submissions: Path, course: Path, feedback: bool = False) -> list[dict]:
    """Autograde every notebook under ``submissions``; write scores.csv from the whole gradebook
    (every student graded so far, in this run or an earlier one) and return its rows."""
    course = Path(course)
    if not (course / "nbgrader_config.py").is_file() or not (course / "source").is_dir():
        raise FileNotFoundError(
            f"{course}: not a course directory made by `make assignments` (or `course.py build`); "
            f"run that first"
        )
    known = assignments(course / "source")
    handed_in = _collect(Path(submissions), known)
    if not handed_in:
        raise FileNotFoundError(
            f"no notebooks named after an assignment ({', '.join(known)}) in the student "
            f"folders of {submissions}"
        )
    api = _api(course)
    with warnings.catch_warnings():
        # nbgrader's gradebook trips SQLAlchemy 2's autoflush warnings: harmless, and noisy
        warnings.filterwarnings("ignore", module="nbgrader")
        warnings.filterwarnings("ignore", message=".*not in session.*")
        _autograde(api, course, handed_in, feedback)
        rows = scores(course)
    with open(course / "scores.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["student", "assignment", "score", "max_score"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="generate student notebooks and the autograder")
    p_build.add_argument("--out", type=Path, default=Path("dist"))
    p_grade = sub.add_parser("grade", help="autograde handed-in notebooks")
    p_grade.add_argument("submissions", type=Path)
    p_grade.add_argument("--course", type=Path, default=Path("dist/autograder"))
    p_grade.add_argument("--feedback", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "build":
        notebooks = build(args.out)
        for aid, path in notebooks.items():
            print(f"{aid:<22} {path}")
        print(f"autograder (nbgrader course directory): {args.out / 'autograder'}")
        return 0
    rows = grade(args.submissions, args.course, args.feedback)
    for row in rows:
        score = f"{row['score']:g} / {row['max_score']:g}"
        print(f"{row['student']:<16} {row['assignment']:<22} {score}")
    print(f"scores: {args.course / 'scores.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
