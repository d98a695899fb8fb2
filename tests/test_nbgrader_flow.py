"""The whole nbgrader flow, as a teacher runs it, in one test and a temporary course directory.

generate (``make assignments``), release to an exchange, each student fetches and submits
through it, collect, autograde, generate feedback, export the grades as CSV; all in-process
through nbgrader's own classes, offline, no Docker. The class: a student who wrote the reference
solutions, one who handed the notebooks in untouched, typical wrong solutions (two of them
partly right: an a3 right for one image only and an a6 whose convolution gradients are missing,
scored part by part), and one who hands the work to the engine. Asserted: every score, each
wrong solution's hint in its feedback page, and a zero for the shortcut.
"""

from __future__ import annotations

import csv
import html
import re

import nbformat
import pytest
from test_coursework import SOURCE, _course_module, _need_nbgrader, _strip_markers, nbgrader_meta

from cnn6.feedback import HINTS

# nbgrader's gradebook trips SQLAlchemy 2's autoflush warnings: harmless, and noisy
pytestmark = [pytest.mark.coursework, pytest.mark.filterwarnings("ignore:.*not in session.*")]

A1, A3, A6 = "a1_conv_forward", "a3_maxpool_backward", "a6_training_step"

NO_BIAS = """def conv2d_forward(x, kernel, bias=0.0, stride=1):
    kh, kw = kernel.shape
    H, W = x.shape[-2:]
    z = np.zeros(x.shape[:-2] + ((H - kh) // stride + 1, (W - kw) // stride + 1))
    for i in range(z.shape[-2]):
        for j in range(z.shape[-1]):
            window = x[..., i * stride:i * stride + kh, j * stride:j * stride + kw]
            z[..., i, j] = np.sum(window * kernel, axis=(-2, -1))
    return z
"""

ONE_IMAGE_ONLY = """def conv2d_forward(x, kernel, bias=0.0, stride=1):
    kh, kw = kernel.shape
    H, W = x.shape
    z = np.zeros(((H - kh) // stride + 1, (W - kw) // stride + 1))
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            z[i, j] = np.sum(x[i * stride:i * stride + kh, j * stride:j * stride + kw] * kernel)
    return z + bias
"""

# a3's old tip taken literally: every image of a batch receives every image's gradient
MIXED_BATCH_A3 = """def maxpool2d_backward(dout, a, size=2, stride=2):
    H, W = a.shape[-2:]
    OH, OW = dout.shape[-2:]
    da = np.zeros(a.shape)
    for image in a.reshape(-1, H, W):
        for i in range(OH):
            for j in range(OW):
                r, c = i * stride, j * stride
                window = image[r:r + size, c:c + size]
                u, v = np.unravel_index(np.argmax(window), window.shape)
                da[..., r + u, c + v] += dout[..., i, j]
    return da
"""

SHORTCUT_A1 = """import cnn6.layers as helpers

def conv2d_forward(x, kernel, bias=0.0, stride=1):
    return helpers.conv2d_forward(x, kernel, bias, stride)
"""

SHORTCUT_A6 = """def training_step(params, X, y, lr):
    trace = cnn6.forward(params, X, y)
    return cnn6.sgd_step(params, cnn6.backward(params, trace, y), lr)
"""


