/* Exercise 1: finish this C-API module, then run `make check-1`.
 *
 * This is stage 01's extern_capi.c with two bodies taken out.  Everything
 * else (argument checks, the method table, the module) is given.  Build and
 * check with `make check-1` from the top folder: it compiles this file into
 * exercise/build/ and runs the stage's contract against it.
 *
 *   1. extern_add(): Python -> C.  Parse `a` and `b`, convert them with
 *      int_arg(), refuse a sum that overflows a C int, call add().
 *   2. call_python_step(): C -> Python.  The C library calls it for every
 *      step; call the Python callable with the step number and tell C to
 *      stop (return -1) if it raised.
 *
 * The reference solution is ../extern_capi.c: try not to peek.
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

static PyObject *
extern_add(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    (void)args;
    (void)kwargs;
    /* Exercise 1, part 1: parse two arguments, "a" and "b"
     * (PyArg_ParseTupleAndKeywords with "OO:add"), convert each with
     * int_arg(), raise OverflowError if a + b does not fit in a C int,
     * and return PyLong_FromLong(add(a, b)). */
    PyErr_SetString(PyExc_NotImplementedError,
                    "exercise 1: implement extern_add() in "
                    "01-extern/exercise/extern_capi.c: parse a and b, "
                    "convert them with int_arg(), check the sum fits a C int "
                    "and return add(a, b) as a Python int");
    return NULL;
}

/* The C library calls this; `context` is the Python callable, borrowed
 * from the caller of call_n_times(), which keeps it alive during the call.
 * We hold the GIL here: C called us synchronously from Python code. */
static int
call_python_step(void *context, int step)
{
    (void)context;
    (void)step;
    /* Exercise 1, part 2: `context` is the Python callable.  Call it with
     * the int `step`, drop the reference to what it returned, and return
     * -1 if the call raised (the exception stays set), 0 otherwise. */
    PyErr_SetString(PyExc_NotImplementedError,
                    "exercise 1: implement call_python_step() in "
                    "01-extern/exercise/extern_capi.c: call the Python "
                    "callable `context` with `step`, release the result, "
                    "return -1 if it raised and 0 otherwise");
    return -1;
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
