"""What road 2's API mode and ABI mode share: the Python side's own
descriptions of stage 03's structs, three ways.

C's layout_lib.h is the truth.  Each declaration below is a second,
independent description of the same bytes: cffi's cdef (also what the
API-mode builder build_layout_cffi.py and the ABI-mode demonstration
layout_abi.py declare), ctypes' Structure, and struct-module format
strings.  Nothing makes them agree
with C except care, which is why the tests compare every number here with
the numbers C reports (layout_capi.layout()).

Each *_layout() function answers in the shape of C's layout():
{"size": ..., "align": ..., "fields": [(name, offset, size, align), ...]}.
"""
import ctypes
import re
import struct

NAMES = ("person", "record", "record_packed")


# [excerpt: cdef]
# cffi's cdef parses a subset of C.  It has no __attribute__((packed)), so
# the packed struct is declared in a second cdef() call with packed=True.
CDEF_STRUCTS = """
    struct person { uint32_t height; uint32_t age; };
    struct record { uint8_t tag; uint64_t id; uint16_t flags; };
"""
CDEF_PACKED = """
    struct record_packed { uint8_t tag; uint64_t id; uint16_t flags; };
"""
# [/excerpt: cdef]

CDEF_FUNCTIONS = """
    struct layout_field {
        const char *name; size_t offset; size_t size; size_t align;
    };
    struct layout_struct {
        const char *name; size_t size; size_t align;
        size_t nfields; const struct layout_field *fields;
    };
    size_t layout_count(void);
    const struct layout_struct *layout_describe(size_t i);

    struct person person_older(struct person p, uint32_t years);
    int person_birthday(struct person *p);
    uint64_t people_total_age(const struct person *people, size_t n);
    void record_fill(struct record *out, uint8_t tag, uint64_t id,
                     uint16_t flags);
    void record_packed_fill(struct record_packed *out, uint8_t tag,
                            uint64_t id, uint16_t flags);
    extern const struct person layout_sample_person;
    extern const struct record layout_sample_record;

    typedef int (*item_fn)(void *context, size_t index, void *item);
    size_t walk_items(void *const *items, size_t n, item_fn visit,
                      void *context);
"""


def declare(ffi):
    """Give `ffi` every declaration of layout_lib.h, in cffi's C."""
    ffi.cdef(CDEF_STRUCTS)
    ffi.cdef(CDEF_PACKED, packed=True)
    ffi.cdef(CDEF_FUNCTIONS)
    return ffi


# [excerpt: ctypes]
class Person(ctypes.Structure):
    _fields_ = [("height", ctypes.c_uint32), ("age", ctypes.c_uint32)]


class Record(ctypes.Structure):
    # ctypes follows the C compiler's rules, padding included.
    _fields_ = [("tag", ctypes.c_uint8), ("id", ctypes.c_uint64),
                ("flags", ctypes.c_uint16)]


class RecordPacked(ctypes.Structure):
    _pack_ = 1          # like __attribute__((packed)): no padding
    _fields_ = [("tag", ctypes.c_uint8), ("id", ctypes.c_uint64),
                ("flags", ctypes.c_uint16)]
# [/excerpt: ctypes]


CTYPES = {"person": Person, "record": Record, "record_packed": RecordPacked}


class PersonBigEndian(ctypes.BigEndianStructure):
    """Looks right, is wrong here: the same fields at the same offsets, but
    each stored most significant byte first ('>' in its buffer format)."""
    _fields_ = Person._fields_


def ctypes_layout(name):
    cls = CTYPES[name]
    fields = [(field, getattr(cls, field).offset, getattr(cls, field).size,
               ctypes.alignment(ftype)) for field, ftype in cls._fields_]
    return {"size": ctypes.sizeof(cls), "align": ctypes.alignment(cls),
            "fields": fields}


# [excerpt: formats]
# '@' is native: C's sizes and C's alignment, but no padding at the end,
# so a trailing "0Q" (zero uint64s) rounds the size up to 8 like C does.
# '<' and '=' are standard: fixed sizes and no alignment at all, so any
# padding must be written out as 'x' bytes.
FORMATS = {
    "person": ("@II", "<II"),
    "record": ("@BQH0Q", "<B7xQH6x"),
    "record_packed": ("=BQH", "<BQH"),
}
# Look right, are wrong: '@' aligns id to 8 (packed has it at 1), and
# without the "0Q" the size stops after flags (18, not 24).
WRONG_FORMATS = {"record": "@BQH", "record_packed": "@BQH"}
# [/excerpt: formats]

FIELDS = {"person": ("height", "age"), "record": ("tag", "id", "flags"),
          "record_packed": ("tag", "id", "flags")}
_TOKEN = re.compile(r"(\d*)([a-zA-Z?])")


def struct_layout(name, fmt):
    """Size and field offsets/sizes as the struct module sees `fmt`.

    The struct module knows no field names or alignment of the whole, so
    `align` is None and names come from FIELDS, in order.  The offset of a
    field is the size of everything before it plus the alignment the
    format's mode applies to it (a "0<code>" adds that, and no bytes).
    """
    order, body = fmt[0], fmt[1:]
    tokens = _TOKEN.findall(body)
    fields, before = [], ""
    names = iter(FIELDS[name])
    for count, code in tokens:
        if code != "x" and count != "0":
            offset = struct.calcsize(order + before + "0" + code)
            fields.append((next(names), offset,
                           struct.calcsize(order + code), None))
        before += count + code
    return {"size": struct.calcsize(fmt), "align": None, "fields": fields}


def cffi_ffi():
    """An FFI that has only read the cdef (nothing compiled, no library):
    its numbers are what ABI mode would use.  None without cffi."""
    try:
        import cffi
    except ImportError:
        return None
    return declare(cffi.FFI())


def cffi_layout(ffi, name):
    ctype = ffi.typeof("struct " + name)
    fields = [(field, f.offset, ffi.sizeof(f.type), ffi.alignof(f.type))
              for field, f in ctype.fields]
    return {"size": ffi.sizeof(ctype), "align": ffi.alignof(ctype),
            "fields": fields}