def _reference(aid: str) -> str:
    nb = nbformat.read(SOURCE / aid / f"{aid}.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if nbgrader_meta(c).get("solution")]
    return _strip_markers(cell.source)


def _ascent(aid: str) -> str:
    """The reference step with the original notebook's sign: params + lr * grad."""
    code = _reference(aid)
    assert code.count(" - lr * ") == 4
    return code.replace(" - lr * ", " + lr * ")


def _dense_only(aid: str) -> str:
    """The reference step with the convolution's gradients left out: K and b_c unchanged."""
    code = _reference(aid)
    for name in ("kernel", "conv_bias"):
        assert code.count(f"params.{name} - lr * d{name}") == 1
        code = code.replace(f"params.{name} - lr * d{name}", f"params.{name}")
    return code


# student -> {assignment: solution code (None: the notebook untouched)}
CLASS = {
    "alice": {A1: _reference(A1), A3: _reference(A3), A6: _reference(A6)},
    "ursula": {A1: None, A6: None},
    "carla": {A1: NO_BIAS},
    "dan": {A1: ONE_IMAGE_ONLY},
    "erin": {A6: _ascent(A6)},
    "fay": {A6: _dense_only(A6)},
    "hank": {A3: MIXED_BATCH_A3},
    "mallory": {A1: SHORTCUT_A1, A6: SHORTCUT_A6},
}
# (student, assignment) -> (score, max score, text the feedback page must show)
EXPECTED = {
    ("alice", A1): (3, 3, "conv2d_forward: all 5 hidden checks of part 'hidden' passed."),
    ("alice", A3): (4, 4, "maxpool2d_backward: all 2 hidden checks of part 'overlap' passed."),
    ("alice", A6): (5, 5, "training_step: all 2 hidden checks of part 'update' passed."),
    ("ursula", A1): (0, 3, "conv2d_forward is not implemented yet"),
    ("ursula", A6): (0, 5, "training_step is not implemented yet"),
    ("carla", A1): (0, 3, HINTS["conv_no_bias"]),
    ("dan", A1): (1, 3, HINTS["batch"]),
    ("erin", A6): (0, 5, HINTS["step_ascent"]),
    # partial credit: public 0; hidden dense 1, conv 0, update 0
    ("fay", A6): (1, 5, "params.kernel did not change"),
    # partial credit: public 0 (its batch case); hidden single 1, batch 0, overlap 1
    ("hank", A3): (2, 4, HINTS["route_batch_mixed"]),
    ("mallory", A1): (0, 3, "called the engine's cnn6.layers.conv2d_forward"),
    ("mallory", A6): (0, 5, "hands the work to the engine scores zero"),
}


def _exchange_app(kind, config_values: dict):
    """An nbgrader exchange step (fetch or submit) as a student runs it, in-process."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeSubmit
    from traitlets.config import Config

    config = Config()
    for section, values in config_values.items():
        for key, value in values.items():
            setattr(config[section], key, value)
    coursedir = CourseDirectory(config=config)
    app = {"fetch": ExchangeFetchAssignment, "submit": ExchangeSubmit}[kind]
    return app(coursedir=coursedir, authenticator=Authenticator(config=config), config=config)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    _need_nbgrader()
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    course = _course_module()
    base = tmp_path_factory.mktemp("flow")
    exchange, cache = base / "exchange", base / "cache"
    out = base / "dist"
    course.build(out)  # generate: `make assignments`
    course_dir = out / "autograder"
    with open(course_dir / "nbgrader_config.py", "a") as config_file:
        config_file.write(
            f"\nc.Exchange.root = {str(exchange)!r}\nc.Exchange.cache = {str(cache)!r}\n"
            "c.CollectApp.check_owner = False\n"
        )
    api = course._api(course_dir)
    for aid in (A1, A3, A6):
        result = api.release_assignment(aid)
        assert result["success"], result
    for student, work in CLASS.items():
        home = base / "home" / student
        home.mkdir(parents=True)
        for aid, code in work.items():
            settings = {
                "CourseDirectory": {
                    "course_id": "cnn6",
                    "assignment_id": aid,
                    "student_id": student,
                    "root": str(home),
                },
                "Exchange": {
                    "root": str(exchange),
                    "cache": str(cache),
                    "assignment_dir": str(home),
                },
            }
            _exchange_app("fetch", settings).start()
            path = home / aid / f"{aid}.ipynb"
            nb = nbformat.read(path, as_version=4)
            if code is not None:
                (cell,) = [c for c in nb.cells if nbgrader_meta(c).get("solution")]
                cell.source = code
            nbformat.write(nb, path)
            _exchange_app("submit", settings).start()
    for aid in (A1, A3, A6):
        result = api.collect(aid)
        assert result["success"], result
    for (student, aid), _ in EXPECTED.items():
        result = api.autograde(aid, student)
        assert result["success"], result
        result = api.generate_feedback(aid, student)
        assert result["success"], result
    grades = base / "grades.csv"
    with Gradebook(api.coursedir.db_url, "cnn6") as gradebook:
        CsvExportPlugin(to=str(grades)).export(gradebook)
    with open(grades, newline="") as handle:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(handle)}
    pages = {
        key: (course_dir / "feedback" / key[0] / key[1] / f"{key[1]}.html").read_text()
        for key in EXPECTED
    }
    return {"rows": rows, "pages": pages}


def test_every_submission_is_exported_with_its_score(graded):
    rows = graded["rows"]
    scored = {key for key, row in rows.items() if row["timestamp"] not in ("", "None")}
    assert scored == set(EXPECTED)
    for key, (score, max_score, _) in EXPECTED.items():
        assert float(rows[key]["max_score"]) == max_score, key
        assert float(rows[key]["score"]) == score, (key, rows[key])


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=["/".join(k) for k in sorted(EXPECTED)])
def test_feedback_page_shows_what_went_wrong(graded, key):
    text = " ".join(_text(graded["pages"][key]).split())
    wanted = " ".join(EXPECTED[key][2].split("{")[0].split())
    assert wanted in text, f"{key}: {wanted!r} not in the feedback page"


def test_shortcut_scores_zero_in_every_cell(graded):
    for aid in (A1, A6):
        assert float(graded["rows"][("mallory", aid)]["score"]) == 0
        assert "hands the work to the engine scores zero" in _text(
            graded["pages"][("mallory", aid)]
        )


def test_feedback_shows_no_hidden_source(graded):
    """A feedback page carries the checks' messages but not the hidden cells' code: no seed,
    no call a student could replay."""
    for key, page in graded["pages"].items():
        text = _text(page)
        assert not re.search(r"seed=\d", text) and "hidden=True" not in text, key
