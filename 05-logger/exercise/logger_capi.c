/* exercise/tales_from_ffi.c: exercise 5, the skeleton of road 1.
 *
 * Everything is here except the three places where Python and C hand over
 * to each other.  Each one raises NotImplementedError saying what to write:
 *
 *   1. Logger.log(): call the ERROR callback (search "exercise 5: 1").
 *   2. Logger.flush(): write the buffer with the GIL released ("5: 2").
 *   3. close_c_logger(): flush-on-destroy; close(), __exit__ and dealloc
 *      all use it ("5: 3").
 *
 * Check your work with `make check-5` from the top folder; hints are in
 * exercise/hints.txt.  The reference is ../tales_from_ffi.c (no peeking
 * before you have tried!).
 *
 * One difference on purpose: here log() always takes the locked road
 * (logger_append, the logger's mutex), so flush() and close() may call
 * logger_flush() and logger_close() with the GIL released.  The reference
 * adds a faster road with a stricter rule (the chapter's "Speed").
 *
 * What this module does, said in Python first:
 *
 *     class Logger:
 *         def __init__(self, callback=None, *, background=False,
 *                      buffer_size=65536):
 *             check callback is None or callable           # TypeError
 *             check 1 <= buffer_size <= 2**30              # ValueError
 *             self.callback = callback
 *             self._c = logger_new(fd=1, background, buffer_size)
 *
 *         def log(self, msg):
 *             check msg is a str                           # TypeError
 *             copy its UTF-8 bytes into C's buffer         # ValueError if closed
 *             (writing a full buffer, or waiting for the writer thread,
 *              happens with the GIL released)
 *             if "ERROR" in msg and self.callback:
 *                 self.callback()      # its exception goes to our caller;
 *                                      # msg is in the buffer already
 *
 *         def _log_release_gil(self, msg):   # the bench's bad example
 *             the same, releasing the GIL around every message, no callback
 *
 *         def flush(self): write everything logged so far to fd 1
 *         def close(self): flush, stop the writer thread, and print
 *                          "C: Flushed and closed logger" on stderr
 *         (log, flush and close raise KeyboardInterrupt when Ctrl-C
 *          comes while they wait for a full pipe; nothing is lost: what
 *          was not written yet stays buffered for the next call)
 *         __enter__ returns self; __exit__ closes
 *         closed: bool, read-only; buffer_size: int, read-only
 *
 *         when it is destroyed (refcount, the cyclic GC, interpreter exit):
 *             close(), waiting as long as it takes (no Ctrl-C), and
 *             reporting a failure as "unraisable"
 *
 *     def _noop(arg): return None     # the floor for the benchmarks
 *
 * The article's Rust does this with #[pyclass] and Drop; here each step is
 * spelled out: the object's memory, its references, and the GC's view.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "pycompat.h"     /* 3.10 to 3.13: the differences, in one place */

#include "logger.h"

typedef struct {
    PyObject_HEAD
    logger *lg;             /* owned: created in tp_new, freed in dealloc */
    PyObject *callback;     /* owned reference, or NULL for "no callback" */
    int background;         /* the mode, for repr() */
    Py_ssize_t buffer_size; /* for the read-only attribute */
} LoggerObject;

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
        PyErr_Format(PyExc_TypeError,
                     "Logger() argument 'callback' must be callable or None,"
                     " not %.200s", Py_TYPE(callback)->tp_name);
        return -1;
    }
    return 0;
}

/* buffer_size: any integer (an object with __index__) from 1 to
 * LOGGER_MAX_BUFFER_SIZE.  Returns the size, or -1 with an exception set. */
static Py_ssize_t
parse_buffer_size(PyObject *arg)
{
    PyObject *size = PyNumber_Index(arg);   /* TypeError if not an int */
    if (size == NULL) {
        return -1;
    }
    int overflow;
    long long n = PyLong_AsLongLongAndOverflow(size, &overflow);
    if (n == -1 && PyErr_Occurred()) {
        Py_DECREF(size);
        return -1;
    }
    if (overflow != 0 || n < 1 || n > LOGGER_MAX_BUFFER_SIZE) {
        PyErr_Format(PyExc_ValueError,
                     "Logger() argument 'buffer_size' must be from 1 to %d"
                     " bytes, not %S", LOGGER_MAX_BUFFER_SIZE, size);
        Py_DECREF(size);
        return -1;
    }
    Py_DECREF(size);
    return (Py_ssize_t)n;
}

