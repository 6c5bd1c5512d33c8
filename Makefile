# The two commands a user needs are `make demo` and `make test`; both set up .venv first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export OMP_NUM_THREADS ?= 1
export MPLBACKEND ?= Agg
export PYTHONHASHSEED ?= 0

.PHONY: setup demo test test-slow test-quadrants test-quadrants-ci lint bench clean readme

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tacsuite demo --out runs/demo

# Tests run in one worker process per core (pytest-xdist). Most of a simulator test's time
# is Taichi building kernels in Python, one core per process, so two workers on two cores
# take about half the wall time of one. A file stays on one worker (--dist loadfile): its
# module fixtures share compiled worlds. TEST_WORKERS=0 runs in this process (a debugger).
TEST_WORKERS ?= auto
PYTEST_PAR   := -n $(TEST_WORKERS) --dist loadfile

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_PAR)

# The simulator tests on Quadrants, the maintained fork of Taichi (installs the extra).
# The whole of tests/sim on Quadrants takes longer than CI's budget for it (about 13 CPU
# minutes), so CI runs a subset: the backend itself, the Taichi-vs-Quadrants agreement
# (a press, a slide and a rollout gradient), rigid bodies, the contact hash and the
# frictional quasi-static press.
QD_STAMP    := $(VENV)/.installed-quadrants
QD_TESTS    ?= tests/sim
QD_CI_TESTS ?= tests/sim/test_backend.py tests/sim/test_backends_agree.py \
               tests/sim/test_rigid_dynamics.py tests/sim/test_spatial_hash.py \
               tests/sim/test_press_friction.py

$(QD_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,quadrants]"
	touch $(QD_STAMP)

test-quadrants: $(QD_STAMP)
	TACSUITE_BACKEND=quadrants $(BIN)/python -m pytest -q $(PYTEST_PAR) $(QD_TESTS)

test-quadrants-ci: $(QD_STAMP)
	TACSUITE_BACKEND=quadrants $(BIN)/python -m pytest -q $(PYTEST_PAR) $(QD_CI_TESTS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_PAR) -m slow || [ $$? -eq 5 ]  # 5: no slow test selected

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	@for s in $(wildcard scripts/bench_*.py); do echo "== $$s"; $(BIN)/python $$s || exit 1; done

readme: $(STAMP)
	$(BIN)/python scripts/update_readme.py

clean:
	rm -rf runs .pytest_cache
