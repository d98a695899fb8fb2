"""The book's running example: one image and one set of starting parameters."""

from __future__ import annotations

import numpy as np

from .data import make_dataset
from .network import Params

SEED = 105

# The learning rate η of the running example's step of gradient descent (chapter 11, "our
# step"): one step with it halves the loss and keeps every max-pool window active, while much
# larger steps kill every ReLU. The explorers of chapters 7 to 11 start with it.
LEARNING_RATE = 0.1


def running_example():
    """Return ``(x, y, params)``: the class-1 image (6, 6), its label 1, and the starting
    :class:`Params` that every chapter follows.

    The pixels are rounded to two decimals and the parameters to one, so that a reader can
    redo any step by hand; the seed was chosen so that the example shows every effect the
    book discusses: some pre-activations negative (the ReLU acts), no ties in any pool, a
    prediction well below 0.5 for this class-1 image (so the loss is worth lowering).
    """
    rng = np.random.default_rng(SEED)
    X, y = make_dataset(2, rng)
    x = X[int(np.flatnonzero(y == 1)[0])].round(2)
    kernel = rng.normal(0.0, 0.5, size=(3, 3)).round(1)
    weights = rng.normal(0.0, 1.0, size=4).round(1)
    return x, 1, Params(kernel, -0.5, weights, 0.2)
