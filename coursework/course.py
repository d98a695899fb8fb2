"""Build and grade the cnn6 coursework with nbgrader (an optional extra: the book never needs it).

    python coursework/course.py build [--out dist]
        <out>/autograder/  an nbgrader course directory: nbgrader_config.py, source/ (the
                           instructor notebooks), release/ and gradebook.db (generated)
        <out>/student/     one notebook per assignment, as students get it: every solution
                           replaced by a stub that raises NotImplementedError, hidden checks
                           removed, outputs cleared
    python coursework/course.py grade SUBMISSIONS [--course dist/autograder] [--feedback]
        SUBMISSIONS/<student>/<assignment>.ipynb (or nbgrader's own
        SUBMISSIONS/<student>/<assignment>/<assignment>.ipynb): each notebook is run top to
        bottom in a fresh kernel with the hidden checks put back, and scored; the scores go to
        <course>/scores.csv. --feedback also writes one HTML page per notebook under
        <course>/feedback/<student>/<assignment>/, with every check's message.

`make assignments` runs the first command, `make grade SUBMISSIONS=folder` the second. The same
steps by hand, inside <out>/autograder: `nbgrader generate_assignment a1_conv_forward`,
`nbgrader autograde a1_conv_forward`, `nbgrader generate_feedback a1_conv_forward`,
`nbgrader export` (see the book's instructor guide).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source"
CONFIG = HERE / "nbgrader_config.py"


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
        raise RuntimeError(f"nbgrader {what} failed:\n{result.get('error') or result.get('log')}")


def build(out: Path, source: Path = SOURCE) -> dict[str, Path]:
    """Generate the student notebooks and the autograder's course directory under ``out``.

    Refreshes ``<out>/autograder`` (its source/, release/ and config; a gradebook and graded
    submissions already there are kept) and rewrites ``<out>/student``. Returns the student
    notebooks by assignment id.
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
    return notebooks


def _collect(submissions: Path, known: list[str]) -> list[tuple[str, str, Path]]:
    """(student, assignment, notebook) for every notebook handed in."""
    found = []
    for folder in sorted(p for p in Path(submissions).iterdir() if p.is_dir()):
        for aid in known:
            for path in (folder / f"{aid}.ipynb", folder / aid / f"{aid}.ipynb"):
                if path.is_file():
                    found.append((folder.name, aid, path))
                    break
    return found


def _autograde(api, course: Path, handed_in, feedback: bool) -> None:
    for student_id, aid, path in handed_in:
        dest = course / "submitted" / student_id / aid
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        shutil.copy(path, dest / f"{aid}.ipynb")
        _ok(api.autograde(aid, student_id), f"autograde {aid} for {student_id}")
        if feedback:
            _ok(api.generate_feedback(aid, student_id), f"generate_feedback {aid} {student_id}")


def grade(submissions: Path, course: Path, feedback: bool = False) -> list[dict]:
    """Autograde every notebook under ``submissions``; return (and write to scores.csv) the
    scores, one row per student and assignment."""
    from nbgrader.api import Gradebook

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
    rows = []
    with Gradebook(api.coursedir.db_url) as gradebook:
        for student_id, aid, _ in handed_in:
            submission = gradebook.find_submission(aid, student_id)
            rows.append(
                {
                    "student": student_id,
                    "assignment": aid,
                    "score": submission.score,
                    "max_score": submission.max_score,
                }
            )
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
