"""Feedback for the coursework: run a student's function, compare it with the book, and say
what went wrong in words a learner can act on.

Each ``check_*`` function takes the student's function, runs it on the public cases (and,
with ``hidden=True``, on cases the notebook does not show: batches, non-square shapes,
overlapping windows, ties, negative values, drawn partly from ``seed``), and compares every
result with the book's loops (:mod:`cnn6.naive`, the core's independent reference). The
first case that fails raises an ``AssertionError`` that names the case and its inputs, the
first entry that differs (expected vs got) and a hint: the student's result is compared with
the results of the usual mistakes (:mod:`.hints` says what to tell for each). A function
that still raises ``NotImplementedError`` gets a plain "not implemented yet"; one that hands
the work to the engine fails whatever it returns (:mod:`.integrity`). When every case
passes, the check prints one line, e.g. ``conv2d_forward: all 3 public checks passed.``

One module per assignment (``a1_conv_forward`` ... ``a6_training_step``), one harness
(:mod:`.harness`). This package reads the numerical core and is never imported by it; it
needs numpy alone.
"""

from .a1_conv_forward import check_conv2d_forward
from .a2_maxpool_forward import check_maxpool2d_forward
from .a3_maxpool_backward import check_maxpool2d_backward
from .a4_relu_backward import check_relu_backward
from .a5_conv_kernel_grad import check_conv2d_kernel_grad
from .a6_training_step import check_training_step
from .harness import DEFAULT_SEED
from .hints import HINTS

__all__ = [
    "DEFAULT_SEED",
    "HINTS",
    "check_conv2d_forward",
    "check_conv2d_kernel_grad",
    "check_maxpool2d_backward",
    "check_maxpool2d_forward",
    "check_relu_backward",
    "check_training_step",
]
