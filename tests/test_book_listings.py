"""The book shows the math, not the plumbing: every engine listing is of a public function."""

import json
import re
from pathlib import Path

import pytest

import cnn6

BOOK = Path(__file__).resolve().parents[1] / "book"


def listings():
    found = []
    for path in sorted(BOOK.glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                found += [(path.name, t) for t in re.findall(r"show_source\(([^)]+)\)", source)]
    return found


def test_the_book_has_listings():
    assert len([t for _, t in listings() if t.startswith("cnn6.")]) >= 25


@pytest.mark.parametrize(("chapter", "target"), [x for x in listings() if x[1].startswith("cnn6.")])
def test_each_listing_is_a_public_function_of_the_engine(chapter, target):
    obj = cnn6
    for part in target.split(".")[1:]:
        obj = getattr(obj, part)
    assert callable(obj), f"{chapter}: {target} is not a function"
    private = [p for p in target.split(".") if p.startswith("_")]
    assert not private, f"{chapter} shows the private {target}"
