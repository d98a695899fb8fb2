"""A class on a real JupyterHub, end to end: the hub of deploy/jupyterhub_config.py on 127.0.0.1.

One scenario (the ``class_run`` fixture) runs a class through the hub, as browsers would drive
it: through the hub's REST API, the servers' contents API, nbgitpuller's pull stream and the
kernels' websockets (deploy/localhub.py). The hub runs deploy/jupyterhub_config_trial.py: the
dummy authenticator, and SimpleLocalProcessSpawner, which runs every user as the Unix user of
the test (root in CI: the servers get --allow-root), each in a home folder of their own under a
temporary folder. A teacher (a hub admin) and three students, on free ports:

1. every server starts;
2. each user follows an nbgitpuller link to a local bare clone of this repository (its HEAD);
3. each student runs chapter 2 in their kernel; bob restarts his kernel half way through and
   runs it again from the top; no cell may print an error or anything on stderr;
4. the teacher builds the assignments from the pulled repository (coursework/course.py) and
   releases a1 through nbgrader's exchange, the folder the hub's configuration names;
5. the students fetch a1; alice pastes in the reference solution, bob a wrong one (the kernel
   flipped: a true convolution), carol leaves it untouched; alice first submits the untouched
   notebook, then fills it in, restarts her kernel while running it, and submits again;
6. the teacher collects, autogrades, generates and releases the feedback; the students fetch it.

The tests below then check each point: alice 3 of 3 points, bob and carol 0; the exchange
keeps both of alice's submissions and the teacher grades the later one, with its timestamp;
carol, whose notebook raises, gets a feedback page that shows her error; and once the hub is
stopped no process it started is left (the fixture stops it in a ``finally``, so this holds
when a step fails too).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))

from localhub import LocalHub, processes_marked  # noqa: E402

pytestmark = pytest.mark.hub

AID = "a1_conv_forward"
CHAPTER = "cnn6/book/02_convolution.ipynb"
STUDENTS = ("alice", "bob", "carol")
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"
POINTS = 3  # a1: public check 1 point, hidden checks 2


def missing_tools() -> list[str]:
    """What `make hub-env vendor` installs and this test needs, when absent."""
    bindir = Path(sys.executable).parent
    proxy = ROOT / "node_modules/.bin/configurable-http-proxy"
    needed = [bindir / "jupyterhub", bindir / "nbgrader", proxy]
    return [str(path) for path in needed if not path.exists()]


def solution_body() -> str:
    """The reference solution of a1: its instructor notebook's code between the markers."""
    source = json.loads((ROOT / "coursework/source" / AID / f"{AID}.ipynb").read_text())
    for cell in source["cells"]:
        text = "".join(cell["source"])
        if "### BEGIN SOLUTION" in text:
            body = text.split("### BEGIN SOLUTION\n")[1].split("    ### END SOLUTION")[0]
            return body.rstrip("\n")
    raise AssertionError(f"{AID}: no solution cell in the instructor notebook")


def fill_in(notebook: dict, body: str) -> dict:
    """The student notebook with its one stub replaced by ``body``."""
    cells = [c for c in notebook["cells"] if STUB in "".join(c["source"])]
    assert len(cells) == 1, "expected one solution stub in the student notebook"
    cells[0]["source"] = "".join(cells[0]["source"]).replace(STUB, body)
    return notebook


# The teacher works in a notebook of their own: the assignments are built with the project's
# coursework/course.py from the pulled repository, then nbgrader's Python API (the one its
# commands and its Formgrader call) acts in the course directory, course/autograder, with the
# configuration every nbgrader command would read there (the hub's exchange included).
TEACHER_DESK = """
import json, os, sys
from pathlib import Path
sys.path.insert(0, os.path.expanduser("~/cnn6/coursework"))
import course
course.build(Path.home() / "course")
os.chdir(Path.home() / "course" / "autograder")
from nbgrader.apps import NbGraderAPI
from nbgrader.apps.baseapp import NbGrader
_app = NbGrader()
_app.load_config_file()
api = NbGraderAPI(config=_app.config)

def step(result):
    print(result.get("log", ""))
    if not result["success"]:
        raise RuntimeError(result.get("error") or result.get("log"))
"""


def teacher_does(desk, code: str) -> str:
    """Run ``code`` in the teacher's kernel; what it printed (the cell must not raise; nbgrader
    logs to stderr, which is allowed here)."""
    result = desk.execute(code)
    errors = [e for e in result.errors if not e.startswith("stderr: ")]
    assert not errors, f"{code}: {errors}\n{result.text}"
    return result.text


