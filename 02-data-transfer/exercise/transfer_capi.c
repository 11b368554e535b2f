/* Exercise 2: transfer_capi.c of stage 02-data-transfer, with 3 parts left for you
 * to write.  This file is yours to edit.
 *
 * Write the parts in this order; each is the lines between
 * "[exercise part N: name]" and "[/exercise part N: name]",
 * which now raise NotImplementedError saying what to write:
 *   part 1: transfer_reversed_text()
 *   part 2: transfer_sorted_ints()
 *   part 3: transfer_scale_in_place()
 *
 * Check your work from the top folder:  make check-2
 * It runs the checks in part order; for the first failing one it
 * prints a nudge, then the API to reach for (all of them, in order:
 * 02-data-transfer/exercise/hints.txt).  Read only as much as you need.
 * The solution is the reference module ../transfer_capi.c.
 *
 * Generated from ../transfer_capi.c by tests/harness/skeleton.py
 * (make skeletons): outside the parts, the reference unchanged.
 */
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
#include "common.h"       /* 3.10 to 3.13 differences, argument helpers */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "transfer_lib.h"

/* ---- scalars -------------------------------------------------------- */

/* An int or a float becomes a C double (a huge int: OverflowError). */
static int
double_arg(PyObject *obj, const char *what, double *out)
{
    if (!PyFloat_Check(obj) && !PyLong_Check(obj)) {
        return type_error(what, "float", obj);
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
bool_arg(PyObject *obj, const char *what, bool *out)
{
    if (!PyBool_Check(obj)) {
        return type_error(what, "bool", obj);
    }
    *out = (obj == Py_True);
    return 0;
}

PyDoc_STRVAR(transfer_clamp_doc, "clamp(value, lo, hi)\n--\n\n"
    "value limited to lo..hi by C's clamp_int(), in C ints.");

static PyObject *
transfer_clamp(PyObject *Py_UNUSED(module), PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"value", "lo", "hi", NULL};
    PyObject *v_obj, *lo_obj, *hi_obj;  /* borrowed from the arguments */
    long long value, lo, hi;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO:clamp", keywords,
                                     &v_obj, &lo_obj, &hi_obj)
        || int_in_range(v_obj, INT_MIN, INT_MAX, "clamp() argument 'value'",
                        &value) < 0
        || int_in_range(lo_obj, INT_MIN, INT_MAX, "clamp() argument 'lo'",
                        &lo) < 0
        || int_in_range(hi_obj, INT_MIN, INT_MAX, "clamp() argument 'hi'",
                        &hi) < 0) {
        return NULL;
    }
    if (lo > hi) {
        PyErr_Format(PyExc_ValueError,
                     "clamp() needs lo <= hi, got lo=%lld, hi=%lld", lo, hi);
        return NULL;
    }
    /* In range, so the conversions to int keep every value. */
    return PyLong_FromLong(clamp_int((int)value, (int)lo, (int)hi));
}

PyDoc_STRVAR(transfer_checked_add_doc, "checked_add(a, b)\n--\n\n"
    "a + b as C long longs; OverflowError if it does not fit.");

/* [excerpt: checked_add] */
static PyObject *
transfer_checked_add(PyObject *Py_UNUSED(module), PyObject *args,
                     PyObject *kwargs)
{
    static char *keywords[] = {"a", "b", NULL};
    PyObject *a_obj, *b_obj;
    long long a, b, sum;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:checked_add",
                                     keywords, &a_obj, &b_obj)
        || int_in_range(a_obj, LLONG_MIN, LLONG_MAX,
                        "checked_add() argument 'a'", &a) < 0
        || int_in_range(b_obj, LLONG_MIN, LLONG_MAX,
                        "checked_add() argument 'b'", &b) < 0) {
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

PyDoc_STRVAR(transfer_scale_doc, "scale(x, factor)\n--\n\n"
    "x * factor, as C doubles.");

static PyObject *
transfer_scale(PyObject *Py_UNUSED(module), PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"x", "factor", NULL};
    PyObject *x_obj, *f_obj;
    double x, factor;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:scale", keywords,
                                     &x_obj, &f_obj)
        || double_arg(x_obj, "scale() argument 'x'", &x) < 0
        || double_arg(f_obj, "scale() argument 'factor'", &factor) < 0) {
        return NULL;
    }
    return PyFloat_FromDouble(scale_double(x, factor));
}

