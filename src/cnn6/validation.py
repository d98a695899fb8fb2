"""Argument checks for every public function of cnn6 (the core's one place for them).

Each check returns the cleaned value (a float64 array, a float, an int) or raises
``TypeError`` / ``ValueError`` with a message that starts with the argument's name
as the caller's signature spells it, then says what was expected and what came.
"""

from __future__ import annotations

import numbers

import numpy as np

ACTIVATIONS = ("relu", "leaky_relu", "elu")


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"


def array(value, name: str, ndims: tuple[int, ...], *, tail: tuple[int, ...] | None = None):
    """Return ``value`` as a finite float64 array whose ndim is one of ``ndims``.

    ``tail``, when given, fixes the trailing dimensions (the leading one of a batch stays free).
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name}: expected an array of numbers, got {_describe(value)}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy's own message is kept below
        raise TypeError(f"{name}: expected an array of numbers ({exc})") from None
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(f"{name}: expected an array of real numbers, got dtype {arr.dtype}")
    if arr.ndim not in ndims:
        want = " or ".join(f"{d}-d" for d in ndims)
        raise ValueError(f"{name}: expected a {want} array, got shape {arr.shape}")
    if tail is not None and arr.shape[arr.ndim - len(tail) :] != tail:
        raise ValueError(f"{name}: expected trailing shape {tail}, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty array, got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite numbers, found NaN or inf")
    return arr


def real(value, name: str, *, low=None, high=None, low_open=False, high_open=False) -> float:
    """Return ``value`` as a finite Python float, optionally inside [low, high]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
            value = value.item()
        else:
            raise TypeError(f"{name}: expected a real number, got {_describe(value)}")
    value = float(value)
    if not np.isfinite(value):
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
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name}: expected labels 0 or 1, got {_describe(value)}")
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected labels 0 or 1, got dtype {arr.dtype}")
    want = shape if shape is not None else (() if n is None else (n,))
    if arr.shape != want:
        what = (
            "one label for the single image" if want == () else f"one label per image, shape {want}"
        )
        raise ValueError(f"{name}: expected {what}, got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.isin(arr, (0.0, 1.0)).all():
        raise ValueError(f"{name}: expected labels 0 or 1 only, got values {np.unique(arr)[:5]}")
    return arr
