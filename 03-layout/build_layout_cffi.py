"""cffi API mode builder for stage 03: writes _layout_cffi.c, nothing else.

    python3 build_layout_cffi.py OUT.c

The Makefile then compiles OUT.c, with layout_lib.o, by the same rule as a
hand-written extension module: no setuptools, no distutils.
"""
import sys

import cffi

from _road2 import declare

# [excerpt: builder]
ffi = declare(cffi.FFI())
ffi.cdef("""
    /* walk_items' callback, written in Python (see layout_cffi.py). */
    extern "Python" int py_visit(void *context, size_t index, void *item);
""")
# API mode: the generated C includes the real header, and the compiler
# checks every struct of the cdef against it (size and each offset).
ffi.set_source("_layout_cffi", '#include "layout_lib.h"')
# [/excerpt: builder]

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: build_layout_cffi.py OUT.c")
    ffi.emit_c_code(sys.argv[1])
