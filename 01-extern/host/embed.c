/* embed.c: C owns main(), so C is the host and Python is the guest.
 *
 * The program starts an interpreter, imports embedded_guest.py from the
 * folder given as its first argument (default "."), calls greet("embed.c")
 * and finalises the interpreter.  It links libpython with the flags that
 * `python3-config --embed --ldflags` prints.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "common.h"       /* 3.10 to 3.13 differences, argument helpers */

/* [excerpt: embed] */
/* [excerpt: call_guest] */
static int
call_guest(const char *folder)
{
    int rc = -1;
    PyObject *path = NULL, *module = NULL, *answer = NULL;

    /* sys.path is a borrowed reference; insert() copies our new string. */
    PyObject *sys_path = PySys_GetObject("path");
    if (sys_path == NULL) {
        /* PySys_GetObject sets no exception: there is nothing for
         * PyErr_Print to show, so say what is missing ourselves. */
        fprintf(stderr, "[c host] error: sys.path does not exist\n");
        return -1;
    }
    path = PyUnicode_DecodeFSDefault(folder);
    if (path == NULL || PyList_Insert(sys_path, 0, path) < 0) {
        goto done;
    }
    module = PyImport_ImportModule("embedded_guest");
    if (module == NULL) {
        goto done;
    }
    printf("[c host] calling embedded_guest.greet(\"embed.c\")\n");
    fflush(stdout);
    answer = PyObject_CallMethod(module, "greet", "s", "embed.c");
    if (answer == NULL) {
        goto done;
    }
    long n = PyLong_AsLong(answer);
    if (n == -1 && PyErr_Occurred()) {
        goto done;
    }
    printf("[c host] greet returned %ld\n", n);
    fflush(stdout);
    rc = 0;
done:
    if (rc < 0 && PyErr_ExceptionMatches(PyExc_SystemExit)) {
        /* PyErr_Print() would end this process, with the guest's status:
         * sys.exit() in the guest must not decide for the host. */
        PyObject *exc = PyErr_GetRaisedException();
        PyObject *text = PyObject_Repr(exc);
        const char *shown = text ? PyUnicode_AsUTF8(text) : NULL;
        PyErr_Clear();          /* a failed repr: name it plainly */
        fprintf(stderr, "[c host] error: the guest raised %s\n",
                shown ? shown : "SystemExit");
        Py_XDECREF(text);
        Py_DECREF(exc);
    }
    else if (rc < 0) {
        /* Every failure that reaches here set an exception. */
        PyErr_Print();          /* the traceback, as python3 would show it */
    }
    Py_XDECREF(answer);
    Py_XDECREF(module);
    Py_XDECREF(path);
    return rc;
}
/* [/excerpt: call_guest] */

/* [excerpt: embed_main] */
int
main(int argc, char **argv)
{
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.parse_argv = 0;      /* our argv is ours, not the interpreter's */
    PyStatus status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        Py_ExitStatusException(status);
    }
    printf("[c host] Python is initialised\n");
    fflush(stdout);

    int rc = call_guest(argc > 1 ? argv[1] : ".");

    /* Finalising flushes Python's own sys.stdout buffer and frees what the
     * interpreter allocated; its status says whether that went well. */
    if (Py_FinalizeEx() < 0) {
        rc = -1;
    }
    printf("[c host] Python is finalised\n");
    return rc < 0 ? 1 : 0;
}
/* [/excerpt: embed_main] */
/* [/excerpt: embed] */
