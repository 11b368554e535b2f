"""Stage 01, road 2, cffi API mode: extern_lib compiled into _extern_cffi.

The same public functions as extern_capi: add, call_n_times,
call_on_thread, set_trace.  The callback C calls is py_step, a C function
that cffi generated at build time and that runs the Python function
registered below, on whichever thread C calls it: it takes the GIL itself.
"""
from _road2 import (Road, _n_and_callback, check, check_onerror,
                    make_step, step_onerror)
from _extern_cffi import ffi, lib

# [excerpt: def_extern]
# Attach Python code to the extern "Python" function py_step.  C sees a
# real C function, compiled into _extern_cffi, so nothing is generated at
# run time (unlike ffi.callback, see extern_abi.py).  error=1: what C gets
# if even onerror fails.
ffi.def_extern(name="py_step", error=1, onerror=step_onerror)(make_step(ffi))
# [/excerpt: def_extern]


# [excerpt: unguarded]
@ffi.def_extern()
def py_step_unguarded(context, i):
    """A callback that lets its exception escape, to show what cffi does:
    it prints the traceback to stderr, returns 0 to C, and C goes on."""
    ffi.from_handle(context)(i)
    return 0
# [/excerpt: unguarded]


def call_n_times_unguarded(n, callback):
    """call_n_times without the guard: exceptions are printed, not raised.
    (Its arguments are checked as call_n_times checks them: a callback
    that is not callable would fail n times, each printed.)"""
    n = _n_and_callback("call_n_times_unguarded", n, callback)
    handle = ffi.new_handle(callback)
    return lib.call_n_times(n, lib.py_step_unguarded, handle)


# The check C calls while call_on_thread() waits: see _road2.check.
ffi.def_extern(name="py_check", error=1, onerror=check_onerror)(check)

Road(ffi, lib, lib.py_step, lib.py_check).export(globals())
