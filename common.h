/* common.h: the C every module shares, kept in one place.
 *
 * Every C-API module includes it right after <Python.h>.  It has two parts:
 *
 *   1. What differs between CPython 3.10 and 3.13.  The modules and the
 *      chapters use the current API; on an older interpreter this part
 *      supplies what is missing, built from API that the older one has
 *      (the same approach as the pythoncapi-compat project, cut down to
 *      our needs).  Each block names the version that introduced the real
 *      thing.
 *   2. The argument helpers every module uses: type_error() for a wrong
 *      type, int_in_range() and uint_in_range() for an int that must fit
 *      a C integer type, check_exit_args() for a context manager's
 *      __exit__.  Each message names the function and the argument.
 *      check_signals(), which lets Ctrl-C stop a C library that waits.
 *      And AS_PYCFUNCTION(), the one cast a method table needs, and
 *      FFI_MODULE(), the end of a module as chapter 01 writes it.
 *
 * Every function here is `static inline`: each module gets its own copy of
 * what it calls, and no compiler warns about a helper a module leaves
 * unused.
 */
#ifndef TALES_COMMON_H
#define TALES_COMMON_H

#ifndef Py_PYTHON_H
#  error "include <Python.h> before common.h"
#endif


/* ===== Part 1: what differs between CPython 3.10 and 3.13 ============== */

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
compat_PyType_GetName(PyTypeObject *type)
{
    return PyObject_GetAttrString((PyObject *)type, "__name__");
}
#  define PyType_GetName compat_PyType_GetName
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
compat_PyErr_GetRaisedException(void)
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
#  define PyErr_GetRaisedException compat_PyErr_GetRaisedException

/* Put it back (steals the reference); NULL clears the error indicator. */
static inline void
compat_PyErr_SetRaisedException(PyObject *exc)
{
    if (exc == NULL) {
        PyErr_Clear();
        return;
    }
    PyObject *type = (PyObject *)Py_TYPE(exc);
    PyErr_Restore(Py_NewRef(type), exc, PyException_GetTraceback(exc));
}
#  define PyErr_SetRaisedException compat_PyErr_SetRaisedException
#endif


/* --- 3.12: Py_mod_multiple_interpreters; 3.13: Py_mod_gil --------------
 *
 * A module says in its slot table whether it may be loaded by more than
 * one interpreter in a process, and whether it needs the GIL.  An older
 * interpreter (or the Limited API of an older one) rejects a slot number
 * it does not know, so here each slot becomes one more Py_mod_exec: a
 * function run when the module is created.  For "supported" and for the
 * GIL that function does nothing, which is exactly what those versions did.
 * For "not supported" it refuses every subinterpreter, which is stricter
 * than CPython: 3.12 and later refuse such a module only in an isolated
 * subinterpreter (own GIL, check_multi_interp_extensions on), and a legacy
 * one (Py_NewInterpreter(), sharing the main GIL) imports it.  3.10 and
 * 3.11 have only the legacy kind, and check nothing.
 * The same happens when the Limited API of an older version hides the
 * slots (stage 03's abi3 build targets 3.11): such a module says nothing,
 * which 3.12 and later read as "shared GIL only". */

static inline int
compat_exec_nothing(PyObject *Py_UNUSED(module))
{
    return 0;
}

#ifndef Py_mod_multiple_interpreters
#  define Py_mod_multiple_interpreters Py_mod_exec
#  define Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED \
          ((void *)compat_exec_nothing)
#  define Py_MOD_PER_INTERPRETER_GIL_SUPPORTED \
          ((void *)compat_exec_nothing)
#  ifndef Py_LIMITED_API
static inline int
compat_exec_main_interpreter_only(PyObject *module)
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
            ((void *)compat_exec_main_interpreter_only)
#  endif
#endif

#ifndef Py_mod_gil
#  define Py_mod_gil Py_mod_exec
#  define Py_MOD_GIL_USED ((void *)compat_exec_nothing)
#  define Py_MOD_GIL_NOT_USED ((void *)compat_exec_nothing)
#endif


