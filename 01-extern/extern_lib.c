/* extern_lib.c: the guest library of stage 01, in plain C.
 *
 * It knows nothing of Python.  Three kinds of client use it unchanged:
 * a C program (static or dynamic linking), a C-API extension module and
 * cffi (API mode links it in, ABI mode dlopens the shared object).
 */
/* clock_gettime() and pthread_condattr_setclock() are POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "extern_lib.h"

int trace_calls = 0;

/* [excerpt: add] */
int
add(int a, int b)
{
    int sum = a + b;
    if (trace_calls) {
        printf("[c] add(%d, %d) = %d\n", a, b, sum);
        /* Python has its own stdout buffer; flush ours so that the lines
         * of both languages come out in the order they were written. */
        fflush(stdout);
    }
    return sum;
}
/* [/excerpt: add] */

/* [excerpt: call_n_times] */
int
call_n_times(int n, step_fn step, void *context)
{
    int calls = 0;
    for (int i = 0; i < n; i++) {
        if (trace_calls) {
            printf("[c] call_n_times: step %d, calling back\n", i);
            fflush(stdout);
        }
        calls++;
        if (step(context, i) != 0) {
            if (trace_calls) {
                printf("[c] call_n_times: the callback asked to stop at "
                       "step %d\n", i);
                fflush(stdout);
            }
            break;
        }
    }
    if (trace_calls) {
        printf("[c] call_n_times: returning %d\n", calls);
        fflush(stdout);
    }
    return calls;
}
/* [/excerpt: call_n_times] */

/* [excerpt: on_thread] */
/* What the new thread and its caller share.  `lock` guards `done` and
 * `calls`; `stop` is read by the thread between steps, without it. */
struct thread_job {
    int n;
    step_fn step;
    void *context;
    atomic_int stop;        /* 1: the caller asked the thread to stop */
    int skipped;            /* 1: a step was not made because of `stop` */
    int calls;
    int done;
    pthread_mutex_t lock;
    pthread_cond_t ended;
};

/* Each step of the thread's call_n_times(): the caller's step, unless the
 * caller asked to stop (that counts as the step that stopped the loop,
 * so call_n_times counts it: thread_main takes it off again). */
static int
step_unless_stopped(void *arg, int i)
{
    struct thread_job *job = arg;
    if (atomic_load(&job->stop)) {
        job->skipped = 1;
        return 1;
    }
    return job->step(job->context, i);
}

static void *
thread_main(void *arg)
{
    struct thread_job *job = arg;
    int calls = call_n_times(job->n, step_unless_stopped, job);
    pthread_mutex_lock(&job->lock);
    job->calls = calls - job->skipped;
    job->done = 1;
    pthread_cond_signal(&job->ended);
    pthread_mutex_unlock(&job->lock);
    return NULL;
}

int
call_n_times_on_thread(int n, step_fn step, void *context)
{
    return call_n_times_on_thread_until(n, step, context, NULL, NULL);
}

int
call_n_times_on_thread_until(int n, step_fn step, void *context,
                             check_fn check, void *check_arg)
{
    struct thread_job job = {.n = n, .step = step, .context = context};
    pthread_t thread;
    pthread_condattr_t attr;
    atomic_init(&job.stop, 0);
    if (pthread_condattr_init(&attr) != 0) {
        return -1;
    }
    /* Wait by the monotonic clock: setting the date must not make a
     * wait of CALL_CHECK_MS last an hour. */
    int failed = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0
                 || pthread_cond_init(&job.ended, &attr) != 0;
    pthread_condattr_destroy(&attr);
    if (failed) {
        return -1;
    }
    if (pthread_mutex_init(&job.lock, NULL) != 0) {
        pthread_cond_destroy(&job.ended);
        return -1;
    }
    if (trace_calls) {
        printf("[c] call_n_times_on_thread: starting a thread, then "
               "joining it\n");
        fflush(stdout);
    }
    if (pthread_create(&thread, NULL, thread_main, &job) != 0) {
        pthread_mutex_destroy(&job.lock);
        pthread_cond_destroy(&job.ended);
        return -1;
    }
    /* `job` lives on this stack: we must not return before the thread
     * has finished with it, whatever check says. */
    pthread_mutex_lock(&job.lock);
    while (!job.done) {
        if (check == NULL || atomic_load(&job.stop)) {
            pthread_cond_wait(&job.ended, &job.lock);
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += CALL_CHECK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec += 1;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&job.ended, &job.lock, &until);
        if (!job.done) {
            /* check may run Python code, which may wait for the thread's
             * callback: never call it with our lock held. */
            pthread_mutex_unlock(&job.lock);
            if (check(check_arg) != 0) {
                atomic_store(&job.stop, 1);
            }
            pthread_mutex_lock(&job.lock);
        }
    }
    pthread_mutex_unlock(&job.lock);
    pthread_join(thread, NULL);
    pthread_mutex_destroy(&job.lock);
    pthread_cond_destroy(&job.ended);
    if (trace_calls) {
        printf("[c] call_n_times_on_thread: the thread made %d calls\n",
               job.calls);
        fflush(stdout);
    }
    return job.calls;
}
/* [/excerpt: on_thread] */