/* The logger's interrupt check (logger.h): logger.c calls it, without the
 * GIL and with no lock of its own, when a signal interrupted a write(2)
 * or while it waits.  Python's C-level handler has only noted the signal;
 * the Python handler runs in PyErr_CheckSignals(), in the main thread,
 * with the GIL.  If it raised (KeyboardInterrupt for Ctrl-C), the
 * exception stays set in this thread's state, and the call that released
 * the GIL finds it when it takes the GIL back: return 1, stop. */
static int
check_signals(void *Py_UNUSED(arg))
{
    PyGILState_STATE gil = PyGILState_Ensure();
    int stop = PyErr_CheckSignals() < 0;
    PyGILState_Release(gil);
    return stop;
}

static PyObject *
Logger_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"callback", "background", "buffer_size",
                               NULL};
    PyObject *callback = Py_None;   /* borrowed from the arguments */
    int background = 0;
    PyObject *size_arg = NULL;      /* borrowed, NULL if not given */
    Py_ssize_t buffer_size = LOGGER_BUFFER_SIZE;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O$pO:Logger", keywords,
                                     &callback, &background, &size_arg)
        || check_callback(callback) < 0
        || (size_arg != NULL
            && (buffer_size = parse_buffer_size(size_arg)) < 0)) {
        return NULL;
    }
    LoggerObject *self = (LoggerObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    /* tp_alloc zeroed the fields: dealloc is safe from here on. */
    self->background = background;
    self->buffer_size = buffer_size;
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
    return (PyObject *)self;

error:
    Py_DECREF(self);
    return NULL;
}

