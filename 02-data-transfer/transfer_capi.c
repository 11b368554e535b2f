/* transfer_capi.c: road 1, the CPython C API by hand, around transfer_lib.
 * Every function shows one way a value crosses the boundary.
 *
 * What this module does, said in Python first:
 *
 *     # scalars: copied by value, range-checked on the way in
 *     def clamp(value, lo, hi): ...           # C int in and out
 *     def checked_add(a, b): ...              # C long long; OverflowError
 *     def scale(x, factor): ...               # C double: NaN, inf pass
 *     def round_toward(x, up): ...            # C bool in: floor or ceil
 *     def is_nan(x): return x != x            # C bool out
 *
 *     # strings: str crosses as UTF-8 bytes plus a length
 *     def char_count(text): return len(text)  # counted by C in the UTF-8
 *     def char_count_nul(text): ...           # C stops at NUL: refused
 *     def reversed_text(text): return text[::-1]   # built by C, copied
 *     def checksum(data): return zlib.adler32(data)  # raw bytes
 *
 *     # sequences: copied element by element into a C array
 *     def sum_list(values): return sum(values)
 *     def sorted_ints(values): return sorted(values)   # a new list
 *
 *     # buffers: shared, C reads and writes Python's own memory
 *     def sum_buffer(data): return sum(data)           # 'q' items
 *     def scale_in_place(data, factor):       # all or nothing
 *         for i in range(len(data)): data[i] *= factor
 *     def address_of(data): ...               # where C sees the bytes
 *     def time_c_loop(data, number): ...      # sum_buffer timed inside C
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "pycompat.h"     /* 3.10 to 3.13: the differences, in one place */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "transfer_lib.h"

/* type(obj).__name__, which is what the cffi road can print: the type's
 * tp_name without its module part ("array.array" -> "array"). */
static const char *
type_name(PyObject *obj)
{
    const char *name = Py_TYPE(obj)->tp_name;
    const char *dot = strrchr(name, '.');
    return dot != NULL ? dot + 1 : name;
}

/* ---- scalars -------------------------------------------------------- */

/* [excerpt: ll_arg] */
/* Convert `obj` to a C long long, or set an exception that names the
 * function, the argument and what was expected.  0 on success, -1 on error.
 * A float is refused, not truncated: 2.5 is not an int. */
static int
ll_arg(PyObject *obj, const char *func, const char *name, long long *out)
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
    if (overflow != 0) {
        PyErr_Format(PyExc_OverflowError,
                     "%s() argument '%s' must fit in a C long long "
                     "(%lld to %lld)", func, name, LLONG_MIN, LLONG_MAX);
        return -1;
    }
    *out = value;
    return 0;
}
/* [/excerpt: ll_arg] */

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

/* An int or a float becomes a C double (a huge int: OverflowError). */
static int
double_arg(PyObject *obj, const char *func, const char *name, double *out)
{
    if (!PyFloat_Check(obj) && !PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be float, not %.200s",
                     func, name, type_name(obj));
        return -1;
    }
    double value = PyFloat_AsDouble(obj);
    if (value == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    *out = value;
    return 0;
}

/* Only True or False: a C bool has no room for "truthy". */
static int
bool_arg(PyObject *obj, const char *func, const char *name, bool *out)
{
    if (!PyBool_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be bool, not %.200s",
                     func, name, type_name(obj));
        return -1;
    }
    *out = (obj == Py_True);
    return 0;
}

static PyObject *
transfer_clamp(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *keywords[] = {"value", "lo", "hi", NULL};
    PyObject *v_obj, *lo_obj, *hi_obj;  /* borrowed from the arguments */
    int value, lo, hi;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO:clamp", keywords,
                                     &v_obj, &lo_obj, &hi_obj)
        || int_arg(v_obj, "clamp", "value", &value) < 0
        || int_arg(lo_obj, "clamp", "lo", &lo) < 0
        || int_arg(hi_obj, "clamp", "hi", &hi) < 0) {
        return NULL;
    }
    if (lo > hi) {
        PyErr_Format(PyExc_ValueError,
                     "clamp() needs lo <= hi, got lo=%d, hi=%d", lo, hi);
        return NULL;
    }
    return PyLong_FromLong(clamp_int(value, lo, hi));
}

