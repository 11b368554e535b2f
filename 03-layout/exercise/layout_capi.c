/* Exercise 3: layout_capi.c of stage 03-layout, with 3 parts left for you
 * to write.  This file is yours to edit.
 *
 * Write the parts in this order; each is the lines between
 * "[exercise part N: name]" and "[/exercise part N: name]",
 * which now raise NotImplementedError saying what to write:
 *   part 1: layout_person_older()
 *   part 2: layout_birthday()
 *   part 3: layout_walk()
 *
 * Check your work from the top folder:  make check-3
 * It runs the checks in part order; for the first failing one it
 * prints a nudge, then the API to reach for (all of them, in order:
 * 03-layout/exercise/hints.txt).  Read only as much as you need.
 * The solution is the reference module ../layout_capi.c.
 *
 * Generated from ../layout_capi.c by tests/harness/skeleton.py
 * (make skeletons): outside the parts, the reference unchanged.
 */
/* layout_capi.c: road 1, the CPython C API by hand, around layout_lib.
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
#include "common.h"       /* 3.10 to 3.13 differences, argument helpers */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "layout_lib.h"

/* [excerpt: module_name] */
/* The Makefile defines Py_LIMITED_API=0x030b0000 (3.11) for the abi3
 * build: the headers then hide everything outside the stable ABI, and the
 * .abi3.so works unchanged on every CPython from 3.11 on.  FFI_MODULE, at
 * the end of this file, makes MODULE the module's name and the name of
 * its PyInit_ function. */
#ifdef Py_LIMITED_API
#define MODULE layout_abi3
#else
#define MODULE layout_capi
#endif
/* [/excerpt: module_name] */

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

/* [excerpt: item_format] */
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
/* [/excerpt: item_format] */

/* [excerpt: buffer_arg] */
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
    char what[80];
    PyOS_snprintf(what, sizeof(what), "%s() argument '%s'", func, name);
    if (!PyObject_CheckBuffer(obj)) {
        return type_error(what,
                          writable ? "a writable buffer (bytearray, ctypes "
                                     "object)"
                                   : "a buffer (bytes, bytearray, array, "
                                     "ctypes)", obj);
    }
    /* Ask for everything (strides, format) and check it ourselves, so
     * that each refusal gets a message that says what was wrong. */
    if (PyObject_GetBuffer(obj, view, PyBUF_FULL_RO) < 0) {
        return -1;
    }
    char why[80];
    size_t size = (size_t)view->len;
    if (writable && view->readonly) {
        type_error(what, "a writable buffer (bytearray, ctypes object)",
                   obj);
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
    if (size > 0 && (uintptr_t)view->buf % kind->align != 0) {
        /* Reading a uint32_t at an odd address is undefined behaviour
         * in C (and a crash on some CPUs).  An empty buffer is never
         * read, and its address can be anything. */
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
/* [/excerpt: buffer_arg] */

/* [excerpt: layout] */
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

PyDoc_STRVAR(layout_layout_doc, "layout()\n--\n\n"
    "C's sizeof, _Alignof and offsetof for every struct.");

static PyObject *
layout_layout(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    PyObject *structs = PyDict_New();
    if (structs == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < layout_count(); i++) {
        const struct layout_struct *s = layout_describe(i);
        PyObject *entry = describe_struct(s);
        if (entry == NULL
            || PyDict_SetItemString(structs, s->name, entry) < 0) {
            Py_XDECREF(entry);
            Py_DECREF(structs);
            return NULL;
        }
        Py_DECREF(entry);   /* the dict took its own reference */
    }
    return structs;
}
/* [/excerpt: layout] */

/* [excerpt: person_arg] */
/* A (height, age) tuple to a struct person, naming the field that is
 * wrong.  Returns 0, or -1 with an exception set. */
static int
person_arg(PyObject *obj, const char *func, struct person *out)
{
    char what[80], height_what[96], age_what[96];
    PyOS_snprintf(what, sizeof(what), "%s() argument 'person'", func);
    PyOS_snprintf(height_what, sizeof(height_what), "%s: field 'height'",
                  what);
    PyOS_snprintf(age_what, sizeof(age_what), "%s: field 'age'", what);
    if (!PyTuple_Check(obj)) {
        return type_error(what, "a (height, age) tuple", obj);
    }
    Py_ssize_t len = PyTuple_Size(obj);
    if (len != 2) {
        PyErr_Format(PyExc_TypeError,
                     "%s must be a (height, age) tuple of 2 items, not %zd",
                     what, len);
        return -1;
    }
    unsigned long long height, age;
    /* PyTuple_GetItem returns borrowed references: the tuple keeps them
     * alive, and a tuple cannot change. */
    if (uint_in_range(PyTuple_GetItem(obj, 0), UINT32_MAX, height_what,
                      &height) < 0
        || uint_in_range(PyTuple_GetItem(obj, 1), UINT32_MAX, age_what,
                         &age) < 0) {
        return -1;
    }
    out->height = (uint32_t)height;
    out->age = (uint32_t)age;
    return 0;
}
/* [/excerpt: person_arg] */

PyDoc_STRVAR(layout_person_older_doc, "person_older(person, years)\n--\n\n"
    "A struct person by value: return (height, age + years).");

/* A struct by value: person_older(person, years) -> (height, age + years),
 * refusing an age that would wrap around in C's uint32_t. */
static PyObject *
layout_person_older(PyObject *Py_UNUSED(module), PyObject *args,
                    PyObject *kwargs)
{
    static char *keywords[] = {"person", "years", NULL};
    PyObject *person_obj, *years_obj;     /* borrowed from args */
    struct person person;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:person_older",
                                     keywords, &person_obj, &years_obj)
        || person_arg(person_obj, "person_older", &person) < 0) {
        return NULL;
    }
    /* [exercise part 1: layout_person_older] */
    PyErr_SetString(PyExc_NotImplementedError,
                    "write layout_person_older(): exercise 3, part 1 "
                    "(see hints)");
    return NULL;
    /* [/exercise part 1: layout_person_older] */
}

