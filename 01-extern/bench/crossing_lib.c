/* crossing_lib.c: the guest library of `make bench` (see crossing_lib.h). */
#include "crossing_lib.h"

int
cross_nothing(void)
{
    return 0;
}

long long
cross_add(int a, int b)
{
    return (long long)a + b;
}

long long
cross_call_back(cross_fn fn, void *ctx, int n)
{
    unsigned long long total = 0;
    for (int i = 0; i < n; i++) {
        total += (unsigned long long)fn(ctx, i);
    }
    return (long long)total;
}

long long
cross_sum(const long long *values, size_t n)
{
    /* Unsigned arithmetic wraps; signed overflow would be undefined. */
    unsigned long long total = 0;
    for (size_t i = 0; i < n; i++) {
        total += (unsigned long long)values[i];
    }
    return (long long)total;
}
