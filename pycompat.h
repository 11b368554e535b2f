/* pycompat.h: the differences between CPython 3.10 and 3.13 that this
 * tutorial's C meets, kept in one place.
 *
 * Every C-API module includes it right after <Python.h>.  The modules and
 * the chapters use the current API; on an older interpreter this file
 * supplies what is missing, built from API that the older one has (the
 * same approach as the pythoncapi-compat project, cut down to our needs).
 * Each block names the version that introduced the real thing.
 */
#ifndef TALES_PYCOMPAT_H
#define TALES_PYCOMPAT_H

#ifndef Py_PYTHON_H
#  error "include <Python.h> before pycompat.h"
#endif

/* Py_NewRef, PyModule_AddObjectRef and friends arrived in 3.10: below it,
 * stop with one clear line instead of a page of compiler errors.  (The
 * Makefiles refuse an older interpreter before they get here.) */
#if PY_VERSION_HEX < 0x030A0000
#  error "these examples need CPython 3.10 or newer"
#endif


/* --- 3.11: PyType_GetName, Py_ALWAYS_INLINE, Py_NO_INLINE --------------- */

#if PY_VERSION_HEX < 0x030B0000
/* New reference to type.__name__ ("array", not "array.array"). */
static inline PyObject *
pycompat_PyType_GetName(PyTypeObject *type)
{
    return PyObject_GetAttrString((PyObject *)type, "__name__");
}
#  define PyType_GetName pycompat_PyType_GetName
#endif

#ifndef Py_ALWAYS_INLINE
#  if defined(__GNUC__) || defined(__clang__)
#    define Py_ALWAYS_INLINE __attribute__((always_inline))
#  else
#    define Py_ALWAYS_INLINE
#  endif
#endif

#ifndef Py_NO_INLINE
#  if defined(__GNUC__) || defined(__clang__)
#    define Py_NO_INLINE __attribute__((noinline))
#  else
#    define Py_NO_INLINE
#  endif
#endif


/* --- 3.12: PyErr_GetRaisedException, PyErr_SetRaisedException ----------- */

#if PY_VERSION_HEX < 0x030C0000
/* Take the exception being raised out of the thread state: a new reference
 * to the exception object, with its traceback attached, or NULL. */
static inline PyObject *
pycompat_PyErr_GetRaisedException(void)
{
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    if (type == NULL) {
        return NULL;
    }
    PyErr_NormalizeException(&type, &value, &traceback);
    if (traceback != NULL) {
        PyException_SetTraceback(value, traceback);
    }
    Py_DECREF(type);
    Py_XDECREF(traceback);
    return value;
}
#  define PyErr_GetRaisedException pycompat_PyErr_GetRaisedException

/* Put it back (steals the reference); NULL clears the error indicator. */
static inline void
pycompat_PyErr_SetRaisedException(PyObject *exc)
{
    if (exc == NULL) {
        PyErr_Clear();
        return;
    }
    PyObject *type = (PyObject *)Py_TYPE(exc);
    PyErr_Restore(Py_NewRef(type), exc, PyException_GetTraceback(exc));
}
#  define PyErr_SetRaisedException pycompat_PyErr_SetRaisedException
#endif


/* --- 3.12: Py_mod_multiple_interpreters; 3.13: Py_mod_gil --------------
 *
 * A module says in its slot table whether it may be loaded by more than
 * one interpreter in a process, and whether it needs the GIL.  An older
 * interpreter (or the Limited API of an older one) rejects a slot number
 * it does not know, so here each slot becomes one more Py_mod_exec: a
 * function run when the module is created.  For "supported" and for the
 * GIL that function does nothing, which is exactly what those versions did.
 * For "not supported" it refuses a second interpreter, as 3.12 does.
 * The same happens when the Limited API of an older version hides the
 * slots (stage 03's abi3 build targets 3.11): such a module says nothing,
 * which 3.12 and later read as "shared GIL only". */

static inline int
pycompat_exec_nothing(PyObject *Py_UNUSED(module))
{
    return 0;
}

#ifndef Py_mod_multiple_interpreters
#  define Py_mod_multiple_interpreters Py_mod_exec
#  define Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED \
          ((void *)pycompat_exec_nothing)
#  define Py_MOD_PER_INTERPRETER_GIL_SUPPORTED \
          ((void *)pycompat_exec_nothing)
#  ifndef Py_LIMITED_API
static inline int
pycompat_exec_main_interpreter_only(PyObject *module)
{
    if (PyInterpreterState_Get() == PyInterpreterState_Main()) {
        return 0;
    }
    const char *name = PyModule_GetName(module);
    if (name != NULL) {
        PyErr_Format(PyExc_ImportError,
                     "module %s does not support loading in subinterpreters",
                     name);
    }
    return -1;
}
#    define Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED \
            ((void *)pycompat_exec_main_interpreter_only)
#  endif
#endif

#ifndef Py_mod_gil
#  define Py_mod_gil Py_mod_exec
#  define Py_MOD_GIL_USED ((void *)pycompat_exec_nothing)
#  define Py_MOD_GIL_NOT_USED ((void *)pycompat_exec_nothing)
#endif


/* --- 3.13: Py_BEGIN_CRITICAL_SECTION ------------------------------------
 * On a free-threaded build it locks one object for the block; on a build
 * with a GIL it does nothing, since the GIL already serialises us. */
#ifndef Py_BEGIN_CRITICAL_SECTION
#  define Py_BEGIN_CRITICAL_SECTION(op) {
#  define Py_END_CRITICAL_SECTION() }
#endif

#endif /* TALES_PYCOMPAT_H */