static PyObject *
Logger_log(LoggerObject *self, PyObject *msg)
{
    if (!PyUnicode_Check(msg)) {
        PyErr_Format(PyExc_TypeError,
                     "Logger.log() argument must be str, not %.200s",
                     Py_TYPE(msg)->tp_name);
        return NULL;
    }
    Py_ssize_t len;
    /* Borrowed from msg, which our caller keeps alive for the whole call;
     * a lone surrogate makes this fail with UnicodeEncodeError. */
    const char *text = PyUnicode_AsUTF8AndSize(msg, &len);
    if (text == NULL) {
        return NULL;
    }
    int status;
    while ((status = logger_append(self->lg, text, (size_t)len))
           == LOGGER_FULL) {
        /* Nothing copied: write a full buffer, or wait for the writer.
         * That may take long (a slow pipe), so let other threads run. */
        int made;
        Py_BEGIN_ALLOW_THREADS
        made = logger_make_room(self->lg);
        Py_END_ALLOW_THREADS
        if (made != LOGGER_OK) {
            return raise_status(made, "log");
        }
    }
    if (status != LOGGER_OK) {
        return raise_status(status, "log");
    }
    if (self->callback != NULL && logger_has_error_tag(text, (size_t)len)) {
        /* exercise 5: 1 */
        PyErr_SetString(PyExc_NotImplementedError,
                        "exercise 5: implement the ERROR callback in "
                        "Logger.log(): call self->callback with no arguments "
                        "(hold your own reference while it runs) and return "
                        "NULL if it raised");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* The counter-example for the benchmarks: release the GIL around every
 * message.  Correct, but each call must win the GIL back afterwards, and a
 * busy Python thread holds it for up to sys.getswitchinterval(). */
static PyObject *
Logger_log_release_gil(LoggerObject *self, PyObject *msg)
{
    if (!PyUnicode_Check(msg)) {
        PyErr_Format(PyExc_TypeError,
                     "Logger.log() argument must be str, not %.200s",
                     Py_TYPE(msg)->tp_name);
        return NULL;
    }
    Py_ssize_t len;
    const char *text = PyUnicode_AsUTF8AndSize(msg, &len);
    if (text == NULL) {
        return NULL;
    }
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = logger_log(self->lg, text, (size_t)len);
    Py_END_ALLOW_THREADS
    if (status != LOGGER_OK) {
        return raise_status(status, "log");
    }
    Py_RETURN_NONE;
}

static PyObject *
Logger_flush(LoggerObject *self, PyObject *Py_UNUSED(ignored))
{
    /* exercise 5: 2 */
    (void)self;
    PyErr_SetString(PyExc_NotImplementedError,
                    "exercise 5: implement Logger.flush(): call "
                    "logger_flush(self->lg) between Py_BEGIN_ALLOW_THREADS "
                    "and Py_END_ALLOW_THREADS, then raise_status() if it "
                    "did not return LOGGER_OK");
    return NULL;
}

/* Flush, stop the writer thread, print the closing line: once.  Used by
 * close(), __exit__ and dealloc.  Returns 0, or -1 with an exception set. */
static int
close_c_logger(LoggerObject *self)
{
    /* exercise 5: 3 */
    (void)self;
    PyErr_SetString(PyExc_NotImplementedError,
                    "exercise 5: implement close_c_logger() (used by close(), "
                    "__exit__ and dealloc): call logger_close(self->lg) with "
                    "the GIL released, then raise_status() and return -1 if "
                    "it did not return LOGGER_OK, else return 0");
    return -1;
}

static PyObject *
Logger_close(LoggerObject *self, PyObject *Py_UNUSED(ignored))
{
    if (close_c_logger(self) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Logger_enter(LoggerObject *self, PyObject *Py_UNUSED(ignored))
{
    return Py_NewRef(self);
}

static PyObject *
Logger_exit(LoggerObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)args;
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError,
                     "Logger.__exit__() takes 3 arguments (type, value, "
                     "traceback), got %zd", nargs);
        return NULL;
    }
    if (close_c_logger(self) < 0) {
        return NULL;
    }
    Py_RETURN_FALSE;                /* never swallow the block's exception */
}

/* The GC asks: which Python objects do you hold?  The callback may be a
 * closure or bound method that refers back to this logger: a cycle that
 * only the cyclic GC can free. */
static int
Logger_traverse(LoggerObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->callback);
    return 0;
}

/* The GC breaks a cycle: drop the references, keep the C logger (and its
 * buffered lines): dealloc, which comes next, flushes them. */
static int
Logger_clear(LoggerObject *self)
{
    Py_CLEAR(self->callback);
    return 0;
}

static void
Logger_dealloc(LoggerObject *self)
{
    PyObject_GC_UnTrack(self);      /* first: the GC must not see us half-gone */
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
            PyErr_WriteUnraisable((PyObject *)Py_TYPE(self));
        }
        PyErr_SetRaisedException(pending);
        logger_free(self->lg);      /* closes it first if that failed above */
        self->lg = NULL;
    }
    Py_CLEAR(self->callback);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Logger_get_callback(LoggerObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->callback != NULL ? self->callback : Py_None);
}

/* Safe replacement: the old callback may run code when it dies (its
 * __del__, or objects it frees), and that code may read self.callback.
 * So store the new one first, then drop the old one. */
static int
Logger_set_callback(LoggerObject *self, PyObject *value,
                    void *Py_UNUSED(closure))
{
    if (value == NULL) {
        value = Py_None;            /* `del logger.callback` */
    }
    if (check_callback(value) < 0) {
        return -1;
    }
    PyObject *old = self->callback;
    self->callback = value == Py_None ? NULL : Py_NewRef(value);
    Py_XDECREF(old);
    return 0;
}

static PyObject *
Logger_get_closed(LoggerObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(logger_is_closed(self->lg));
}

static PyObject *
Logger_get_buffer_size(LoggerObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->buffer_size);
}

static PyObject *
Logger_repr(LoggerObject *self)
{
    return PyUnicode_FromFormat("<tales_from_ffi.Logger %s%s>",
                                self->background ? "background" : "direct",
                                logger_is_closed(self->lg) ? " closed" : "");
}

