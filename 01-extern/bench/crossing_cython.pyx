# cython: language_level=3
"""make bench, Cython: the same functions as crossing_capi, written in
Cython's dialect of Python; Cython (`python -m cython`) turns this file
into a C extension module that calls crossing_lib directly."""

from libc.stdlib cimport malloc, free

cdef extern from "crossing_lib.h":
    int cross_nothing()
    long long cross_add(int a, int b)
    ctypedef long long (*cross_fn)(void *ctx, int i)
    long long cross_call_back(cross_fn fn, void *ctx, int n)
    long long cross_sum(const long long *values, size_t n)

# The version of Cython that wrote the C, as its generated code says.
cdef extern from *:
    unsigned long CYTHON_HEX_VERSION

built_with = "Cython %d.%d.%d" % (CYTHON_HEX_VERSION >> 24,
                                  (CYTHON_HEX_VERSION >> 16) & 0xFF,
                                  (CYTHON_HEX_VERSION >> 8) & 0xFF)


def nothing():
    return cross_nothing()


def add(int a, int b):
    return cross_add(a, b)


# Called by C with the GIL held.  A C caller cannot take an exception,
# so a failure is kept in ctx and raised after the loop.
cdef long long call_python(void *ctx, int i) noexcept:
    cdef list box = <list>ctx
    if box[1] is not None:
        return 0
    try:
        return box[0](i)
    except BaseException as exc:
        box[1] = exc
        return 0


def call_back(fn, int n):
    box = [fn, None]
    total = cross_call_back(call_python, <void *>box, n)
    if box[1] is not None:
        raise box[1]
    return total


def sum_list(list values):
    cdef Py_ssize_t n = len(values), i
    cdef long long *copy = <long long *>malloc(max(n, 1) * sizeof(long long))
    if copy == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            copy[i] = values[i]
        return cross_sum(copy, n)
    finally:
        free(copy)


def sum_buffer(const long long[::1] values):
    if values.shape[0] == 0:
        return 0
    return cross_sum(&values[0], values.shape[0])