/* --- 3.13: Py_BEGIN_CRITICAL_SECTION ------------------------------------
 * On a free-threaded build it locks one object for the block; on a build
 * with a GIL it does nothing, since the GIL already serialises us. */
#ifndef Py_BEGIN_CRITICAL_SECTION
#  define Py_BEGIN_CRITICAL_SECTION(op) {
#  define Py_END_CRITICAL_SECTION() }
#endif


/* ===== Part 2: the helpers every module uses =========================== */

/* [excerpt: int_in_range] */
/* [excerpt: type_error] */
/* Set "WHAT must be EXPECTED, not TYPE": `what` names the function and
 * the argument ("add() argument 'a'"), TYPE is type(obj).__name__, which
 * is also what the cffi road prints ("array", not "array.array").  Under
 * the Limited API PyTypeObject is opaque (no tp_name to read), so we ask
 * for the name.  Always returns -1, so that a caller can
 * `return type_error(...)`. */
static inline int
type_error(const char *what, const char *expected, PyObject *obj)
{
    PyObject *name = PyType_GetName(Py_TYPE(obj));     /* new reference */
    if (name != NULL) {
        PyErr_Format(PyExc_TypeError, "%s must be %s, not %U",
                     what, expected, name);
        Py_DECREF(name);
    }
    return -1;
}
/* [/excerpt: type_error] */

/* [excerpt: int_in_range_only] */
/* Convert `obj` to a C integer from `min` to `max`, or set an exception
 * that names the argument (`what`) and says what was expected.  Returns 0
 * on success, -1 with an exception set.  A float is refused, not
 * truncated: 2.5 is not an int.  A value out of range is refused, never
 * wrapped: C's int would silently keep only the low bits of 2**31. */
static inline int
int_in_range(PyObject *obj, long long min, long long max, const char *what,
             long long *out)
{
    if (!PyLong_Check(obj)) {
        return type_error(what, "int", obj);
    }
    int overflow = 0;
    long long value = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (value == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow != 0 || value < min || value > max) {
        PyErr_Format(PyExc_OverflowError, "%s must be in %lld..%lld",
                     what, min, max);
        return -1;
    }
    *out = value;
    return 0;
}
/* [/excerpt: int_in_range_only] */
/* [/excerpt: int_in_range] */

/* [excerpt: uint_in_range] */
/* The same for an unsigned C type, from 0 to `max`: a uint64_t field
 * holds up to 2**64 - 1, more than a long long can.  PyLong_AsUnsignedLongLong
 * refuses a negative int, or one above ULLONG_MAX, with an OverflowError
 * of its own; we put ours, which names the argument, in its place. */
static inline int
uint_in_range(PyObject *obj, unsigned long long max, const char *what,
              unsigned long long *out)
{
    if (!PyLong_Check(obj)) {
        return type_error(what, "int", obj);
    }
    unsigned long long value = PyLong_AsUnsignedLongLong(obj);
    if (value == (unsigned long long)-1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError)) {
            return -1;
        }
        PyErr_Clear();
        goto out_of_range;
    }
    if (value > max) {
        goto out_of_range;
    }
    *out = value;
    return 0;

out_of_range:
    /* Never truncate silently: a negative age or a 33-bit height is an
     * error, not a different number. */
    PyErr_Format(PyExc_OverflowError, "%s must be in 0..%llu", what, max);
    return -1;
}
/* [/excerpt: uint_in_range] */

/* A context manager's __exit__(exc_type, exc_value, traceback) takes
 * exactly those three: the `with` statement always passes three (three
 * Nones when the block ended normally).  For any other count, set a
 * TypeError that says what was expected; `type_name` names the class
 * ("Person").  Returns 0, or -1 with the exception set. */
static inline int
check_exit_args(const char *type_name, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError,
                     "%s.__exit__() takes 3 arguments (exc_type, exc_value, "
                     "traceback), got %zd", type_name, nargs);
        return -1;
    }
    return 0;
}

