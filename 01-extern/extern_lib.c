/* extern_lib.c: the guest library of stage 01, in plain C.
 *
 * It knows nothing of Python.  Three kinds of client use it unchanged:
 * a C program (static or dynamic linking), a C-API extension module and
 * cffi (API mode links it in, ABI mode dlopens the shared object).
 */
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
