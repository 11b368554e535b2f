/* logger_capi.c: road 1, the article's Logger as a real extension type,
 * written with the CPython C API around the C library in logger_lib.c
 * (the module it builds is still `tales_from_ffi`, which the article's
 * script imports).
 *
 * What this module does, said in Python first:
 *
 *     class Logger:
 *         def __init__(self, callback=None, *, background=False,
 *                      buffer_size=65536):
 *             check callback is None or callable       # TypeError
 *             check 1 <= buffer_size <= 2**30          # ValueError
 *             self.callback = callback
 *             self._c = logger_new(fd=1, background, buffer_size)
 *
 *         def log(self, msg):
 *             check msg is a str                       # TypeError
 *             copy its UTF-8 bytes into C's buffer     # ValueError if closed
 *             (inline, guarded by the GIL alone, when they fit; writing
 *              a full buffer, or waiting for the writer thread, happens
 *              with the GIL released)
 *             if "ERROR" in msg and self.callback:
 *                 self.callback()      # its exception goes to our caller;
 *                                      # msg is in the buffer already
 *
 *         def _log_release_gil(self, msg):   # the bench's bad example
 *             the same, releasing the GIL around every message, no callback
 *             (and from then on, log() takes the locked road too)
 *
 *         def flush(self): write everything logged so far to fd 1
 *         def close(self): flush, stop the writer thread, and print
 *                          "C: Flushed and closed logger" on stderr
 *         (log, flush and close raise KeyboardInterrupt when Ctrl-C
 *          comes while they wait for a full pipe; nothing is lost: what
 *          was not written yet stays buffered for the next call)
 *         __enter__ returns self; __exit__ closes
 *         closed: bool, read-only; buffer_size: int, read-only
 *         lock_free: bool, read-only: False when log() takes the mutex
 *                    (no GIL in this process, or after _log_release_gil)
 *
 *         when it is destroyed (refcount, the cyclic GC, interpreter exit):
 *             close(), waiting as long as it takes (no Ctrl-C), and
 *             reporting a failure as "unraisable"
 *
 *     def _noop(arg): return None     # the floor for the benchmarks
 *     def _window_guard(): (True, False) # the window's lock check, asked
 *                                        # with the GIL held, then released
 *
 * The article's Rust does this with #[pyclass] and Drop; here each step is
 * spelled out: the object's memory, its references, and the GC's view.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "common.h"       /* 3.10 to 3.13 differences, argument helpers */

#include <time.h>         /* nanosleep, for the test of the window check */

#include "logger_lib.h"

/* The thread state attached to the calling thread, or NULL: 3.13 names it
 * PyThreadState_GetUnchecked(), earlier versions
 * _PyThreadState_UncheckedGet(). */
#if PY_VERSION_HEX >= 0x030D0000
#  define current_thread_state PyThreadState_GetUnchecked
#else
#  define current_thread_state _PyThreadState_UncheckedGet
#endif

/* [excerpt: object] */
typedef struct {
    PyObject_HEAD
    logger *lg;             /* owned: created in tp_new, freed in dealloc */
    struct logger_window *window;   /* the speed layer: lg's window, filled
                                     * under the GIL (or no_window) */
    PyObject *callback;     /* owned reference, or NULL for "no callback" */
    int background;         /* the mode, for repr() */
    Py_ssize_t buffer_size; /* for the read-only attribute */
} LoggerObject;

#define Logger_CAST(op) ((LoggerObject *)(op))
/* [/excerpt: object] */

/* A window with no room: a logger that points here always takes the slow,
 * locked road (no GIL, or after _log_release_gil). */
static struct logger_window no_window;

/* Turn a failed logger_* status into a Python exception.  Returns NULL so
 * that a caller can write `return raise_status(...)`. */
static PyObject *
raise_status(int status, const char *what)
{
    switch (status) {
    case LOGGER_EINTR:
        /* check_signals() stopped the call: the signal handler's own
         * exception (KeyboardInterrupt) is set already. */
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_RuntimeError, "Logger.%s() was stopped",
                         what);
        }
        break;
    case LOGGER_ECLOSED:
        PyErr_Format(PyExc_ValueError, "Logger.%s() on a closed logger",
                     what);
        break;
    case LOGGER_ENOMEM:
        PyErr_NoMemory();
        break;
    case LOGGER_ELOCK:
        /* A bug in this file, not the caller's: the window's rule. */
        PyErr_Format(PyExc_SystemError,
                     "Logger.%s(): the window was used without the GIL",
                     what);
        break;
    default:
        /* LOGGER_EWRITE: errno is still the one write(2) set. */
        PyErr_SetFromErrno(PyExc_OSError);
        break;
    }
    return NULL;
}

