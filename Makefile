# cnn6: build the book, run the tests. Every target uses the project's own .venv,
# which is created (or refreshed) from requirements.txt when needed.

# The interpreter the venv is made from: `make PYTHON_SYSTEM=python3.12 ...` picks another.
# The pins in requirements.txt install on each of SUPPORTED_PYTHONS (`make test-pythons`).
PYTHON_SYSTEM     ?= python3
SUPPORTED_PYTHONS := 3.10 3.11 3.12 3.13
VENV              ?= .venv
PY            := $(VENV)/bin/python
STAMP         := $(VENV)/.installed
NOTEBOOKS     := $(wildcard book/*.ipynb)

# Deterministic runs: fixed hash seed, kernels found in the venv first.
export PYTHONHASHSEED := 0
# Kernels use the inline matplotlib backend (their default), so figures are stored as images.
export JUPYTER_PATH   := $(CURDIR)/$(VENV)/share/jupyter
# One BLAS thread per process: the engine's matrices are small, and the tests run two workers
# (and their kernels) on two cores, where OpenBLAS's extra threads only spin waiting for a core
# (nbval on chapters 12, 13 and 15: 55 CPU s with the default threads, 31 s with one).
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS      := 1
export MKL_NUM_THREADS      := 1

.PHONY: venv vendor browser tex book pdf test check test-fast nbval test-pythons lock lint \
	execute lab clean distclean bench coursework assignments grade python-supported hub-env

venv: $(STAMP)

# Browser assets the static book serves itself (MathJax, RequireJS, the widgets' HTML manager):
# installed from npm as pinned by package-lock.json, then the files the pages load are copied
# into _vendor/ (listed in html_static_path in _config.yml). Nothing is fetched at read time.
# axe-core (the accessibility tests' engine) is installed with them but stays in node_modules/,
# where tests/accessibility.py reads it: it is not part of the book.
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

# Debian packages (chromium-headless-shell for the browser tests; TeX and poppler for `make pdf`
# and its test), installed when missing if we are root, otherwise the script says what to
# install. The same script serves .ci/run; the package lists live in it alone.
browser:
	@tools/system-packages.sh browser

tex:
	@tools/system-packages.sh tex

# One line, before anything is created, when PYTHON_SYSTEM does not run or is not a supported
# version (asked in a way any Python, even 2, answers). `make python-supported` runs it alone.
PICK_ONE := cnn6 runs on Python $(SUPPORTED_PYTHONS): pick one with make PYTHON_SYSTEM=python3.12
CHECK_PYTHON = { v=$$($(PYTHON_SYSTEM) -c 'import sys; print("%d.%d" % sys.version_info[:2])' \
	2>/dev/null) || { echo "make: $(PYTHON_SYSTEM) does not run; $(PICK_ONE)"; exit 1; }; \
	case " $(SUPPORTED_PYTHONS) " in *" $$v "*) ;; \
	*) echo "make: $(PYTHON_SYSTEM) is Python $$v; $(PICK_ONE)"; exit 1 ;; esac; }

python-supported:
	@$(CHECK_PYTHON)

# The installer: uv, pinned, installed into the venv by pip, then used for every install from
# the pinned files (the same pins pip would take; several times faster on a cold machine).
# It copies from its cache (the cache may sit on another file system than the venv).
UV_VERSION := 0.13.9
GET_UV     = test -x $(VENV)/bin/uv || $(PY) -m pip install --quiet uv==$(UV_VERSION)
UV_INSTALL = UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never $(VENV)/bin/uv pip install --quiet \
	--python $(PY)

# (Re)install when the venv is missing or requirements.txt / pyproject.toml changed.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(CHECK_PYTHON)
	@test -x $(PY) || $(PYTHON_SYSTEM) -m venv $(VENV)
	@$(GET_UV)
	$(UV_INSTALL) -r requirements.txt
	$(PY) -m pip check
	touch $(STAMP)

# The coursework's optional tool (nbgrader, requirements-coursework.txt), installed into the
# same .venv on top of the book's environment, only by the targets that use it.
COURSEWORK := $(VENV)/.coursework-installed
coursework: $(COURSEWORK)

$(COURSEWORK): $(STAMP) requirements-coursework.txt
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "make: the coursework \
	tool (nbgrader 0.9.6) needs Python 3.11 to 3.13; this venv runs " + sys.version.split()[0])'
	@$(GET_UV)
	$(UV_INSTALL) -r requirements-coursework.txt
	$(PY) -m pip check
	touch $(COURSEWORK)

# The class hub's tools (JupyterHub, nbgitpuller: requirements-hub.txt) on top of the coursework,
# for deploy/jupyterhub_config.py, tests/test_hub.py and benchmarks/bench_class.py.
HUB := $(VENV)/.hub-installed
hub-env: $(HUB)

$(HUB): $(COURSEWORK) requirements-hub.txt
	@$(GET_UV)
	$(UV_INSTALL) -r requirements-hub.txt
	$(PY) -m pip check
	touch $(HUB)

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

# The whole book as one PDF, through Sphinx's LaTeX builder and xelatex.
# (_build/latex is emptied first: its Makefile compiles every .tex file left there.)
pdf: $(STAMP) tex
	rm -rf _build/latex
	$(VENV)/bin/jupyter-book build . --builder pdflatex
	@echo "PDF: $(CURDIR)/_build/latex/cnn6.pdf"

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Tests are marked by what they need (markers registered in pyproject.toml): `book` (the
# HTML build, done once per run and shared), `browser` (chromium-headless-shell), `pdf` (TeX),
# `coursework` (nbgrader), `bench` (the benchmark scripts), `hub` (JupyterHub). Unmarked tests
# need only the venv.
SLOW := book or browser or pdf or coursework or bench or hub

# The fast path: lint, then the engine, display and notebook-structure tests (`--dist
# loadgroup`: spread test by test, which balances the two workers better than file by file,
# except the tests marked xdist_group("animations"), kept on one worker that draws them once).
# The slow tests' plugins stay unloaded (nbval, playwright, anyio): nbval's import of nbformat
# and jsonschema alone costs each worker about a second before its first test.
FAST_TESTS = $(PY) -m pytest -n 2 --dist loadgroup -q -p no:nbval -p no:playwright -p no:anyio \
	-m "not ($(SLOW))" tests/
check: lint
	$(FAST_TESTS)

NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with .nbval-sanitize.cfg

# Every notebook against its stored outputs (only when book/ holds notebooks: pytest exits 5
# when it collects nothing).
nbval: $(STAMP)
ifneq ($(strip $(NOTEBOOKS)),)
	$(PY) -m pytest -n 2 --dist loadfile $(NBVAL_FLAGS) book/
else
	@echo "No notebooks in book/ yet: nbval skipped."
endif

# Everything: lint, every test (the slow ones too: one book build shared by the build,
# browser and PDF tests; the assignments generated and graded) and every notebook against its
# stored outputs (nbval), in one run on two workers, a whole file to a worker, the slow files
# first (the order is set in tests/conftest.py), so that both workers finish together.
test: lint vendor browser tex coursework hub-env
	$(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=15 \
		tests/ $(if $(strip $(NOTEBOOKS)),$(NBVAL_FLAGS) book/)

# The engine tests and nbval on one interpreter, in its own venv: what test-pythons runs.
test-fast: $(STAMP)
	$(FAST_TESTS)
	$(MAKE) --no-print-directory nbval

# test-fast on every supported Python found (python3.X on the PATH if it runs, else pyenv's
# latest 3.X, as pyenv's shims are on the PATH even for versions they do not select),
# each in its own venv .venv-3.X; lists the versions not found. Fails if any run fails.
# `make test-pythons TEST_PYTHONS="3.10 3.13"` tries only those, SKIP_PYTHONS=3.11 all but that.
PYENV_ROOT   ?= $(HOME)/.pyenv
TEST_PYTHONS ?= $(filter-out $(SKIP_PYTHONS),$(SUPPORTED_PYTHONS))
test-pythons:
	@found=""; missing=""; failed=""; \
	for v in $(TEST_PYTHONS); do \
		py=$$(command -v python$$v 2>/dev/null || true); \
		if [ -z "$$py" ] || ! "$$py" -c "" 2>/dev/null; then \
			py=$$(ls -d $(PYENV_ROOT)/versions/$$v.*/bin/python 2>/dev/null | sort -V | tail -n 1); \
		fi; \
		if [ -z "$$py" ]; then missing="$$missing $$v"; continue; fi; \
		echo "==== Python $$v: $$py"; \
		if $(MAKE) --no-print-directory VENV=.venv-$$v PYTHON_SYSTEM=$$py test-fast; then \
			found="$$found $$v"; else failed="$$failed $$v"; fi; \
	done; \
	echo "test-pythons: passed on:$${found:- none}; failed on:$${failed:- none}; not found:$${missing:- none}"; \
	test -z "$$failed"

