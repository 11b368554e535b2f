"""Stage 05, road 2: the same Logger as tales_from_ffi, written in Python
around the plain C library (logger_lib.c) with cffi in API mode.

    from logger_cffi import Logger      # the same contract as road 1

C knows a callback only as a function pointer plus a `void *user_data`.
Here the function is py_on_error (C code that cffi generated at build
time, running the Python below) and the user data is a handle: a void *
that stands for a Python object.  The Logger object keeps that handle
alive as long as C may use it.
"""
import operator
import os
import threading

import _common
from _logger_cffi import ffi, lib


class _Link:
    """What C's user_data stands for: the Python callback."""

    __slots__ = ("callback",)

    def __init__(self, callback):
        self.callback = callback


# [excerpt: def_extern]
# C cannot carry a Python exception.  The one that leaves an extern
# "Python" function waits here, per thread (several threads may log at
# once), until C has returned and the wrapper raises it again.
_pending = threading.local()


def _keep(exc_type, exc, traceback):
    """cffi's onerror: called with any exception that escapes from the
    functions below, even one raised before their first line ran (the
    recursion limit reached as C calls in, or a signal handler that runs
    right then).  Keep it; returning None makes cffi return `error` (1)
    to C, which stops and says so."""
    _pending.error = exc.with_traceback(traceback)


@ffi.def_extern(onerror=_keep, error=1)
def py_on_error(user_data, msg, length):
    """C calls this on the logging thread (cffi takes the GIL for us) for
    a message containing "ERROR".  Returning 1 (the callback raised) makes
    logger_log() return LOGGER_ECALLBACK."""
    link = ffi.from_handle(user_data)
    if link.callback is not None:
        link.callback()
    return 0


@ffi.def_extern(onerror=_keep, error=1)
def py_check_signals(arg):
    """C calls this while a write or a wait is blocked (logger_lib.h,
    logger_set_interrupt_check).  Python runs the handlers of signals that
    arrived meanwhile as a function starts, in the main thread: here.  One
    that raises (KeyboardInterrupt for Ctrl-C) goes to _keep, and C
    returns LOGGER_EINTR."""
    return 0


def _take_pending():
    """The exception that made C stop, now that C has returned."""
    error = getattr(_pending, "error", None)
    _pending.error = None
    if error is None:
        # Even _keep could not run (the recursion limit again): cffi has
        # reported the exception on stderr.  Do not return as if all went
        # well.
        error = RuntimeError("Logger: a Python function called from C "
                             "failed, and its exception was lost (see "
                             "stderr)")
    return error
# [/excerpt: def_extern]


# [excerpt: new_holder]
# Like ffi.new(), but the memory comes from C: one C call runs
# logger_holder_alloc() and wraps the empty holder in a cdata that calls
# logger_holder_free() when it is garbage (docs/04-memory.md, Step 5).  No
# line of Python ever sees a logger that nothing owns.
_new_holder = ffi.new_allocator(alloc=lib.logger_holder_alloc,
                                free=lib.logger_holder_free,
                                should_clear_after_alloc=False)
# [/excerpt: new_holder]


# [excerpt: destroy]
def _destroy(holder, lib=lib, ffi=ffi, strerror=os.strerror):
    """ffi.gc calls this when a Logger's cdata dies with it (refcount,
    cyclic GC, interpreter exit), just before the holder's own
    logger_holder_free(), which would close and throw the status away:
    close first, and raise if that failed.  cffi reports the exception
    through sys.unraisablehook, as road 1's dealloc does.  (The module's
    globals come in as defaults: at interpreter exit they may be gone
    before the last Logger.)"""
    # Nobody could finish a close stopped half-way: no Ctrl-C in it.
    lib.logger_set_interrupt_check(holder.lg, ffi.NULL, ffi.NULL)
    if lib.logger_close(holder.lg) != lib.LOGGER_OK:
        err = ffi.errno             # saved by cffi right after the call
        raise OSError(err, strerror(err))
# [/excerpt: destroy]


def _size_in_range(value, lo, hi, what):
    """value (an int, or any object with __index__) as an int from lo to
    hi bytes, else TypeError or ValueError naming `what`: the twin of
    size_in_range() in logger_capi.c."""
    value = operator.index(value)                   # TypeError
    if not lo <= value <= hi:
        raise ValueError("%s must be from %d to %d bytes, not %d"
                         % (what, lo, hi, value))
    return value


