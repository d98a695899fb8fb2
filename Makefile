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
	coursework assignments grade hub-env

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

# xelatex, its fonts, latexmk and pdftotext for `make pdf` and its test.
TEX_PACKAGES := latexmk texlive-latex-extra texlive-fonts-recommended texlive-xetex fonts-freefont-otf fonts-dejavu-core \
	poppler-utils
tex:
	$(call apt_ensure,latexmk xelatex pdftotext,$(TEX_PACKAGES))

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

# The class hub's tools (JupyterHub, nbgitpuller: requirements-hub.txt) on top of the coursework,
# for deploy/jupyterhub_config.py, tests/test_hub.py and benchmarks/bench_class.py.
HUB := $(VENV)/.hub-installed
hub-env: $(HUB)

$(HUB): $(COURSEWORK) requirements-hub.txt
	$(PY) -m pip install --quiet -r requirements-hub.txt
	$(PY) -m pip check
	touch $(HUB)

# Student notebooks (dist/student/) and the autograder, an nbgrader course directory
# (dist/autograder/), from the instructor notebooks in coursework/source/.
assignments: $(COURSEWORK)
	$(PY) coursework/course.py build --out dist

# Grade handed-in notebooks: make grade SUBMISSIONS=folder (holding <student>/<assignment>.ipynb).
# Scores in dist/autograder/scores.csv, one feedback page per notebook in dist/autograder/feedback/.
grade: $(COURSEWORK)
	@test -n "$(SUBMISSIONS)" || { echo "make grade: set SUBMISSIONS=<folder>"; exit 1; }
	$(PY) coursework/course.py grade $(SUBMISSIONS) --course dist/autograder --feedback

book: $(STAMP) vendor
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "Book: $(CURDIR)/_build/html/index.html"

# The whole book as one PDF, through Sphinx's LaTeX builder and xelatex.
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
test: lint vendor browser tex coursework hub-env
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

# JupyterLab on book/, opening the landing notebook (book/start_here.ipynb). As root (a
# container, a cloud VM) JupyterLab refuses to start without --allow-root: pass it then only.
# The URL JupyterLab prints once it is ready (with its token) opens the landing notebook.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: $(STAMP)
	@echo "make lab: starting JupyterLab on book/; open the http://... URL it prints below."
	@echo "make lab: start with start_here.ipynb; stop the server with Ctrl+C."
	$(VENV)/bin/jupyter lab $(LAB_FLAGS) --LabApp.default_url=/lab/tree/start_here.ipynb \
		book/start_here.ipynb

clean:
	rm -rf _build .pytest_cache .hypothesis .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print -exec rm -rf {} +

# Also remove the virtual environment and the npm assets (the next target recreates them).
distclean: clean
	rm -rf $(VENV) node_modules $(VENDOR)

# Performance figures (README, "Performance"): the engine's training-step throughput against a
# naive loop and PyTorch (when installed), then the default recipe over 20 seeds. Not part of test.
bench: $(STAMP) hub-env vendor
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_widgets.py
	$(PY) benchmarks/bench_class.py --runaway
