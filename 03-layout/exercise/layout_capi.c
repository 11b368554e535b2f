/* layout_capi.c: THE EXERCISE of stage 03.  Fill in the three parts that
 * raise NotImplementedError, then run `make check-3` from the top folder.
 * The reference solution is ../layout_capi.c: try without it first.
 *
 * Exercise 1: layout_birthday() a struct by pointer, in Python's memory
 * Exercise 2: describe_object() what is this object?  Check its type.
 * Exercise 3: person_arg()      a (height, age) tuple to a struct person
 *
 * (The header of the reference follows.)
 *
 * layout_capi.c: road 1, the CPython C API by hand, around layout_lib.
 *
 * What this module does, said in Python first:
 *
 *     def layout():                   # C's own numbers for every struct
 *         return {"person": {"size": 8, "align": 4,
 *                            "fields": [("height", 0, 4, 4), ...]}, ...}
 *
 *     def person_older(person, years):     # a struct by value
 *         height, age = person             # a (height, age) tuple
 *         check both fit a uint32_t, and so does age + years
 *         return tuple(layout_lib.person_older(struct(height, age), years))
 *
 *     def birthday(person):                # a struct by pointer
 *         person is a writable buffer of exactly one struct person
 *         layout_lib.person_birthday(&person); return the new age
 *
 *     def total_age(people):               # an array of structs, no copy
 *         people is a buffer of n * sizeof(struct person) bytes, whose
 *         items are bytes, uint32s or structs of fields (uint32, uint32)
 *         return layout_lib.people_total_age(people, n)
 *
 *     def fill_record(buffer, tag, id, flags):         # C fills memory
 *     def fill_record_packed(buffer, tag, id, flags):  # that Python owns
 *
 *     def describe(obj):                   # any Python object
 *         return "int 42", "str (len 3)", "other: set", ...
 *     def walk(items):                     # a list of anything
 *         return [describe(item) for item in items]
 *
 * The same file is compiled twice: as layout_capi against the full C API,
 * and as layout_abi3 with Py_LIMITED_API defined, so it uses only
 * functions of the stable ABI (no struct internals such as tp_name).
 * (layout_abi3 needs CPython 3.11: the Makefile skips it for 3.10.)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "pycompat.h"     /* 3.10 to 3.13: the differences, in one place */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "layout_lib.h"

/* The Makefile defines Py_LIMITED_API=0x030b0000 (3.11) for the abi3
 * build: the headers then hide everything outside the stable ABI, and the
 * .abi3.so works unchanged on every CPython from 3.11 on. */
#ifdef Py_LIMITED_API
#define MODULE_NAME "layout_abi3"
#define MODULE_INIT PyInit_layout_abi3
#else
#define MODULE_NAME "layout_capi"
#define MODULE_INIT PyInit_layout_capi
#endif

/* Set "FUNC() argument WHAT must be EXPECTED, not TYPE".  Under the
 * limited API PyTypeObject is opaque (no tp_name), so ask for the name. */
static void
type_error(const char *func, const char *what, const char *expected,
           PyObject *obj)
{
    PyObject *name = PyType_GetName(Py_TYPE(obj));     /* new reference */
    if (name == NULL) {
        return;
    }
    PyErr_Format(PyExc_TypeError, "%s() %s must be %s, not %U",
                 func, what, expected, name);
    Py_DECREF(name);
}

/* Convert `obj` to an unsigned integer no larger than `max` (a field of
 * a struct), or set an exception naming it: `what` is "argument 'id'" or
 * "argument 'person': field 'age'".  Returns 0, or -1 with an exception. */