/* [excerpt: checked_add] */
static PyObject *
transfer_checked_add(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *keywords[] = {"a", "b", NULL};
    PyObject *a_obj, *b_obj;
    long long a, b, sum;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:checked_add",
                                     keywords, &a_obj, &b_obj)
        || ll_arg(a_obj, "checked_add", "a", &a) < 0
        || ll_arg(b_obj, "checked_add", "b", &b) < 0) {
        return NULL;
    }
    /* A C bool comes back, and the result through a pointer to our local. */
    if (!add_ll(a, b, &sum)) {
        PyErr_Format(PyExc_OverflowError,
                     "checked_add(%lld, %lld): the sum does not fit in a "
                     "C long long", a, b);
        return NULL;
    }
    return PyLong_FromLongLong(sum);
}
/* [/excerpt: checked_add] */

static PyObject *
transfer_scale(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *keywords[] = {"x", "factor", NULL};
    PyObject *x_obj, *f_obj;
    double x, factor;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:scale", keywords,
                                     &x_obj, &f_obj)
        || double_arg(x_obj, "scale", "x", &x) < 0
        || double_arg(f_obj, "scale", "factor", &factor) < 0) {
        return NULL;
    }
    return PyFloat_FromDouble(scale_double(x, factor));
}

static PyObject *
transfer_round_toward(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *keywords[] = {"x", "up", NULL};
    PyObject *x_obj, *up_obj;
    double x;
    bool up;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:round_toward",
                                     keywords, &x_obj, &up_obj)
        || double_arg(x_obj, "round_toward", "x", &x) < 0
        || bool_arg(up_obj, "round_toward", "up", &up) < 0) {
        return NULL;
    }
    return PyFloat_FromDouble(round_double(x, up));
}

static PyObject *
transfer_is_nan(PyObject *module, PyObject *x_obj)
{
    (void)module;
    double x;
    if (double_arg(x_obj, "is_nan", "x", &x) < 0) {
        return NULL;
    }
    /* A C bool comes back as one of the two bool singletons. */
    return PyBool_FromLong(is_nan_double(x));
}

/* ---- strings -------------------------------------------------------- */

/* [excerpt: utf8_arg] */
/* The UTF-8 bytes of a str, and their length.  Borrowed: CPython keeps
 * this UTF-8 copy inside the str object and frees it with the str, so it
 * is valid as long as `obj` is alive, and we must not free it.  A lone
 * surrogate cannot be encoded: UnicodeEncodeError. */
static const char *
utf8_arg(PyObject *obj, const char *func, const char *name, Py_ssize_t *len)
{
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be str, not %.200s",
                     func, name, type_name(obj));
        return NULL;
    }
    return PyUnicode_AsUTF8AndSize(obj, len);
}
/* [/excerpt: utf8_arg] */

static PyObject *
transfer_char_count(PyObject *module, PyObject *text)
{
    (void)module;
    Py_ssize_t len;
    const char *utf8 = utf8_arg(text, "char_count", "text", &len);
    if (utf8 == NULL) {
        return NULL;
    }
    return PyLong_FromSize_t(utf8_count(utf8, (size_t)len));
}

/* [excerpt: char_count_nul] */
static PyObject *
transfer_char_count_nul(PyObject *module, PyObject *text)
{
    (void)module;
    Py_ssize_t len;
    const char *utf8 = utf8_arg(text, "char_count_nul", "text", &len);
    if (utf8 == NULL) {
        return NULL;
    }
    /* C will stop at the first NUL and silently count less: refuse such a
     * string here, as PyArg_Parse's "s" format does. */
    if (strlen(utf8) != (size_t)len) {
        Py_ssize_t at = PyUnicode_FindChar(text, 0, 0,
                                           PyUnicode_GET_LENGTH(text), 1);
        if (at == -2) {
            return NULL;
        }
        PyErr_Format(PyExc_ValueError,
                     "char_count_nul() argument 'text' contains a NUL "
                     "character at index %zd: C would stop reading there",
                     at);
        return NULL;
    }
    return PyLong_FromSize_t(utf8_count_nul(utf8));
}
/* [/excerpt: char_count_nul] */

