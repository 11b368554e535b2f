"""Shared by both cffi modules of stage 01 (API mode and ABI mode).

cffi converts arguments for us, but its messages do not name the
argument ("an integer is required"), and it has no idea what a callback
should do with a Python exception.  This module adds both, so that the
public functions behave exactly like road 1 (extern_capi).
"""

import threading

import _common

INT_MIN, INT_MAX = -2**31, 2**31 - 1

# The C declarations, in the subset of C that cdef() parses.  The API-mode
# builder adds the extern "Python" lines; ABI mode uses them as they are.
# [excerpt: cdef]
CDEF = """
    extern int trace_calls;
    int add(int a, int b);
    typedef int (*step_fn)(void *context, int step);
    int call_n_times(int n, step_fn step, void *context);
    int call_n_times_on_thread(int n, step_fn step, void *context);
    typedef int (*check_fn)(void *check_arg);
    int call_n_times_on_thread_until(int n, step_fn step, void *context,
                                     check_fn check, void *check_arg);
"""
# [/excerpt: cdef]


def _n_and_callback(func, n, callback):
    """The arguments of call_n_times() and call_on_thread(), named `func`:
    n as a plain int."""
    what = "%s() argument 'n'" % func
    n = _common.int_in_range(n, INT_MIN, INT_MAX, what)
    if n < 0:
        raise ValueError("%s must be >= 0, not %d" % (what, n))
    if not callable(callback):
        raise _common.type_error("%s() argument 'callback'" % func, "callable",
                                 callback)
    return n


class _Call:
    """What one call_n_times() needs inside the callback: the Python
    callable, a slot for the exception it raised, if any, and how many
    steps returned to C normally."""

    __slots__ = ("callback", "error", "returned", "interrupt")

    def __init__(self, callback):
        self.callback = callback
        self.error = None
        self.returned = 0
        self.interrupt = None   # a signal handler's, while C waited


class _Active(threading.local):
    """The call_n_times() calls running on this thread, innermost last:
    C calls back on the thread that called it, so the innermost one is the
    call whose callback is running.  (A thread that C started has none.)"""

    def __init__(self):
        self.calls = []


_active = _Active()


# [excerpt: step]
def make_step(ffi):
    """The body of the C callback, for either mode.  An exception must not
    escape into C (cffi would print it and return 0, so C would go on):
    keep it, and return 1 to ask the C loop to stop."""
    def step(context, i):
        call = ffi.from_handle(context)
        try:
            call.callback(i)
        except BaseException as exc:
            call.error = exc
            return 1
        call.returned += 1
        return 0
    return step


def step_onerror(exc_type, exc, traceback):
    """cffi calls this when an exception escapes step() itself.  That
    happens before step's `try:` runs: a signal handler that raised as
    Python code resumed, or a RecursionError on the way in.  Keep it for
    the innermost call on this thread, and ask C to stop.  Both happen
    only on a thread that Python runs; on one that C started, the caller
    finds the step missing and raises RuntimeError."""
    if _active.calls:
        _active.calls[-1].error = exc
    return 1
# [/excerpt: step]


def check(arg):
    """C calls this on the thread waiting in call_on_thread(), every
    CALL_CHECK_MS (extern_lib.h).  It does nothing itself: Python runs the
    handlers of signals that arrived meanwhile as it enters a function
    here, in the main thread.  One that raises (KeyboardInterrupt for
    Ctrl-C) goes to check_onerror, and C stops the thread at its next
    step."""
    return 0


def check_onerror(exc_type, exc, traceback):
    """Keep the signal handler's exception for the waiting call on this
    thread, apart from the callback's own (which runs on C's thread), and
    tell C to stop."""
    if _active.calls:
        _active.calls[-1].interrupt = exc
    return 1


class Road:
    """The public functions, given an ffi, its lib and the C callback."""

    def __init__(self, ffi, lib, c_step, c_check):
        self._ffi, self._lib, self._c_step = ffi, lib, c_step
        self._c_check = c_check

    def add(self, a, b):
        a = _common.int_in_range(a, INT_MIN, INT_MAX, "add() argument 'a'")
        b = _common.int_in_range(b, INT_MIN, INT_MAX, "add() argument 'b'")
        if not INT_MIN <= a + b <= INT_MAX:
            raise OverflowError("add(%d, %d): the sum does not fit in a C "
                                "int" % (a, b))
        return self._lib.add(a, b)

    def call_n_times(self, n, callback):
        n = _n_and_callback("call_n_times", n, callback)
        return self._run("call_n_times", self._lib.call_n_times, n, callback)

    # [excerpt: call_on_thread]
    def call_on_thread(self, n, callback):
        # The same C callback serves a thread that C starts: cffi releases
        # the GIL around every call into C, and the extern "Python" (or
        # ffi.callback) function takes it again, with a thread state of
        # its own, before any Python code runs.
        n = _n_and_callback("call_on_thread", n, callback)
        return self._run("call_on_thread", self._on_thread, n, callback)
    # [/excerpt: call_on_thread]

    def _on_thread(self, n, c_step, handle):
        # The caller waits in C; c_check lets a signal handler (Ctrl-C)
        # run every CALL_CHECK_MS meanwhile, and stop the thread.
        return self._lib.call_n_times_on_thread_until(
            n, c_step, handle, self._c_check, self._ffi.NULL)

    # [excerpt: call_n_times]
    def _run(self, func, c_function, n, callback):
        # [excerpt: handle]
        call = _Call(callback)
        # The handle is a void * that stands for `call`.  It is valid only
        # while the handle object is alive: this local keeps it so until
        # C has returned.
        handle = self._ffi.new_handle(call)
        _active.calls.append(call)
        try:
            calls = c_function(n, self._c_step, handle)
        finally:
            _active.calls.pop()
        # Ctrl-C while C waited (call_on_thread) first, else the callback's
        error = call.interrupt if call.interrupt is not None else call.error
        call.error = call.interrupt = None
        if error is not None:
            raise error         # the callback's own exception, unchanged
        # [/excerpt: handle]
        if calls < 0:
            raise RuntimeError("%s(): C could not start a thread" % func)
        if call.returned != calls:
            # Even step_onerror could not keep the exception (the stack
            # was still too deep): cffi printed it and returned its error
            # value, 1, so C stopped.  Do not return as if all went well.
            raise RuntimeError("%s(): the callback failed at step %d and "
                               "its exception was lost (cffi printed it "
                               "above)" % (func, calls - 1))
        return calls
    # [/excerpt: call_n_times]

    def set_trace(self, on):
        old = bool(self._lib.trace_calls)
        self._lib.trace_calls = 1 if on else 0
        return old

    def export(self, namespace):
        """Put the public functions into a module's globals."""
        for name in ("add", "call_n_times", "call_on_thread", "set_trace"):
            namespace[name] = getattr(self, name)
