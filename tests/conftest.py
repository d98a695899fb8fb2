"""Fixtures shared by the test modules: the book, built once per test run (``built_book``).

The helpers the engine tests share (finite differences, the relative error, the naive
reference network, safe cases) live in ``helpers.py``: the modules import them with
``from helpers import ...``, as pytest advises (a conftest is for fixtures and hooks).
"""

import fcntl
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import COPY_PATTERNS

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- the built book
# Built once per test run and shared by every test that needs it (book build, browser, PDF),
# across pytest-xdist workers too: the first worker to ask builds, under a lock, the others
# read what it left. Marked tests only (``book``), so `make check` never builds.


@dataclass(frozen=True)
class BuiltBook:
    """A copy of the repository (``source``) and its HTML build (``html``), made by
    ``jupyter-book build -W -n --keep-going``, with that command's return code and output."""

    source: Path
    html: Path
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def built_book(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> BuiltBook:
    """The book built from a copy of the repository, so that no test reads a stale
    ``_build`` or races ``make book``; once per run, whatever the number of workers."""
    base = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # the workers of one run share their parent folder
        base = base.parent
    shared = base / "built_book"
    shared.mkdir(exist_ok=True)
    record = shared / "build.json"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not record.is_file():
            record.write_text(json.dumps(_build_book(shared / "cnn6")), encoding="utf-8")
    done = json.loads(record.read_text(encoding="utf-8"))
    source = shared / "cnn6"
    return BuiltBook(source=source, html=source / "_build" / "html", **done)


def _build_book(source: Path) -> dict:
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    if not jupyter_book.is_file():
        pytest.fail(f"jupyter-book is not installed beside {sys.executable}")
    if not (ROOT / "_vendor" / ".installed").is_file():
        pytest.fail("_vendor is missing: run `make vendor` (the book's browser assets, from npm)")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*COPY_PATTERNS))
    result = subprocess.run(
        [str(jupyter_book), "build", str(source), "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    return {"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}


# --------------------------------------------------------------------------- the order of a run
# `make test` runs these tests and the notebooks (nbval) in one pytest run on two workers, a
# whole file to a worker (`--dist loadfile --no-loadscope-reorder`), in the order below: the
# files that start a server, a browser, a TeX or nbgrader run first, the notebooks next, the
# quick files last, so that the quick ones fill the gaps while the last slow one finishes.
SLOW_FIRST = ("hub", "browser", "pdf", "coursework", "book", "bench")


def _rank(item) -> int:
    if item.path.suffix == ".ipynb":
        return len(SLOW_FIRST)
    marks = {mark.name for mark in item.iter_markers()}
    return min((k for k, name in enumerate(SLOW_FIRST) if name in marks), default=99)


def pytest_collection_modifyitems(config, items):
    # a file ranks as its slowest test; sorted() is stable, so files of one rank, and the
    # tests of each file, keep the collection's order
    rank = {}
    for item in items:
        rank[item.path] = min(rank.get(item.path, 99), _rank(item))
    items[:] = sorted(items, key=lambda item: rank[item.path])