/* [excerpt: reversed_text] */
static PyObject *
transfer_reversed_text(PyObject *module, PyObject *text)
{
    (void)module;
    Py_ssize_t len;
    const char *utf8 = utf8_arg(text, "reversed_text", "text", &len);
    if (utf8 == NULL) {
        return NULL;
    }
    /* C allocates the result, so C frees it: we own `out` until
     * transfer_free(), on every path. */
    char *out = utf8_reverse(utf8, (size_t)len);
    if (out == NULL) {
        return PyErr_NoMemory();
    }
    /* Decoding copies the bytes into a new str that Python owns; after
     * this line `out` is no longer needed, whatever the result. */
    PyObject *result = PyUnicode_DecodeUTF8(out, len, "strict");
    transfer_free(out);
    return result;
}
/* [/excerpt: reversed_text] */

/* ---- buffers -------------------------------------------------------- */

/* [excerpt: bytes_view] */
/* Fill `view` with the bytes of a bytes-like object, shared, not copied.
 * On success the caller owns the view and must PyBuffer_Release() it:
 * until then the exporter keeps the memory where it is (a bytearray
 * refuses to resize, for example). */
static int
bytes_view(PyObject *obj, const char *func, const char *name, Py_buffer *view)
{
    if (!PyObject_CheckBuffer(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a bytes-like object, "
                     "not %.200s", func, name, type_name(obj));
        return -1;
    }
    if (PyObject_GetBuffer(obj, view, PyBUF_RECORDS_RO) < 0) {
        return -1;
    }
    if (!PyBuffer_IsContiguous(view, 'C')) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s' must be a C-contiguous buffer",
                     func, name);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}
/* [/excerpt: bytes_view] */

/* [excerpt: ll_view] */
/* Like bytes_view, and the items must be C long long in one dimension.
 * Python describes the items with a struct-module format string:
 * 'q' is long long ('l' is the same thing where long has 8 bytes). */
static int
ll_view(PyObject *obj, const char *func, const char *name, bool writable,
        Py_buffer *view)
{
    if (!PyObject_CheckBuffer(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a buffer of C long long "
                     "(such as array('q')), not %.200s",
                     func, name, type_name(obj));
        return -1;
    }
    if (PyObject_GetBuffer(obj, view, PyBUF_RECORDS_RO) < 0) {
        return -1;
    }
    const char *format = view->format != NULL ? view->format : "B";
    const char *code = format[0] == '@' ? format + 1 : format;
    if (writable && view->readonly) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a writable buffer, "
                     "not a read-only %.200s",
                     func, name, type_name(obj));
        goto error;
    }
    if (view->ndim != 1) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s' must be 1-dimensional, "
                     "not %d-dimensional", func, name, view->ndim);
        goto error;
    }
    if (view->itemsize != sizeof(long long)
        || (strcmp(code, "q") != 0 && strcmp(code, "l") != 0)) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s' must have item format 'q' "
                     "(C long long), not '%.50s'", func, name, format);
        goto error;
    }
    if (!PyBuffer_IsContiguous(view, 'C')) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s' must be a C-contiguous buffer",
                     func, name);
        goto error;
    }
    /* A slice of a bytearray cast to 'q' can start at any byte; C may only
     * read a long long at an address that is a multiple of its alignment.
     * (An empty buffer is never read, and its address can be anything.) */
    if (view->len > 0 && (uintptr_t)view->buf % _Alignof(long long) != 0) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s' must start at an address aligned "
                     "for a C long long (a multiple of %zu)",
                     func, name, _Alignof(long long));
        goto error;
    }
    return 0;

error:
    PyBuffer_Release(view);
    return -1;
}
/* [/excerpt: ll_view] */

