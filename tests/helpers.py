"""Helpers shared by the test modules (imported as ``from helpers import ...``)."""

# What a copy of the repository for a test build leaves out: version control, virtual
# environments, build outputs and caches.
COPY_PATTERNS = (
    ".git",
    ".venv",
    ".venv-*",
    "_build",
    "dist",
    "node_modules",
    ".ipynb_checkpoints",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    "*.egg-info",
)