/* [excerpt: fastcall_args] */
/* METH_FASTCALL | METH_KEYWORDS hands over the arguments without building
 * a tuple or a dict: `args` is a C array holding the positional arguments
 * (the first `nargs`) and then the values of the keyword arguments, and
 * `kwnames` is a tuple of those keywords' names, in the same order, or
 * NULL when there are none.  Put each argument in its slot of out[]
 * (borrowed, like args), by position or by name, and refuse one that is
 * missing, unknown or given twice.  (CPython's own parser for this,
 * Argument Clinic's, is not public API.) */
static int
fastcall_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
              const char *func, const char *const *names, Py_ssize_t count,
              PyObject **out)
{
    if (nargs > count) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments (%zd given)",
                     func, count, nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        out[i] = i < nargs ? args[i] : NULL;
    }
    Py_ssize_t given = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < given; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);    /* always a str */
        Py_ssize_t i = 0;
        while (i < count
               && PyUnicode_CompareWithASCIIString(key, names[i]) != 0) {
            i++;
        }
        if (i == count) {
            PyErr_Format(PyExc_TypeError,
                         "%s() got an unexpected keyword argument '%U'",
                         func, key);
            return -1;
        }
        if (out[i] != NULL) {
            PyErr_Format(PyExc_TypeError,
                         "%s() got multiple values for argument '%s'",
                         func, names[i]);
            return -1;
        }
        out[i] = args[nargs + k];
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError,
                         "%s() missing required argument '%s'",
                         func, names[i]);
            return -1;
        }
    }
    return 0;
}
/* [/excerpt: fastcall_args] */

PyDoc_STRVAR(transfer_round_toward_doc, "round_toward(x, up)\n--\n\n"
    "ceil(x) if up is True, floor(x) if False, as a float.");

/* [excerpt: round_toward] */
static PyObject *
transfer_round_toward(PyObject *Py_UNUSED(module), PyObject *const *args,
                      Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"x", "up"};
    PyObject *arg[2];       /* borrowed from the caller's array */
    double x;
    bool up = false;

    if (fastcall_args(args, nargs, kwnames, "round_toward", names, 2, arg) < 0
        || double_arg(arg[0], "round_toward() argument 'x'", &x) < 0
        || bool_arg(arg[1], "round_toward() argument 'up'", &up) < 0) {
        return NULL;
    }
    return PyFloat_FromDouble(round_double(x, up));
}
/* [/excerpt: round_toward] */

PyDoc_STRVAR(transfer_is_nan_doc, "is_nan(x)\n--\n\n"
    "True if x is NaN, as C's isnan() sees it.");

