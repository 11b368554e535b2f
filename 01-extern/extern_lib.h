/* extern_lib.h: the interface of the tiny C library used in stage 01.
 *
 * Everything declared here has external linkage: the names are visible to
 * the linker, so a program (a C host, a Python extension module, cffi's
 * dlopen) can find them in the static archive or the shared object.
 */
#ifndef EXTERN_LIB_H
#define EXTERN_LIB_H

/* [excerpt: interface] */
/* A variable with external linkage: one definition, in extern_lib.c.
 * When it is non-zero, the library prints a "[c]" line for each call. */
extern int trace_calls;

/* Plain function: two ints in, one int out.  The caller must keep the sum
 * within int range: signed overflow is undefined behaviour in C. */
int add(int a, int b);

/* A callback: the library calls it with the caller's context pointer and
 * the step number.  It returns 0 to go on, anything else to stop. */
typedef int (*step_fn)(void *context, int step);

/* Calls step(context, i) for i = 0 .. n-1 and returns how many calls it
 * made: n, or fewer if a call returned non-zero (that call is counted). */
int call_n_times(int n, step_fn step, void *context);
/* [/excerpt: interface] */

/* [excerpt: on_thread] */
/* Starts one new thread (POSIX threads), which runs call_n_times(n, step,
 * context); waits for it to end and returns what it returned, or -1 if no
 * thread could be started.  `step` runs on that new thread, never on the
 * caller's, and the caller is blocked in pthread_join() meanwhile. */
int call_n_times_on_thread(int n, step_fn step, void *context);
/* [/excerpt: on_thread] */

#endif /* EXTERN_LIB_H */
