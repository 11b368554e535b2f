/* transfer_lib.h: the plain C library of stage 02.  It knows nothing of
 * Python: it takes C values, C strings with their length, and C arrays with
 * their element count.  Everything Python-shaped happens in the wrappers.
 */
#ifndef TRANSFER_LIB_H
#define TRANSFER_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* [excerpt: scalars] */
/* Scalars travel by value: the callee gets its own copy in a register. */

/* The caller must pass lo <= hi. */
int clamp_int(int value, int lo, int hi);

/* Signed overflow is undefined behaviour in C, so this checks first:
 * false (and *sum untouched) if a + b does not fit in a long long. */
bool add_ll(long long a, long long b, long long *sum);

/* IEEE 754 arithmetic: NaN and the infinities go in and come out. */
double scale_double(double x, double factor);
double round_double(double x, bool up);

/* A C bool out: true for NaN, the one value that is not equal to itself. */
bool is_nan_double(double x);
/* [/excerpt: scalars] */

/* [excerpt: strings] */
/* Strings come with their length: an embedded NUL byte is just a byte. */
size_t utf8_count(const char *text, size_t len);

/* The classic C way: the string ends at the first NUL byte. */
size_t utf8_count_nul(const char *text);

/* Writes the code points of text in reverse order into out, which the
 * caller owns and which holds len bytes (no NUL is added). */
void utf8_reverse_into(const char *text, size_t len, char *out);

/* Returns ownership: a new NUL-terminated buffer of len + 1 bytes holding
 * the code points of text in reverse order, or NULL when out of memory.
 * It comes from this library's allocator: free it with transfer_free(). */
char *utf8_reverse(const char *text, size_t len);
void transfer_free(void *memory);

/* Raw bytes: the Adler-32 checksum (the same as Python's zlib.adler32). */
uint32_t adler32_bytes(const unsigned char *data, size_t len);
/* [/excerpt: strings] */

/* How many buffers from utf8_reverse() transfer_free() has not yet taken
 * back, counted by the library itself for the tests.  Process-wide and
 * unsynchronised: exact while one thread at a time calls these two. */
size_t transfer_live_buffers(void);

/* [excerpt: arrays] */
/* Arrays are a pointer and a count; the caller owns the memory. */

/* false (and *total untouched) if the sum does not fit in a long long. */
bool sum_ll(const long long *values, size_t n, long long *total);

/* Sorts values[0..n-1] in place, ascending. */
void sort_ll(long long *values, size_t n);

/* Multiplies every element by factor, in place, all or nothing: returns n
 * when done, else the index of the first element that would overflow,
 * and then the array is unchanged. */
size_t scale_ll_in_place(long long *values, size_t n, long long factor);

/* Runs sum_ll over the array `runs` times and returns the seconds it took,
 * measured inside C (for the benchmark in run.py). */
double time_sum_ll(const long long *values, size_t n, long runs);
/* [/excerpt: arrays] */

#endif /* TRANSFER_LIB_H */
