"""The data: 6x6 noise images, half of them holding a 3x3 square of one value."""

from __future__ import annotations

import numpy as np

from . import validation as check

IMAGE_SIZE = 6
SQUARE_SIZE = 3
POSITIONS = IMAGE_SIZE - SQUARE_SIZE + 1  # 4 rows and 4 columns for the corner: 16 places


def make_dataset(n, rng, low=0.0, high=1.0, square_value=1.0, *, return_corners=False):
    """Draw ``n`` labelled images, classes alternating 0, 1, 0, 1, ... then shuffled.

    Class 0: every pixel i.i.d. Uniform(low, high).
    Class 1: a class-0 image whose 3x3 block with top-left corner (r, c) is set to
    ``square_value``; r and c are drawn uniformly from 0..3, so all 16 places occur.

    n: int >= 1; rng: a numpy.random.Generator (the only source of randomness).
    Returns X float64 (n, 6, 6) and y int64 (n,); with ``return_corners=True`` also the
    corners, int64 (n, 2), (-1, -1) for class 0.
    """
    n = check.integer(n, "n", low=1)
    rng = check.rng(rng)
    low, high = check.noise_range(low, high)
    square_value = check.real(square_value, "square_value")
    return_corners = check.flag(return_corners, "return_corners")

    X = rng.uniform(low, high, size=(n, IMAGE_SIZE, IMAGE_SIZE))
    y = rng.permutation(np.arange(n) % 2).astype(np.int64)
    corners = np.full((n, 2), -1, dtype=np.int64)
    squares = np.flatnonzero(y == 1)
    corners[squares] = rng.integers(0, POSITIONS, size=(squares.size, 2))
    r, c = corners[squares, :1], corners[squares, 1:]  # (m, 1) each
    pixel = np.arange(IMAGE_SIZE)
    in_rows = (pixel >= r) & (pixel < r + SQUARE_SIZE)  # (m, 6)
    in_cols = (pixel >= c) & (pixel < c + SQUARE_SIZE)
    inside = in_rows[:, :, None] & in_cols[:, None, :]  # (m, 6, 6): the square's pixels
    X[squares] = np.where(inside, square_value, X[squares])
    if return_corners:
        return X, y, corners
    return X, y
