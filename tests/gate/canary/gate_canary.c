/* gate_canary.c: deliberately broken C, built ONLY for the quality gate's
 * self-test (tests/test_gate_canary.py, tests/gate/gate.py selftest).
 * It is never part of a stage and no stage build sees it.
 *
 * What it does, said in Python first:
 *
 *     def ok():              return "fine"        # the control: no bug
 *     def oob_write():       buf = malloc(16); buf[16] = 1  # 1 past the end
 *     def leak():            malloc(64) and forget the pointer
 *     def missing_incref():  keep a borrowed reference, drop its owner,
 *                            read the (now freed) object
 *     def leak_ref(obj):     take a reference to obj and never give it back

 *
 * Bugs 1-3 must be caught by `make memcheck` (valgrind) and by
 * `make sanitize` (ASan/UBSan/LSan), bug 4 by the reference-leak check
 * (tests/test_gate_refleak.py): if one is not, that gate is blind.
 *
 * It builds with the project's -Wall -Wextra -Werror and no -Wno-...:
 * the out-of-bounds index is read through a volatile variable and the
 * leaked pointer is stored through a volatile one, so that the compiler
 * can neither warn about the bugs (-Warray-bounds, -Wstringop-overflow)
 * nor optimise them away.  The bugs stay in the machine code.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "common.h"       /* 3.10 to 3.13 differences, argument helpers */
#include <stdlib.h>
#include <string.h>

static volatile size_t past_the_end = 16;  /* read at run time: no warning */
static void *volatile forgotten;           /* a store the compiler keeps */

/* A heap block of `size` bytes, each `byte`; NULL with MemoryError set
 * when malloc fails.  The caller owns the block: free() gives it back. */
static char *
filled_block(size_t size, int byte)
{
    char *buf = malloc(size);
    if (buf == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memset(buf, byte, size);
    return buf;
}

static PyObject *
canary_ok(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
    char *buf = filled_block(16, 'x');
    if (buf == NULL) {
        return NULL;
    }
    PyObject *result = PyUnicode_FromStringAndSize(buf, 4);
    free(buf);
    return result;
}

/* BUG 1: heap buffer overflow, one byte past a 16-byte block. */
static PyObject *
canary_oob_write(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
    char *buf = filled_block(16, 0);
    if (buf == NULL) {
        return NULL;
    }
    /* Through a volatile lvalue: the compiler must emit the store, even
     * though the block is freed right after (a dead store otherwise). */
    ((volatile char *)buf)[past_the_end] = 1;   /* index 16 of 0..15 */
    free(buf);
    Py_RETURN_NONE;
}

/* BUG 2: a leaked allocation: nothing points at the block any more. */
static PyObject *
canary_leak(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
    char *buf = filled_block(64, 'L');
    if (buf == NULL) {
        return NULL;
    }
    forgotten = buf;
    forgotten = NULL;                      /* the only pointer, gone */
    Py_RETURN_NONE;
}

/* BUG 3: missing Py_INCREF.  PyList_GetItem returns a BORROWED reference:
 * the list owns the item.  Dropping the list frees the item, and the code
 * goes on using it: it needed Py_INCREF(item) before Py_DECREF(list). */
static PyObject *
canary_missing_incref(PyObject *Py_UNUSED(module),
                      PyObject *Py_UNUSED(unused))
{
    PyObject *item = PyUnicode_FromFormat("canary string number %d", 42);
    if (item == NULL) {
        return NULL;
    }
    PyObject *list = PyList_New(1);
    if (list == NULL) {
        Py_DECREF(item);
        return NULL;
    }
    PyList_SET_ITEM(list, 0, item);        /* the list owns the item now */
    PyObject *borrowed = PyList_GetItem(list, 0);
    Py_DECREF(list);                       /* frees list AND item */
    return PyLong_FromSsize_t(PyUnicode_GET_LENGTH(borrowed));  /* freed */
}

/* BUG 4: a reference leak.  Nothing is freed too early or too late in C
 * terms, so valgrind and ASan see nothing; the object can just never die.
 * Only counting references (the reference-leak check) finds it. */
static PyObject *
canary_leak_ref(PyObject *Py_UNUSED(module), PyObject *obj)
{
    Py_INCREF(obj);                        /* owned by nobody, ever */
    Py_RETURN_NONE;
}

/* No docstrings: the top of this file and each BUG comment say it all. */
static PyMethodDef canary_methods[] = {
    {"ok", canary_ok, METH_NOARGS, NULL},
    {"oob_write", canary_oob_write, METH_NOARGS, NULL},
    {"leak", canary_leak, METH_NOARGS, NULL},
    {"leak_ref", canary_leak_ref, METH_O, NULL},
    {"missing_incref", canary_missing_incref, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}  /* sentinel */
};

static struct PyModuleDef canary_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "gate_canary",
    .m_doc = "Deliberately broken C for the quality gate's self-test.",
    .m_size = 0,
    .m_methods = canary_methods,
};

PyMODINIT_FUNC
PyInit_gate_canary(void)
{
    return PyModuleDef_Init(&canary_module);
}
