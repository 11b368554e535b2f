# Tales from C FFI: staged, runnable examples of Python (host) and C (guest).
# `make` alone prints this help, read from the `## ` comments beside targets.
# The top level only delegates: every stage folder has its own Makefile,
# so `make -C 01-extern run` works too.

PYTHON ?= python3
export PYTHON

# CPython 3.10 or newer: an older one gets this one line and exit status 2.
PY_TOO_OLD := $(shell $(PYTHON) -c 'import sys; sys.version_info < (3, 10) \
	and print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)
ifneq ($(PY_TOO_OLD),)
$(error $(PYTHON) is CPython $(PY_TOO_OLD): these examples need 3.10 or newer)
endif

STAGES := $(sort $(wildcard [0-9][0-9]-*/Makefile))
STAGES := $(patsubst %/Makefile,%,$(STAGES))
# `run-1` -> 01-extern (the stage whose folder starts with 01-).
stage_of = $(firstword $(filter $(shell printf '%02d' $(1))-%,$(STAGES)))

# Ask once whether cffi is importable; every stage reads the answer.
HAVE_CFFI := $(shell $(PYTHON) -c 'import cffi' >/dev/null 2>&1 && echo yes || echo no)
export HAVE_CFFI

.DEFAULT_GOAL := help
.PHONY: help all run test exercises clean docs skeletons doctor bench

help: ## Show this help: every target with one line
	@echo "Tales from C FFI: Python hosts, C guests.  Stages: $(STAGES)"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9%_-]+:.*## / { sub(/%/, "N", $$1); printf "  make %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo "  PYTHON=... picks another interpreter (now: $(PYTHON))."

all: ## Build every stage (both roads)
	@$(if $(filter no,$(HAVE_CFFI)),$(MAKE) --no-print-directory -C $(firstword $(STAGES)) cffi-missing)
	@set -e; for s in $(STAGES); do $(MAKE) --no-print-directory -C $$s all CFFI_SAID=1; done

run: ## Run the whole tour, every stage in order
	@set -e; for s in $(STAGES); do \
		echo "===== $$s ====="; $(MAKE) --no-print-directory -C $$s run; echo; done

run-%: ## Run one stage, e.g. make run-1
	@$(if $(call stage_of,$*),$(MAKE) --no-print-directory -C $(call stage_of,$*) run,\
		echo "no stage $* (have: $(STAGES))"; exit 2)

test: all ## Build everything and run the whole test suite
	@$(PYTHON) tests/run.py

check-%: ## Check your exercise for stage N, e.g. make check-1
	@$(PYTHON) tests/exercise.py check $*

exercises: ## Progress table of every stage's exercise
	@$(PYTHON) tests/exercise.py progress

docs: ## Refresh the code excerpts in docs/ from the marked source files
	@$(PYTHON) tests/excerpts.py --write

skeletons: ## Regenerate every exercise skeleton from its reference module
	@$(PYTHON) tests/skeleton.py write

doctor: ## Check this machine for the workshop: compiler, headers, cffi, tools
	@$(PYTHON) tests/doctor.py

bench: all ## What a call across costs, every road side by side (a few minutes)
	@$(MAKE) --no-print-directory -C 01-extern/crossing bench

# --- packaging (docs/06-packaging.md) ---
.PHONY: wheel
wheel: ## Build installable wheels into dist/ (offline, no build isolation)
	@echo "make wheel: not written yet"; exit 2
# --- end packaging ---

clean: ## Remove every build product
	@set -e; for s in $(STAGES); do $(MAKE) --no-print-directory -C $$s clean; done
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

gates: memcheck sanitize ## Both gates, one after the other

gates-clean: ## Remove the gates' build places (build-gate/, build-asan/)
	rm -rf build-gate build-asan
	@set -e; for s in $(STAGES); do rm -rf $$s/build-refleak-dbg; done