static PyObject *
transfer_is_nan(PyObject *Py_UNUSED(module), PyObject *x_obj)
{
    double x;
    if (double_arg(x_obj, "is_nan() argument 'x'", &x) < 0) {
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
utf8_arg(PyObject *obj, const char *what, Py_ssize_t *len)
{
    if (!PyUnicode_Check(obj)) {
        type_error(what, "str", obj);
        return NULL;
    }
    return PyUnicode_AsUTF8AndSize(obj, len);
}
/* [/excerpt: utf8_arg] */

PyDoc_STRVAR(transfer_char_count_doc, "char_count(text)\n--\n\n"
    "len(text), counted by C in its UTF-8 bytes.");

static PyObject *
transfer_char_count(PyObject *Py_UNUSED(module), PyObject *text)
{
    Py_ssize_t len;
    const char *utf8 = utf8_arg(text, "char_count() argument 'text'", &len);
    if (utf8 == NULL) {
        return NULL;
    }
    return PyLong_FromSize_t(utf8_count(utf8, (size_t)len));
}

PyDoc_STRVAR(transfer_char_count_nul_doc, "char_count_nul(text)\n--\n\n"
    "The same through a NUL-terminated C string: text must not contain "
    "'\\0'.");

/* [excerpt: char_count_nul] */
static PyObject *
transfer_char_count_nul(PyObject *Py_UNUSED(module), PyObject *text)
{
    Py_ssize_t len;
    const char *utf8 = utf8_arg(text, "char_count_nul() argument 'text'",
                                &len);
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

PyDoc_STRVAR(transfer_reversed_text_doc, "reversed_text(text)\n--\n\n"
    "text[::-1], built by C in memory C allocates.");

/* Returns a new str: `text` reversed character by character, by C, in
 * memory that C allocates (utf8_reverse) and C must free (transfer_free). */
static PyObject *
transfer_reversed_text(PyObject *Py_UNUSED(module), PyObject *text)
{
    Py_ssize_t len;
    const char *utf8 = utf8_arg(text, "reversed_text() argument 'text'",
                                &len);
    if (utf8 == NULL) {
        return NULL;
    }
    /* [exercise part 1: transfer_reversed_text] */
    PyErr_SetString(PyExc_NotImplementedError,
                    "write transfer_reversed_text(): exercise 2, part 1 "
                    "(see hints)");
    return NULL;
    /* [/exercise part 1: transfer_reversed_text] */
}

/* ---- buffers -------------------------------------------------------- */

/* [excerpt: bytes_view] */
/* Fill `view` with the bytes of a bytes-like object, shared, not copied.
 * On success the caller owns the view and must PyBuffer_Release() it:
 * until then the exporter keeps the memory where it is (a bytearray
 * refuses to resize, for example). */
static int
bytes_view(PyObject *obj, const char *what, Py_buffer *view)
{
    if (!PyObject_CheckBuffer(obj)) {
        return type_error(what, "a bytes-like object", obj);
    }
    if (PyObject_GetBuffer(obj, view, PyBUF_RECORDS_RO) < 0) {
        return -1;
    }
    if (!PyBuffer_IsContiguous(view, 'C')) {
        PyErr_Format(PyExc_ValueError, "%s must be a C-contiguous buffer",
                     what);
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
ll_view(PyObject *obj, const char *what, bool writable, Py_buffer *view)
{
    const char *expected = writable
        ? "a writable buffer of C long long (such as array('q'))"
        : "a buffer of C long long (such as array('q'))";
    if (!PyObject_CheckBuffer(obj)) {
        return type_error(what, expected, obj);
    }
    if (PyObject_GetBuffer(obj, view, PyBUF_RECORDS_RO) < 0) {
        return -1;
    }
    const char *format = view->format != NULL ? view->format : "B";
    const char *code = format[0] == '@' ? format + 1 : format;
    if (writable && view->readonly) {
        type_error(what, expected, obj);
        goto error;
    }
    if (view->ndim != 1) {
        PyErr_Format(PyExc_ValueError,
                     "%s must be 1-dimensional, not %d-dimensional",
                     what, view->ndim);
        goto error;
    }
    if (view->itemsize != sizeof(long long)
        || (strcmp(code, "q") != 0 && strcmp(code, "l") != 0)) {
        PyErr_Format(PyExc_ValueError,
                     "%s must have item format 'q' (C long long), "
                     "not '%.50s'", what, format);
        goto error;
    }
    if (!PyBuffer_IsContiguous(view, 'C')) {
        PyErr_Format(PyExc_ValueError, "%s must be a C-contiguous buffer",
                     what);
        goto error;
    }
    /* A slice of a bytearray cast to 'q' can start at any byte; C may only
     * read a long long at an address that is a multiple of its alignment.
     * (An empty buffer is never read, and its address can be anything.) */
    if (view->len > 0 && (uintptr_t)view->buf % _Alignof(long long) != 0) {
        PyErr_Format(PyExc_ValueError,
                     "%s must start at an address aligned for a C long "
                     "long (a multiple of %zu)", what, _Alignof(long long));
        goto error;
    }
    return 0;

error:
    PyBuffer_Release(view);
    return -1;
}
/* [/excerpt: ll_view] */

PyDoc_STRVAR(transfer_checksum_doc, "checksum(data)\n--\n\n"
    "The Adler-32 checksum of a bytes-like object's bytes.");

static PyObject *
transfer_checksum(PyObject *Py_UNUSED(module), PyObject *data)
{
    Py_buffer view;
    if (bytes_view(data, "checksum() argument 'data'", &view) < 0) {
        return NULL;
    }
    uint32_t sum = adler32_bytes(view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(sum);
}

PyDoc_STRVAR(transfer_address_of_doc, "address_of(data)\n--\n\n"
    "The address of a buffer's first byte, as C sees it.");

static PyObject *
transfer_address_of(PyObject *Py_UNUSED(module), PyObject *data)
{
    Py_buffer view;
    if (bytes_view(data, "address_of() argument 'data'", &view) < 0) {
        return NULL;
    }
    PyObject *result = PyLong_FromVoidPtr(view.buf);
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(transfer_sum_buffer_doc, "sum_buffer(data)\n--\n\n"
    "Sum of a buffer of C long long, read in place.");

/* [excerpt: sum_buffer] */
static PyObject *
transfer_sum_buffer(PyObject *Py_UNUSED(module), PyObject *data)
{
    Py_buffer view;
    if (ll_view(data, "sum_buffer() argument 'data'", false, &view) < 0) {
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

PyDoc_STRVAR(transfer_scale_in_place_doc,
    "scale_in_place(data, factor)\n--\n\n"
    "Multiply every item of a writable 'q' buffer, in place, all or nothing.");

/* Multiplies every item of a writable 'q' buffer by `factor` where it
 * lies, all or nothing: scale_ll_in_place() checks every product first. */
static PyObject *
transfer_scale_in_place(PyObject *Py_UNUSED(module), PyObject *args,
                        PyObject *kwargs)
{
    static char *keywords[] = {"data", "factor", NULL};
    PyObject *data, *factor_obj;
    long long factor;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:scale_in_place",
                                     keywords, &data, &factor_obj)
        || int_in_range(factor_obj, LLONG_MIN, LLONG_MAX,
                        "scale_in_place() argument 'factor'", &factor) < 0) {
        return NULL;
    }
    /* [exercise part 3: transfer_scale_in_place] */
    PyErr_SetString(PyExc_NotImplementedError,
                    "write transfer_scale_in_place(): exercise 2, part 3 "
                    "(see hints)");
    return NULL;
    /* [/exercise part 3: transfer_scale_in_place] */
}

#define TIME_C_LOOP_MAX 100000

PyDoc_STRVAR(transfer_time_c_loop_doc, "time_c_loop(data, number)\n--\n\n"
    "Seconds C takes to sum the buffer `number` times.");

static PyObject *
transfer_time_c_loop(PyObject *Py_UNUSED(module), PyObject *args,
                     PyObject *kwargs)
{
    static char *keywords[] = {"data", "number", NULL};
    PyObject *data, *number_obj;
    long long number;
    Py_buffer view;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:time_c_loop",
                                     keywords, &data, &number_obj)
        || int_in_range(number_obj, 1, TIME_C_LOOP_MAX,
                        "time_c_loop() argument 'number'", &number) < 0
        || ll_view(data, "time_c_loop() argument 'data'", false,
                   &view) < 0) {
        return NULL;
    }
    double seconds = time_sum_ll(view.buf,
                                 (size_t)(view.len / view.itemsize),
                                 (long)number);
    PyBuffer_Release(&view);
    return PyFloat_FromDouble(seconds);
}

/* ---- sequences ------------------------------------------------------ */

/* "WHAT: item I must be int, not TYPE" (TypeError), or, when `item` is
 * NULL, "WHAT: item I does not fit in a C long long" (OverflowError). */
static void
item_error(const char *what, Py_ssize_t i, PyObject *item)
{
    char item_what[160];
    PyOS_snprintf(item_what, sizeof(item_what), "%s: item %zd", what, i);
    if (item != NULL) {
        type_error(item_what, "int", item);
    }
    else {
        PyErr_Format(PyExc_OverflowError,
                     "%s does not fit in a C long long", item_what);
    }
}

/* [excerpt: ll_array] */
/* Returns ownership: copy an iterable of ints into a new C array (free it
 * with PyMem_Free) and store its length in *n; NULL with an exception
 * set, naming the index and type of the first bad item, on error.
 * An exact list or tuple is read in place; anything else goes through
 * iter() first, so a raising __iter__ or __next__ surfaces here. */
static long long *
ll_array(PyObject *obj, const char *what, Py_ssize_t *n)
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
                PyErr_Clear();
                type_error(what, "an iterable of ints", obj);
            }
            return NULL;
        }
        seq = PySequence_List(iterator);
        Py_DECREF(iterator);
        if (seq == NULL) {
            return NULL;
        }
    }
    /* [excerpt: ll_array_loop] */
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
        if (!PyLong_Check(items[i])) {
            item_error(what, i, items[i]);
            goto error;
        }
        int overflow = 0;
        values[i] = PyLong_AsLongLongAndOverflow(items[i], &overflow);
        if (overflow != 0) {
            item_error(what, i, NULL);
            goto error;
        }
        if (values[i] == -1 && PyErr_Occurred()) {
            goto error;
        }
    }
    /* [/excerpt: ll_array_loop] */
    Py_DECREF(seq);
    *n = size;
    return values;

error:
    PyMem_Free(values);
    Py_XDECREF(seq);
    return NULL;
}
/* [/excerpt: ll_array] */

