/* host.c: a C program is the host here, the library is linked in.
 *
 * The same source is linked twice (see the Makefile):
 *   host-static   against libextern.a: add's code is copied into the program
 *   host-dynamic  against libextern.so: the loader finds add at start-up
 * Both must print exactly the same thing.
 */
#include <stdio.h>

#include "extern_lib.h"

static int
print_step(void *context, int step)
{
    const char *who = context;
    printf("[c host] %s callback, step %d\n", who, step);
    return 0;
}

int
main(void)
{
    trace_calls = 1;
    printf("[c host] main() is in C; calling add(2, 3)\n");
    int sum = add(2, 3);
    printf("[c host] got %d\n", sum);
    int calls = call_n_times(2, print_step, "host");
    printf("[c host] call_n_times made %d calls\n", calls);
    return 0;
}