static int
check_callback(PyObject *callback)
{
    if (callback != Py_None && !PyCallable_Check(callback)) {
        return type_error("Logger() argument 'callback'",
                          "callable or None", callback);
    }
    return 0;
}

/* A size in bytes: `obj` (an int, or any object with __index__) as a C
 * long from `min` to `max`, or set an exception that names the argument
 * (`what`).  Unlike int_in_range() in common.h, it accepts __index__,
 * and a size out of range is a ValueError, as the article's logger has
 * it.  Returns 0 on success, -1 with an exception set. */
static int
size_in_range(PyObject *obj, long min, long max, const char *what, long *out)
{
    PyObject *index = PyNumber_Index(obj);  /* TypeError if not an int */
    if (index == NULL) {
        return -1;
    }
    int overflow = 0;
    long value = PyLong_AsLongAndOverflow(index, &overflow);
    if (value == -1 && PyErr_Occurred()) {
        Py_DECREF(index);
        return -1;
    }
    if (overflow != 0 || value < min || value > max) {
        PyErr_Format(PyExc_ValueError, "%s must be from %ld to %ld bytes,"
                     " not %S", what, min, max, index);
        Py_DECREF(index);
        return -1;
    }
    Py_DECREF(index);
    *out = value;
    return 0;
}

/* [excerpt: gil_enabled] */
/* 1 if this process has a GIL, 0 if not, -1 with an exception set.  Only
 * a free-threaded build (3.13+) can run without one, and its
 * sys._is_gil_enabled() says whether it does; before 3.13 there is no such
 * function and always a GIL.  Asked when a Logger is made: by then every
 * import that could turn the GIL back on has happened. */
static int
gil_enabled(void)
{
    PyObject *probe = Py_XNewRef(PySys_GetObject("_is_gil_enabled"));
    if (probe == NULL) {
        return 1;
    }
    PyObject *answer = PyObject_CallNoArgs(probe);
    Py_DECREF(probe);
    if (answer == NULL) {
        return -1;
    }
    int enabled = PyObject_IsTrue(answer);
    Py_DECREF(answer);
    return enabled;
}
/* [/excerpt: gil_enabled] */

/* [excerpt: gil_held] */
/* The window's lock check (logger_use_window): 1 if this thread holds the
 * GIL.  Not PyGILState_Check(): once a process has made a subinterpreter,
 * that answers 1 on every call (Py_NewInterpreter() switches it off, see
 * Python/pylifecycle.c).  The thread state attached to this thread is
 * what holds the GIL; before 3.12 the "current" one is a process-wide
 * variable, so we also ask whether it is this thread's. */
static int
gil_held(void)
{
    PyThreadState *tstate = current_thread_state();
    return tstate != NULL && tstate->thread_id == PyThread_get_thread_ident();
}
/* [/excerpt: gil_held] */

PyDoc_STRVAR(window_guard_doc, "_window_guard()\n--\n\n"
    "What the window's lock check answers with the GIL held and released.");

/* For the test of gil_held(): what it answers with the GIL held and with
 * the GIL released, as a pair of bools (correct: (True, False)).  While
 * released it first sleeps 5 ms, so that another Python thread, if there
 * is one, holds the GIL when it asks. */
static PyObject *
window_guard(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    int held = gil_held();
    int released;
    Py_BEGIN_ALLOW_THREADS
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 5000000};
    (void)nanosleep(&pause, NULL);
    released = gil_held();
    Py_END_ALLOW_THREADS
    return Py_BuildValue("(OO)", held ? Py_True : Py_False,
                         released ? Py_True : Py_False);
}