PyDoc_STRVAR(transfer_sum_list_doc, "sum_list(values)\n--\n\n"
    "Sum of an iterable of ints, copied into a C array first.");

/* [excerpt: sum_list] */
static PyObject *
transfer_sum_list(PyObject *Py_UNUSED(module), PyObject *values_obj)
{
    Py_ssize_t n = 0;   /* set by ll_array() when it succeeds */
    long long *values = ll_array(values_obj, "sum_list() argument 'values'",
                                 &n);
    if (values == NULL) {
        return NULL;
    }
    long long total;
    bool ok = sum_ll(values, (size_t)n, &total);
    PyMem_Free(values);     /* ours since ll_array(): freed on every path */
    if (!ok) {
        PyErr_SetString(PyExc_OverflowError,
                        "sum_list(): the sum does not fit in a C long long");
        return NULL;
    }
    return PyLong_FromLongLong(total);
}
/* [/excerpt: sum_list] */

PyDoc_STRVAR(transfer_sorted_ints_doc, "sorted_ints(values)\n--\n\n"
    "A new sorted list, sorted by C in a copy of the values.");

/* Returns a new list: the values sorted by C in a C copy, then copied
 * back out, one new int object per element. */
static PyObject *
transfer_sorted_ints(PyObject *Py_UNUSED(module), PyObject *values_obj)
{
    Py_ssize_t n = 0;   /* set by ll_array() when it succeeds */
    long long *values = ll_array(values_obj,
                                 "sorted_ints() argument 'values'", &n);
    if (values == NULL) {
        return NULL;
    }
    /* [exercise part 2: transfer_sorted_ints] */
    PyErr_SetString(PyExc_NotImplementedError,
                    "write transfer_sorted_ints(): exercise 2, part 2 "
                    "(see hints)");
    return NULL;
    /* [/exercise part 2: transfer_sorted_ints] */
}

