"""The one harness every check runs on: cases, the student's call (watched, see
:mod:`.integrity`), comparison with the engine, diagnosis of the usual mistakes, and messages.

A check describes its cases (:class:`Case`), its rules (:class:`Task`) and a ``judge`` that
compares one result with the engine's; :func:`run` does the rest. Anything that goes wrong
inside is a :class:`Failure`; :func:`run` turns the first one into the single
``AssertionError`` the student sees, raised from one place, so that a notebook's traceback
stays two frames long.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..layers import window_indices
from ..network import Params
from . import integrity
from .hints import HINTS

DEFAULT_SEED = 2026
RTOL, ATOL = 1e-6, 1e-9  # loose enough for any summation order, tight enough for any mistake


class Failure(Exception):
    """A failed check, with the student-facing text and the student's exception, if any."""

    def __init__(self, text: str, cause: BaseException | None = None):
        super().__init__(text)
        self.text, self.cause = text, cause


@dataclass
class Case:
    """One run of the student's function: its arguments and what to say about them."""

    name: str
    args: tuple
    show: dict  # argument name -> value, to describe the inputs in a failure message
    hidden: bool = False
    batch: bool = False
    part: str = "hidden"  # the separately scored group of hidden cases it belongs to


@dataclass
class Task:
    """What one check runs: the student's function's name, the engine's public functions it
    may call (``allowed``; everything else of the core is off limits, see :mod:`.integrity`),
    what the assignment says about that, a hint for the exceptions it may raise, and the key
    of the hint for a function that fails on a batch only."""

    what: str
    allowed: tuple = ()
    allowed_text: str = "numpy"
    error_hint: Callable = lambda exc, case: None
    batch_hint: str = "batch"
    parts: tuple = ("hidden",)  # the groups of hidden cases, each scored on its own
    changed_hint: str | None = None  # the hint for changing an argument in place (else allowed)


# --------------------------------------------------------------------------- arguments
def check_callable(fn, name: str = "student_fn") -> None:
    if not callable(fn):
        raise TypeError(
            f"{name}: expected a function (the one you wrote, passed without calling it, e.g. "
            f"check(conv2d_forward)), got {type(fn).__name__} {fn!r:.60}"
        )


def check_options(hidden, seed) -> int:
    """The validated seed (``DEFAULT_SEED`` for None); ``hidden`` must be a bool."""
    if not isinstance(hidden, (bool, np.bool_)):
        raise TypeError(f"hidden: expected True or False, got {type(hidden).__name__} {hidden!r}")
    if seed is None:
        return DEFAULT_SEED
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed: expected an integer or None, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed}")
    return int(seed)


def check_part(task: Task, hidden, part) -> None:
    """``part`` must be None or one of the task's parts, and only with ``hidden=True``."""
    if part is None:
        return
    if part not in task.parts:
        names = ", ".join(repr(p) for p in task.parts)
        raise ValueError(f"part: expected None or one of {names}, got {part!r}")
    if not hidden:
        raise ValueError(f"part: {part!r} names hidden cases; pass hidden=True with it")


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, Params):
        return Params(value.kernel.copy(), value.conv_bias, value.weights.copy(), value.fc_bias)
    return value


# --------------------------------------------------------------------------- numbers as text
def number(value, digits: int = 4) -> str:
    """``value`` in fixed point with ``digits`` decimals; negative zero prints as zero.

    (The same rule as the view's ``cnn6.fmt``, without loading matplotlib for text.)
    """
    x = float(value)
    if not math.isfinite(x):
        return str(x)
    text = f"{x:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0.0 else text


def grid(a: np.ndarray, digits: int) -> list[str]:
    """A 0-, 1- or 2-d array as lines of right-aligned numbers."""
    a = np.atleast_2d(a)
    cells = [[number(v, digits) for v in row] for row in a]
    width = max(len(c) for row in cells for c in row)
    return ["  ".join(c.rjust(width) for c in row) for row in cells]


def side_by_side(blocks: Sequence[tuple[str, list[str]]]) -> list[str]:
    widths = [max(len(title), *(len(line) for line in lines)) for title, lines in blocks]
    height = max(len(lines) for _, lines in blocks)
    out = ["    " + "      ".join(t.ljust(w) for (t, _), w in zip(blocks, widths, strict=True))]
    for r in range(height):
        row = [
            (lines[r] if r < len(lines) else "").ljust(w)
            for (_, lines), w in zip(blocks, widths, strict=True)
        ]
        out.append(("    " + "      ".join(row)).rstrip())
    return out


def _digits(a: np.ndarray) -> int:
    return 0 if a.dtype.kind in "iub" else 4


def _input_digits(a: np.ndarray) -> int:
    """Inputs: whole numbers with one decimal (they read as typed), others with four."""
    if a.dtype.kind in "iub":
        return 0
    return 1 if np.all(a == np.round(a)) else 4


def entries(shape) -> str:
    return f"({', '.join(str(s) for s in shape)})"


