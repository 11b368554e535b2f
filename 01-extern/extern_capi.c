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
#include "pycompat.h"     /* 3.10 to 3.13: the differences, in one place */
#include <limits.h>
#include <string.h>

#include "extern_lib.h"

/* The type's name without its module, as Python's type(obj).__name__
 * says it ("array", not "array.array"), so that both roads agree. */
static const char *
type_name(PyObject *obj)
{
    const char *name = Py_TYPE(obj)->tp_name;
    const char *dot = strrchr(name, '.');
    return dot != NULL ? dot + 1 : name;
}

/* [excerpt: int_arg] */
/* Convert `obj` to a C int, or set an exception that names the function,
 * the argument and what was expected.  Returns 0 on success, -1 on error. */
static int
int_arg(PyObject *obj, const char *func, const char *name, int *out)
{
    if (!PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be int, not %.200s",
                     func, name, type_name(obj));
        return -1;
    }
    int overflow = 0;
    long long value = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (value == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow != 0 || value < INT_MIN || value > INT_MAX) {
        PyErr_Format(PyExc_OverflowError,
                     "%s() argument '%s' must fit in a C int (%d to %d)",
                     func, name, INT_MIN, INT_MAX);
        return -1;
    }
    *out = (int)value;
    return 0;
}
/* [/excerpt: int_arg] */

/* [excerpt: add] */
static PyObject *
extern_add(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *keywords[] = {"a", "b", NULL};
    PyObject *a_obj, *b_obj;          /* borrowed from the argument tuple */
    int a, b;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:add", keywords,
                                     &a_obj, &b_obj)
        || int_arg(a_obj, "add", "a", &a) < 0
        || int_arg(b_obj, "add", "b", &b) < 0) {
        return NULL;
    }
    /* C's add() has undefined behaviour if the sum overflows: refuse it
     * here, where we can still raise a Python exception. */
    long long sum = (long long)a + b;
    if (sum < INT_MIN || sum > INT_MAX) {
        PyErr_Format(PyExc_OverflowError,
                     "add(%d, %d): the sum does not fit in a C int", a, b);
        return NULL;
    }
    return PyLong_FromLong(add(a, b));
}
/* [/excerpt: add] */

/* [excerpt: trampoline] */
/* The C library calls this; `context` is the Python callable, borrowed
 * from the caller of call_n_times(), which keeps it alive during the call.
 * We hold the GIL here: C called us synchronously from Python code. */
static int
call_python_step(void *context, int step)
{
    PyObject *callback = context;
    PyObject *result = PyObject_CallFunction(callback, "i", step);
    if (result == NULL) {
        return -1;          /* exception set: ask the C loop to stop */
    }
    Py_DECREF(result);      /* the callback's return value is not used */
    return 0;
}

static PyObject *
extern_call_n_times(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *keywords[] = {"n", "callback", NULL};
    PyObject *n_obj, *callback;
    int n;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:call_n_times",
                                     keywords, &n_obj, &callback)
        || int_arg(n_obj, "call_n_times", "n", &n) < 0) {
        return NULL;
    }
    if (n < 0) {
        PyErr_Format(PyExc_ValueError,
                     "call_n_times() argument 'n' must be >= 0, not %d", n);
        return NULL;
    }
    if (!PyCallable_Check(callback)) {
        PyErr_Format(PyExc_TypeError,
                     "call_n_times() argument 'callback' must be callable, "
                     "not %.200s", type_name(callback));
        return NULL;
    }
    int calls = call_n_times(n, call_python_step, callback);
    if (PyErr_Occurred()) {
        return NULL;        /* the callback's exception, unchanged */
    }
    return PyLong_FromLong(calls);
}
/* [/excerpt: trampoline] */

static PyObject *
extern_set_trace(PyObject *module, PyObject *on)
{
    (void)module;
    int flag = PyObject_IsTrue(on);
    if (flag < 0) {
        return NULL;
    }
    int old = trace_calls;
    trace_calls = flag;
    return PyBool_FromLong(old);
}

/* [excerpt: tables] */
static PyMethodDef extern_methods[] = {
    {"add", (PyCFunction)(void (*)(void))extern_add,
     METH_VARARGS | METH_KEYWORDS,
     PyDoc_STR("add(a, b)\n--\n\nReturn a + b, computed by C's add().")},
    {"call_n_times", (PyCFunction)(void (*)(void))extern_call_n_times,
     METH_VARARGS | METH_KEYWORDS,
     PyDoc_STR("call_n_times(n, callback)\n--\n\n"
               "C calls callback(i) for i in range(n); returns the count.")},
    {"set_trace", extern_set_trace, METH_O,
     PyDoc_STR("set_trace(on)\n--\n\n"
               "Turn C's [c] trace lines on or off; return the old value.")},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot extern_slots[] = {
    /* trace_calls is one C global for the whole process: no own GIL */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED},
    /* callbacks and trace_calls rely on the GIL to take turns */
    {Py_mod_gil, Py_MOD_GIL_USED},
    {0, NULL},
};

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
/* [/excerpt: tables] */