def assignments(user, action: str) -> dict | list:
    """Click an action of the Assignments tab (nbgrader's assignment list) for a1: fetch,
    submit or fetch_feedback; the answer of the server."""
    answer = user.request(
        "POST", f"assignments/{action}", data={"course_id": "cnn6", "assignment_id": AID}
    ).json()
    assert not (isinstance(answer, dict) and answer.get("success") is False), answer
    return answer


def run_chapter(user, restart_at: int | None, record: dict) -> None:
    """Run chapter 2 top to bottom in a new kernel of ``user``; with ``restart_at``, run that
    many cells, restart the kernel, and start again from the top."""
    try:
        notebook = user.read(CHAPTER)
        kernel = user.kernel(CHAPTER)
        if restart_at is not None:
            record["before_restart"] = kernel.run_notebook(notebook, stop=restart_at)
            kernel.restart()
        record["results"] = kernel.run_notebook(notebook)
        record["code_cells"] = sum(c["cell_type"] == "code" for c in notebook["cells"])
        kernel.close()
    except Exception as exc:  # reported by the test that reads the record
        record["exception"] = exc


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    missing = missing_tools()
    if missing:
        pytest.fail(f"the hub test needs `make hub-env vendor` first; missing: {missing}")
    tmp = tmp_path_factory.mktemp("hub")
    origin = tmp / "cnn6.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    subprocess.run(
        ["git", "-C", str(ROOT), "push", "-q", str(origin), "HEAD:refs/heads/main"], check=True
    )
    run: dict = {"started": time.monotonic(), "steps": {}}
    hub = LocalHub(tmp / "class")
    try:
        hub.start()
        run["steps"]["hub starts"] = time.monotonic()
        run["marker"] = hub.marker
        run["exchange"] = hub.exchange
        teacher = hub.add_user("teacher")
        students = {name: hub.add_user(name) for name in STUDENTS}
        everyone = [teacher, *students.values()]
        run["server_seconds"] = hub.start_servers(everyone, timeout=300)
        run["servers"] = {
            u.name: hub.api("GET", f"users/{u.name}")["servers"][""]["ready"] for u in everyone
        }
        run["steps"]["servers start"] = time.monotonic()

        # 2. the nbgitpuller link, followed by everyone
        run["pulls"] = {u.name: u.git_pull(str(origin), "main", "cnn6") for u in everyone}
        run["steps"]["nbgitpuller"] = time.monotonic()

        # 3. chapter 2 in every student's kernel at once (bob restarts half way), while the
        # teacher builds the assignments and releases a1 through the exchange (4.)
        chapter = {name: {} for name in STUDENTS}
        threads = [
            threading.Thread(
                target=run_chapter,
                args=(user, 8 if name == "bob" else None, chapter[name]),
            )
            for name, user in students.items()
        ]
        for thread in threads:
            thread.start()
        desk = teacher.kernel("teacher.ipynb")
        teacher_does(desk, TEACHER_DESK)
        run["steps"]["teacher builds the assignments"] = time.monotonic()
        run["release"] = teacher_does(desk, f"step(api.release_assignment({AID!r}))")
        run["outbound"] = (hub.exchange / "cnn6" / "outbound" / AID / f"{AID}.ipynb").is_file()
        run["steps"]["teacher releases a1"] = time.monotonic()
        for thread in threads:
            thread.join()
        run["chapter"] = chapter
        run["steps"]["students run chapter 2"] = time.monotonic()

        # 5. fetch, fill in, submit
        right = solution_body()
        first = "    kh, kw = kernel.shape"
        wrong = right.replace(first, "    kernel = kernel[::-1, ::-1]\n" + first)
        assert wrong != right, "the wrong solution must differ from the reference"
        path = f"{AID}/{AID}.ipynb"
        for name, user in students.items():
            assignments(user, "fetch")
            if name == "alice":  # hands in the untouched notebook first, by mistake
                assignments(user, "submit")
                time.sleep(1.1)  # two submissions a second apart: their timestamps plainly differ
                user.save(path, fill_in(user.read(path), right))
                kernel = user.kernel(path)
                kernel.run_notebook(user.read(path), stop=4)
                kernel.restart()
                kernel.close()
                run["alice_saved"] = user.read(path)
            elif name == "bob":
                user.save(path, fill_in(user.read(path), wrong))
            assignments(user, "submit")
        run["steps"]["students fetch, fill in and submit"] = time.monotonic()
        run["inbound"] = sorted(p.name for p in (hub.exchange / "cnn6" / "inbound").iterdir())

        # 6. collect, autograde, feedback
        run["collect"] = teacher_does(desk, f"step(api.collect({AID!r}))")
        run["steps"]["teacher collects"] = time.monotonic()
        for name in STUDENTS:
            teacher_does(desk, f"step(api.autograde({AID!r}, {name!r}))")
        run["steps"]["teacher autogrades"] = time.monotonic()
        teacher_does(desk, f"step(api.generate_feedback({AID!r}))")
        teacher_does(desk, f"step(api.release_feedback({AID!r}))")
        run["steps"]["teacher generates and releases the feedback"] = time.monotonic()
        run["grades"] = json.loads(
            teacher_does(desk, f"print(json.dumps(api.get_submissions({AID!r})))")
        )
        run["timestamp"] = (
            teacher.home / "course/autograder/submitted/alice" / AID / "timestamp.txt"
        ).read_text()
        desk.close()
        run["feedback"] = {}
        for name, user in students.items():
            assignments(user, "fetch_feedback")
            pages = sorted((user.home / AID / "feedback").glob(f"*/{AID}.html"))
            run["feedback"][name] = [page.read_text() for page in pages]
        run["steps"]["students fetch their feedback"] = time.monotonic()
        run["processes_while_running"] = len(hub.processes())
    finally:
        stopping = time.monotonic()
        run["killed"] = hub.stop()
        stopping = time.monotonic() - stopping
        run["left"] = processes_marked(hub.marker)
        run["seconds"] = time.monotonic() - run["started"]
        run["log"] = hub.log()
        shutil.rmtree(tmp, ignore_errors=True)
    last = run["started"]
    for step, when in run["steps"].items():
        print(f"  {when - last:5.1f} s  {step}")
        last = when
    print(f"hub test: the whole class in {run['seconds']:.1f} s (hub stopped in {stopping:.1f} s)")
    return run