def short(a: np.ndarray) -> str:
    """At most four entries of ``a``, for one line of text."""
    flat = np.ravel(a)
    text = ", ".join(number(v) for v in flat[:4])
    return f"[{text}{', ...' if flat.size > 4 else ''}]" if a.ndim else text


def _describe_inputs(case: Case) -> list[str]:
    lines = []
    for name, value in case.show.items():
        if isinstance(value, Params):
            lines.append(f"  {name}: {value!r}".replace("\n", " "))
        elif isinstance(value, np.ndarray) and value.ndim >= 1:
            if value.ndim <= 2 and value.size <= 36:
                lines.append(f"  {name} {value.shape}:")
                lines.extend("    " + line for line in grid(value, _input_digits(value)))
            else:
                lines.append(f"  {name}: an array of shape {value.shape}")
        elif isinstance(value, (float, np.floating)):
            lines.append(f"  {name} = {number(value)}")
        else:
            lines.append(f"  {name} = {value!r}")
    return lines


def message(what: str, case: Case, lines: list[str], hint: str | None) -> str:
    kind = "hidden case" if case.hidden else "case"
    text = [f"{what}: the {kind} {case.name!r} fails.", "Inputs:", *_describe_inputs(case)]
    text += lines
    if hint:
        text.append(f"Hint: {hint}")
    return "\n".join(text)


def fail(what: str, case: Case, lines: list[str], hint: str | None):
    raise Failure(message(what, case, lines, hint))


def diff_lines(label: str, expected: np.ndarray, got: np.ndarray, digits=None) -> list[str]:
    """Where ``got`` differs from ``expected``: the shape, or the first differing entry."""
    if got.shape != expected.shape:
        return [f"{label}: expected shape {expected.shape}, got shape {got.shape}."]
    if expected.ndim == 0:
        return [
            f"{label} differs: expected {number(expected, _digits(expected))}, "
            f"got {number(got, _digits(expected))}."
        ]
    bad = ~np.isclose(got, expected, rtol=RTOL, atol=ATOL)
    first = tuple(np.argwhere(bad)[0])
    if digits is None:
        digits = max(_digits(expected), 0 if got.dtype.kind in "iub" else 4)
    where_text = "[" + ", ".join(str(int(i)) for i in first) + "]"
    lines = [
        f"{label}{where_text} differs: expected {number(expected[first], digits)}, "
        f"got {number(got[first], digits)} ({int(bad.sum())} of {bad.size} entries differ)."
    ]
    exp, gt, where = expected, got, ""
    if expected.ndim == 3:  # show the image of the batch where the first difference is
        exp, gt, where = expected[first[0]], got[first[0]], f" (image {first[0]} of the batch)"
    if exp.ndim <= 2 and exp.size <= 36:
        lines.append(f"{label}{where}:")
        lines += side_by_side([("expected", grid(exp, digits)), ("got", grid(gt, digits))])
    return lines


# --------------------------------------------------------------------------- comparing
def close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


def as_array(got, what: str, case: Case, label: str, integer: bool = False) -> np.ndarray:
    """``got`` as a float64 array (kept integer with ``integer``), or a failure that says why."""
    if got is None:
        fail(
            what,
            case,
            [f"{label}: your function returned None."],
            "did you forget the `return` line at the end of the function?",
        )
    try:
        arr = np.asarray(got)
    except Exception:  # ragged lists and the like
        arr = np.asarray(None)
    if arr.dtype == bool:
        arr = arr.astype(np.float64)
    if arr.dtype.kind not in "iuf":
        fail(
            what,
            case,
            [f"{label}: expected an array of numbers, got {type(got).__name__}."],
            "return a numpy array (np.zeros(shape) filled in, or the result of numpy operations).",
        )
    return arr if integer else arr.astype(np.float64)


Variant = tuple[str, Callable]  # (hint key, the usual mistake as a function of the arguments)


def diagnose(got, expected, variants: Sequence[Variant], args, rules=()) -> str | None:
    """The hint of the first usual mistake that ``got`` matches, else of the first rule.

    A variant only counts when its result differs from the expected one on this case
    (otherwise the case cannot tell them apart). A rule is a function
    (got, expected, args) -> hint text or None.
    """
    for key, make in variants:
        try:
            value = np.asarray(make(*args), dtype=np.float64)
        except Exception:  # a variant that does not apply to this case (e.g. a shape)
            continue
        if close(value, expected):
            continue
        if close(got.astype(np.float64), value):
            return HINTS[key]
    for rule in rules:
        hint = rule(got, expected, args)
        if hint:
            return hint
    return None


def expect(what, case, got, label, expected, variants, fallback, rules=()) -> np.ndarray:
    """``got`` as an array; unless it equals ``expected``, fail with the diff and a hint
    (the one :func:`diagnose` finds, else ``fallback``, how to get it right)."""
    got = as_array(got, what, case, label)
    if not close(got, expected):
        hint = diagnose(got, expected, variants, case.args, rules)
        fail(what, case, diff_lines(label, expected, got), hint or fallback)
    return got


