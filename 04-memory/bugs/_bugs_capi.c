/* _bugs_capi.c: the mistakes of stage 04, on purpose.  PRIVATE.
 *
 * Every function here breaks a memory rule.  Nothing imports this module
 * except a child process started to show what the mistake does (under
 * AddressSanitizer, valgrind, or Python's debug allocator): see _demos.py.
 * Never call these in a process you care about.
 *
 *     free_pymem_with_free()     PyMem_Malloc, then C's free()
 *     pymem_free_malloc()        malloc, then PyMem_Free
 *     double_free_person()       person_free() twice on one pointer
 *     forget_person()            person_new() and the pointer dropped
 *     keep_without_incref(obj)   C keeps a borrowed reference ...
 *     fetch_kept()               ... and hands it out after it died
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "common.h"       /* 3.10 to 3.13 differences, argument helpers */
#include <stdlib.h>

#include "memory_lib.h"

/* [excerpt: wrong_allocator] */
static PyObject *
bugs_free_pymem_with_free(PyObject *Py_UNUSED(module),
                          PyObject *Py_UNUSED(ignored))
{
    char *text = PyMem_Malloc(64);      /* Python's allocator ... */
    if (text == NULL) {
        return PyErr_NoMemory();
    }
    free(text);                         /* BUG: ... C's free */
    Py_RETURN_NONE;
}

static PyObject *
bugs_pymem_free_malloc(PyObject *Py_UNUSED(module),
                       PyObject *Py_UNUSED(ignored))
{
    char *text = malloc(64);            /* C's allocator ... */
    if (text == NULL) {
        return PyErr_NoMemory();
    }
    PyMem_Free(text);                   /* BUG: ... Python's free */
    Py_RETURN_NONE;
}
/* [/excerpt: wrong_allocator] */

/* [excerpt: double_free] */
static PyObject *
bugs_double_free_person(PyObject *Py_UNUSED(module),
                        PyObject *Py_UNUSED(ignored))
{
    Person *person = person_new(170, 30);
    if (person == NULL) {
        return PyErr_NoMemory();
    }
    person_free(person);
    person_free(person);                /* BUG: freed already */
    Py_RETURN_NONE;
}

static PyObject *
bugs_forget_person(PyObject *Py_UNUSED(module),
                   PyObject *Py_UNUSED(ignored))
{
    Person *person = person_new(170, 30);
    if (person == NULL) {
        return PyErr_NoMemory();
    }
    /* BUG: the only pointer to the Person is lost when we return. */
    return PyLong_FromUnsignedLong(person->age);
}
/* [/excerpt: double_free] */

/* [excerpt: missing_incref] */
static PyObject *kept = NULL;   /* should be a strong reference; is not */

static PyObject *
bugs_keep_without_incref(PyObject *Py_UNUSED(module), PyObject *obj)
{
    kept = obj;     /* BUG: borrowed from the caller, who may drop it */
    Py_RETURN_NONE;
}

static PyObject *
bugs_fetch_kept(PyObject *Py_UNUSED(module),
                PyObject *Py_UNUSED(ignored))
{
    if (kept == NULL) {
        PyErr_SetString(PyExc_LookupError, "nothing kept");
        return NULL;
    }
    return Py_NewRef(kept);     /* touches whatever is there now */
}
/* [/excerpt: missing_incref] */

static PyMethodDef bugs_methods[] = {
    {.ml_name = "free_pymem_with_free", .ml_meth = bugs_free_pymem_with_free,
     .ml_flags = METH_NOARGS,
     .ml_doc = PyDoc_STR("free_pymem_with_free()\n--\n\n"
                         "BUG: PyMem_Malloc, then C's free().")},
    {.ml_name = "pymem_free_malloc", .ml_meth = bugs_pymem_free_malloc,
     .ml_flags = METH_NOARGS,
     .ml_doc = PyDoc_STR("pymem_free_malloc()\n--\n\n"
                         "BUG: malloc, then PyMem_Free.")},
    {.ml_name = "double_free_person", .ml_meth = bugs_double_free_person,
     .ml_flags = METH_NOARGS,
     .ml_doc = PyDoc_STR("double_free_person()\n--\n\n"
                         "BUG: person_free() twice on one pointer.")},
    {.ml_name = "forget_person", .ml_meth = bugs_forget_person,
     .ml_flags = METH_NOARGS,
     .ml_doc = PyDoc_STR("forget_person()\n--\n\n"
                         "BUG: person_new(), and the pointer dropped.")},
    {.ml_name = "keep_without_incref", .ml_meth = bugs_keep_without_incref,
     .ml_flags = METH_O,
     .ml_doc = PyDoc_STR("keep_without_incref(obj)\n--\n\n"
                         "BUG: C keeps obj, a borrowed reference.")},
    {.ml_name = "fetch_kept", .ml_meth = bugs_fetch_kept,
     .ml_flags = METH_NOARGS,
     .ml_doc = PyDoc_STR("fetch_kept()\n--\n\n"
                         "What keep_without_incref() kept, dead or alive.")},
    {.ml_name = NULL}  /* sentinel */
};

static PyModuleDef_Slot bugs_slots[] = {
    /* Before 3.12 (Py_mod_multiple_interpreters) and 3.13 (Py_mod_gil),
     * or under the Limited API of an older version, these names come from
     * common.h, which makes each of these slots a Py_mod_exec. */
    /* `kept` is one C global pointing at a Python object: one interpreter */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
    /* `kept` relies on the GIL (memory_lib's counters are atomics) */
    {Py_mod_gil, Py_MOD_GIL_USED},
    {0, NULL}  /* sentinel */
};

static struct PyModuleDef bugs_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_bugs_capi",
    .m_doc = "Stage 04: memory bugs on purpose.  Only for child processes.",
    .m_size = 0,
    .m_methods = bugs_methods,
    .m_slots = bugs_slots,
};

PyMODINIT_FUNC
PyInit__bugs_capi(void)
{
    return PyModuleDef_Init(&bugs_module);
}