/* [excerpt: new] */
static PyObject *
Logger_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"callback", "background", "buffer_size",
                               NULL};
    PyObject *callback = Py_None;   /* borrowed from the arguments */
    int background = 0;
    PyObject *size_arg = NULL;      /* borrowed, NULL if not given */
    long buffer_size = LOGGER_BUFFER_SIZE;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O$pO:Logger", keywords,
                                     &callback, &background, &size_arg)
        || check_callback(callback) < 0
        || (size_arg != NULL
            && size_in_range(size_arg, 1, LOGGER_MAX_BUFFER_SIZE,
                             "Logger() argument 'buffer_size'",
                             &buffer_size) < 0)) {
        return NULL;
    }
    LoggerObject *self = Logger_CAST(type->tp_alloc(type, 0));
    if (self == NULL) {
        return NULL;
    }
    /* tp_alloc zeroed the fields: dealloc is safe from here on. */
    self->background = background;
    self->buffer_size = buffer_size;
    self->window = &no_window;      /* the speed layer is switched on below */
    self->lg = logger_new(1, background ? LOGGER_BACKGROUND : LOGGER_DIRECT,
                          (size_t)buffer_size,
                          NULL, NULL);  /* the callback is called from here */
    if (self->lg == NULL) {
        PyErr_SetFromErrno(PyExc_OSError);
        goto error;
    }
    logger_set_interrupt_check(self->lg, check_signals, NULL);  /* Ctrl-C */
    if (callback != Py_None) {
        self->callback = Py_NewRef(callback);
    }
    /* [excerpt: new_window] */
    /* The speed layer: with a GIL, the GIL is the window's lock. */
    int gil = gil_enabled();
    if (gil < 0) {
        goto error;
    }
    if (gil) {
        self->window = logger_use_window(self->lg, gil_held);
    }
    /* [/excerpt: new_window] */
    return (PyObject *)self;

error:
    Py_DECREF(self);
    return NULL;
}
/* [/excerpt: new] */

/* [excerpt: utf8] */
/* The UTF-8 bytes of a str, borrowed from it (our caller keeps msg alive
 * for the whole call), or NULL with an exception set. */
static inline Py_ALWAYS_INLINE const char *
utf8_of(PyObject *msg, Py_ssize_t *len)
{
    if (!PyUnicode_Check(msg)) {
        type_error("Logger.log() argument", "str", msg);
        return NULL;
    }
    if (PyUnicode_IS_COMPACT_ASCII(msg)) {
        /* An ASCII str stores one byte per character: they are UTF-8
         * already.  (PyUnicode_AsUTF8AndSize starts with this same test;
         * inlining it saves a call per message.) */
        *len = PyUnicode_GET_LENGTH(msg);
        return PyUnicode_DATA(msg);
    }
    /* Encoded once and cached in the str; a lone surrogate makes this fail
     * with UnicodeEncodeError. */
    return PyUnicode_AsUTF8AndSize(msg, len);
}
/* [/excerpt: utf8] */

/* [excerpt: append_slow] */
/* The message did not fit in the window: logger_window_refill() takes the
 * mutex, hands the full buffer over and copies, or, while full buffers
 * wait, copies nothing and says LOGGER_FULL.  Writing them (direct mode),
 * or waiting for the writer thread (background), may take long (a slow
 * pipe), so it happens with the GIL released; then we try again.
 * Returns 0, or -1 with an exception set (and then msg was not copied). */
Py_NO_INLINE static int
append_slow(LoggerObject *self, const char *text, size_t len)
{
    int status;
    while ((status = logger_window_refill(self->lg, text, len))
           == LOGGER_FULL) {
        int made;
        Py_BEGIN_ALLOW_THREADS
        made = logger_window_wait(self->lg);
        Py_END_ALLOW_THREADS
        if (made != LOGGER_OK) {
            raise_status(made, "log");
            return -1;
        }
    }
    if (status != LOGGER_OK) {
        raise_status(status, "log");
        return -1;
    }
    return 0;
}
/* [/excerpt: append_slow] */

PyDoc_STRVAR(Logger_log_doc, "log(msg)\n--\n\n"
    "Buffer msg (a str) for standard output; call the callback if msg "
    "contains \"ERROR\".");