def unpack(got, what, case, names: str, key: str):
    """``got`` as a pair, or a failure that asks for the tuple ``names``."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        kind = type(got).__name__
        lines = [f"Your function returned a {kind}; expected a tuple {names}."]
        fail(what, case, lines, HINTS[key])
    return got


# --------------------------------------------------------------------------- references
def each_image(fn, *arrays):
    """``fn`` (a one-image function of :mod:`cnn6.naive`) on one image, or on each image of a
    batch (a leading axis n) with the results stacked; a tuple result is stacked item by item."""
    if arrays[-1].ndim == 2:
        return fn(*arrays)
    results = [fn(*parts) for parts in zip(*arrays, strict=True)]
    if isinstance(results[0], tuple):
        return tuple(np.stack(items) for items in zip(*results, strict=True))
    return np.stack(results)


# --------------------------------------------------------------------------- windows
def window_values(a: np.ndarray, size, stride: int, step: int | None = None):
    """(values (..., P, kh*kw), flat indices (P, kh*kw), out shape) of every window of ``a``.

    size: an int (square windows) or (kh, kw). The windows are the engine's
    (:func:`cnn6.window_indices`); with ``step`` they start every ``step`` pixels instead
    (a usual mistake) but are as many as with ``stride``.
    """
    kh, kw = size if isinstance(size, tuple) else (size, size)
    h, w = a.shape[-2:]
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    if step is None or step == stride:
        idx = np.asarray(window_indices(h, w, kh, kw, stride))
    else:
        stepped = np.asarray(window_indices(h, w, kh, kw, step))
        soh, sow = (h - kh) // step + 1, (w - kw) // step + 1
        if soh < oh or sow < ow:
            raise ValueError("windows run off the input")
        idx = stepped.reshape(soh, sow, -1)[:oh, :ow].reshape(oh * ow, -1)
    values = a.reshape(a.shape[:-2] + (h * w,))[..., idx]
    return values, idx, a.shape[:-2] + (oh, ow)


# --------------------------------------------------------------------------- running
def student_call(fn, args):
    """The one place a check calls the student's function. Not the check's own code for the
    watch (see :func:`.integrity.feedback_codes`): an engine function handed in as the
    student's is entered from here, and refused."""
    return fn(*args)


def _same(a, b) -> bool:
    if isinstance(a, Params):
        return all(
            np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    return not isinstance(a, np.ndarray) or np.array_equal(a, b)


def _kept(task: Task, case: Case, args: tuple) -> None:
    """With ``task.changed_hint``: fail if the student's function changed an argument."""
    if task.changed_hint is None:
        return
    for name, original, given in zip(case.show, case.args, args, strict=True):
        if not _same(original, given):
            lines = [f"Your function changed its argument {name} in place."]
            fail(task.what, case, lines, HINTS[task.changed_hint])


def _call(fn, task: Task, case: Case, judge):
    """Run the student's function on copies of the case's arguments and judge its result,
    the engine watched all along (the result may hold code that runs when it is read)."""
    with integrity.watch(task) as watch:
        try:
            args = tuple(_copy(a) for a in case.args)
            got = student_call(fn, args)
        except NotImplementedError:
            watch.verdict(task)
            raise Failure(
                f"{task.what} is not implemented yet: replace the line "
                f"`raise NotImplementedError()` with your code, run that cell, then run this "
                f"check again."
            ) from None
        except Exception as exc:
            watch.verdict(task)
            hint = task.error_hint(exc, case)
            if hint is None and case.batch:
                hint = HINTS[task.batch_hint]
            lines = [f"Your function raised {type(exc).__name__}: {exc}"]
            raise Failure(message(task.what, case, lines, hint), exc) from None
        watch.verdict(task)
        _kept(task, case, args)
        judge(case, got)
        watch.verdict(task)


def run(task: Task, student_fn, hidden, seed, make_cases, judge, part=None) -> None:
    """Check ``student_fn`` on the public cases of ``make_cases(hidden, seed)`` and, with
    ``hidden``, the hidden ones; print one line when all pass. The one place a check raises.

    With ``part`` (one of ``task.parts``), only the hidden cases of that part run, not the
    public ones: the graded notebook scores each part in a cell of its own (partial credit).
    """
    check_callable(student_fn)
    seed = check_options(hidden, seed)
    check_part(task, hidden, part)
    public, hidden_cases = make_cases(hidden, seed)
    if part is not None:
        public, hidden_cases = [], [c for c in hidden_cases if c.part == part]
    try:
        for case in [*public, *hidden_cases]:
            _call(student_fn, task, case, judge)
    except Failure as failure:
        raise AssertionError(failure.text) from failure.cause
    if part is not None:
        print(f"{task.what}: all {len(hidden_cases)} hidden checks of part {part!r} passed.")
        return
    counts = f"{len(public)} public and {len(hidden_cases)} hidden" if hidden_cases else None
    print(f"{task.what}: all {counts or f'{len(public)} public'} checks passed.")
