/* crossing_capi.c: road 1, the C API by hand, one function per calling
 * convention, so that `make bench` can time what each one costs.
 *
 * What this module does, said in Python first:
 *
 *     def nothing():              return crossing_lib.cross_nothing()
 *     def inc(x):                 return crossing_lib.cross_add(x, 1)
 *     def add(a, b):              return crossing_lib.cross_add(a, b)
 *     def add_varargs(a, b):      same, arguments parsed from a tuple
 *     def add_keywords(a, b):     same, a and b may be given by name
 *     def call_back(fn, n):       C calls fn(i) for i in range(n), sums
 *     def sum_list(values):       copies a list of ints into C memory
 *     def sum_buffer(values):     reads an array('q') where it lies
 *
 * The four add functions do the same work; only the way CPython hands
 * them their arguments differs (METH_NOARGS, METH_O, METH_FASTCALL,
 * METH_VARARGS, METH_VARARGS | METH_KEYWORDS).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "common.h"       /* 3.10 to 3.13 differences, argument helpers */
#include <limits.h>
#include <string.h>

#include "crossing_lib.h"

PyDoc_STRVAR(crossing_nothing_doc, "nothing() -> 0");

/* [excerpt: conventions] */
/* METH_NOARGS: CPython checks that there are no arguments; `unused` is
 * always NULL. */
static PyObject *
crossing_nothing(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
    return PyLong_FromLong(cross_nothing());
}

PyDoc_STRVAR(crossing_inc_doc, "inc(x) -> x + 1");

/* METH_O: exactly one argument, passed as it is. */
static PyObject *
crossing_inc(PyObject *Py_UNUSED(module), PyObject *arg)
{
    long long x;
    if (int_in_range(arg, INT_MIN, INT_MAX - 1, "inc() argument 'x'",
                     &x) < 0) {
        return NULL;
    }
    return PyLong_FromLongLong(cross_add((int)x, 1));
}

PyDoc_STRVAR(crossing_add_doc, "add(a, b) -> a + b");

/* METH_FASTCALL: a C array of arguments, no tuple is built. */
static PyObject *
crossing_add(PyObject *Py_UNUSED(module), PyObject *const *args,
             Py_ssize_t nargs)
{
    long long a, b;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError,
                     "add() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    if (int_in_range(args[0], INT_MIN, INT_MAX, "add() argument 'a'", &a) < 0
        || int_in_range(args[1], INT_MIN, INT_MAX,
                        "add() argument 'b'", &b) < 0) {
        return NULL;
    }
    return PyLong_FromLongLong(cross_add((int)a, (int)b));
}

PyDoc_STRVAR(crossing_add_varargs_doc, "add_varargs(a, b) -> a + b");

/* METH_VARARGS: the arguments arrive as a tuple, parsed by a format. */
static PyObject *
crossing_add_varargs(PyObject *Py_UNUSED(module), PyObject *args)
{
    int a, b;
    if (!PyArg_ParseTuple(args, "ii:add_varargs", &a, &b)) {
        return NULL;
    }
    return PyLong_FromLongLong(cross_add(a, b));
}

PyDoc_STRVAR(crossing_add_keywords_doc, "add_keywords(a, b) -> a + b");

/* METH_VARARGS | METH_KEYWORDS: a tuple and a dict (or NULL); the
 * parser matches names against a NULL-terminated list. */
static PyObject *
crossing_add_keywords(PyObject *Py_UNUSED(module), PyObject *args,
                      PyObject *kwargs)
{
    static char *names[] = {"a", "b", NULL};
    int a, b;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "ii:add_keywords", names,
                                     &a, &b)) {
        return NULL;
    }
    return PyLong_FromLongLong(cross_add(a, b));
}
/* [/excerpt: conventions] */

/* What the C library hands back to call_python() on every call. */
struct callback_ctx {
    PyObject *fn;     /* borrowed: call_back()'s argument outlives the loop */
    int failed;       /* set once fn raised: later calls return at once */
};

/* Called by C for each i, with the GIL held (we never released it). */
static long long
call_python(void *ctx_ptr, int i)
{
    struct callback_ctx *ctx = ctx_ptr;
    if (ctx->failed) {
        return 0;
    }
    PyObject *arg = PyLong_FromLong(i);
    if (arg == NULL) {
        ctx->failed = 1;
        return 0;
    }
    PyObject *result = PyObject_CallOneArg(ctx->fn, arg);
    Py_DECREF(arg);
    if (result == NULL) {
        ctx->failed = 1;
        return 0;
    }
    long long value = PyLong_AsLongLong(result);
    Py_DECREF(result);
    if (value == -1 && PyErr_Occurred()) {
        ctx->failed = 1;
        return 0;
    }
    return value;
}