static PyObject *
Logger_log(PyObject *op, PyObject *msg)
{
    LoggerObject *self = Logger_CAST(op);
    Py_ssize_t len;
    const char *text = utf8_of(msg, &len);
    if (text == NULL) {
        return NULL;
    }
    /* [excerpt: log_window] */
    /* The fast road: a memcpy into the window, guarded by the GIL we hold
     * (no other thread can run this, or seal the buffer, meanwhile). */
    if (!logger_window_append(self->window, text, (size_t)len)
        && append_slow(self, text, (size_t)len) < 0) {
        return NULL;
    }
    /* [/excerpt: log_window] */
    if (self->callback == NULL || !logger_has_error_tag(text, (size_t)len)) {
        Py_RETURN_NONE;
    }
    /* [exercise part 1: Logger_log] */
    /* Our own reference: the callback may replace self.callback.
     * (Without a GIL, the critical section keeps another thread's
     * setter from freeing it between our read and our Py_NewRef.) */
    PyObject *callback;
    Py_BEGIN_CRITICAL_SECTION(self);
    callback = Py_XNewRef(self->callback);
    Py_END_CRITICAL_SECTION();
    if (callback == NULL) {
        Py_RETURN_NONE;             /* another thread removed it meanwhile */
    }
    PyObject *result = PyObject_CallNoArgs(callback);
    Py_DECREF(callback);
    if (result == NULL) {
        return NULL;                /* its exception, unchanged */
    }
    Py_DECREF(result);
    Py_RETURN_NONE;
    /* [stub]
    PyErr_SetString(PyExc_NotImplementedError,
                    "write the ERROR callback call in Logger_log(): "
                    "exercise 5, part 1 (see hints)");
    return NULL;
    [/exercise part 1] */
}

PyDoc_STRVAR(Logger_log_release_gil_doc,
    "The same as log(), releasing the GIL around each message (for the "
    "benchmark; no callback).");

/* [excerpt: release_gil] */
/* The counter-example for the benchmarks: release the GIL around every
 * message.  Correct, but each call must win the GIL back afterwards, and a
 * busy Python thread holds it for up to sys.getswitchinterval(). */
static PyObject *
Logger_log_release_gil(PyObject *op, PyObject *msg)
{
    LoggerObject *self = Logger_CAST(op);
    Py_ssize_t len;
    const char *text = utf8_of(msg, &len);
    if (text == NULL) {
        return NULL;
    }
    /* logger_log() fills the buffer without the GIL, under the mutex: give
     * the window back for good.  No thread is inside log() now (we hold
     * the GIL), and from now on log() finds no room and takes the locked
     * road. */
    if (self->window != &no_window) {
        self->window = &no_window;
        (void)logger_use_window(self->lg, NULL);    /* NULL: given back */
    }
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = logger_log(self->lg, text, (size_t)len);
    Py_END_ALLOW_THREADS
    return status == LOGGER_OK ? Py_NewRef(Py_None)
                               : raise_status(status, "log");
}
/* [/excerpt: release_gil] */

PyDoc_STRVAR(Logger_flush_doc,
    "flush()\n--\n\nWrite everything logged so far.");

static PyObject *
Logger_flush(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    /* [exercise part 2: Logger_flush] */
    LoggerObject *self = Logger_CAST(op);
    /* Seal with the GIL held, like every change to the window; then write
     * without it: write(2) may block on a full pipe. */
    int status = logger_window_seal(self->lg, LOGGER_SEAL_TO_FLUSH);
    if (status == LOGGER_OK) {
        Py_BEGIN_ALLOW_THREADS
        status = logger_window_wait(self->lg);
        Py_END_ALLOW_THREADS
    }
    if (status != LOGGER_OK) {
        return raise_status(status, "flush");
    }
    Py_RETURN_NONE;
    /* [stub]
    (void)op;
    PyErr_SetString(PyExc_NotImplementedError,
                    "write Logger_flush(): exercise 5, part 2 (see hints)");
    return NULL;
    [/exercise part 2] */
}

/* [excerpt: close_c_logger] */
/* Flush, stop the writer thread, print the closing line: once.  Used by
 * close(), __exit__ and dealloc.  Returns 0, or -1 with an exception set. */
static int
close_c_logger(LoggerObject *self)
{
    /* Refuse further messages and seal, with the GIL held: no thread is
     * filling the window meanwhile. */
    int status = logger_window_seal(self->lg, LOGGER_SEAL_TO_CLOSE);
    if (status == LOGGER_OK) {
        /* Joining the writer thread waits for its last write(2).  The
         * writer never takes the GIL, so releasing it here cannot
         * deadlock, and it lets other Python threads run meanwhile. */
        Py_BEGIN_ALLOW_THREADS
        status = logger_close(self->lg);
        Py_END_ALLOW_THREADS
    }
    if (status == LOGGER_OK) {
        return 0;
    }
    raise_status(status, "close");
    return -1;
}
/* [/excerpt: close_c_logger] */

PyDoc_STRVAR(Logger_close_doc,
    "close()\n--\n\nFlush, stop, and say so on stderr.");