/* [excerpt: check_signals] */
/* For a C library that waits, or loops on a thread of its own, while the
 * thread that called it has released the GIL: the library calls this
 * (without the GIL) now and then, so that Ctrl-C can stop it.  Python's
 * C-level handler has only noted the signal; the Python handler runs in
 * PyErr_CheckSignals(), in the main thread, with the GIL.  If it raised
 * (KeyboardInterrupt for Ctrl-C), the exception stays set in this
 * thread's state, and the call that released the GIL finds it when it
 * takes the GIL back: return 1, and the library stops.  Stages 01 and 05
 * pass it to their libraries. */
static inline int
check_signals(void *Py_UNUSED(arg))
{
    PyGILState_STATE gil = PyGILState_Ensure();
    int stop = PyErr_CheckSignals() < 0;
    PyGILState_Release(gil);
    return stop;
}
/* [/excerpt: check_signals] */

/* [excerpt: as_pycfunction] */
/* A method table stores every function as a PyCFunction, which takes two
 * arguments.  A METH_FASTCALL or METH_KEYWORDS function takes three, so
 * the table stores it cast, and ml_flags tells Python how to call it back.
 * The cast goes through void (*)(void), the generic function pointer type,
 * so that GCC's -Wcast-function-type sees that it is meant. */
#define AS_PYCFUNCTION(func) ((PyCFunction)(void (*)(void))(func))
/* [/excerpt: as_pycfunction] */

/* FFI_MODULE(prefix, name, doc, interpreters, gil) writes the end of a
 * module with no state of its own, the same lines that extern_capi.c
 * (chapter 01) writes out by hand:
 *
 *   - prefix_slots, the slot table: which interpreters may load the module
 *     (Py_mod_multiple_interpreters, 3.12) and whether it needs the GIL
 *     (Py_mod_gil, 3.13).  Before those versions, or under the Limited API
 *     of an older one, both names come from Part 1, which makes each of
 *     them one more Py_mod_exec;
 *   - prefix_module, the PyModuleDef: the module's name and docstring, its
 *     functions (the table prefix_methods, defined above the call), no
 *     per-module state, the slots;
 *   - PyInit_<name>, the one symbol the import system looks up in the
 *     shared library: it returns the definition, and the import system
 *     creates the module from it (multi-phase initialisation, PEP 489).
 *
 * FFI_MODULE_EXEC is the same with one more slot, first: Py_mod_exec,
 * prefix_exec, a function that fills in each new module object (stage 05
 * adds its type there).  `name` is a bare word, or a macro that expands to
 * one (stage 03 builds one source under two names).  A module with state
 * of its own writes all of it out, as stage 04 does. */
#define FFI_MODULE(prefix, name, doc, interpreters, gil)         \
    FFI_MODULE_SLOTS(prefix, interpreters, gil, /* nothing */)   \
    FFI_MODULE_DEF(prefix, name, doc)
#define FFI_MODULE_EXEC(prefix, name, doc, interpreters, gil)    \
    FFI_MODULE_SLOTS(prefix, interpreters, gil,                  \
                     {Py_mod_exec, prefix##_exec},)              \
    FFI_MODULE_DEF(prefix, name, doc)
/* The slots `...` (each followed by a comma), then the two above. */
#define FFI_MODULE_SLOTS(prefix, interpreters, gil, ...)         \
    static PyModuleDef_Slot prefix##_slots[] = {                 \
        __VA_ARGS__                                              \
        {Py_mod_multiple_interpreters, interpreters},            \
        {Py_mod_gil, gil},                                       \
        {0, NULL}                                                \
    };
#define FFI_MODULE_DEF(prefix, name, doc)                        \
    static struct PyModuleDef prefix##_module = {                \
        PyModuleDef_HEAD_INIT,                                   \
        .m_name = #name,                                         \
        .m_doc = doc,                                            \
        .m_size = 0,                                             \
        .m_methods = prefix##_methods,                           \
        .m_slots = prefix##_slots,                               \
    };                                                           \
    PyMODINIT_FUNC                                               \
    PyInit_##name(void)                                          \
    {                                                            \
        return PyModuleDef_Init(&prefix##_module);               \
    }

#endif /* TALES_COMMON_H */
