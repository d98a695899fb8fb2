"""Argument checks for every public function of cnn6 (the core's one place for them).

Each check returns the cleaned value (a float64 array, a float, an int) or raises
``TypeError`` / ``ValueError`` with a message that starts with the argument's name
as the caller's signature spells it, then says what was expected and what came.

A public function states its checks once, with the decorator :func:`on_entry`; they run
where a user's data enters the engine, at the outermost public call. The engine's own calls
inside it (``forward`` calling ``conv2d_forward``, ``train``'s loop calling ``forward``) pass
values the engine made or already checked, and skip them.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from threading import get_ident

import numpy as np

ACTIVATIONS = ("relu", "leaky_relu", "elu")
FLOAT64 = np.dtype(np.float64)  # the one float64 dtype numpy gives its arrays
# the dtypes labels usually come in (make_dataset's int64 first), told apart by identity
USUAL_LABELS = (np.dtype(np.int64), FLOAT64, np.dtype(np.bool_))


# The threads now inside a checked public call, by their ident: the calls such a thread makes
# are the engine's own. A thread adds and removes only its own ident (its engine calls never
# wait on another thread's), and a set's lookup costs less than a thread-local attribute's.
_inside: set[int] = set()


def on_entry(checker, on_exit=None):
    """Decorator: check a public function's arguments with ``checker`` at the outermost call.

    ``checker`` has the function's own signature (same names, kinds and defaults) and returns
    the cleaned arguments as a dict. It runs only when no checked call is under way; the
    function's body, and every public function it calls, then run on trusted values.
    ``on_exit(result, arguments)``, when given, runs after the outermost call and returns what
    its caller gets: a check that the result can tell more cheaply than the arguments.
    """

    def decorate(func):
        def spec(f):
            return [(p.name, p.kind, p.default) for p in inspect.signature(f).parameters.values()]

        if spec(checker) != spec(func):
            raise TypeError(f"{checker.__name__}: expected the signature of {func.__name__}")

        inside = _inside

        @functools.wraps(func)
        def checked(*args, **kwargs):
            thread = get_ident()
            if thread in inside:
                return func(*args, **kwargs)
            arguments = checker(*args, **kwargs)
            inside.add(thread)  # what trusted() does, without its cost per call
            try:
                result = func(**arguments)
            finally:
                inside.discard(thread)
            return result if on_exit is None else on_exit(result, arguments)

        checked.checker = checker
        return checked

    return decorate


def body(checked_function):
    """The function a checked public function wraps: its body, without the checks' wrapper.

    For the engine's own calls inside a checked call (``forward`` calling the layers), which
    skip the checks anyway: calling the body saves the wrapper's call (about a microsecond).
    """
    return checked_function.__wrapped__


class trusted:
    """Within this block (``with trusted():``) the engine's public functions skip their
    argument checks.

    For code that calls them with values the engine made itself, as ``train`` does; the
    benchmark uses it to time ``train``'s step on its own. A class rather than a generator
    with ``contextlib``: entering and leaving it costs less than half as much.
    """

    def __enter__(self):
        thread = get_ident()
        # within a checked call or another trusted block, the thread stays inside at the end
        self.leave = thread not in _inside
        _inside.add(thread)

    def __exit__(self, *exc_info):
        if self.leave:
            _inside.discard(get_ident())


def all_finite(arr: np.ndarray) -> bool:
    """True when every entry of the float array ``arr`` is finite.

    A NaN or an inf makes the sum of squares NaN or inf, and a dot product is the cheapest
    sum numpy has (the method ``dot`` costs less per call than ``np.dot`` or ``@``); only when
    that sum overflows (entries beyond 1e154) is each entry tested.
    """
    flat = arr.ravel()
    return math.isfinite(flat.dot(flat)) or bool(np.isfinite(flat).all())


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"


def array(value, name: str, ndims: tuple[int, ...], *, tail: tuple[int, ...] | None = None):
    """Return ``value`` as a finite float64 array whose ndim is one of ``ndims``.

    ``tail``, when given, fixes the trailing dimensions (the leading one of a batch stays free).
    """
    if (  # the usual case, a float64 array of the right shape, returned as it is
        type(value) is np.ndarray
        and value.dtype is FLOAT64
        and value.ndim in ndims
        and value.size
        and (tail is None or value.shape[value.ndim - len(tail) :] == tail)
        and all_finite(value)
    ):
        return value
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name}: expected an array of numbers, got {_describe(value)}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy's own message is kept below
        raise TypeError(f"{name}: expected an array of numbers ({exc})") from None
    if arr.dtype.kind not in "iuf":  # signed, unsigned, floating (bool is "b")
        raise TypeError(f"{name}: expected an array of real numbers, got dtype {arr.dtype}")
    if arr.ndim not in ndims:
        want = " or ".join(f"{d}-d" for d in ndims)
        raise ValueError(f"{name}: expected a {want} array, got shape {arr.shape}")
    if tail is not None and arr.shape[arr.ndim - len(tail) :] != tail:
        raise ValueError(f"{name}: expected trailing shape {tail}, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty array, got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if not all_finite(arr):
        raise ValueError(f"{name}: expected finite numbers, found NaN or inf")
    return arr


def real(value, name: str, *, low=None, high=None, low_open=False, high_open=False) -> float:
    """Return ``value`` as a finite Python float, optionally inside [low, high]."""
    if type(value) is float:
        pass  # the common case, without the slower checks below
    elif isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
            value = value.item()
        else:
            raise TypeError(f"{name}: expected a real number, got {_describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    if low is not None and (value <= low if low_open else value < low):
        op = ">" if low_open else ">="
        raise ValueError(f"{name}: expected a number {op} {low}, got {value}")
    if high is not None and (value >= high if high_open else value > high):
        op = "<" if high_open else "<="
        raise ValueError(f"{name}: expected a number {op} {high}, got {value}")
    return value


def integer(value, name: str, *, low: int | None = None) -> int:
    """Return ``value`` as a Python int, at least ``low``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {_describe(value)}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value}")
    return value


