"""Stage 03's Limited-API module as an abi3 wheel: one file that every
CPython from 3.11 on imports.  `make wheel` (in the stage folder) runs

    python -m build --wheel --no-isolation --outdir RAW packaging

(RAW is packaging/build/wheels/raw), which calls this file through
setuptools.build_meta (pyproject.toml says so, and holds the metadata:
name, version, readme).  It compiles the stage's sources, one folder up
(..), in build/ here.
Only layout_abi3 goes in: layout_capi (the full C API) would tie the
wheel to one CPython version, which is what this wheel shows it avoids.
No sdist: the C sources include ../../common.h, outside the stage folder.
"""
import os
import sys

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)                       # setuptools wants paths relative to here
os.makedirs("build", exist_ok=True)  # egg_base (below) must exist
# The sources are one folder up, so each object lands one folder above
# the temporary folder: ../layout_lib.c compiles to build/temp/../
# layout_lib.o, which is build/layout_lib.o.  That path resolves only if
# build/temp exists, and some setuptools versions (Debian 12's 66.1) make
# it later than the first compile: make it here.
BUILD_TEMP = os.path.join("build", "temp")
os.makedirs(BUILD_TEMP, exist_ok=True)

if sys.version_info < (3, 11):
    sys.exit("setup.py: layout_abi3 needs CPython 3.11 or newer (its Limited"
             " API has the buffer protocol); this is %d.%d"
             % sys.version_info[:2])

# [excerpt: setup-abi3]
# $(ABI3): CFLAGS += -DPy_LIMITED_API=0x030b0000
# $(ABI3): layout_capi.c layout_lib.c layout_lib.h, by BUILD_EXTENSION.
# py_limited_api=True names the file layout_abi3.abi3.so, as the Makefile
# does by hand; the macro is what restricts the C to the stable ABI.
LAYOUT_ABI3 = Extension(
    "layout_abi3",
    sources=["../layout_capi.c", "../layout_lib.c"],
    depends=["../layout_lib.h", "../../common.h"],
    include_dirs=["..", "../.."],
    define_macros=[("Py_LIMITED_API", "0x030b0000")],
    extra_compile_args=["-std=c11"],
    py_limited_api=True,
)

setup(
    ext_modules=[LAYOUT_ABI3],
    py_modules=[],                   # the module is the extension alone
    options={
        # The wheel's tag: cp311-abi3 = "CPython 3.11 or newer, stable ABI".
        "bdist_wheel": {"py_limited_api": "cp311"},
        "egg_info": {"egg_base": "build"},
        "build": {"build_temp": BUILD_TEMP},
    },
)
# [/excerpt: setup-abi3]
