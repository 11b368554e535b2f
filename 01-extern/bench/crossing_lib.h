/* crossing_lib.h: the guest library that `make bench` calls from every road.
 *
 * Each function does almost nothing, on purpose: what the benchmark
 * measures is the crossing (argument conversion, the call, the result
 * coming back), not the work.  Plain C: no Python anywhere in it.
 */
#ifndef CROSSING_LIB_H
#define CROSSING_LIB_H

#include <stddef.h>

/* No argument, nothing to convert: the floor of a call. */
int cross_nothing(void);

/* Two C ints in, their sum out; long long, so that no sum can overflow. */
long long cross_add(int a, int b);

/* Calls fn(ctx, i) for i = 0 .. n-1 and returns the sum of the results:
 * C calling back into the host n times. */
typedef long long (*cross_fn)(void *ctx, int i);
long long cross_call_back(cross_fn fn, void *ctx, int n);

/* The sum of n values that C only reads: it neither keeps the pointer nor
 * frees it, so the memory may belong to Python (a buffer) or to the caller
 * (a copy).  The sum wraps around instead of overflowing. */
long long cross_sum(const long long *values, size_t n);

#endif
