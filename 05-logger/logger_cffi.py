"""Stage 05, road 2: the same Logger as tales_from_ffi, written in Python
around the plain C library (logger.c) with cffi in API mode.

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

from _logger_cffi import ffi, lib


class _Link:
    """What C's user_data stands for: the Python callback, and per thread
    the exception it raised (C cannot carry a Python exception: we keep it
    here and raise it again once C has returned)."""

    __slots__ = ("callback", "pending")

    def __init__(self, callback):
        self.callback = callback
        self.pending = threading.local()


# [excerpt: def_extern]
@ffi.def_extern()
def py_on_error(user_data, msg, length):
    """C calls this on the logging thread (cffi takes the GIL for us) for
    a message containing "ERROR".  An exception must not escape into C:
    keep it, and return 1 so that logger_log() says LOGGER_ECALLBACK."""
    link = ffi.from_handle(user_data)
    if link.callback is None:
        return 0
    try:
        link.callback()
    except BaseException as exc:
        link.pending.error = exc
        return 1
    return 0
# [/excerpt: def_extern]


class Logger:
    """Logger(callback=None, *, background=False, buffer_size=65536): a
    buffered logger to standard output, in C.  See tales_from_ffi.Logger."""

    __slots__ = ("_lg", "_link", "_handle", "_background", "_buffer_size")

    # [excerpt: init]
    def __init__(self, callback=None, *, background=False,
                 buffer_size=lib.LOGGER_BUFFER_SIZE):
        if callback is not None and not callable(callback):
            raise TypeError("Logger() argument 'callback' must be callable "
                            "or None, not %s" % type(callback).__name__)
        background = bool(background)
        buffer_size = operator.index(buffer_size)       # TypeError
        if not 1 <= buffer_size <= lib.LOGGER_MAX_BUFFER_SIZE:
            raise ValueError("Logger() argument 'buffer_size' must be from "
                             "1 to %d bytes, not %d"
                             % (lib.LOGGER_MAX_BUFFER_SIZE, buffer_size))
        link = _Link(callback)
        # The handle is valid only while this object is alive: we keep it
        # in self as long as the C logger (which stores it) is alive.
        handle = ffi.new_handle(link)
        lg = lib.logger_new(1, lib.LOGGER_BACKGROUND if background
                            else lib.LOGGER_DIRECT, buffer_size,
                            lib.py_on_error, handle)
        if lg == ffi.NULL:
            raise OSError(ffi.errno, os.strerror(ffi.errno))
        # ffi.gc: when this cdata dies (with self: refcount, cyclic GC or
        # interpreter exit), cffi calls logger_free(), which flushes.
        self._lg = ffi.gc(lg, lib.logger_free)
        self._link, self._handle = link, handle
        self._background, self._buffer_size = background, buffer_size
    # [/excerpt: init]

    def _fail(self, status, what):
        if status == lib.LOGGER_ECLOSED:
            raise ValueError("Logger.%s() on a closed logger" % what)
        if status == lib.LOGGER_ENOMEM:
            raise MemoryError()
        if status == lib.LOGGER_ECALLBACK:
            pending = self._link.pending
            error, pending.error = pending.error, None
            raise error         # the callback's own exception, unchanged
        err = ffi.errno         # saved by cffi right after the C call
        raise OSError(err, os.strerror(err))

    # [excerpt: log]
    def log(self, msg):
        """Buffer msg (a str) for standard output; call the callback if
        msg contains "ERROR"."""
        if not isinstance(msg, str):
            raise TypeError("Logger.log() argument must be str, not %s"
                            % type(msg).__name__)
        data = msg.encode("utf-8")      # UnicodeEncodeError, like road 1
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

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def __repr__(self):
        return "<logger_cffi.Logger %s%s>" % (
            "background" if self._background else "direct",
            " closed" if self.closed else "")