static PyObject *
transfer_checksum(PyObject *module, PyObject *data)
{
    (void)module;
    Py_buffer view;
    if (bytes_view(data, "checksum", "data", &view) < 0) {
        return NULL;
    }
    uint32_t sum = adler32_bytes(view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(sum);
}

static PyObject *
transfer_address_of(PyObject *module, PyObject *data)
{
    (void)module;
    Py_buffer view;
    if (bytes_view(data, "address_of", "data", &view) < 0) {
        return NULL;
    }
    PyObject *result = PyLong_FromVoidPtr(view.buf);
    PyBuffer_Release(&view);
    return result;
}

/* [excerpt: sum_buffer] */
static PyObject *
transfer_sum_buffer(PyObject *module, PyObject *data)
{
    (void)module;
    Py_buffer view;
    if (ll_view(data, "sum_buffer", "data", false, &view) < 0) {
        return NULL;
    }
    long long total;
    /* C reads Python's memory directly: no element is converted. */
    bool ok = sum_ll(view.buf, (size_t)(view.len / view.itemsize), &total);
    PyBuffer_Release(&view);
    if (!ok) {
        PyErr_SetString(PyExc_OverflowError,
                        "sum_buffer(): the sum does not fit in a "
                        "C long long");
        return NULL;
    }
    return PyLong_FromLongLong(total);
}
/* [/excerpt: sum_buffer] */

/* [excerpt: scale_in_place] */
static PyObject *
transfer_scale_in_place(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *keywords[] = {"data", "factor", NULL};
    PyObject *data, *factor_obj;
    long long factor;
    Py_buffer view;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:scale_in_place",
                                     keywords, &data, &factor_obj)
        || ll_arg(factor_obj, "scale_in_place", "factor", &factor) < 0
        || ll_view(data, "scale_in_place", "data", true, &view) < 0) {
        return NULL;
    }
    long long *values = view.buf;
    size_t n = (size_t)(view.len / view.itemsize);
    size_t done = scale_ll_in_place(values, n, factor);
    PyObject *result = NULL;
    if (done != n) {
        PyErr_Format(PyExc_OverflowError,
                     "scale_in_place(): item %zu (%lld) times %lld does not "
                     "fit in a C long long; the buffer is unchanged",
                     done, values[done], factor);
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&view);
    return result;
}
/* [/excerpt: scale_in_place] */

#define TIME_C_LOOP_MAX 100000

static PyObject *
transfer_time_c_loop(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *keywords[] = {"data", "number", NULL};
    PyObject *data, *number_obj;
    int number;
    Py_buffer view;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:time_c_loop",
                                     keywords, &data, &number_obj)
        || int_arg(number_obj, "time_c_loop", "number", &number) < 0) {
        return NULL;
    }
    if (number < 1 || number > TIME_C_LOOP_MAX) {
        PyErr_Format(PyExc_ValueError,
                     "time_c_loop() argument 'number' must be between 1 and "
                     "%d, not %d", TIME_C_LOOP_MAX, number);
        return NULL;
    }
    if (ll_view(data, "time_c_loop", "data", false, &view) < 0) {
        return NULL;
    }
    double seconds = time_sum_ll(view.buf,
                                 (size_t)(view.len / view.itemsize), number);
    PyBuffer_Release(&view);
    return PyFloat_FromDouble(seconds);
}

/* ---- sequences ------------------------------------------------------ */

/* [excerpt: ll_array] */
/* Returns ownership: copy an iterable of ints into a new C array (free it
 * with PyMem_Free) and store its length in *n; NULL with an exception
 * set, naming the index and type of the first bad item, on error.
 * An exact list or tuple is read in place; anything else goes through
 * iter() first, so a raising __iter__ or __next__ surfaces here. */
