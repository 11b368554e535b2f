/* extern_lib.c: the guest library of stage 01, in plain C.
 *
 * It knows nothing of Python.  Three kinds of client use it unchanged:
 * a C program (static or dynamic linking), a C-API extension module and
 * cffi (API mode links it in, ABI mode dlopens the shared object).
 */
#include <pthread.h>
#include <stdio.h>

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
/* What the new thread needs: pthread_create passes one void *. */
struct thread_job {
    int n;
    step_fn step;
    void *context;
    int calls;
};

static void *
thread_main(void *arg)
{
    struct thread_job *job = arg;
    job->calls = call_n_times(job->n, job->step, job->context);
    return NULL;
}

int
call_n_times_on_thread(int n, step_fn step, void *context)
{
    struct thread_job job = {.n = n, .step = step, .context = context};
    pthread_t thread;
    if (trace_calls) {
        printf("[c] call_n_times_on_thread: starting a thread, then "
               "joining it\n");
        fflush(stdout);
    }
    if (pthread_create(&thread, NULL, thread_main, &job) != 0) {
        return -1;
    }
    /* `job` lives on this stack: we must not return before the thread
     * has finished with it. */
    pthread_join(thread, NULL);
    if (trace_calls) {
        printf("[c] call_n_times_on_thread: the thread made %d calls\n",
               job.calls);
        fflush(stdout);
    }
    return job.calls;
}
/* [/excerpt: on_thread] */
