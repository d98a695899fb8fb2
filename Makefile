# cnn6: build the book, run the tests. Every target uses the project's own .venv,
# which is created (or refreshed) from requirements.txt when needed.

PYTHON_SYSTEM ?= python3
VENV          := .venv
PY            := $(VENV)/bin/python
STAMP         := $(VENV)/.installed
NOTEBOOKS     := $(wildcard book/*.ipynb)

# Deterministic runs: fixed hash seed, kernels found in the venv first.
export PYTHONHASHSEED := 0
# Kernels use the inline matplotlib backend (their default), so figures are stored as images.
export JUPYTER_PATH   := $(CURDIR)/$(VENV)/share/jupyter

.PHONY: venv vendor browser tex book pdf test lint execute lab clean distclean bench \
	coursework assignments grade

venv: $(STAMP)

# Browser assets the static book serves itself (MathJax, RequireJS, the widgets' HTML manager):
# installed from npm as pinned by package-lock.json, then the files the pages load are copied
# into _vendor/ (listed in html_static_path in _config.yml). Nothing is fetched at read time.
VENDOR := _vendor
NPM    ?= npm
vendor: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	@command -v $(NPM) >/dev/null 2>&1 || { echo "make: npm is needed to install the book's \
	browser assets (Debian: apt-get install nodejs npm)"; exit 1; }
	$(NPM) ci --ignore-scripts --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/mathjax/es5/output/chtml/fonts $(VENDOR)/mathjax/es5/input/tex \
		$(VENDOR)/widgets
	cp node_modules/mathjax/LICENSE $(VENDOR)/mathjax/
	cp node_modules/mathjax/es5/tex-mml-chtml.js $(VENDOR)/mathjax/es5/
	cp -r node_modules/mathjax/es5/output/chtml/fonts/woff-v2 $(VENDOR)/mathjax/es5/output/chtml/fonts/
	cp -r node_modules/mathjax/es5/input/tex/extensions $(VENDOR)/mathjax/es5/input/tex/
	cp node_modules/requirejs/require.js node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js \
		node_modules/@jupyter-widgets/html-manager/dist/*.woff2 \
		node_modules/@jupyter-widgets/html-manager/dist/*.woff $(VENDOR)/widgets/
	touch $@

# System packages from Debian, installed when missing if we are root (as in CI), otherwise
# the target stops and says what to install. $(1): commands to look for; $(2): packages.
define apt_ensure
	@missing=""; for c in $(1); do command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "make: installing Debian packages $(2) (missing:$$missing)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends $(2) >/dev/null || exit 1; \
		else \
			echo "make: missing$$missing. As root, run:"; \
			echo "    apt-get update && apt-get install -y --no-install-recommends $(2)"; \
			exit 1; \
		fi; \
	fi
endef

# Debian's chromium for the browser tests (never `playwright install`: it downloads a browser).
browser:
	$(call apt_ensure,chromium,chromium)

# pdflatex, latexmk and pdftotext for `make pdf` and its test.
TEX_PACKAGES := latexmk texlive-latex-extra texlive-fonts-recommended tex-gyre poppler-utils
tex:
	$(call apt_ensure,latexmk pdflatex pdftotext,$(TEX_PACKAGES))

# (Re)install when the venv is missing or requirements.txt / pyproject.toml changed.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON_SYSTEM) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip check
	touch $(STAMP)

# The coursework's optional tool (nbgrader, requirements-coursework.txt), installed into the
# same .venv on top of the book's environment, only by the targets that use it.
COURSEWORK := $(VENV)/.coursework-installed
coursework: $(COURSEWORK)

$(COURSEWORK): $(STAMP) requirements-coursework.txt
	$(PY) -m pip install --quiet -r requirements-coursework.txt
	$(PY) -m pip check
	touch $(COURSEWORK)

# The student tree (dist/student/: notebooks, README, requirements.txt; no solution, publish it
# on its own) and the autograder, an nbgrader course directory (dist/autograder/), from the
# instructor notebooks in coursework/source/.
assignments: $(COURSEWORK)
	$(PY) coursework/course.py build --out dist

# Grade handed-in notebooks: make grade SUBMISSIONS=folder (holding <student>/<assignment>.ipynb).
# Scores in dist/autograder/scores.csv (the whole gradebook), one feedback page per notebook in
# dist/autograder/feedback/; lines starting WARNING name restored cells, misnamed or ungraded
# notebooks and edited locked cells. Run it again to regrade.
grade: $(COURSEWORK)
	@test -n "$(SUBMISSIONS)" || { echo "make grade: set SUBMISSIONS=<folder>"; exit 1; }
	$(PY) coursework/course.py grade $(SUBMISSIONS) --course dist/autograder --feedback

book: $(STAMP) vendor
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "Book: $(CURDIR)/_build/html/index.html"

# The whole book as one PDF, through Sphinx's LaTeX builder and pdflatex.
# (_build/latex is emptied first: its Makefile compiles every .tex file left there.)
pdf: $(STAMP) tex
	rm -rf _build/latex
	$(VENV)/bin/jupyter-book build . --builder pdflatex
	@echo "PDF: $(CURDIR)/_build/latex/cnn6.pdf"

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The engine tests, the coursework tests (which generate and grade the assignments: hence
# `coursework`) and the book build test, then every notebook against its stored outputs
# (only when book/ holds notebooks: pytest exits 5 when it collects nothing).
test: lint vendor browser tex coursework
	$(PY) -m pytest -n 2 --dist loadfile tests/
ifneq ($(strip $(NOTEBOOKS)),)
	$(PY) -m pytest -n 2 --dist loadfile --nbval --nbval-current-env \
		--nbval-sanitize-with .nbval-sanitize.cfg book/
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

# Also remove the virtual environment and the npm assets (the next target recreates them).
distclean: clean
	rm -rf $(VENV) node_modules $(VENDOR)

# Performance figures (README, "Performance"): the engine's training-step throughput against a
# naive loop and PyTorch (when installed), then the default recipe over 20 seeds. Not part of test.
bench: $(STAMP)
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_widgets.py
