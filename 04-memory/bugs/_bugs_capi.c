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

PyDoc_STRVAR(bugs_free_pymem_with_free_doc, "free_pymem_with_free()\n--\n\n"
    "BUG: PyMem_Malloc, then C's free().");

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

PyDoc_STRVAR(bugs_pymem_free_malloc_doc, "pymem_free_malloc()\n--\n\n"
    "BUG: malloc, then PyMem_Free.");

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

PyDoc_STRVAR(bugs_double_free_person_doc, "double_free_person()\n--\n\n"
    "BUG: person_free() twice on one pointer.");

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

PyDoc_STRVAR(bugs_forget_person_doc, "forget_person()\n--\n\n"
    "BUG: person_new(), and the pointer dropped.");

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

PyDoc_STRVAR(bugs_keep_without_incref_doc, "keep_without_incref(obj)\n--\n\n"
    "BUG: C keeps obj, a borrowed reference.");

static PyObject *
bugs_keep_without_incref(PyObject *Py_UNUSED(module), PyObject *obj)
{
    kept = obj;     /* BUG: borrowed from the caller, who may drop it */
    Py_RETURN_NONE;
}

PyDoc_STRVAR(bugs_fetch_kept_doc, "fetch_kept()\n--\n\n"
    "What keep_without_incref() kept, dead or alive.");

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
    {"free_pymem_with_free", bugs_free_pymem_with_free,
     METH_NOARGS, bugs_free_pymem_with_free_doc},
    {"pymem_free_malloc", bugs_pymem_free_malloc,
     METH_NOARGS, bugs_pymem_free_malloc_doc},
    {"double_free_person", bugs_double_free_person,
     METH_NOARGS, bugs_double_free_person_doc},
    {"forget_person", bugs_forget_person, METH_NOARGS, bugs_forget_person_doc},
    {"keep_without_incref", bugs_keep_without_incref,
     METH_O, bugs_keep_without_incref_doc},
    {"fetch_kept", bugs_fetch_kept, METH_NOARGS, bugs_fetch_kept_doc},
    {NULL, NULL, 0, NULL}  /* sentinel */
};

/* The end of the module, as chapter 01 writes it (see common.h).  `kept`
 * is one C global pointing at a Python object: one interpreter only, and
 * it relies on the GIL (memory_lib's counters are atomics). */
FFI_MODULE(bugs, _bugs_capi,
           "Stage 04: memory bugs on purpose.  Only for child processes.",
           Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED, Py_MOD_GIL_USED)
