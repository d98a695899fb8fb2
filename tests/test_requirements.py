"""The pinned environment: one lock for every supported Python, and the coursework's on top.

requirements.txt is compiled from requirements.in (``make lock``, uv's universal resolution);
these tests read the files only, so they fail as soon as someone hand-edits one out of step.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def supported_pythons() -> list[str]:
    """SUPPORTED_PYTHONS of the Makefile, e.g. ['3.10', '3.11', '3.12', '3.13']."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return re.search(r"^SUPPORTED_PYTHONS\s*:=\s*(.+)$", text, re.M).group(1).split()


@functools.cache
def pins(name: str) -> list[tuple[str, str, Marker | None]]:
    """(canonical name, version, marker) of every ``name==version`` line of a lock file."""
    found = []
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        if not line or line.startswith(("#", " ", "-")):
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"{name}: {line!r} is not pinned with =="
        found.append((canonicalize_name(req.name), spec.version, req.marker))
    return found


def linux(python: str) -> dict[str, str]:
    """The marker environment of a Linux CPython (the machines that run the tests)."""
    return {
        "python_version": python.rsplit(".", 1)[0],
        "python_full_version": python,
        "sys_platform": "linux",
        "os_name": "posix",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }


@functools.cache
def resolved(name: str, python: str) -> dict[str, str]:
    """Package -> version that pip installs from lock file ``name`` on Linux ``python``."""
    chosen: dict[str, str] = {}
    for package, version, marker in pins(name):
        if marker is None or marker.evaluate(linux(python)):
            assert package not in chosen, f"{name}: two pins of {package} apply on {python}"
            chosen[package] = version
    return chosen


# The first and a late patch release of each supported version (markers may split at a patch).
PYTHONS = [f"{v}.{patch}" for v in supported_pythons() for patch in (0, 99)]


def test_supported_versions_match_requires_python():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    lowest = re.search(r'requires-python = ">=(\d+\.\d+)"', text).group(1)
    assert supported_pythons()[0] == lowest
    versions = [tuple(map(int, v.split("."))) for v in supported_pythons()]
    assert versions == [(3, minor) for minor in range(versions[0][1], versions[-1][1] + 1)]


@pytest.mark.parametrize("python", PYTHONS)
def test_every_top_level_requirement_is_pinned_once(python):
    chosen = resolved("requirements.txt", python)
    top = []
    for line in (ROOT / "requirements.in").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            top.append(canonicalize_name(Requirement(line).name))
    assert len(top) >= 10, top
    missing = [name for name in top if name not in chosen]
    assert not missing, f"not pinned for Python {python}: {missing} (run `make lock`)"


def test_the_engine_itself_is_installed_editable():
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert "-e ." in lines


@pytest.mark.parametrize("python", [p for p in PYTHONS if tuple(map(int, p.split("."))) >= (3, 11)])
def test_coursework_lock_keeps_the_book_pins(python):
    book = resolved("requirements.txt", python)
    coursework = resolved("requirements-coursework.txt", python)
    assert "nbgrader" in coursework
    changed = {
        name: (version, coursework[name])
        for name, version in book.items()
        if name in coursework and coursework[name] != version
    }
    assert not changed, f"the coursework lock moves book pins on {python}: {changed}"
    assert not set(book) - set(coursework), "the coursework lock drops book packages"
