# common.mk: the build rules every stage shares.  Each stage Makefile says
# `include ../common.mk` and then writes its own targets with the recipes below.
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

# The repository's top folder (this file's folder): pycompat.h lives there.
TOP := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

# Resolve the interpreter to its real executable.  With pyenv, `python3` is
# a shell script: valgrind (RUN=valgrind) would check the shell, not Python.
PYTHON_EXE := $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null)
ifeq ($(PYTHON_EXE),)
$(error cannot run '$(PYTHON)': set PYTHON to a working interpreter)
endif
override PYTHON := $(PYTHON_EXE)

# CPython 3.10 or newer (pycompat.h covers 3.10 to 3.13): an older one gets
# one line and exit status 2, not a page of compiler errors.
PY_TOO_OLD := $(shell $(PYTHON) -c 'import sys; sys.version_info < (3, 10) \
	and print("%d.%d.%d" % sys.version_info[:3])')
ifneq ($(PY_TOO_OLD),)
$(error $(PYTHON) is CPython $(PY_TOO_OLD): these examples need 3.10 or newer)
endif

# What this interpreter wants, asked of the interpreter itself.
PY_INCLUDE := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
EXT_SUFFIX := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')

RUN ?=

# Where products go: beside the sources unless BUILD names a sub-folder.
B := $(if $(BUILD),$(BUILD),.)

# C11, every warning an error, position-independent so that any object can
# end up in a shared object, optimised but debuggable.  -gdwarf-4: the
# debug format valgrind 3.19 reads (clang 14 writes DWARF 5 by default).
CFLAGS := -std=c11 -Wall -Wextra -Werror -fPIC -O2 -gdwarf-4 -I. $(EXTRA_CFLAGS)
LDFLAGS := $(EXTRA_LDFLAGS)
PY_CFLAGS := -I$(PY_INCLUDE) -I$(TOP)

# cffi is optional: without it the C-API road still builds and its tests run.
# The top-level Makefile asks once and exports the answer to every stage.
ifndef HAVE_CFFI
HAVE_CFFI := $(shell $(PYTHON) -c 'import cffi' >/dev/null 2>&1 && echo yes || echo no)
endif
CFFI_MISSING_MSG := cffi is not installed for $(PYTHON): skipping the cffi road (install: sudo apt install python3-cffi, or $(PYTHON) -m pip install cffi)

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
PYTHON_CONFIG ?= $(PYTHON)-config
BUILD_EMBED_PROGRAM = @mkdir -p $(@D) && echo "  LD [embed] $@" && \
	$(CC) $(CFLAGS) $(PY_CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDFLAGS) \
	$$($(PYTHON_CONFIG) --embed --ldflags)

# What every stage's `clean` removes, whatever interpreter built it:
# objects, archives, shared objects, generated cffi C, build folders.
CLEAN_PRODUCTS = rm -f *.o *.a *.so _*_cffi.c && \
	rm -rf exercise/build build-* __pycache__

# Every stage gets these for free.
.PHONY: all run clean exercise cffi-missing
.DEFAULT_GOAL := all

# Said once per `make`: the top-level Makefile says it and sets CFFI_SAID.
cffi-missing:
	@$(if $(CFFI_SAID),true,echo "$(CFFI_MISSING_MSG)")
