"""cffi API mode builder for stage 01: writes _extern_cffi.c, nothing else.

    python3 build_extern_cffi.py OUT.c

The Makefile then compiles OUT.c, with libextern.a, by the same rule as a
hand-written extension module: no setuptools, no distutils.
"""
import sys

import cffi

from _road2 import CDEF

# [excerpt: builder]
ffi = cffi.FFI()
ffi.cdef(CDEF + """
    /* Implemented in Python with @ffi.def_extern(); C sees a plain
     * function, compiled into the module, with no run-time code. */
    extern "Python" int py_step(void *context, int step);
    /* The same, without our exception guard (see extern_cffi.py). */
    extern "Python" int py_step_unguarded(void *context, int step);
    /* What C calls while call_on_thread() waits (a Ctrl-C check). */
    extern "Python" int py_check(void *check_arg);
""")
ffi.set_source("_extern_cffi", '#include "extern_lib.h"')
# [/excerpt: builder]

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: build_extern_cffi.py OUT.c")
    ffi.emit_c_code(sys.argv[1])