PyDoc_STRVAR(layout_birthday_doc, "birthday(person)\n--\n\n"
    "A struct person by pointer: C adds 1 to its age in place and the new "
    "age is returned.");

/* A struct by pointer: C adds 1 to the age of the struct person that
 * Python's writable buffer holds, where it lies; returns the new age. */
static PyObject *
layout_birthday(PyObject *Py_UNUSED(module), PyObject *person_obj)
{
    Py_buffer view;
    size_t n;
    if (buffer_arg(person_obj, "birthday", "person", &person_kind, 1, 1,
                   &view, &n) < 0) {
        return NULL;
    }
    /* [exercise part 2: layout_birthday] */
    PyErr_SetString(PyExc_NotImplementedError,
                    "write layout_birthday(): exercise 3, part 2 "
                    "(see hints)");
    return NULL;
    /* [/exercise part 2: layout_birthday] */
}

PyDoc_STRVAR(layout_total_age_doc, "total_age(people)\n--\n\n"
    "Sum the ages of an array of struct person, read in place.");

/* [excerpt: array] */
static PyObject *
layout_total_age(PyObject *Py_UNUSED(module), PyObject *people_obj)
{
    Py_buffer view;
    size_t n;
    if (buffer_arg(people_obj, "total_age", "people", &person_kind, 0, -1,
                   &view, &n) < 0) {
        return NULL;
    }
    /* No copy: C reads the n structs where Python put them, and the
     * view pins them there until it is released, on every path. */
    uint64_t total = people_total_age(view.buf, n);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLongLong(total);
}
/* [/excerpt: array] */

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
    char tag_what[64], id_what[64], flags_what[64];
    size_t n;
    PyOS_snprintf(tag_what, sizeof(tag_what), "%s() argument 'tag'", func);
    PyOS_snprintf(id_what, sizeof(id_what), "%s() argument 'id'", func);
    PyOS_snprintf(flags_what, sizeof(flags_what), "%s() argument 'flags'",
                  func);
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, format, keywords,
                                     &buffer_obj, &tag_obj, &id_obj,
                                     &flags_obj)
        || uint_in_range(tag_obj, UINT8_MAX, tag_what, &t) < 0
        || uint_in_range(id_obj, UINT64_MAX, id_what, &i) < 0
        || uint_in_range(flags_obj, UINT16_MAX, flags_what, &f) < 0
        || buffer_arg(buffer_obj, func, "buffer", kind, 1, 1, view,
                      &n) < 0) {
        return -1;
    }
    *tag = (uint8_t)t;
    *id = (uint64_t)i;
    *flags = (uint16_t)f;
    return 0;
}

PyDoc_STRVAR(layout_fill_record_doc,
    "fill_record(buffer, tag, id, flags)\n--\n\n"
    "C fills one struct record in a writable buffer.");

