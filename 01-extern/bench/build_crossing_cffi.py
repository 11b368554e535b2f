"""cffi API mode builder for `make bench`: writes _crossing_cffi.c.

    python3 build_crossing_cffi.py OUT.c

The same declarations serve ABI mode: bench.py passes CDEF to
ffi.cdef() and opens libcrossing.so with ffi.dlopen().
"""
import sys

import cffi

CDEF = """
    int cross_nothing(void);
    long long cross_add(int a, int b);
    typedef long long (*cross_fn)(void *ctx, int i);
    long long cross_call_back(cross_fn fn, void *ctx, int n);
    long long cross_sum(const long long *values, size_t n);
"""

ffi = cffi.FFI()
ffi.cdef(CDEF + """
    /* Written in Python with @ffi.def_extern(); compiled into the module
     * as a plain C function, so no trampoline is made at run time. */
    extern "Python" long long py_call_back(void *ctx, int i);
""")
ffi.set_source("_crossing_cffi", '#include "crossing_lib.h"')

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: build_crossing_cffi.py OUT.c")
    ffi.emit_c_code(sys.argv[1])
