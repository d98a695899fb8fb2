"""Insert (or update) the hidden first cell that installs the cnn6 engine where it is missing.

Each chapter opened through a launch button runs in a fresh kernel: on Binder the repository's
``requirements.txt`` (which ends with ``-e .``) already installs the engine, on Colab nothing
does. The first cell of every notebook therefore installs it from the repository when
``import cnn6`` fails, and does nothing otherwise (no network access when the engine is there:
``make lab``, ``make execute``, nbval, Binder). The cell is tagged ``remove-cell``, so the book
does not show it, and ``cnn6-install``, by which this script finds it again.

The repository and branch come from ``_config.yml`` (``repository: url, branch``): the one place
a fork changes. Idempotent: a notebook whose cell is already current is not rewritten.

Usage: ``.venv/bin/python tools/add_colab_cell.py [--check] [NOTEBOOK ...]`` (default: every
``book/*.ipynb``). ``--check`` changes nothing and exits 1 if a notebook lacks the current cell.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
TAG = "cnn6-install"
TAGS = ["remove-cell", TAG]

TEMPLATE = """\
# Colab and other fresh kernels: install the cnn6 engine when it is missing. Nothing is
# downloaded when it is installed already (make lab, Binder, the book's own build).
try:
    import cnn6  # noqa: F401
except ImportError:
    import subprocess
    import sys

    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet",
                           "cnn6 @ git+{url}@{branch}"])"""


def install_source(config_file: Path = ROOT / "_config.yml") -> str:
    """The cell's source, for the repository named in `config_file`."""
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    repo = config.get("repository") or {}
    url, branch = repo.get("url"), repo.get("branch") or "main"
    if not url or not str(url).startswith("https://"):
        raise SystemExit(f"{config_file}: repository.url must be an https URL, got {url!r}")
    return TEMPLATE.format(url=str(url).rstrip("/").removesuffix(".git") + ".git", branch=branch)


def update(path: Path, source: str, check: bool = False) -> bool:
    """Make the notebook at `path` start with the install cell; True when it was changed
    (or, with `check`, would be)."""
    nb = nbformat.read(path, as_version=4)
    found = [k for k, c in enumerate(nb.cells) if TAG in c.get("metadata", {}).get("tags", [])]
    if found == [0]:
        cell = nb.cells[0]
        if (
            cell.cell_type == "code"
            and cell.source == source
            and cell.metadata.get("tags") == TAGS
            and cell.get("id") == TAG
        ):
            return False
    if check:
        return True
    for k in reversed(found):
        del nb.cells[k]
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(TAGS)})
    cell.id = TAG  # a fixed id: re-running the script gives the same file
    nb.cells.insert(0, cell)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if a notebook lacks the current cell",
    )
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    source = install_source()
    changed = [p for p in notebooks if update(p, source, args.check)]
    for path in changed:
        print(f"{'lacks the install cell' if args.check else 'updated'}: {path}")
    if not changed:
        print(f"all {len(notebooks)} notebooks start with the install cell")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