PyDoc_STRVAR(crossing_call_back_doc,
    "call_back(fn, n) -> sum of fn(i) for i in range(n), called from C");

static PyObject *
crossing_call_back(PyObject *Py_UNUSED(module), PyObject *const *args,
                   Py_ssize_t nargs)
{
    long long n;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError,
                     "call_back() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    if (!PyCallable_Check(args[0])) {
        type_error("call_back() argument 'fn'", "callable", args[0]);
        return NULL;
    }
    if (int_in_range(args[1], 0, INT_MAX, "call_back() argument 'n'",
                     &n) < 0) {
        return NULL;
    }
    struct callback_ctx ctx = {.fn = args[0], .failed = 0};
    long long total = cross_call_back(call_python, &ctx, (int)n);
    if (ctx.failed) {
        return NULL;    /* fn's exception (or ours) is still set */
    }
    return PyLong_FromLongLong(total);
}

PyDoc_STRVAR(crossing_sum_list_doc, "sum_list(values) -> sum, copied first");

/* Copies every item into memory that this function allocates and frees:
 * one conversion per element, the price of a list. */
static PyObject *
crossing_sum_list(PyObject *Py_UNUSED(module), PyObject *arg)
{
    PyObject *seq = PySequence_Fast(
        arg, "sum_list() argument 'values' must be a sequence");
    if (seq == NULL) {
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    long long *copy = PyMem_New(long long, n > 0 ? n : 1);
    if (copy == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        copy[i] = PyLong_AsLongLong(items[i]);
        if (copy[i] == -1 && PyErr_Occurred()) {
            goto done;
        }
    }
    result = PyLong_FromLongLong(cross_sum(copy, (size_t)n));
done:
    PyMem_Free(copy);
    Py_DECREF(seq);
    return result;
}

PyDoc_STRVAR(crossing_sum_buffer_doc,
    "sum_buffer(array('q')) -> sum, read in place");

/* Reads the exporter's own memory: no copy, no conversion, but the
 * format must say "C long long" and the memory must be contiguous. */
static PyObject *
crossing_sum_buffer(PyObject *Py_UNUSED(module), PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view,
                           PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    if (view.itemsize != (Py_ssize_t)sizeof(long long)
        || view.format == NULL || strcmp(view.format, "q") != 0) {
        PyErr_Format(PyExc_TypeError,
                     "expected a buffer of 'q' (long long), got format '%s'",
                     view.format != NULL ? view.format : "B");
        goto done;
    }
    result = PyLong_FromLongLong(
        cross_sum(view.buf, (size_t)(view.len / view.itemsize)));
done:
    PyBuffer_Release(&view);
    return result;
}

/* [excerpt: table] */
static PyMethodDef crossing_methods[] = {
    {"nothing", crossing_nothing, METH_NOARGS, crossing_nothing_doc},
    {"inc", crossing_inc, METH_O, crossing_inc_doc},
    {"add", AS_PYCFUNCTION(crossing_add), METH_FASTCALL, crossing_add_doc},
    {"add_varargs", crossing_add_varargs,
     METH_VARARGS, crossing_add_varargs_doc},
    {"add_keywords", AS_PYCFUNCTION(crossing_add_keywords),
     METH_VARARGS | METH_KEYWORDS, crossing_add_keywords_doc},
    {"call_back", AS_PYCFUNCTION(crossing_call_back),
     METH_FASTCALL, crossing_call_back_doc},
    {"sum_list", crossing_sum_list, METH_O, crossing_sum_list_doc},
    {"sum_buffer", crossing_sum_buffer, METH_O, crossing_sum_buffer_doc},
    {NULL, NULL, 0, NULL}  /* sentinel */
};
/* [/excerpt: table] */

/* The end of the module, as chapter 01 writes it (see common.h).  No state,
 * no globals: every interpreter may load it.  Each call finishes before it
 * returns: nothing relies on the GIL. */
FFI_MODULE(crossing, crossing_capi,
           "make bench, road 1: one function per calling convention.",
           Py_MOD_PER_INTERPRETER_GIL_SUPPORTED, Py_MOD_GIL_NOT_USED)