# Recompile requirements.txt and requirements-coursework.txt from their .in files with uv
# (in a throwaway venv), one universal lock for every supported Python: where a package has no
# release for all of them, the lock holds one pin per range of versions, with a marker.
# Pins already in the files are kept when they still fit; `make lock UPGRADE=--upgrade` lifts them.
UV         := _build/uv/bin/uv
lock:
	@test -x $(UV) || { $(PYTHON_SYSTEM) -m venv _build/uv && \
		_build/uv/bin/pip install --quiet uv==$(UV_VERSION); }
	UV_PYTHON_DOWNLOADS=never $(UV) pip compile --quiet $(UPGRADE) --universal \
		--python-version 3.10 requirements.in -o requirements.txt
	grep -v '^-e ' requirements.txt > _build/book-pins.txt
	UV_PYTHON_DOWNLOADS=never $(UV) pip compile --quiet --universal --python-version 3.11 \
		-c _build/book-pins.txt requirements-coursework.in -o requirements-coursework.txt

# Re-execute every notebook in place in a fresh kernel of the venv, storing widget state; then
# join each cell's consecutive prints into one output (nbconvert coalesces before it executes,
# so a second pass does it), as a print split by the kernel's flush timer would show as two.
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
	$(PY) -m jupyter nbconvert --to notebook --inplace --log-level=WARN \
		--CoalesceStreamsPreprocessor.enabled=True $(NOTEBOOKS)
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
	find . -path './.venv*' -prune -o -name __pycache__ -type d -print -exec rm -rf {} +

# Also remove the virtual environment and the npm assets (the next target recreates them).
distclean: clean
	rm -rf .venv .venv-3.* node_modules $(VENDOR)

# Performance figures (README, "Performance"): the engine's training-step throughput against a
# naive loop and PyTorch (when installed), then the default recipe over 20 seeds. Not part of test.
bench: $(STAMP) hub-env vendor
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_widgets.py
	$(PY) benchmarks/bench_class.py --runaway