static PyObject *
Logger_close(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    if (close_c_logger(Logger_CAST(op)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Logger_enter(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    return Py_NewRef(op);
}

static PyObject *
Logger_exit(PyObject *op, PyObject *const *Py_UNUSED(args), Py_ssize_t nargs)
{
    if (check_exit_args("Logger", nargs) < 0) {
        return NULL;
    }
    if (close_c_logger(Logger_CAST(op)) < 0) {
        return NULL;
    }
    Py_RETURN_FALSE;                /* never swallow the block's exception */
}

/* [excerpt: gc] */
/* The GC asks: which Python objects do you hold?  The callback may be a
 * closure or bound method that refers back to this logger: a cycle that
 * only the cyclic GC can free. */
static int
Logger_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Logger_CAST(op)->callback);
    Py_VISIT(Py_TYPE(op));          /* a heap type: each object holds it */
    return 0;
}

/* The GC breaks a cycle: drop the references, keep the C logger (and its
 * buffered lines): dealloc, which comes next, flushes them. */
static int
Logger_clear(PyObject *op)
{
    Py_CLEAR(Logger_CAST(op)->callback);
    return 0;
}
/* [/excerpt: gc] */

/* [excerpt: dealloc] */
static void
Logger_dealloc(PyObject *op)
{
    LoggerObject *self = Logger_CAST(op);
    PyTypeObject *type = Py_TYPE(op);   /* our reference, given back last */
    PyObject_GC_UnTrack(op);    /* first: the GC must not see us half-gone */
    if (self->lg != NULL) {
        /* Nobody could finish a close stopped half-way, so no Ctrl-C
         * here: the signal waits, and Python raises it after us. */
        logger_set_interrupt_check(self->lg, NULL, NULL);
        /* Dealloc can run while an exception is on its way up (the
         * article's script ends so): keep it aside while we close. */
        PyObject *pending = PyErr_GetRaisedException();
        if (close_c_logger(self) < 0) {
            /* Nobody to raise to: report it like an exception in __del__.
             * Name the type, not self: a reference to an object whose
             * refcount reached 0 would run this dealloc a second time. */
            PyErr_WriteUnraisable((PyObject *)type);
        }
        PyErr_SetRaisedException(pending);
        logger_free(self->lg);      /* closes it first if that failed above */
        self->lg = NULL;
    }
    Py_CLEAR(self->callback);
    type->tp_free(op);
    Py_DECREF(type);
}
/* [/excerpt: dealloc] */

/* [excerpt: callback_attr] */
static PyObject *
Logger_get_callback(PyObject *op, void *Py_UNUSED(closure))
{
    LoggerObject *self = Logger_CAST(op);
    PyObject *value;                /* a new reference, for our caller */
    Py_BEGIN_CRITICAL_SECTION(self);
    value = Py_NewRef(self->callback != NULL ? self->callback : Py_None);
    Py_END_CRITICAL_SECTION();
    return value;
}
/* [/excerpt: callback_attr] */

/* The old callback may run code when it dies (its __del__, or objects it
 * frees), and that code may read self.callback. */
static int
Logger_set_callback(PyObject *op, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL) {
        value = Py_None;            /* `del logger.callback` */
    }
    if (check_callback(value) < 0) {
        return -1;
    }
    /* [exercise part 3: Logger_set_callback] */
    LoggerObject *self = Logger_CAST(op);
    PyObject *old;
    Py_BEGIN_CRITICAL_SECTION(self);
    old = self->callback;
    self->callback = value == Py_None ? NULL : Py_NewRef(value);
    Py_END_CRITICAL_SECTION();
    Py_XDECREF(old);
    return 0;
    /* [stub]
    (void)op;
    PyErr_SetString(PyExc_NotImplementedError,
                    "write the callback setter, Logger_set_callback(): "
                    "exercise 5, part 3 (see hints)");
    return -1;
    [/exercise part 3] */
}

static PyObject *
Logger_get_closed(PyObject *op, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(logger_is_closed(Logger_CAST(op)->lg));
}

static PyObject *
Logger_get_lock_free(PyObject *op, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(Logger_CAST(op)->window != &no_window);
}

static PyObject *
Logger_get_buffer_size(PyObject *op, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(Logger_CAST(op)->buffer_size);
}

