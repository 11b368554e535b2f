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

/* [excerpt: on_thread_until] */
/* A caller blocked in pthread_join() cannot be interrupted: a signal
 * handler (Ctrl-C) waits until the thread has made all n calls.  This one
 * waits in steps of CALL_CHECK_MS instead, and after each it calls
 * check(check_arg) on the caller's thread.  Non-zero tells the thread to
 * stop before its next step: the step running then (a callback) is not
 * cut short, and the call returns as soon as it has returned, with the
 * number of steps made.  check is not called again after it said stop;
 * NULL never stops (call_n_times_on_thread). */
typedef int (*check_fn)(void *check_arg);
#define CALL_CHECK_MS 50
int call_n_times_on_thread_until(int n, step_fn step, void *context,
                                 check_fn check, void *check_arg);
/* [/excerpt: on_thread_until] */

#endif /* EXTERN_LIB_H */