static PyMethodDef Logger_methods[] = {
    {.ml_name = "log", .ml_meth = (PyCFunction)Logger_log, .ml_flags = METH_O,
     .ml_doc = PyDoc_STR("log(msg)\n--\n\nBuffer msg (a str) for standard "
                         "output; call the callback if msg contains "
                         "\"ERROR\".")},
    {.ml_name = "flush", .ml_meth = (PyCFunction)Logger_flush,
     .ml_flags = METH_NOARGS,
     .ml_doc = PyDoc_STR("flush()\n--\n\nWrite everything logged so far.")},
    {.ml_name = "close", .ml_meth = (PyCFunction)Logger_close,
     .ml_flags = METH_NOARGS,
     .ml_doc = PyDoc_STR("close()\n--\n\nFlush, stop, and say so on stderr.")},
    {.ml_name = "__enter__", .ml_meth = (PyCFunction)Logger_enter,
     .ml_flags = METH_NOARGS},
    {.ml_name = "__exit__",
     .ml_meth = (PyCFunction)(void (*)(void))Logger_exit,
     .ml_flags = METH_FASTCALL},
    {.ml_name = "_log_release_gil",
     .ml_meth = (PyCFunction)Logger_log_release_gil, .ml_flags = METH_O,
     .ml_doc = PyDoc_STR("The same as log(), releasing the GIL around each "
                         "message (for the benchmark; no callback).")},
    {NULL, NULL, 0, NULL},  /* sentinel */
};

static PyGetSetDef Logger_getset[] = {
    {.name = "callback", .get = (getter)Logger_get_callback,
     .set = (setter)Logger_set_callback,
     .doc = PyDoc_STR("Called with no arguments for every message with "
                      "ERROR.")},
    {.name = "closed", .get = (getter)Logger_get_closed,
     .doc = PyDoc_STR("True once close() has run.")},
    {.name = "buffer_size", .get = (getter)Logger_get_buffer_size,
     .doc = PyDoc_STR("The size of one buffer, in bytes.")},
    {NULL, NULL, NULL, NULL, NULL},  /* sentinel */
};

static PyTypeObject LoggerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tales_from_ffi.Logger",
    .tp_doc = PyDoc_STR("Logger(callback=None, *, background=False, "
                        "buffer_size=65536)\n--\n\n"
                        "A buffered logger to standard output, in C."),
    .tp_basicsize = sizeof(LoggerObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = Logger_new,
    .tp_dealloc = (destructor)Logger_dealloc,
    .tp_traverse = (traverseproc)Logger_traverse,
    .tp_clear = (inquiry)Logger_clear,
    .tp_repr = (reprfunc)Logger_repr,
    .tp_methods = Logger_methods,
    .tp_getset = Logger_getset,
};

static PyObject *
noop(PyObject *module, PyObject *arg)
{
    (void)module;
    (void)arg;
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {.ml_name = "_noop", .ml_meth = noop, .ml_flags = METH_O,
     .ml_doc = PyDoc_STR("_noop(arg)\n--\n\nDo nothing: the cost of a C "
                         "call.")},
    {NULL, NULL, 0, NULL},  /* sentinel */
};

static int
module_exec(PyObject *module)
{
    if (PyType_Ready(&LoggerType) < 0) {
        return -1;
    }
    return PyModule_AddType(module, &LoggerType);
}

static PyModuleDef_Slot module_slots[] = {
    {.slot = Py_mod_exec, .value = module_exec},
    /* Logger is a static type, and logger.c flushes every open logger at
     * process exit: one interpreter per process. */
    {.slot = Py_mod_multiple_interpreters,
     .value = Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
    /* The C library's mutex guards the buffers; the callback attribute
     * relies on the GIL. */
    {.slot = Py_mod_gil, .value = Py_MOD_GIL_USED},
    {0, NULL},
};

static struct PyModuleDef tales_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tales_from_ffi",
    .m_doc = "Stage 05, road 1: the article's buffered Logger, in C.",
    .m_size = 0,
    .m_methods = module_methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit_tales_from_ffi(void)
{
    return PyModuleDef_Init(&tales_module);
}