/* [excerpt: fill] */
static PyObject *
layout_fill_record(PyObject *Py_UNUSED(module), PyObject *args,
                   PyObject *kwargs)
{
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
/* [/excerpt: fill] */

PyDoc_STRVAR(layout_fill_record_packed_doc,
    "fill_record_packed(buffer, tag, id, flags)\n--\n\n"
    "C fills one struct record_packed in a writable buffer.");

static PyObject *
layout_fill_record_packed(PyObject *Py_UNUSED(module), PyObject *args,
                          PyObject *kwargs)
{
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

/* [excerpt: describe] */
/* [excerpt: describe_head] */
/* Returns a new reference: a str saying what `obj` is, found by checking
 * its type the way PyO3 downcasts a PyAny.  Reads values and sizes
 * straight from the objects, so no Python code (no __len__, no __repr__
 * of a subclass) runs.  bool is checked before int: it is a subclass. */
static PyObject *
describe_object(PyObject *obj)
{
    if (obj == Py_None) {
        return PyUnicode_FromString("None");
    }
    if (PyBool_Check(obj)) {
        return PyUnicode_FromString(obj == Py_True ? "bool True"
                                                   : "bool False");
    }
    if (PyLong_Check(obj)) {
        int overflow = 0;
        long long value = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (value == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (overflow != 0) {
            return PyUnicode_FromString("int (does not fit in 64 bits)");
        }
        return PyUnicode_FromFormat("int %lld", value);
    }
    /* [/excerpt: describe_head] */
    if (PyFloat_Check(obj)) {
        double value = PyFloat_AsDouble(obj);
        if (value == -1.0 && PyErr_Occurred()) {
            return NULL;
        }
        /* 'r' is repr(): the shortest text that reads back the same. */
        char *text = PyOS_double_to_string(value, 'r', 0,
                                           Py_DTSF_ADD_DOT_0, NULL);
        if (text == NULL) {
            return NULL;
        }
        PyObject *result = PyUnicode_FromFormat("float %s", text);
        PyMem_Free(text);   /* PyOS_double_to_string allocated it */
        return result;
    }
    if (PyUnicode_Check(obj)) {
        return PyUnicode_FromFormat("str (len %zd)",
                                    PyUnicode_GetLength(obj));
    }
    if (PyBytes_Check(obj)) {
        return PyUnicode_FromFormat("bytes (len %zd)",
                                    PyBytes_Size(obj));
    }
    if (PyList_Check(obj)) {
        return PyUnicode_FromFormat("list (len %zd)", PyList_Size(obj));
    }
    if (PyDict_Check(obj)) {
        return PyUnicode_FromFormat("dict (len %zd)", PyDict_Size(obj));
    }
    PyObject *name = PyType_GetName(Py_TYPE(obj));     /* new reference */
    if (name == NULL) {
        return NULL;
    }
    PyObject *result = PyUnicode_FromFormat("other: %U", name);
    Py_DECREF(name);
    return result;
}
/* [/excerpt: describe] */

PyDoc_STRVAR(layout_describe_obj_doc,
    "describe(obj)\n--\n\nSay what kind of object obj "
    "is.");

static PyObject *
layout_describe_obj(PyObject *Py_UNUSED(module), PyObject *obj)
{
    return describe_object(obj);
}

PyDoc_STRVAR(layout_walk_doc, "walk(items)\n--\n\n"
    "describe() every item of a list.");

/* Returns a new list: describe() of every item of a list of anything.
 * The list's items are borrowed, and describing one could, in principle,
 * run code that changes the list. */
static PyObject *
layout_walk(PyObject *Py_UNUSED(module), PyObject *items)
{
    if (!PyList_Check(items)) {
        type_error("walk() argument 'items'", "list", items);
        return NULL;
    }
    /* [exercise part 3: layout_walk] */
    PyErr_SetString(PyExc_NotImplementedError,
                    "write layout_walk(): exercise 3, part 3 (see hints)");
    return NULL;
    /* [/exercise part 3: layout_walk] */
}

/* A function with keywords takes (module, args, kwargs), but the table's
 * slot is typed for (module, arg): such entries are cast through a
 * generic function type, and METH_KEYWORDS tells CPython the truth. */
static PyMethodDef layout_methods[] = {
    {"layout", layout_layout, METH_NOARGS, layout_layout_doc},
    {"person_older", AS_PYCFUNCTION(layout_person_older),
     METH_VARARGS | METH_KEYWORDS, layout_person_older_doc},
    {"birthday", layout_birthday, METH_O, layout_birthday_doc},
    {"total_age", layout_total_age, METH_O, layout_total_age_doc},
    {"fill_record", AS_PYCFUNCTION(layout_fill_record),
     METH_VARARGS | METH_KEYWORDS, layout_fill_record_doc},
    {"fill_record_packed", AS_PYCFUNCTION(layout_fill_record_packed),
     METH_VARARGS | METH_KEYWORDS, layout_fill_record_packed_doc},
    {"describe", layout_describe_obj, METH_O, layout_describe_obj_doc},
    {"walk", layout_walk, METH_O, layout_walk_doc},
    {NULL, NULL, 0, NULL}  /* sentinel */
};

/* The end of the module, as chapter 01 writes it (see common.h), named
 * MODULE.  No global state (only constant tables): each interpreter may
 * own it.  walk() borrows list items (PyList_GetItem): only the GIL keeps
 * them alive. */
FFI_MODULE(layout, MODULE,
           "Stage 03, road 1: structs and objects with the C API.",
           Py_MOD_PER_INTERPRETER_GIL_SUPPORTED, Py_MOD_GIL_USED)
