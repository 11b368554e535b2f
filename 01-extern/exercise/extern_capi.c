/* Exercise 1: extern_capi.c of stage 01-extern, with 3 parts left for you
 * to write.  This file is yours to edit.
 *
 * Write the parts in this order; each is the lines between
 * "[exercise part N: name]" and "[/exercise part N: name]",
 * which now raise NotImplementedError saying what to write:
 *   part 1: extern_add()
 *   part 2: call_python_step()
 *   part 3: extern_set_trace()
 *
 * Check your work from the top folder:  make check-1
 * It runs the checks in part order; for the first failing one it
 * prints a nudge, then the API to reach for (all of them, in order:
 * 01-extern/exercise/hints.txt).  Read only as much as you need.
 * The solution is the reference module ../extern_capi.c.
 *
 * Generated from ../extern_capi.c by tests/harness/skeleton.py
 * (make skeletons): outside the parts, the reference unchanged.
 */
/* extern_capi.c: road 1, the CPython C API by hand, around extern_lib.
 *
 * What this module does, said in Python first:
 *
 *     def add(a, b):                  # C ints in, C int out
 *         check a, b are int and fit a C int, and so does a + b
 *         return extern_lib.add(a, b)
 *
 *     def call_n_times(n, callback):  # C calls back into Python
 *         check n is an int in 0..INT_MAX and callback is callable
 *         calls = extern_lib.call_n_times(n, lambda i: callback(i))
 *         if callback raised: re-raise it here (no call after it)
 *         return calls
 *
 *     def call_on_thread(n, callback):    # the same, from a C thread
 *         same checks; let go of the GIL while C starts a thread, runs
 *         call_n_times on it and joins it; the thread takes the GIL for
 *         each callback(i).  If callback raised there: re-raise it here
 *         return calls
 *
 *     def set_trace(on):              # writes the C global trace_calls
 *         old = extern_lib.trace_calls; extern_lib.trace_calls = bool(on)
 *         return old
 *
 * This is what PyO3's #[pyfunction] writes for Rust: argument parsing,
 * conversion with range checks, and turning a C-level failure into a
 * Python exception.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "common.h"       /* 3.10 to 3.13 differences, argument helpers */
#include <limits.h>
#include <stdio.h>

#include "extern_lib.h"

PyDoc_STRVAR(extern_add_doc, "add(a, b)\n--\n\n"
    "Return a + b, computed by C's add().");

/* [excerpt: add_args] */
static PyObject *
extern_add(PyObject *Py_UNUSED(module), PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"a", "b", NULL};
    PyObject *a_obj, *b_obj;          /* borrowed from the argument tuple */

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:add", keywords,
                                     &a_obj, &b_obj)) {
        return NULL;
    }
    /* [/excerpt: add_args] */
    /* [exercise part 1: extern_add] */
    PyErr_SetString(PyExc_NotImplementedError,
                    "write extern_add(): exercise 1, part 1 (see hints)");
    return NULL;
    /* [/exercise part 1: extern_add] */
}

/* [excerpt: n_and_callback] */
/* The arguments of call_n_times() and call_on_thread(), named `func`:
 * n, an int from 0 to INT_MAX, and a callable.  *callback is borrowed
 * from the arguments, which the caller holds until we return. */
static int
n_and_callback(PyObject *args, PyObject *kwargs, const char *func,
               int *n, PyObject **callback)
{
    static char *keywords[] = {"n", "callback", NULL};
    char format[40], what[64];
    PyObject *n_obj;
    long long value;

    snprintf(format, sizeof format, "OO:%s", func);
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, format, keywords,
                                     &n_obj, callback)) {
        return -1;
    }
    snprintf(what, sizeof what, "%s() argument 'n'", func);
    if (int_in_range(n_obj, INT_MIN, INT_MAX, what, &value) < 0) {
        return -1;
    }
    if (value < 0) {
        PyErr_Format(PyExc_ValueError, "%s must be >= 0, not %lld",
                     what, value);
        return -1;
    }
    if (!PyCallable_Check(*callback)) {
        snprintf(what, sizeof what, "%s() argument 'callback'", func);
        return type_error(what, "callable", *callback);
    }
    *n = (int)value;
    return 0;
}
/* [/excerpt: n_and_callback] */

/* The C library calls this on the thread that called call_n_times(),
 * which holds the GIL.  `context` is the Python callable, borrowed.
 * Returns 0 to go on, or -1 with the callback's exception set. */
static int
call_python_step(void *context, int step)
{
    PyObject *callback = context;
    /* [exercise part 2: call_python_step] */
    PyErr_Format(PyExc_NotImplementedError,
                 "write call_python_step(): exercise 1, part 2 (see hints);"
                 " C called it for %R, step %d", callback, step);
    return -1;
    /* [/exercise part 2: call_python_step] */
}

PyDoc_STRVAR(extern_call_n_times_doc, "call_n_times(n, callback)\n--\n\n"
    "C calls callback(i) for i in range(n); returns the count.");

/* [excerpt: call_n_times] */
static PyObject *
extern_call_n_times(PyObject *Py_UNUSED(module), PyObject *args,
                    PyObject *kwargs)
{
    int n;
    PyObject *callback;
    if (n_and_callback(args, kwargs, "call_n_times", &n, &callback) < 0) {
        return NULL;
    }
    int calls = call_n_times(n, call_python_step, callback);
    if (PyErr_Occurred()) {
        return NULL;        /* the callback's exception, unchanged */
    }
    return PyLong_FromLong(calls);      /* a new reference, for the caller */
}
/* [/excerpt: call_n_times] */