/* ---- the module ----------------------------------------------------- */

/* A function with keywords takes (module, args, kwargs), or with
 * METH_FASTCALL (module, args, nargs, kwnames), but the table's slot is
 * typed for (module, arg): such entries are cast through a generic
 * function type, and ml_flags tells CPython the truth. */
static PyMethodDef transfer_methods[] = {
    {"clamp", AS_PYCFUNCTION(transfer_clamp),
     METH_VARARGS | METH_KEYWORDS, transfer_clamp_doc},
    {"checked_add", AS_PYCFUNCTION(transfer_checked_add),
     METH_VARARGS | METH_KEYWORDS, transfer_checked_add_doc},
    {"scale", AS_PYCFUNCTION(transfer_scale),
     METH_VARARGS | METH_KEYWORDS, transfer_scale_doc},
    /* [excerpt: round_toward_entry] */
    {"round_toward", AS_PYCFUNCTION(transfer_round_toward),
     METH_FASTCALL | METH_KEYWORDS, transfer_round_toward_doc},
    /* [/excerpt: round_toward_entry] */
    {"is_nan", transfer_is_nan, METH_O, transfer_is_nan_doc},
    {"char_count", transfer_char_count, METH_O, transfer_char_count_doc},
    {"char_count_nul", transfer_char_count_nul,
     METH_O, transfer_char_count_nul_doc},
    {"reversed_text", transfer_reversed_text,
     METH_O, transfer_reversed_text_doc},
    {"checksum", transfer_checksum, METH_O, transfer_checksum_doc},
    {"address_of", transfer_address_of, METH_O, transfer_address_of_doc},
    {"sum_buffer", transfer_sum_buffer, METH_O, transfer_sum_buffer_doc},
    {"scale_in_place", AS_PYCFUNCTION(transfer_scale_in_place),
     METH_VARARGS | METH_KEYWORDS, transfer_scale_in_place_doc},
    {"time_c_loop", AS_PYCFUNCTION(transfer_time_c_loop),
     METH_VARARGS | METH_KEYWORDS, transfer_time_c_loop_doc},
    {"sum_list", transfer_sum_list, METH_O, transfer_sum_list_doc},
    {"sorted_ints", transfer_sorted_ints, METH_O, transfer_sorted_ints_doc},
    {NULL, NULL, 0, NULL}  /* sentinel */
};

/* The end of the module, as chapter 01 writes it (see common.h).  No state
 * outside the arguments: any interpreter may load it, even one with its
 * own GIL.  The borrowed objects and buffers are only safe while the GIL
 * is held. */
FFI_MODULE(transfer, transfer_capi,
           "Stage 02, road 1: moving data across with the C API by hand.",
           Py_MOD_PER_INTERPRETER_GIL_SUPPORTED, Py_MOD_GIL_USED)
