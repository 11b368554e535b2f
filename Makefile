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
	@$(MAKE) --no-print-directory -C 01-extern/crossing core CFFI_SAID=1

run: ## Run the whole tour, every stage in order
	@set -e; for s in $(STAGES); do \
		echo "===== $$s ====="; $(MAKE) --no-print-directory -C $$s run; echo; done

run-%: ## Run one stage, e.g. make run-1
	@$(if $(call stage_of,$*),$(MAKE) --no-print-directory -C $(call stage_of,$*) run,\
		echo "no stage $* (have: $(STAGES))"; exit 2)

test: all ## Build everything and run the tests (about a minute; no gates)
	@$(PYTHON) tests/run.py

check-%: ## Check your exercise for stage N, e.g. make check-1
	@$(PYTHON) tests/exercise.py check $*

exercises: ## Progress table of every stage's exercise
	@$(PYTHON) tests/exercise.py progress

docs: ## Refresh the code excerpts in docs/ from the marked source files
	@$(PYTHON) tests/excerpts.py --write

skeletons: ## Regenerate every exercise skeleton from its reference module
	@$(PYTHON) tests/skeleton.py write

new-stage: ## Start your own stage from tests/template: make new-stage TOPIC=name
	@$(PYTHON) tests/template/new_stage.py "$(NEW_TOPIC)"

doctor: ## Check this machine for the workshop: compiler, headers, cffi, tools
	@$(PYTHON) tests/doctor.py

bench: all ## What a call across costs, every road side by side (a few minutes)
	@$(MAKE) --no-print-directory -C 01-extern/crossing bench

# --- packaging (docs/06-packaging.md) ---
.PHONY: wheel clean-wheel
# The stages that ship a wheel: each has a setup.py beside its Makefile,
# which compiles the same sources in the stage's build/ folder.
WHEEL_STAGES := $(patsubst %/pyproject.toml,%,$(wildcard [0-9][0-9]-*/pyproject.toml))
# [excerpt: pip-wheel]
# Offline, with the tools this interpreter already has: no index, no
# fresh build environment, no cached wheel from an earlier build.
PIP_WHEEL = $(PYTHON) -m pip wheel --quiet --no-deps --no-index \
	--no-build-isolation --no-cache-dir --wheel-dir dist
# [/excerpt: pip-wheel]

# Asked only when `wheel` is wanted: one line and exit status 2 without
# the tools, as for an interpreter older than 3.10.
ifneq ($(filter wheel,$(MAKECMDGOALS)),)
ifneq ($(shell $(PYTHON) -c 'import setuptools, wheel, pip' >/dev/null 2>&1 && echo yes),yes)
$(error make wheel: $(PYTHON) lacks setuptools, wheel or pip (install: \
	$(PYTHON) -m pip install setuptools wheel; Debian's own python3: \
	sudo apt install python3-setuptools python3-wheel python3-pip))
endif
endif

wheel: ## Build installable wheels into dist/ (offline, no build isolation)
	@$(if $(filter no,$(HAVE_CFFI)),echo "make wheel: cffi is not installed for $(PYTHON): the 05-logger wheel gets road 1 only")
	@set -e; for s in $(WHEEL_STAGES); do \
		if [ $$s = 03-layout ] && ! $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then \
			echo "  WHEEL     $$s: skipped, its Limited API build needs CPython 3.11+"; continue; fi; \
		echo "  WHEEL     $$s -> dist/"; $(PIP_WHEEL) ./$$s; done
	@# The abi3 wheel's tag, read from its WHEEL file: any CPython from
	@# 3.11 on (cp311), the stable ABI (abi3), this platform.
	@$(PYTHON) -c 'import glob, sys, zipfile; \
		names = sorted(glob.glob("dist/layout_abi3-*.whl")); \
		names or sys.exit(0); whl = zipfile.ZipFile(names[-1]); \
		meta = [n for n in whl.namelist() if n.endswith(".dist-info/WHEEL")]; \
		tags = [l[5:] for l in whl.read(meta[0]).decode().splitlines() if l.startswith("Tag: ")]; \
		ok = tags and all(t.startswith("cp311-abi3-") for t in tags) and "layout_abi3.abi3.so" in whl.namelist(); \
		print("  TAG       %s: %s" % (names[-1], " ".join(tags) if ok else "WRONG %r" % tags)); \
		sys.exit(0 if ok else 1)'

clean: clean-wheel
clean-wheel:
	@rm -rf dist
# --- end packaging ---

# A folder inside a stage with a Makefile of its own (01-extern/crossing)
# has its own `clean`.
clean: ## Remove every build product (the gates' folders: make gates-clean)
	@set -e; for s in $(STAGES) $(patsubst %/Makefile,%,$(wildcard \
		$(addsuffix /*/Makefile,$(STAGES)))); do \
		$(MAKE) --no-print-directory -C $$s clean; done
	@rm -rf build *.egg-info
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