/* [excerpt: on_thread] */
/* [excerpt: thread_step] */
/* What the C thread and the thread waiting for it share. */
struct thread_call {
    PyObject *callback;     /* borrowed: the waiting caller holds it */
    PyObject *error;        /* owned: the callback's exception, or NULL */
};

/* The C library calls this on the thread it started.  That thread has no
 * Python thread state and does not hold the GIL: it must get both before
 * it touches a Python object, and give them back before C goes on. */
static int
thread_step(void *context, int step)
{
    struct thread_call *call = context;
    int status = 0;

    PyGILState_STATE gil = PyGILState_Ensure();     /* may wait for it */
    PyObject *value = PyObject_CallFunction(call->callback, "i", step);
    if (value != NULL) {
        Py_DECREF(value);
    }
    else {
        /* The exception belongs to this thread's state, which Release
         * may destroy.  Take it out; the waiting caller raises it. */
        call->error = PyErr_GetRaisedException();
        status = -1;
    }
    PyGILState_Release(gil);
    return status;
}
/* [/excerpt: thread_step] */

/* [excerpt: call_on_thread] */

PyDoc_STRVAR(extern_call_on_thread_doc, "call_on_thread(n, callback)\n--\n\n"
    "The same as call_n_times(), from a thread that C starts.");

static PyObject *
extern_call_on_thread(PyObject *Py_UNUSED(module), PyObject *args,
                      PyObject *kwargs)
{
    int n, calls;
    PyObject *callback;
    if (n_and_callback(args, kwargs, "call_on_thread", &n, &callback) < 0) {
        return NULL;
    }
    /* PyGILState_Ensure() knows only the main interpreter: a thread it
     * equips could not run a subinterpreter's callback. */
    if (PyInterpreterState_Get() != PyInterpreterState_Main()) {
        PyErr_SetString(PyExc_RuntimeError, "call_on_thread() works only "
                        "in the main interpreter");
        return NULL;
    }
    struct thread_call call = {.callback = callback, .error = NULL};
    /* Let go of the GIL while C runs the thread and waits for it: the
     * thread needs it for every callback, so if we kept it, each would
     * wait for the other for ever.  Touch no Python object in between.
     * While it waits, C calls check_signals (common.h) on this thread
     * every CALL_CHECK_MS, so that Ctrl-C can stop it. */
    Py_BEGIN_ALLOW_THREADS
    calls = call_n_times_on_thread_until(n, thread_step, &call,
                                         check_signals, NULL);
    Py_END_ALLOW_THREADS
    if (PyErr_Occurred()) {     /* Ctrl-C while we waited: that first */
        Py_XDECREF(call.error);
        return NULL;
    }
    if (call.error != NULL) {
        PyErr_SetRaisedException(call.error);   /* steals the reference */
        return NULL;
    }
    if (calls < 0) {
        PyErr_SetString(PyExc_RuntimeError,
                        "call_on_thread(): C could not start a thread");
        return NULL;
    }
    return PyLong_FromLong(calls);
}
/* [/excerpt: call_on_thread] */
/* [/excerpt: on_thread] */

PyDoc_STRVAR(extern_set_trace_doc, "set_trace(on)\n--\n\n"
    "Turn C's [c] trace lines on or off; return the old value.");

static PyObject *
extern_set_trace(PyObject *Py_UNUSED(module), PyObject *on)
{
    /* [exercise part 3: extern_set_trace] */
    PyErr_Format(PyExc_NotImplementedError,
                 "write extern_set_trace(): exercise 1, part 3 (see hints);"
                 " called with %R", on);
    return NULL;
    /* [/exercise part 3: extern_set_trace] */
}

/* [excerpt: tables] */
/* [excerpt: methods] */
static PyMethodDef extern_methods[] = {
    {"add", AS_PYCFUNCTION(extern_add),
     METH_VARARGS | METH_KEYWORDS, extern_add_doc},
    {"call_n_times", AS_PYCFUNCTION(extern_call_n_times),
     METH_VARARGS | METH_KEYWORDS, extern_call_n_times_doc},
    {"call_on_thread", AS_PYCFUNCTION(extern_call_on_thread),
     METH_VARARGS | METH_KEYWORDS, extern_call_on_thread_doc},
    {"set_trace", extern_set_trace, METH_O, extern_set_trace_doc},
    {NULL, NULL, 0, NULL}  /* sentinel */
};
/* [/excerpt: methods] */

/* [excerpt: slots] */
static PyModuleDef_Slot extern_slots[] = {
    /* Before 3.12 (Py_mod_multiple_interpreters) and 3.13 (Py_mod_gil),
     * or under the Limited API of an older version, these names come from
     * common.h, which makes each of these slots a Py_mod_exec. */
    /* trace_calls is one C global for the whole process: no own GIL */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED},
    /* callbacks and trace_calls rely on the GIL to take turns */
    {Py_mod_gil, Py_MOD_GIL_USED},
    {0, NULL}  /* sentinel */
};
/* [/excerpt: slots] */

/* [excerpt: module] */
static struct PyModuleDef extern_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "extern_capi",
    .m_doc = "Stage 01, road 1: extern_lib wrapped with the C API by hand.",
    .m_size = 0,
    .m_methods = extern_methods,
    .m_slots = extern_slots,
};

PyMODINIT_FUNC
PyInit_extern_capi(void)
{
    return PyModuleDef_Init(&extern_module);
}
/* [/excerpt: module] */
/* [/excerpt: tables] */
