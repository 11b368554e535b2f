"""cffi API mode builder for stage 02: writes _transfer_cffi.c, nothing else.

    python3 build_transfer_cffi.py OUT.c

The Makefile compiles OUT.c together with transfer_lib.c, by the same rule
as the hand-written module: no setuptools, no distutils.
"""
import sys

import cffi

# [excerpt: cdef]
ffi = cffi.FFI()
# The declarations cffi needs, copied from transfer_lib.h.  In API mode the
# C compiler sees them beside the real header: a wrong pointer type fails
# the build, but an `int` where the header says `long` is converted without
# a word, so tests/test_cdefs.py compares this text with the header.
ffi.cdef("""
    int clamp_int(int value, int lo, int hi);
    bool add_ll(long long a, long long b, long long *sum);
    double scale_double(double x, double factor);
    double round_double(double x, bool up);
    bool is_nan_double(double x);

    size_t utf8_count(const char *text, size_t len);
    size_t utf8_count_nul(const char *text);
    void utf8_reverse_into(const char *text, size_t len, char *out);
    char *utf8_reverse(const char *text, size_t len);
    void transfer_free(void *memory);
    uint32_t adler32_bytes(const unsigned char *data, size_t len);
    size_t transfer_live_buffers(void);

    bool sum_ll(const long long *values, size_t n, long long *total);
    void sort_ll(long long *values, size_t n);
    size_t scale_ll_in_place(long long *values, size_t n, long long factor);
    double time_sum_ll(const long long *values, size_t n, long runs);
""")
ffi.set_source("_transfer_cffi", '#include "transfer_lib.h"')
# [/excerpt: cdef]

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: build_transfer_cffi.py OUT.c")
    ffi.emit_c_code(sys.argv[1])