def test_every_server_starts(class_run):
    assert class_run["servers"] == dict.fromkeys(["teacher", *STUDENTS], True)


def test_nbgitpuller_pulls_the_book(class_run):
    for name, events in class_run["pulls"].items():
        assert events[-1] == {"phase": "finished"}, (name, events)


@pytest.mark.parametrize("name", STUDENTS)
def test_chapter_2_runs_in_the_students_kernel_without_error(class_run, name):
    record = class_run["chapter"][name]
    assert "exception" not in record, record.get("exception")
    assert len(record["results"]) == record["code_cells"] > 0
    errors = {r.index: r.errors for r in record["results"] if r.errors}
    assert not errors, errors


def test_a_kernel_restarted_mid_chapter_runs_the_chapter_again(class_run):
    record = class_run["chapter"]["bob"]
    assert record["before_restart"] and not any(r.errors for r in record["before_restart"])
    assert len(record["results"]) == record["code_cells"]


def test_the_teacher_releases_a1_through_the_named_exchange(class_run):
    assert f"Released as: cnn6 {AID}" in class_run["release"]
    assert class_run["outbound"]


def test_scores_as_intended(class_run):
    rows = class_run["grades"]
    scores = {row["student"]: row["score"] for row in rows}
    maxima = {row["student"]: row["max_score"] for row in rows}
    assert scores == {"alice": POINTS, "bob": 0.0, "carol": 0.0}, rows
    assert set(maxima.values()) == {POINTS}


def test_a_second_submission_is_kept_and_graded_with_its_timestamp(class_run):
    alice = [name for name in class_run["inbound"] if name.startswith(f"alice+{AID}+")]
    assert len(alice) == 2, class_run["inbound"]
    latest = max(name.split("+")[2] for name in alice)
    assert class_run["timestamp"].strip() == latest
    assert "alice" in class_run["collect"]


def test_a_restart_loses_no_saved_work(class_run):
    saved = "".join("".join(c["source"]) for c in class_run["alice_saved"]["cells"])
    assert solution_body() in saved and STUB not in saved


def test_every_student_gets_feedback_even_when_the_notebook_raises(class_run):
    pages = class_run["feedback"]
    assert all(len(pages[name]) == 1 for name in STUDENTS), {k: len(v) for k, v in pages.items()}
    # every page quotes the stub's NotImplementedError in its instructions; carol's shows her
    # error besides; bob's carries the check's hint; alice's, the checks passing
    quoted = pages["alice"][0].count("NotImplementedError")
    assert pages["carol"][0].count("NotImplementedError") > quoted
    assert "Hint" in pages["bob"][0]
    assert "checks passed" in pages["alice"][0] and "checks passed" not in pages["carol"][0]


def test_no_process_of_the_hub_is_left(class_run):
    assert class_run["processes_while_running"] >= 2 + 4  # hub, proxy and four servers
    assert class_run["left"] == [], class_run["left"]