static PyObject *
Logger_repr(PyObject *op)
{
    LoggerObject *self = Logger_CAST(op);
    return PyUnicode_FromFormat("<tales_from_ffi.Logger %s%s>",
                                self->background ? "background" : "direct",
                                logger_is_closed(self->lg) ? " closed" : "");
}

static PyMethodDef Logger_methods[] = {
    {"log", Logger_log, METH_O, Logger_log_doc},
    {"flush", Logger_flush, METH_NOARGS, Logger_flush_doc},
    {"close", Logger_close, METH_NOARGS, Logger_close_doc},
    {"__enter__", Logger_enter, METH_NOARGS, NULL},
    {"__exit__", AS_PYCFUNCTION(Logger_exit), METH_FASTCALL, NULL},
    {"_log_release_gil", Logger_log_release_gil,
     METH_O, Logger_log_release_gil_doc},
    {NULL, NULL, 0, NULL}  /* sentinel */
};

static PyGetSetDef Logger_getset[] = {
    {.name = "callback", .get = Logger_get_callback,
     .set = Logger_set_callback,
     .doc = PyDoc_STR("Called with no arguments for every message with "
                      "ERROR.")},
    {.name = "closed", .get = Logger_get_closed,
     .doc = PyDoc_STR("True once close() has run.")},
    {.name = "buffer_size", .get = Logger_get_buffer_size,
     .doc = PyDoc_STR("The size of one buffer, in bytes.")},
    {.name = "lock_free", .get = Logger_get_lock_free,
     .doc = PyDoc_STR("True while log() copies into the buffer guarded by "
                      "the GIL alone; False when it takes the mutex.")},
    {.name = NULL}  /* sentinel */
};

/* [excerpt: tables] */
/* A recipe for the type, as in stage 04: each module object makes its own
 * Logger type from it (in logger_exec), so nothing of one module object is
 * shared with another, and the type goes when its last object does. */
static PyType_Slot Logger_slots[] = {
    {.slot = Py_tp_doc,
     .pfunc = PyDoc_STR("Logger(callback=None, *, background=False, "
                        "buffer_size=65536)\n--\n\n"
                        "A buffered logger to standard output, in C.")},
    {.slot = Py_tp_new, .pfunc = Logger_new},
    {.slot = Py_tp_dealloc, .pfunc = Logger_dealloc},
    {.slot = Py_tp_traverse, .pfunc = Logger_traverse},
    {.slot = Py_tp_clear, .pfunc = Logger_clear},
    {.slot = Py_tp_repr, .pfunc = Logger_repr},
    {.slot = Py_tp_methods, .pfunc = Logger_methods},
    {.slot = Py_tp_getset, .pfunc = Logger_getset},
    {0, NULL}  /* sentinel */
};

static PyType_Spec Logger_spec = {
    .name = "tales_from_ffi.Logger",
    .basicsize = sizeof(LoggerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC
             | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Logger_slots,
};
/* [/excerpt: tables] */

PyDoc_STRVAR(noop_doc, "_noop(arg)\n--\n\n"
    "Do nothing: the cost of a C call.");

static PyObject *
noop(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(arg))
{
    Py_RETURN_NONE;
}

static PyMethodDef logger_methods[] = {
    {"_noop", noop, METH_O, noop_doc},
    {"_window_guard", window_guard, METH_NOARGS, window_guard_doc},
    {NULL, NULL, 0, NULL}  /* sentinel */
};

static int
logger_exec(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &Logger_spec, NULL);
    if (type == NULL) {
        return -1;
    }
    int status = PyModule_AddType(module, (PyTypeObject *)type);
    Py_DECREF(type);                /* the module holds it now, or failed */
    return status;
}

/* The end of the module, as chapter 01 writes it, with logger_exec as its
 * first slot (see common.h).
 * Interpreters: logger_lib.c's exit handler closes every open logger, sure
 * that no thread can take the GIL any more.  That is checked for the main
 * interpreter only.  3.12+ refuse us in an isolated subinterpreter; a
 * legacy one (Py_NewInterpreter, the main GIL shared) still imports us,
 * and common.h refuses both on 3.10 and 3.11.
 * The GIL: the window is guarded by it.  A free-threaded build turns the
 * GIL back on when it imports us, unless told not to (then see
 * Logger_new). */
FFI_MODULE_EXEC(logger, tales_from_ffi,
                "Stage 05, road 1: the article's buffered Logger, in C.",
                Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED, Py_MOD_GIL_USED)
