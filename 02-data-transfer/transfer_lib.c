/* transfer_lib.c: the guest library of stage 02, in plain C (see the
 * header for the contract of each function).
 */
#define _POSIX_C_SOURCE 199309L     /* clock_gettime */
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transfer_lib.h"

int
clamp_int(int value, int lo, int hi)
{
    return value < lo ? lo : value > hi ? hi : value;
}

/* [excerpt: add_ll] */
bool
add_ll(long long a, long long b, long long *sum)
{
    /* Test before adding: once a signed sum has overflowed it is too late,
     * the compiler may assume it never happens. */
    if ((b > 0 && a > LLONG_MAX - b) || (b < 0 && a < LLONG_MIN - b)) {
        return false;
    }
    *sum = a + b;
    return true;
}
/* [/excerpt: add_ll] */

double
scale_double(double x, double factor)
{
    return x * factor;
}

double
round_double(double x, bool up)
{
    return up ? ceil(x) : floor(x);
}

bool
is_nan_double(double x)
{
    return isnan(x);
}

/* [excerpt: utf8_count] */
size_t
utf8_count(const char *text, size_t len)
{
    /* A code point is one lead byte plus 0 to 3 continuation bytes
     * (10xxxxxx): count everything that is not a continuation byte. */
    size_t count = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)text[i] & 0xC0) != 0x80) {
            count++;
        }
    }
    return count;
}

size_t
utf8_count_nul(const char *text)
{
    return utf8_count(text, strlen(text));   /* stops at the first NUL */
}
/* [/excerpt: utf8_count] */

/* The length in bytes of the UTF-8 sequence that starts with `lead`. */
static size_t
utf8_sequence_length(unsigned char lead)
{
    if (lead >= 0xF0) {
        return 4;
    }
    if (lead >= 0xE0) {
        return 3;
    }
    if (lead >= 0xC0) {
        return 2;
    }
    return 1;
}

/* utf8_reverse's buffers not yet freed.  Atomic: cffi calls C with the
 * GIL released, so two threads may count at once. */
static atomic_size_t live_buffers;

/* [excerpt: utf8_reverse] */
void
utf8_reverse_into(const char *text, size_t len, char *out)
{
    /* Copy each sequence, whole, to the mirror position: the code points
     * are reversed, the bytes inside each one keep their order. */
    size_t i = 0;
    while (i < len) {
        size_t step = utf8_sequence_length((unsigned char)text[i]);
        if (step > len - i) {
            step = len - i;         /* a truncated sequence: keep it whole */
        }
        memcpy(out + len - i - step, text + i, step);
        i += step;
    }
}

/* [excerpt: utf8_reverse_alloc] */
char *
utf8_reverse(const char *text, size_t len)
{
    char *out = malloc(len + 1);
    if (out == NULL) {
        return NULL;
    }
    atomic_fetch_add(&live_buffers, 1);
    utf8_reverse_into(text, len, out);
    out[len] = '\0';    /* for C callers; Python callers use the length */
    return out;
}

void
transfer_free(void *memory)
{
    if (memory != NULL) {
        atomic_fetch_sub(&live_buffers, 1);
    }
    free(memory);       /* the same allocator as utf8_reverse's malloc */
}
/* [/excerpt: utf8_reverse_alloc] */
/* [/excerpt: utf8_reverse] */

size_t
transfer_live_buffers(void)
{
    return atomic_load(&live_buffers);
}

uint32_t
adler32_bytes(const unsigned char *data, size_t len)
{
    const uint32_t mod = 65521;
    uint32_t a = 1, b = 0;
    while (len > 0) {
        /* 5552 bytes is the most that cannot overflow b before the mod. */
        size_t chunk = len < 5552 ? len : 5552;
        len -= chunk;
        while (chunk-- > 0) {
            a += *data++;
            b += a;
        }
        a %= mod;
        b %= mod;
    }
    return (b << 16) | a;
}

/* [excerpt: sum_ll] */
bool
sum_ll(const long long *values, size_t n, long long *total)
{
    /* Add as unsigned numbers, where wrapping around is defined, and
     * remember whether a signed sum would have overflowed: it did when
     * both operands have the same sign and the result has the other one.
     * No branch in the loop, so the compiler can vectorise it. */
    unsigned long long sum = 0, overflow = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned long long x = (unsigned long long)values[i];
        unsigned long long next = sum + x;
        overflow |= (sum ^ next) & (x ^ next);
        sum = next;
    }
    if (overflow >> 63) {
        return false;
    }
    /* Back to signed: the value fits, so the conversion keeps it (GCC and
     * Clang define the conversion for every value anyway). */
    *total = (long long)sum;
    return true;
}
/* [/excerpt: sum_ll] */

static int
compare_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

void
sort_ll(long long *values, size_t n)
{
    if (n > 1) {
        qsort(values, n, sizeof values[0], compare_ll);
    }
}

/* Does value * factor fit in a long long?  Asked without multiplying. */
static bool
mul_fits(long long value, long long factor)
{
    if (value == 0 || factor == 0) {
        return true;
    }
    if (value == -1) {
        return factor != LLONG_MIN;
    }
    if (factor == -1) {
        return value != LLONG_MIN;
    }
    if ((value > 0) == (factor > 0)) {
        return value > 0 ? value <= LLONG_MAX / factor
                         : value >= LLONG_MAX / factor;
    }
    return value > 0 ? factor >= LLONG_MIN / value
                     : value >= LLONG_MIN / factor;
}

/* [excerpt: scale_in_place] */
size_t
scale_ll_in_place(long long *values, size_t n, long long factor)
{
    /* Two passes, so that a failure leaves the caller's memory as it was:
     * check everything first, then write. */
    for (size_t i = 0; i < n; i++) {
        if (!mul_fits(values[i], factor)) {
            return i;
        }
    }
    for (size_t i = 0; i < n; i++) {
        values[i] *= factor;
    }
    return n;
}
/* [/excerpt: scale_in_place] */

double
time_sum_ll(const long long *values, size_t n, long runs)
{
    /* Called through a volatile pointer, so that the compiler cannot see
     * that every run computes the same thing and do it only once. */
    bool (*volatile sum)(const long long *, size_t, long long *) = sum_ll;
    long long total;
    struct timespec start, stop;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long r = 0; r < runs; r++) {
        (void)sum(values, n, &total);
    }
    clock_gettime(CLOCK_MONOTONIC, &stop);
    return (double)(stop.tv_sec - start.tv_sec)
           + (double)(stop.tv_nsec - start.tv_nsec) * 1e-9;
}
