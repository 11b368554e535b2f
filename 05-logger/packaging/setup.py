"""Stage 05 as a wheel: what `maturin build` does in the article, done
with setuptools for C.  `make wheel` (in the stage folder) runs

    python -m build --wheel --no-isolation --outdir RAW packaging

(RAW is packaging/build/wheels/raw), which calls this file through
setuptools.build_meta (pyproject.toml says so, and holds the metadata:
name, version, readme).  It compiles the same sources as the stage's
Makefile, one folder up (..), in build/ here, and packs both roads into
one wheel:

    tales_from_ffi   road 1, logger_capi.c + logger_lib.c   (Extension)
    logger_cffi      road 2, the Python wrapper, and
    _logger_cffi     its C part, from build_logger_cffi.py  (cffi_modules)

Each setting below says which Makefile rule it stands for
(docs/packaging.md puts them side by side).  No sdist: the C sources
include ../../common.h, which lives outside the stage folder.
"""
import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

try:
    import cffi
except ImportError:
    cffi = None

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)                       # setuptools wants paths relative to here
os.makedirs("build", exist_ok=True)  # egg_base (below) must exist
# The sources are one folder up, so each object lands one folder above
# the temporary folder: ../logger_lib.c compiles to build/temp/../
# logger_lib.o, which is build/logger_lib.o.  That path resolves only if
# build/temp exists, and some setuptools versions (Debian 12's 66.1) make
# it later than the first compile: make it here.
BUILD_TEMP = os.path.join("build", "temp")
os.makedirs(BUILD_TEMP, exist_ok=True)

# [excerpt: setup-capi]
# $(B)/logger_lib.o: logger_lib.c logger_lib.h, with CFLAGS += -pthread.
# build_clib compiles it into a static library in build/, and build_ext
# links that library into every module of the wheel, as Make links the
# object into both.
LOGGER_LIB = ("logger_lib", {
    "sources": ["../logger_lib.c"],
    "obj_deps": {"": ["../logger_lib.h"]},
    "cflags": ["-std=c11", "-pthread"],
})

# $(CAPI): logger_capi.c $(B)/logger_lib.o logger_lib.h, by BUILD_EXTENSION.
# The file name's suffix (.cpython-311-x86_64-linux-gnu.so) comes from the
# interpreter, as $(EXT_SUFFIX) does.
TALES_FROM_FFI = Extension(
    "tales_from_ffi",
    sources=["../logger_capi.c"],
    depends=["../logger_lib.h"],
)
# [/excerpt: setup-capi]


# [excerpt: setup-common]
class build_ext_common(build_ext):
    """What common.mk's CFLAGS and this Makefile's `+= -pthread` give every
    module here, the cffi one included (its own settings come from
    build_logger_cffi.py): C11, and logger_lib.c's writer thread."""

    def build_extension(self, ext):
        ext.extra_compile_args = list(ext.extra_compile_args) + [
            "-std=c11", "-pthread"]
        ext.extra_link_args = list(ext.extra_link_args) + ["-pthread"]
        super().build_extension(ext)


# CFLAGS's -I. and PY_CFLAGS's -I$(TOP) (common.h), seen from here, for
# every module: cffi's generated C is compiled in build/ and must still
# find logger_lib.h.
BUILD_EXT_OPTIONS = {"include_dirs": ["..", "../.."]}
# [/excerpt: setup-common]


def cffi_road():
    """Road 2's settings, or none (and a note) without cffi, as the
    Makefile builds road 1 alone then."""
    if cffi is None:
        print("setup.py: cffi is not installed: the wheel gets road 1 only")
        return {"py_modules": []}   # no module found by guessing either
    # [excerpt: setup-cffi]
    # $(B)/_logger_cffi.c: build_logger_cffi.py (CFFI_EMIT) and
    # $(CFFI): $(B)/_logger_cffi.c $(B)/logger_lib.o: cffi runs the builder,
    # takes its `ffi`, writes the C into build/ and adds an Extension
    # for it.  The compiled module needs cffi's runtime (_cffi_backend),
    # so users who want road 2 install the extra: tales-from-ffi[cffi].
    cffi_version = ".".join(cffi.__version__.split(".")[:2])
    return {
        "cffi_modules": ["../build_logger_cffi.py:ffi"],
        # logger_cffi.py and the _common.py it imports (a link to
        # ../common.py: the wheel gets the file) are one folder up.
        "py_modules": ["logger_cffi", "_common"],
        "package_dir": {"": ".."},
        "extras_require": {"cffi": ["cffi>=" + cffi_version]},
    }
    # [/excerpt: setup-cffi]


setup(
    libraries=[LOGGER_LIB],
    ext_modules=[TALES_FROM_FFI],
    cmdclass={"build_ext": build_ext_common},
    # Metadata goes to build/ too: nothing new beside the sources.
    options={"build_ext": BUILD_EXT_OPTIONS,
             "egg_info": {"egg_base": "build"},
             "build": {"build_temp": BUILD_TEMP}},
    **cffi_road(),
)