static int
uint_arg(PyObject *obj, const char *func, const char *what,
         unsigned long long max, const char *ctype, unsigned long long *out)
{
    if (!PyLong_Check(obj)) {
        type_error(func, what, "int", obj);
        return -1;
    }
    int overflow = 0;
    long long value = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (value == -1 && PyErr_Occurred()) {
        return -1;
    }
    unsigned long long result = (unsigned long long)value;
    if (overflow > 0) {
        /* More than LLONG_MAX: it may still fit an unsigned 64 bits. */
        result = PyLong_AsUnsignedLongLong(obj);
        if (result == (unsigned long long)-1 && PyErr_Occurred()) {
            if (!PyErr_ExceptionMatches(PyExc_OverflowError)) {
                return -1;
            }
            PyErr_Clear();
            goto out_of_range;
        }
    }
    else if (overflow < 0 || value < 0) {
        goto out_of_range;
    }
    if (result > max) {
        goto out_of_range;
    }
    *out = result;
    return 0;

out_of_range:
    /* Never truncate silently: a negative age or a 33-bit height is an
     * error, not a different number. */
    PyErr_Format(PyExc_OverflowError, "%s() %s must be in 0..%llu (%s)",
                 func, what, max, ctype);
    return -1;
}

/* What an argument that points at structs may look like: the struct's
 * size and alignment, and its fields written as struct-module codes
 * (uint8_t 'B', uint16_t 'H', uint32_t 'I', uint64_t 'Q'), which is how a
 * buffer describes its items (see item_format below). */
struct buffer_kind {
    const char *ctype;          /* "struct person", for messages */
    size_t size, align;
    const char *fields;         /* "II": height and age */
    const char *element;        /* an item that is one field, or NULL */
    const char *expected;       /* for messages */
};

static const struct buffer_kind person_kind = {
    "struct person", sizeof(struct person), _Alignof(struct person),
    "II", "I", "bytes ('B'), uint32 ('I') or ctypes Person items",
};
static const struct buffer_kind record_kind = {
    "struct record", sizeof(struct record), _Alignof(struct record),
    "BQH", NULL, "bytes ('B') or ctypes Record items",
};
static const struct buffer_kind record_packed_kind = {
    "struct record_packed", sizeof(struct record_packed),
    _Alignof(struct record_packed), "BQH", NULL,
    "bytes ('B') or ctypes RecordPacked items",
};

/* Byte-order marks: '@' and '=' mean this machine's order, and so does
 * '<' (little-endian) on a little-endian CPU.  The others would mean that
 * the bytes of every field are the other way round. */
#if PY_LITTLE_ENDIAN
#define NATIVE_ORDER "@=<"
#define FOREIGN_ORDER "big-endian fields on a little-endian machine"
#else
#define NATIVE_ORDER "@=>!"
#define FOREIGN_ORDER "little-endian fields on a big-endian machine"
#endif
#define MAX_FIELDS 16

/* Read a buffer's item format for its meaning: the codes of its fields,
 * in order ("BQH"), into `fields` (MAX_FIELDS + 1 chars).  The rest is
 * spelling, which differs between exporters and Python versions for the
 * same memory: T{...} around a struct, field names (":tag:"), padding
 * ('x', "7x") and a byte-order mark that means this machine's order.
 * ctypes writes struct record as "T{<B:tag:<Q:id:<H:flags:}" before 3.12
 * and as "T{<B:tag:7x<Q:id:<H:flags:6x}" from 3.12 on.
 * Returns NULL, or what makes the format unreadable here (in `why`). */