class Logger(_common.Closing):
    """Logger(callback=None, *, background=False, buffer_size=65536): a
    buffered logger to standard output, in C.  See tales_from_ffi.Logger."""

    __slots__ = ("_holder", "_lg", "_link", "_handle", "_background",
                 "_buffer_size")

    # [excerpt: init]
    # __new__, not __init__, as road 1's tp_new: the object is made whole
    # before anyone can see it, and __init__ stays object's, so calling it
    # again on an open logger does nothing (as in road 1) instead of
    # freeing the C logger while another thread is inside log().
    def __new__(cls, callback=None, *, background=False,
                buffer_size=lib.LOGGER_BUFFER_SIZE):
        # bool() first: road 1's argument parser ("p") calls it before
        # anything is checked, so its exception comes first there too.
        background = bool(background)
        if callback is not None and not callable(callback):
            raise TypeError("Logger() argument 'callback' must be callable "
                            "or None, not %s" % type(callback).__name__)
        buffer_size = _size_in_range(buffer_size, 1,
                                     lib.LOGGER_MAX_BUFFER_SIZE,
                                     "Logger() argument 'buffer_size'")
        self = super().__new__(cls)
        link = _Link(callback)
        # The handle is valid only while this object is alive: we keep it
        # in self as long as the C logger (which stores it) is alive.
        handle = ffi.new_handle(link)
        # An empty holder, owned: whatever is raised from here on, the
        # logger opened inside it is freed with it.
        holder = _new_holder("struct logger_holder *")
        if lib.logger_holder_open(holder, 1, lib.LOGGER_BACKGROUND
                                  if background else lib.LOGGER_DIRECT,
                                  buffer_size, lib.py_on_error, handle) < 0:
            raise OSError(ffi.errno, os.strerror(ffi.errno))
        # ffi.gc: when this cdata dies (with self: refcount, cyclic GC or
        # interpreter exit), cffi calls _destroy(), which closes and
        # reports, then drops the holder, which frees.
        self._holder = ffi.gc(holder, _destroy)
        self._lg = holder.lg    # a plain pointer: self._holder owns it
        lib.logger_set_interrupt_check(self._lg, lib.py_check_signals,
                                       ffi.NULL)
        self._link, self._handle = link, handle
        self._background, self._buffer_size = background, buffer_size
        return self
    # [/excerpt: init]

    def __reduce__(self):
        """copy.copy(), copy.deepcopy() and pickle all ask this.  A copy
        would hold the same C logger, and whichever copy died first would
        free it under the other: refused, with road 1's words."""
        raise TypeError("cannot pickle '%s.%s' object"
                        % (type(self).__module__, type(self).__qualname__))

    def _fail(self, status, what):
        if status == lib.LOGGER_ECLOSED:
            raise ValueError("Logger.%s() on a closed logger" % what)
        if status == lib.LOGGER_ENOMEM:
            raise MemoryError()
        if status in (lib.LOGGER_ECALLBACK, lib.LOGGER_EINTR):
            # The callback's own exception, or the signal handler's.
            raise _take_pending()
        err = ffi.errno         # saved by cffi right after the C call
        raise OSError(err, os.strerror(err))

    # [excerpt: log]
    def log(self, msg):
        """Buffer msg (a str) for standard output; call the callback if
        msg contains "ERROR"."""
        # type(), not isinstance(): an object can claim to be a str
        # through __class__.  str.encode(), not msg.encode(): a subclass
        # can override encode().  What C gets is the str's own UTF-8.
        if not issubclass(type(msg), str):
            raise _common.type_error("Logger.log() argument", "str", msg)
        data = str.encode(msg, "utf-8")     # UnicodeEncodeError, as road 1
        # cffi releases the GIL around every call into C: the copy, any
        # write and any wait run without it.
        status = lib.logger_log(self._lg, data, len(data))
        if status != lib.LOGGER_OK:
            self._fail(status, "log")
    # [/excerpt: log]

    def flush(self):
        """Write everything logged so far."""
        status = lib.logger_flush(self._lg)
        if status != lib.LOGGER_OK:
            self._fail(status, "flush")

    def close(self):
        """Flush, stop, and say so on stderr."""
        status = lib.logger_close(self._lg)
        if status != lib.LOGGER_OK:
            self._fail(status, "close")

    @property
    def closed(self):
        return bool(lib.logger_is_closed(self._lg))

    @property
    def buffer_size(self):
        return self._buffer_size

    @property
    def callback(self):
        return self._link.callback

    @callback.setter
    def callback(self, value):
        if value is not None and not callable(value):
            raise TypeError("Logger() argument 'callback' must be callable "
                            "or None, not %s" % type(value).__name__)
        self._link.callback = value

    @callback.deleter
    def callback(self):
        self._link.callback = None      # as road 1: `del` means None

    def __repr__(self):
        return "<logger_cffi.Logger %s%s>" % (
            "background" if self._background else "direct",
            " closed" if self.closed else "")

