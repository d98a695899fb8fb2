"""The data: make_dataset's classes, shapes, ranges, squares and seeds; the running example."""

import itertools

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import cnn6


def find_square(image, value):
    """Locate the 3x3 block of ``value`` in a 6x6 image by scanning every pixel: returns the
    top-left corner (r, c) of the block the pixels equal to ``value`` form, after checking
    they form exactly one 3x3 block."""
    hits = [(r, c) for r in range(6) for c in range(6) if image[r][c] == value]
    assert len(hits) == 9, hits
    r0, c0 = min(r for r, _ in hits), min(c for _, c in hits)
    assert sorted(hits) == [(r0 + i, c0 + j) for i in range(3) for j in range(3)], hits
    return r0, c0


@pytest.mark.parametrize("n", [1, 2, 7, 10, 501])
def test_shapes_and_dtypes(n):
    X, y = cnn6.make_dataset(n, np.random.default_rng(n))
    assert X.shape == (n, 6, 6) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert set(np.unique(y)) <= {0, 1}
    X, y, corners = cnn6.make_dataset(n, np.random.default_rng(n), return_corners=True)
    assert corners.shape == (n, 2) and corners.dtype == np.int64


@pytest.mark.parametrize("n", [2, 10, 1000])
def test_exactly_half_each_class_for_even_n(n):
    _, y = cnn6.make_dataset(n, np.random.default_rng(0))
    assert np.sum(y == 1) == n // 2
    assert np.sum(y == 0) == n // 2


@pytest.mark.parametrize("n", [1, 3, 999])
def test_odd_n_differs_by_one(n):
    _, y = cnn6.make_dataset(n, np.random.default_rng(0))
    assert abs(int(np.sum(y == 1)) - int(np.sum(y == 0))) == 1


def test_labels_are_shuffled():
    _, y = cnn6.make_dataset(200, np.random.default_rng(0))
    assert not np.array_equal(y, np.arange(200) % 2)
    assert not np.array_equal(y, 1 - np.arange(200) % 2)


@pytest.mark.parametrize(
    "low, high, square_value",
    [(0.0, 1.0, 1.0), (-2.0, 3.0, 5.0), (0.2, 0.4, -1.0), (10.0, 11.0, 10.5)],
)
def test_value_ranges(low, high, square_value):
    X, y = cnn6.make_dataset(400, np.random.default_rng(1), low, high, square_value)
    noise = X[y == 0]
    assert noise.min() >= low and noise.max() < high
    squares = X[y == 1]
    in_range = (squares >= low) & (squares < high)
    assert np.all(in_range | (squares == square_value))
    # not a constant: the original notebook drew Uniform(intensity, intensity)
    assert noise.std() > (high - low) / 5
    assert abs(noise.mean() - (low + high) / 2) < (high - low) / 20
    # images differ from one another: the original re-seeded before every image
    assert len({img.tobytes() for img in X}) == 400


def test_every_square_is_a_3x3_block_at_its_corner():
    X, y, corners = cnn6.make_dataset(
        600, np.random.default_rng(2), low=0.0, high=1.0, square_value=2.0, return_corners=True
    )
    for image, label, corner in zip(X, y, corners, strict=True):
        if label == 1:
            assert find_square(image, 2.0) == tuple(corner)
        else:
            assert tuple(corner) == (-1, -1)
            assert not np.any(image == 2.0)


def test_square_with_the_default_value():
    X, y, corners = cnn6.make_dataset(200, np.random.default_rng(3), return_corners=True)
    for image, corner in zip(X[y == 1], corners[y == 1], strict=True):
        assert find_square(image, 1.0) == tuple(corner)


def test_all_sixteen_corners_occur_evenly():
    X, y, corners = cnn6.make_dataset(4000, np.random.default_rng(4), return_corners=True)
    seen = {}
    for image, corner in zip(X[y == 1], corners[y == 1], strict=True):
        found = find_square(image, 1.0)
        assert found == tuple(corner)
        seen[found] = seen.get(found, 0) + 1
    assert set(seen) == set(itertools.product(range(4), range(4)))  # rows and columns 0..3
    # 2000 squares over 16 places: 125 expected each; 60..190 is beyond 5 standard deviations
    assert all(60 <= count <= 190 for count in seen.values()), seen


def test_same_seed_same_data_and_no_global_state():
    a = cnn6.make_dataset(50, np.random.default_rng(7), return_corners=True)
    np.random.seed(0)  # noqa: NPY002 - the global state must play no part
    b = cnn6.make_dataset(50, np.random.default_rng(7), return_corners=True)
    np.random.seed(1)  # noqa: NPY002
    c = cnn6.make_dataset(50, np.random.default_rng(7), return_corners=True)
    for first, second, third in zip(a, b, c, strict=True):
        assert_array_equal(first, second)
        assert_array_equal(first, third)


def test_different_seeds_and_successive_calls_differ():
    X7, y7 = cnn6.make_dataset(50, np.random.default_rng(7))
    X8, y8 = cnn6.make_dataset(50, np.random.default_rng(8))
    assert not np.array_equal(X7, X8)
    assert not np.array_equal(y7, y8)
    rng = np.random.default_rng(7)
    first, _ = cnn6.make_dataset(50, rng)
    second, _ = cnn6.make_dataset(50, rng)
    assert_array_equal(first, X7)
    assert not np.array_equal(first, second)


def test_running_example():
    x, y, params = cnn6.running_example()
    assert y == 1
    assert isinstance(params, cnn6.Params)
    assert x.shape == (6, 6) and x.dtype == np.float64
    # at most two decimals: 100 x is an integer (up to the float's own rounding)
    assert np.allclose(x * 100, np.round(x * 100), rtol=0, atol=1e-9)
    assert np.all((x >= 0) & (x <= 1))
    r, c = find_square(x, 1.0)
    assert 0 <= r <= 3 and 0 <= c <= 3
    # the parameters are rounded to one decimal so they can be redone by hand
    assert np.allclose(params.to_vector() * 10, np.round(params.to_vector() * 10), atol=1e-9)
    again = cnn6.running_example()
    assert_array_equal(again[0], x)
    assert again[1] == y
    assert_array_equal(again[2].to_vector(), params.to_vector())
    # a copy, not a shared array: changing one result leaves the next call alone
    x[0, 0] = 99.0
    assert cnn6.running_example()[0][0, 0] != 99.0


def test_running_example_properties_the_book_relies_on():
    """Some pre-activations negative, no tie in any pool, a prediction below 0.5."""
    x, y, params = cnn6.running_example()
    trace = cnn6.forward(params, x, y)
    assert np.any(trace.z1 < 0) and np.any(trace.z1 > 0)
    for i, j in itertools.product((0, 2), (0, 2)):
        window = np.sort(trace.a1[i : i + 2, j : j + 2].ravel())
        assert window[-1] > window[-2]
    assert trace.a4 < 0.5