static const char *
item_format(const char *format, char *fields, char *why, size_t size)
{
    size_t len = strlen(format), n = 0;
    if (len >= 3 && strncmp(format, "T{", 2) == 0
        && format[len - 1] == '}') {
        format += 2;
        len -= 3;
    }
    for (size_t i = 0; i < len; i++) {
        const char *at = format + i;
        unsigned long count = 1;
        if (strchr(NATIVE_ORDER, *at) != NULL) {
            continue;
        }
        if (strchr("<>!", *at) != NULL) {
            return FOREIGN_ORDER;
        }
        const char *end = *at == ':' ? memchr(at + 1, ':', len - i - 1)
                                     : NULL;
        if (end != NULL) {                      /* a name: ":tag:" */
            i = (size_t)(end - format);
            continue;
        }
        if (*at >= '0' && *at <= '9') {         /* a count: "7x", "2I" */
            char *after;
            count = strtoul(at, &after, 10);
            i = (size_t)(after - format);
        }
        char code = i < len ? format[i] : '\0';
        if (code == 'x') {                      /* padding */
            continue;
        }
        if (!((code >= 'A' && code <= 'Z') || (code >= 'a' && code <= 'z')
              || code == '?')) {
            size_t rest = len - (size_t)(at - format);
            PyOS_snprintf(why, size, "unreadable at '%.*s'",
                          (int)(rest < 40 ? rest : 40), at);
            return why;
        }
        if (count > MAX_FIELDS - n) {
            PyOS_snprintf(why, size, "more than %d fields", MAX_FIELDS);
            return why;
        }
        memset(fields + n, code, count);
        n += count;
    }
    fields[n] = '\0';
    return NULL;
}

/* Can items of this format and size hold structs of `kind`?  Returns NULL
 * if so, or what is wrong.  Raw bytes always can (the length decides);
 * otherwise the fields must be the struct's, in order, and an item must
 * be exactly one struct. */
static const char *
format_problem(const Py_buffer *view, const struct buffer_kind *kind,
               char *why, size_t size)
{
    char fields[MAX_FIELDS + 1];
    const char *problem = item_format(view->format ? view->format : "B",
                                      fields, why, size);
    if (problem != NULL) {
        return problem;
    }
    if (strcmp(fields, "B") == 0 || strcmp(fields, "b") == 0
        || strcmp(fields, "c") == 0
        || (kind->element != NULL && strcmp(fields, kind->element) == 0)) {
        return NULL;
    }
    if (strcmp(fields, kind->fields) != 0) {
        PyOS_snprintf(why, size, "fields '%s', not '%s'", fields,
                      kind->fields);
        return why;
    }
    if ((size_t)view->itemsize != kind->size) {
        PyOS_snprintf(why, size, "items of %zd bytes, not %zu",
                      view->itemsize, kind->size);
        return why;
    }
    return NULL;
}

/* Borrow the memory of `obj` as structs of `kind`, without copying.
 * On success (0) the caller owns `view` and must PyBuffer_Release it;
 * on error (-1) nothing is held.  `count` is -1 for "any number of
 * structs", else the exact number required.  Returns the struct count
 * through `n`. */
static int
buffer_arg(PyObject *obj, const char *func, const char *name,
           const struct buffer_kind *kind, int writable, Py_ssize_t count,
           Py_buffer *view, size_t *n)
{
    char what[64];
    PyOS_snprintf(what, sizeof(what), "argument '%s'", name);
    if (!PyObject_CheckBuffer(obj)) {
        type_error(func, what,
                   writable ? "a writable buffer (bytearray, ctypes object)"
                            : "a buffer (bytes, bytearray, array, ctypes)",
                   obj);
        return -1;
    }
    /* Ask for everything (strides, format) and check it ourselves, so
     * that each refusal gets a message that says what was wrong. */
    if (PyObject_GetBuffer(obj, view, PyBUF_FULL_RO) < 0) {
        return -1;
    }
    char why[80];
    size_t size = (size_t)view->len;
    if (writable && view->readonly) {
        type_error(func, what,
                   "a writable buffer (bytearray, ctypes object)", obj);
        goto error;
    }
    if (!PyBuffer_IsContiguous(view, 'C')) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s' must be C-contiguous memory "
                     "(an array of %s has no gaps)", func, name, kind->ctype);
        goto error;
    }
    const char *problem = format_problem(view, kind, why, sizeof(why));
    if (problem != NULL) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' has items of format '%s', which "
                     "cannot hold %s: %s (expected %s)",
                     func, name, view->format ? view->format : "B",
                     kind->ctype, problem, kind->expected);
        goto error;
    }
    if (count >= 0 && size != (size_t)count * kind->size) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s' must be exactly %zu bytes (one %s),"
                     " not %zu", func, name, kind->size, kind->ctype, size);
        goto error;
    }
    if (size % kind->size != 0) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s' has %zu bytes, which is not a "
                     "multiple of sizeof(%s) = %zu",
                     func, name, size, kind->ctype, kind->size);
        goto error;
    }
    if ((uintptr_t)view->buf % kind->align != 0) {
        /* Reading a uint32_t at an odd address is undefined behaviour
         * in C (and a crash on some CPUs). */
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s' starts at an address that is not "
                     "a multiple of _Alignof(%s) = %zu",
                     func, name, kind->ctype, kind->align);
        goto error;
    }
    *n = size / kind->size;
    return 0;