def noise_range(low, high) -> tuple[float, float]:
    """``low`` and ``high`` as floats with ``low < high`` (the range of the noise pixels)."""
    low = real(low, "low")
    high = real(high, "high")
    if not low < high:
        raise ValueError(f"high: expected a number greater than low={low}, got {high}")
    return low, high


def flag(value, name: str) -> bool:
    """``value`` as a bool; only True or False (numpy's too) are accepted."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {_describe(value)}")
    return bool(value)


def rng(value, name: str = "rng") -> np.random.Generator:
    if not isinstance(value, np.random.Generator):
        raise TypeError(
            f"{name}: expected a numpy.random.Generator such as np.random.default_rng(0), "
            f"got {_describe(value)}"
        )
    return value


def activation(value, name: str = "activation") -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected one of {ACTIVATIONS}, got {_describe(value)}")
    if value not in ACTIVATIONS:
        raise ValueError(f"{name}: expected one of {ACTIVATIONS}, got {value!r}")
    return value


def labels(value, name: str, n: int | None, *, shape: tuple[int, ...] | None = None):
    """Return labels as a float64 0/1 array of ``shape`` (default: (n,), or () when n is None)."""
    want = shape if shape is not None else (() if n is None else (n,))
    if type(value) is np.ndarray:  # the usual labels first, without the steps below
        if value.shape == want and value.dtype in USUAL_LABELS and _zeros_and_ones(value):
            return value.astype(np.float64)  # a copy, as below
    elif type(value) is int:
        if want == () and value in (0, 1):
            return np.array(float(value))
    elif isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name}: expected labels 0 or 1, got {_describe(value)}")
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected labels 0 or 1, got dtype {arr.dtype}")
    if arr.shape != want:
        what = (
            "one label for the single image" if want == () else f"one label per image, shape {want}"
        )
        raise ValueError(f"{name}: expected {what}, got shape {arr.shape}")
    if not _zeros_and_ones(arr):
        values = np.unique(arr.astype(np.float64))[:5]
        raise ValueError(f"{name}: expected labels 0 or 1 only, got values {values}")
    return arr.astype(np.float64)  # a copy: the caller's array may change later, this one not


def _zeros_and_ones(arr: np.ndarray) -> bool:
    """True when every entry of the array of numbers ``arr`` is 0 or 1 (NaN is neither)."""
    # A few labels: a Python set is quicker than numpy's calls (integers hash fastest).
    if arr.size <= (16 if arr.dtype is FLOAT64 else 64):
        return set(arr.ravel().tolist()) <= {0, 1}
    return not np.count_nonzero(arr * (1.0 - arr))  # y (1 - y) is 0 for 0 and 1 only
