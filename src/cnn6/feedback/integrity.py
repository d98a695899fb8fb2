"""Integrity: a student's function that hands its work to the engine scores zero.

The engine's source is public and implements every assignment, so a check must notice when
the function it grades calls it, by whatever route: ``cnn6.layers.conv2d_forward``, an alias
bound long before the check, a private twin, ``getattr``/``importlib``, a helper of the
student's, a thread. Nothing of the engine is patched. While the student's function runs
(and while its result is read), a profile hook (``sys.setprofile``, and ``threading``'s for
threads started meanwhile) sees every Python function entered. A function of the core
entered from code that is neither the core nor this feedback package was called by the
student's code; it is allowed only when it is one of the public functions the assignment
allows (:attr:`Task.allowed <cnn6.feedback.harness.Task>`), or a helper that computes no
step (argument checks, the parameter classes' methods, the running example, the data).
Everything else of the core is off limits: the set is every function of the core's modules
as they are when the check runs, not a list of names, so a new private twin is covered too.

What this cannot see: the engine's source copied into the student's notebook (the book shows
it; that is a matter for the teacher, as any copied solution).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import threading
from pathlib import Path

import cnn6

PACKAGE = Path(cnn6.__file__).resolve().parent
FEEDBACK = Path(__file__).resolve().parent
# Public names any check lets the student's function call: they compute no step.
ALWAYS_ALLOWED = (
    "Grads",
    "History",
    "Params",
    "Trace",
    "init_params",
    "make_dataset",
    "relative_error",
    "running_example",
    "window_indices",
)
# What reaches or replaces the watch: no student's function has a reason to call these.
_PROFILE_FUNCTIONS = ("setprofile", "getprofile", "settrace", "setprofile_all_threads")
# Modules of the view: they draw, and reach the core only through its public functions.
_VIEW_LIBRARIES = ("matplotlib", "ipywidgets", "IPython")


def _module_of_file(filename: str):
    for name, module in list(sys.modules.items()):
        if name.startswith("cnn6") and getattr(module, "__file__", None):
            if Path(module.__file__).resolve() == Path(filename).resolve():
                return module
    return None


def _is_view(module) -> bool:
    for value in vars(module).values():
        name = value.__name__ if inspect.ismodule(value) else getattr(value, "__module__", None)
        if isinstance(name, str) and name.split(".")[0] in _VIEW_LIBRARIES:
            return True
    return False


@functools.cache
def is_core(filename: str) -> bool:
    """Whether code in ``filename`` belongs to the numerical core: a module of the cnn6
    package that is neither this feedback package, nor the view (a module that uses a
    plotting or widget library), nor a package's ``__init__`` (which only re-exports)."""
    if filename.startswith("<") or not filename.endswith(".py"):
        return False
    path = Path(filename).resolve()
    if not path.is_relative_to(PACKAGE) or path.is_relative_to(FEEDBACK):
        return False
    if path.name == "__init__.py":
        return False
    module = _module_of_file(filename)
    return module is None or not _is_view(module)


def _codes(obj) -> set:
    """The code objects a public name stands for: a function's (unwrapped), a class's methods."""
    codes = set()
    if inspect.isclass(obj):
        for value in vars(obj).values():
            for f in (value, getattr(value, "__func__", None), getattr(value, "fget", None)):
                if inspect.isfunction(f):
                    codes |= _codes(f)  # a checked method: its body and its checker
        return codes
    # the function itself, what it wraps, and what a decorator attached to it (an argument
    # checker, say): all of them run when the student calls the public function
    for f in (inspect.unwrap(obj), *vars(obj).values()):
        if inspect.isfunction(f):
            codes.add(f.__code__)
    return codes


def _validation_codes() -> set:
    from .. import validation

    return {
        value.__code__
        for value in vars(validation).values()
        if inspect.isfunction(value) and value.__module__ == validation.__name__
    }


def _wrappers() -> set:
    """Code of decorators' wrappers around public functions: neither allowed nor refused
    themselves (the function they wrap is judged when it is entered)."""
    codes = set()
    for name in cnn6.__all__:
        obj = getattr(cnn6, name)
        if inspect.isfunction(obj) and inspect.unwrap(obj) is not obj:
            codes.add(obj.__code__)
    return codes


def _nested(code) -> set:
    codes = {code}
    for const in code.co_consts:
        if inspect.iscode(const):
            codes |= _nested(const)
    return codes