error:
    PyBuffer_Release(view);
    return -1;
}

/* Returns a new reference: {name: {"size", "align", "fields"}}. */
static PyObject *
describe_struct(const struct layout_struct *s)
{
    PyObject *fields = PyList_New(0);
    PyObject *result = NULL;
    if (fields == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < s->nfields; i++) {
        const struct layout_field *f = &s->fields[i];
        PyObject *item = Py_BuildValue("(snnn)", f->name,
                                       (Py_ssize_t)f->offset,
                                       (Py_ssize_t)f->size,
                                       (Py_ssize_t)f->align);
        if (item == NULL) {
            goto done;
        }
        int rc = PyList_Append(fields, item);      /* adds its own ref */
        Py_DECREF(item);
        if (rc < 0) {
            goto done;
        }
    }
    result = Py_BuildValue("{snsnsO}", "size", (Py_ssize_t)s->size,
                           "align", (Py_ssize_t)s->align, "fields", fields);
done:
    Py_DECREF(fields);
    return result;
}

static PyObject *
layout_layout(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    PyObject *result = PyDict_New();
    if (result == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < layout_count(); i++) {
        const struct layout_struct *s = layout_describe(i);
        PyObject *entry = describe_struct(s);
        if (entry == NULL) {
            goto error;
        }
        int rc = PyDict_SetItemString(result, s->name, entry);
        Py_DECREF(entry);
        if (rc < 0) {
            goto error;
        }
    }
    return result;

error:
    Py_DECREF(result);
    return NULL;
}

/* A (height, age) tuple to a struct person, naming the field that is
 * wrong.  Returns 0, or -1 with an exception set. */
static int
person_arg(PyObject *obj, const char *func, struct person *out)
{
    (void)obj;
    (void)func;
    (void)out;
    /* Check that obj is a tuple of exactly 2 items (PyTuple_Check,
     * PyTuple_Size), then convert each with uint_arg(), naming the field:
     * "argument 'person': field 'height'", max UINT32_MAX, "uint32_t". */
    PyErr_SetString(PyExc_NotImplementedError,
                    "exercise 3: implement person_arg() in "
                    "exercise/layout_capi.c: check a (height, age) tuple and "
                    "convert both fields with uint_arg()");
    return -1;
}

static PyObject *
layout_person_older(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    static char *keywords[] = {"person", "years", NULL};
    PyObject *person_obj, *years_obj;     /* borrowed from args */
    struct person person;
    unsigned long long years;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:person_older",
                                     keywords, &person_obj, &years_obj)
        || person_arg(person_obj, "person_older", &person) < 0
        || uint_arg(years_obj, "person_older", "argument 'years'",
                    UINT32_MAX, "uint32_t", &years) < 0) {
        return NULL;
    }
    if (person.age + years > UINT32_MAX) {
        /* C's uint32_t would wrap around to a small age: refuse. */
        PyErr_Format(PyExc_OverflowError,
                     "person_older(): age %lu + %llu years does not fit "
                     "in a uint32_t", (unsigned long)person.age, years);
        return NULL;
    }
    /* The whole struct is copied into the call, and the result is
     * copied back out: C never sees our `person`, only its copy. */
    struct person older = person_older(person, (uint32_t)years);
    return Py_BuildValue("(kk)", (unsigned long)older.height,
                         (unsigned long)older.age);
}

