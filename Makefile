# Tales from C FFI: staged, runnable examples of Python (host) and C (guest).
# `make` alone prints this help, read from the `## ` comments beside targets.
# The top level only delegates: every stage folder has its own Makefile,
# so `make -C 01-extern run` works too.

PYTHON ?= python3

# common.mk asks the interpreter once, as it does for a stage made on its
# own: its real executable (exported, so that no stage starts pyenv's
# `python3` shell script again), its version if older than 3.10 (then one
# line and exit status 2), and whether cffi is installed (exported: every
# stage reads the answer).
# TOPIC=name is for `make new-stage`; common.mk reads TOPIC as a stage's own
# (set in a stage's Makefile), so the top level keeps it under another name.
NEW_TOPIC := $(TOPIC)
override TOPIC :=
include common.mk
export PYTHON HAVE_CFFI

STAGES := $(sort $(wildcard [0-9][0-9]-*/Makefile))
STAGES := $(patsubst %/Makefile,%,$(STAGES))
# `run-1` -> 01-extern (the stage whose folder starts with 01-).
stage_of = $(firstword $(filter $(shell printf '%02d' $(1))-%,$(STAGES)))

.DEFAULT_GOAL := help
.PHONY: help all run test exercises clean docs skeletons doctor bench new-stage

help: ## Show this help: every target with one line
	@echo "Tales from C FFI: Python hosts, C guests.  Stages: $(STAGES)"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9%_-]+:.*## / { sub(/%/, "N", $$1); printf "  make %-14s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo "  PYTHON=... picks another interpreter (now: $(PYTHON))."

all: ## Build every stage (both roads)
	@$(if $(filter no,$(HAVE_CFFI)),$(MAKE) --no-print-directory -C $(firstword $(STAGES)) cffi-missing)
	@set -e; for s in $(STAGES); do $(MAKE) --no-print-directory -C $$s all CFFI_SAID=1; done
	@$(MAKE) --no-print-directory -C 01-extern/bench core CFFI_SAID=1

run: ## Run the whole tour, every stage in order
	@set -e; for s in $(STAGES); do \
		echo "===== $$s ====="; $(MAKE) --no-print-directory -C $$s run; echo; done

run-%: ## Run one stage, e.g. make run-1
	@$(if $(call stage_of,$*),$(MAKE) --no-print-directory -C $(call stage_of,$*) run,\
		echo "no stage $* (have: $(STAGES))"; exit 2)

# The bench's optional modules (Cython, pybind11, nanobind) are built here,
# before the clock of the tests starts: test_bench runs every row there is.
test: all ## Build everything and run the tests (about a minute; no gates)
	@$(MAKE) --no-print-directory -C 01-extern/bench optional CFFI_SAID=1
	@$(PYTHON) tests/run.py

check-%: ## Check your exercise for stage N, e.g. make check-1
	@$(PYTHON) tests/harness/exercise.py check $*

exercises: ## Progress table of every stage's exercise
	@$(PYTHON) tests/harness/exercise.py progress

docs: ## Refresh the code excerpts in docs/ from the marked source files
	@$(PYTHON) tests/harness/excerpts.py --write

skeletons: ## Regenerate every exercise skeleton from its reference module
	@$(PYTHON) tests/harness/skeleton.py write

new-stage: ## Start your own stage from tests/harness/template: make new-stage TOPIC=name
	@$(PYTHON) tests/harness/new_stage.py "$(NEW_TOPIC)"

doctor: ## Check this machine for the workshop: compiler, headers, cffi, tools
	@$(PYTHON) tests/harness/doctor.py

bench: all ## What a call across costs, every road side by side (a few minutes)
	@$(MAKE) --no-print-directory -C 01-extern/bench bench

# --- packaging (docs/packaging.md) ---
# The stages that ship a wheel are those with a packaging/pyproject.toml;
# each one's `make wheel` (common.mk) builds, repairs and checks its wheel
# and moves it into WHEEL_DIR (dist/; the gate test gives a folder of its
# own), named here by its absolute path: each stage runs in its folder.
WHEEL_STAGES := $(patsubst %/packaging/pyproject.toml,%,$(wildcard \
	[0-9][0-9]-*/packaging/pyproject.toml))
.PHONY: wheel
wheel: ## Wheels into dist/: python -m build, auditwheel repair, twine check (offline)
	@set -e; for s in $(WHEEL_STAGES); do $(MAKE) --no-print-directory \
		-C $$s wheel WHEEL_DIR=$(abspath $(WHEEL_DIR)); done
# --- end packaging ---

# A folder inside a stage with a Makefile of its own (01-extern/bench)
# has its own `clean`.
clean: ## Remove every build product (the gates' folders: make gates-clean)
	@set -e; for s in $(STAGES) $(patsubst %/Makefile,%,$(wildcard \
		$(addsuffix /*/Makefile,$(STAGES)))); do \
		$(MAKE) --no-print-directory -C $$s clean; done
	@rm -rf build dist *.egg-info
	@find tests -name __pycache__ -type d -prune -exec rm -rf {} +

# --- quality gates (tests/gate/, see "Quality gates" in tests/README.md) ---
.PHONY: memcheck sanitize gate-selftest gates gates-clean
GATE_JOBS ?=
GATE_ARGS = $(if $(GATE_JOBS),-j $(GATE_JOBS)) $(STAGE)

memcheck: ## Every stage's run and tests under valgrind (STAGE=N for one)
	@$(PYTHON) tests/gate/gate.py memcheck $(GATE_ARGS)

sanitize: ## Every stage rebuilt with ASan+UBSan in build-asan/, run and tested
	@$(PYTHON) tests/gate/gate.py sanitize $(GATE_ARGS)

gate-selftest: ## Prove the gates can fail: the canary C must be caught
	@$(PYTHON) tests/gate/gate.py selftest

# Every part runs even when an earlier one failed; the status says if any did.
gates: all ## The slow checks: tests/test_gate_*.py, then memcheck and sanitize
	@status=0; \
	$(PYTHON) tests/run.py --gates || status=1; \
	$(PYTHON) tests/gate/gate.py memcheck $(GATE_ARGS) || status=1; \
	$(PYTHON) tests/gate/gate.py sanitize $(GATE_ARGS) || status=1; \
	exit $$status

gates-clean: ## Remove the gates' build places (build-gate/, build-asan/)
	@echo "  CLEAN     build-gate build-asan" && rm -rf build-gate build-asan
	@set -e; for s in $(STAGES); do rm -rf $$s/build-refleak-dbg; done