static long long *
ll_array(PyObject *obj, const char *func, const char *name, Py_ssize_t *n)
{
    PyObject *seq = NULL;           /* owned: a list or tuple */
    long long *values = NULL;       /* owned: the C copy */

    if (PyList_CheckExact(obj) || PyTuple_CheckExact(obj)) {
        seq = Py_NewRef(obj);
    }
    else {
        PyObject *iterator = PyObject_GetIter(obj);
        if (iterator == NULL) {
            if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Format(PyExc_TypeError,
                             "%s() argument '%s' must be an iterable of "
                             "ints, not %.200s",
                             func, name, type_name(obj));
            }
            return NULL;
        }
        seq = PySequence_List(iterator);
        Py_DECREF(iterator);
        if (seq == NULL) {
            return NULL;
        }
    }
    /* Nothing below runs Python code (an int is read without calling any
     * method), so nobody can change `seq` while we read it. */
    Py_ssize_t size = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);  /* borrowed */
    values = PyMem_New(long long, size > 0 ? size : 1);
    if (values == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *item = items[i];
        if (!PyLong_Check(item)) {
            PyErr_Format(PyExc_TypeError,
                         "%s() argument '%s': item %zd must be int, "
                         "not %.200s", func, name, i, type_name(item));
            goto error;
        }
        int overflow = 0;
        values[i] = PyLong_AsLongLongAndOverflow(item, &overflow);
        if (overflow != 0) {
            PyErr_Format(PyExc_OverflowError,
                         "%s() argument '%s': item %zd does not fit in a "
                         "C long long", func, name, i);
            goto error;
        }
        if (values[i] == -1 && PyErr_Occurred()) {
            goto error;
        }
    }
    Py_DECREF(seq);
    *n = size;
    return values;

error:
    PyMem_Free(values);
    Py_XDECREF(seq);
    return NULL;
}
/* [/excerpt: ll_array] */

/* [excerpt: sum_list] */
static PyObject *
transfer_sum_list(PyObject *module, PyObject *values_obj)
{
    (void)module;
    Py_ssize_t n = 0;   /* set by ll_array() when it succeeds */
    long long *values = ll_array(values_obj, "sum_list", "values", &n);
    if (values == NULL) {
        return NULL;
    }
    long long total;
    bool ok = sum_ll(values, (size_t)n, &total);
    PyMem_Free(values);
    if (!ok) {
        PyErr_SetString(PyExc_OverflowError,
                        "sum_list(): the sum does not fit in a C long long");
        return NULL;
    }
    return PyLong_FromLongLong(total);
}
/* [/excerpt: sum_list] */

/* [excerpt: sorted_ints] */
static PyObject *
transfer_sorted_ints(PyObject *module, PyObject *values_obj)
{
    (void)module;
    Py_ssize_t n = 0;   /* set by ll_array() when it succeeds */
    long long *values = ll_array(values_obj, "sorted_ints", "values", &n);
    if (values == NULL) {
        return NULL;
    }
    sort_ll(values, (size_t)n);
    /* The way back is a copy too: one new int object per element. */
    PyObject *result = PyList_New(n);
    if (result == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyLong_FromLongLong(values[i]);
        if (item == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, item);   /* steals the reference */
    }
done:
    PyMem_Free(values);
    return result;
}
/* [/excerpt: sorted_ints] */

/* ---- the module ----------------------------------------------------- */

/* A METH_VARARGS | METH_KEYWORDS function has three parameters, but the
 * table's slot is typed for two: cast through a generic function type. */
#define WITH_KEYWORDS(f) ((PyCFunction)(void (*)(void))(f))
#define DOC(text) PyDoc_STR(text)