static PyObject *
layout_birthday(PyObject *module, PyObject *person_obj)
{
    (void)module;
    (void)person_obj;
    /* Borrow the memory with buffer_arg(..., &person_kind, 1, 1, ...),
     * call person_birthday() on view.buf, raise OverflowError if it
     * returns -1, and release the buffer on every path. */
    PyErr_SetString(PyExc_NotImplementedError,
                    "exercise 1: implement layout_birthday() in "
                    "exercise/layout_capi.c: borrow the buffer with "
                    "buffer_arg(), call person_birthday(), release it");
    return NULL;
}

static PyObject *
layout_total_age(PyObject *module, PyObject *people_obj)
{
    (void)module;
    Py_buffer view;
    size_t n;
    if (buffer_arg(people_obj, "total_age", "people", &person_kind, 0, -1,
                   &view, &n) < 0) {
        return NULL;
    }
    /* No copy: C reads the n structs where Python put them. */
    uint64_t total = people_total_age(view.buf, n);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLongLong(total);
}

/* Shared by fill_record and fill_record_packed: the arguments checked,
 * the buffer borrowed (the caller releases `view` on success). */
static int
record_args(PyObject *args, PyObject *kwargs, const char *format,
            const char *func, const struct buffer_kind *kind,
            Py_buffer *view, uint8_t *tag, uint64_t *id, uint16_t *flags)
{
    static char *keywords[] = {"buffer", "tag", "id", "flags", NULL};
    PyObject *buffer_obj, *tag_obj, *id_obj, *flags_obj;
    unsigned long long t, i, f;
    size_t n;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, format, keywords,
                                     &buffer_obj, &tag_obj, &id_obj,
                                     &flags_obj)
        || uint_arg(tag_obj, func, "argument 'tag'", UINT8_MAX, "uint8_t",
                    &t) < 0
        || uint_arg(id_obj, func, "argument 'id'", UINT64_MAX, "uint64_t",
                    &i) < 0
        || uint_arg(flags_obj, func, "argument 'flags'", UINT16_MAX,
                    "uint16_t", &f) < 0
        || buffer_arg(buffer_obj, func, "buffer", kind, 1, 1, view,
                      &n) < 0) {
        return -1;
    }
    *tag = (uint8_t)t;
    *id = (uint64_t)i;
    *flags = (uint16_t)f;
    return 0;
}

