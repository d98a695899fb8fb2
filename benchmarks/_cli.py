"""Command-line arguments of the benchmark scripts: numbers that must be positive."""

from __future__ import annotations

import argparse


def positive(kind):
    """An argparse ``type`` that reads a ``kind`` (int or float) and rejects values <= 0."""

    def read(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
        return value

    return read