static PyMethodDef transfer_methods[] = {
    {.ml_name = "clamp", .ml_meth = WITH_KEYWORDS(transfer_clamp),
     .ml_flags = METH_VARARGS | METH_KEYWORDS,
     .ml_doc = DOC("clamp(value, lo, hi)\n--\n\n"
                   "value limited to lo..hi by C's clamp_int(), in C ints.")},
    {.ml_name = "checked_add", .ml_meth = WITH_KEYWORDS(transfer_checked_add),
     .ml_flags = METH_VARARGS | METH_KEYWORDS,
     .ml_doc = DOC("checked_add(a, b)\n--\n\n"
                   "a + b as C long longs; OverflowError if it does not "
                   "fit.")},
    {.ml_name = "scale", .ml_meth = WITH_KEYWORDS(transfer_scale),
     .ml_flags = METH_VARARGS | METH_KEYWORDS,
     .ml_doc = DOC("scale(x, factor)\n--\n\nx * factor, as C doubles.")},
    {.ml_name = "round_toward",
     .ml_meth = WITH_KEYWORDS(transfer_round_toward),
     .ml_flags = METH_VARARGS | METH_KEYWORDS,
     .ml_doc = DOC("round_toward(x, up)\n--\n\n"
                   "ceil(x) if up is True, floor(x) if False, as a float.")},
    {.ml_name = "is_nan", .ml_meth = transfer_is_nan, .ml_flags = METH_O,
     .ml_doc = DOC("is_nan(x)\n--\n\nTrue if x is NaN, as C's isnan() "
                   "sees it.")},
    {.ml_name = "char_count", .ml_meth = transfer_char_count,
     .ml_flags = METH_O,
     .ml_doc = DOC("char_count(text)\n--\n\n"
                   "len(text), counted by C in its UTF-8 bytes.")},
    {.ml_name = "char_count_nul", .ml_meth = transfer_char_count_nul,
     .ml_flags = METH_O,
     .ml_doc = DOC("char_count_nul(text)\n--\n\n"
                   "The same through a NUL-terminated C string: text must "
                   "not contain '\\0'.")},
    {.ml_name = "reversed_text", .ml_meth = transfer_reversed_text,
     .ml_flags = METH_O,
     .ml_doc = DOC("reversed_text(text)\n--\n\n"
                   "text[::-1], built by C in memory C allocates.")},
    {.ml_name = "checksum", .ml_meth = transfer_checksum, .ml_flags = METH_O,
     .ml_doc = DOC("checksum(data)\n--\n\n"
                   "The Adler-32 checksum of a bytes-like object's bytes.")},
    {.ml_name = "address_of", .ml_meth = transfer_address_of,
     .ml_flags = METH_O,
     .ml_doc = DOC("address_of(data)\n--\n\n"
                   "The address of a buffer's first byte, as C sees it.")},
    {.ml_name = "sum_buffer", .ml_meth = transfer_sum_buffer,
     .ml_flags = METH_O,
     .ml_doc = DOC("sum_buffer(data)\n--\n\n"
                   "Sum of a buffer of C long long, read in place.")},
    {.ml_name = "scale_in_place",
     .ml_meth = WITH_KEYWORDS(transfer_scale_in_place),
     .ml_flags = METH_VARARGS | METH_KEYWORDS,
     .ml_doc = DOC("scale_in_place(data, factor)\n--\n\n"
                   "Multiply every item of a writable 'q' buffer, in "
                   "place, all or nothing.")},
    {.ml_name = "time_c_loop", .ml_meth = WITH_KEYWORDS(transfer_time_c_loop),
     .ml_flags = METH_VARARGS | METH_KEYWORDS,
     .ml_doc = DOC("time_c_loop(data, number)\n--\n\n"
                   "Seconds C takes to sum the buffer `number` times.")},
    {.ml_name = "sum_list", .ml_meth = transfer_sum_list, .ml_flags = METH_O,
     .ml_doc = DOC("sum_list(values)\n--\n\n"
                   "Sum of an iterable of ints, copied into a C array "
                   "first.")},
    {.ml_name = "sorted_ints", .ml_meth = transfer_sorted_ints,
     .ml_flags = METH_O,
     .ml_doc = DOC("sorted_ints(values)\n--\n\n"
                   "A new sorted list, sorted by C in a copy of the "
                   "values.")},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot transfer_slots[] = {
    /* no state outside the arguments: any interpreter, even with its own GIL */
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    /* the borrowed objects and buffers are only safe while the GIL is held */
    {Py_mod_gil, Py_MOD_GIL_USED},
    {0, NULL},
};

static struct PyModuleDef transfer_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "transfer_capi",
    .m_doc = "Stage 02, road 1: moving data across with the C API by hand.",
    .m_size = 0,
    .m_methods = transfer_methods,
    .m_slots = transfer_slots,
};

PyMODINIT_FUNC
PyInit_transfer_capi(void)
{
    return PyModuleDef_Init(&transfer_module);
}