static PyObject *
layout_fill_record(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    Py_buffer view;
    uint8_t tag;
    uint64_t id;
    uint16_t flags;
    if (record_args(args, kwargs, "OOOO:fill_record", "fill_record",
                    &record_kind, &view, &tag, &id, &flags) < 0) {
        return NULL;
    }
    record_fill(view.buf, tag, id, flags);  /* into Python's memory */
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

static PyObject *
layout_fill_record_packed(PyObject *module, PyObject *args, PyObject *kwargs)
{
    (void)module;
    Py_buffer view;
    uint8_t tag;
    uint64_t id;
    uint16_t flags;
    if (record_args(args, kwargs, "OOOO:fill_record_packed",
                    "fill_record_packed", &record_packed_kind, &view, &tag,
                    &id, &flags) < 0) {
        return NULL;
    }
    record_packed_fill(view.buf, tag, id, flags);
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

/* Returns a new reference: a str saying what `obj` is, found by checking
 * its type the way PyO3 downcasts a PyAny.  Reads values and sizes
 * straight from the objects, so no Python code (no __len__, no __repr__
 * of a subclass) runs.  bool is checked before int: it is a subclass. */
static PyObject *
describe_object(PyObject *obj)
{
    (void)obj;
    /* Check None first, then PyBool_Check (before PyLong_Check: bool is a
     * subclass of int), PyLong_Check, PyFloat_Check, PyUnicode_Check,
     * PyBytes_Check, PyList_Check, PyDict_Check; anything else is
     * "other: <type name>" (PyType_GetName). */
    PyErr_SetString(PyExc_NotImplementedError,
                    "exercise 2: implement describe_object() in "
                    "exercise/layout_capi.c: check the object's type and "
                    "return \"int 42\", \"str (len 3)\", \"None\", ...");
    return NULL;
}

static PyObject *
layout_describe_obj(PyObject *module, PyObject *obj)
{
    (void)module;
    return describe_object(obj);
}

static PyObject *
layout_walk(PyObject *module, PyObject *items)
{
    (void)module;
    if (!PyList_Check(items)) {
        type_error("walk", "argument 'items'", "list", items);
        return NULL;
    }
    PyObject *result = PyList_New(0);
    if (result == NULL) {
        return NULL;
    }
    /* Ask for the size on every turn: in principle the list can change
     * while we walk it (a garbage collection can run any __del__). */
    for (Py_ssize_t i = 0; i < PyList_Size(items); i++) {
        PyObject *item = PyList_GetItem(items, i);     /* borrowed */
        if (item == NULL) {
            goto error;
        }
        Py_INCREF(item);    /* ours now, whatever happens to the list */
        PyObject *text = describe_object(item);
        Py_DECREF(item);
        if (text == NULL) {
            goto error;
        }
        int rc = PyList_Append(result, text);
        Py_DECREF(text);
        if (rc < 0) {
            goto error;
        }
    }
    return result;

error:
    Py_DECREF(result);
    return NULL;
}

static PyMethodDef layout_methods[] = {
    {"layout", layout_layout, METH_NOARGS,
     PyDoc_STR("layout()\n--\n\n"
               "C's sizeof, _Alignof and offsetof for every struct.")},
    {"person_older", (PyCFunction)(void (*)(void))layout_person_older,
     METH_VARARGS | METH_KEYWORDS,
     PyDoc_STR("person_older(person, years)\n--\n\n"
               "A struct person by value: return (height, age + years).")},
    {"birthday", layout_birthday, METH_O,
     PyDoc_STR("birthday(person)\n--\n\n"
               "A struct person by pointer: C adds 1 to its age in place "
               "and the new age is returned.")},
    {"total_age", layout_total_age, METH_O,
     PyDoc_STR("total_age(people)\n--\n\n"
               "Sum the ages of an array of struct person, read in place.")},
    {"fill_record", (PyCFunction)(void (*)(void))layout_fill_record,
     METH_VARARGS | METH_KEYWORDS,
     PyDoc_STR("fill_record(buffer, tag, id, flags)\n--\n\n"
               "C fills one struct record in a writable buffer.")},
    {"fill_record_packed",
     (PyCFunction)(void (*)(void))layout_fill_record_packed,
     METH_VARARGS | METH_KEYWORDS,
     PyDoc_STR("fill_record_packed(buffer, tag, id, flags)\n--\n\n"
               "C fills one struct record_packed in a writable buffer.")},
    {"describe", layout_describe_obj, METH_O,
     PyDoc_STR("describe(obj)\n--\n\nSay what kind of object obj is.")},
    {"walk", layout_walk, METH_O,
     PyDoc_STR("walk(items)\n--\n\ndescribe() every item of a list.")},
    {NULL, NULL, 0, NULL},  /* sentinel */
};

static PyModuleDef_Slot layout_slots[] = {
    /* no global state (only constant tables): each interpreter may own it */
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    /* walk() borrows list items (PyList_GetItem): only the GIL keeps them */
    {Py_mod_gil, Py_MOD_GIL_USED},
    {0, NULL},
};

static struct PyModuleDef layout_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = MODULE_NAME,
    .m_doc = "Stage 03, road 1: structs and objects with the C API.",
    .m_size = 0,
    .m_methods = layout_methods,
    .m_slots = layout_slots,
};

PyMODINIT_FUNC
MODULE_INIT(void)
{
    return PyModuleDef_Init(&layout_module);
}
