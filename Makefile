# cnn6: build the book, run the tests. Every target uses the project's own .venv,
# which is created (or refreshed) from requirements.txt when needed.

PYTHON_SYSTEM ?= python3
VENV          := .venv
PY            := $(VENV)/bin/python
STAMP         := $(VENV)/.installed
NOTEBOOKS     := $(wildcard book/*.ipynb)

# Deterministic runs: fixed hash seed, non-interactive matplotlib, kernels found in the venv first.
export PYTHONHASHSEED := 0
export MPLBACKEND     := Agg
export JUPYTER_PATH   := $(CURDIR)/$(VENV)/share/jupyter

.PHONY: venv book test lint execute lab clean distclean

venv: $(STAMP)

# (Re)install when the venv is missing or requirements.txt / pyproject.toml changed.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON_SYSTEM) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip check
	touch $(STAMP)

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "Book: $(CURDIR)/_build/html/index.html"

lint: $(STAMP)
	$(PY) -m ruff check .

# The engine tests and the book build test, then every notebook against its stored outputs
# (only when book/ holds notebooks: pytest exits 5 when it collects nothing).
test: lint
	$(PY) -m pytest -n 2 --dist loadfile tests/
ifneq ($(strip $(NOTEBOOKS)),)
	$(PY) -m pytest -n 2 --dist loadfile --nbval --nbval-current-env \
		--sanitize-with .nbval-sanitize.cfg book/
else
	@echo "No notebooks in book/ yet: nbval skipped."
endif

# Re-execute every notebook in place in a fresh kernel of the venv, storing widget state.
execute: $(STAMP)
	@$(PY) -c "import sys; from jupyter_client.kernelspec import KernelSpecManager as M; \
	s = M().get_kernel_spec('python3'); a = s.argv[0]; \
	ok = a in ('python', 'python3', 'python3.%d' % sys.version_info[1], sys.executable); \
	sys.exit(0 if ok else 'kernel python3 runs %s, not %s' % (a, sys.executable))"
ifneq ($(strip $(NOTEBOOKS)),)
	$(PY) -m jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.kernel_name=python3 \
		--ExecutePreprocessor.timeout=600 \
		--ExecutePreprocessor.store_widget_state=True \
		--ExecutePreprocessor.record_timing=False \
		$(NOTEBOOKS)
else
	@echo "No notebooks in book/ yet."
endif

lab: $(STAMP)
	$(VENV)/bin/jupyter lab book/

clean:
	rm -rf _build .pytest_cache .hypothesis .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print -exec rm -rf {} +

# Also remove the virtual environment (the next target recreates it).
distclean: clean
	rm -rf $(VENV)