@functools.cache
def feedback_codes() -> frozenset:
    """Every code object of this package (its functions, their lambdas and inner functions,
    the methods of its classes, the lambdas in its tables): the check's own code, known by
    identity, so that code compiled under one of its file names is not mistaken for it."""
    codes: set = set()

    def collect(value, depth=0):
        if inspect.isfunction(value):
            codes.update(_nested(value.__code__))
        elif inspect.isclass(value) and value.__module__.startswith(__package__):
            for member in vars(value).values():
                collect(getattr(member, "__func__", member), depth)
        elif isinstance(value, (list, tuple, dict)) and depth < 3:
            for item in value.values() if isinstance(value, dict) else value:
                collect(item, depth + 1)

    for name, module in list(sys.modules.items()):
        if name.startswith(__package__ + "."):
            for value in vars(module).values():
                if getattr(value, "__module__", name) == name or isinstance(value, (list, tuple)):
                    collect(value)
    from .harness import student_call

    return frozenset(codes - {student_call.__code__})


def _is_feedback(frame) -> bool:
    return frame is not None and frame.f_code in feedback_codes()


def _public_names() -> dict:
    """Code -> the public function it runs for (the bare function, its argument checker), so
    that a message names ``cnn6.layers.conv2d_forward``, not a helper inside it."""
    names = {}
    for name in cnn6.__all__:
        obj = getattr(cnn6, name)
        if inspect.isfunction(obj):
            bare = inspect.unwrap(obj)
            for code in _codes(obj):
                names.setdefault(code, f"{bare.__module__}.{bare.__qualname__}")
    return names


def _name(code) -> str:
    path = Path(code.co_filename).resolve()
    module = ".".join(("cnn6", *path.relative_to(PACKAGE).with_suffix("").parts))
    return f"{module}.{getattr(code, 'co_qualname', code.co_name)}"


class Watch:
    """Records which core functions the student's code entered while a check ran it."""

    def __init__(self, allowed_names):
        self.allowed = set()
        for name in (*ALWAYS_ALLOWED, *allowed_names):
            self.allowed |= _codes(getattr(cnn6, name))
        self.neutral = _validation_codes()
        self.wrappers = _wrappers()
        # a decorator's wrapper is shared by every checked function, allowed or not: only the
        # function it wraps is judged
        self.allowed -= self.wrappers
        self.public = _public_names()
        self.entered: list[tuple[str, str]] = []  # (core function, the code that called it)
        self.tampered: list[str] = []
        self.active = False

    def hook(self, frame, event, arg):
        if not self.active:
            return
        if event == "call":
            code = frame.f_code
            if is_core(code.co_filename):
                self._entered(frame)
            elif code.co_name in _PROFILE_FUNCTIONS and code.co_filename.endswith("threading.py"):
                self._tamper(frame.f_back, f"threading.{code.co_name}")
        elif event == "c_call" and arg in (sys.setprofile, sys.getprofile, sys.settrace):
            self._tamper(frame, f"sys.{arg.__name__}")

    def _tamper(self, caller, name):
        if not _is_feedback(caller):
            self.tampered.append(name)

    def _entered(self, frame):
        code = frame.f_code
        if code in self.wrappers or code in self.neutral or code.co_name == "<module>":
            return
        outer, caller = frame, frame
        while caller is not None and is_core(caller.f_code.co_filename):
            if caller.f_code in self.allowed:
                return  # inside a call the assignment allows
            if caller.f_code not in self.wrappers:
                outer = caller
            caller = caller.f_back
        if _is_feedback(caller):
            return  # the check's own reference
        who = "?" if caller is None else caller.f_code.co_name
        name = self.public.get(outer.f_code) or _name(outer.f_code)
        self.entered.append((name, who))

    def verdict(self, task) -> None:
        """Raise a Failure naming the first off-limits call, if the student's code made one."""
        from .harness import Failure

        if self.tampered:
            raise Failure(
                f"{task.what}: your code called {self.tampered[0]} while the check ran it. "
                f"The check watches which of the engine's functions your function calls, and "
                f"a function that switches that off scores zero."
            )
        if self.entered:
            name, who = self.entered[0]
            if who == "student_call":
                subject = f"the function checked is the engine's own {name},"
            else:
                where = "your function" if who in ("<lambda>", task.what) else f"`{who}`"
                subject = f"{where} called the engine's {name},"
            raise Failure(
                f"{task.what}: {subject} which computes what this "
                f"assignment asks you to compute. A function that hands the work to the engine "
                f"scores zero for this check, however it reaches it (cnn6.<name>, "
                f"cnn6.layers.<name>, an alias, a helper). Write the computation yourself: "
                f"{task.allowed_text}."
            )


@contextlib.contextmanager
def watch(task):
    """Watch the core while the body runs; ``verdict(task)`` on the result says what it saw."""
    w = Watch(task.allowed)
    previous = sys.getprofile()
    previous_threading = getattr(threading, "_profile_hook", None)
    sys.setprofile(w.hook)
    threading.setprofile(w.hook)
    w.active = True
    try:
        yield w
    finally:
        w.active = False
        if sys.getprofile() is not w.hook and not w.tampered:
            w.tampered.append("sys.setprofile")
        sys.setprofile(previous)
        threading.setprofile(previous_threading)
