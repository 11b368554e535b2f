"""Stage 03, road 2, cffi ABI mode: what a wrong declaration does.

ABI mode compiles nothing: cffi dlopens liblayout.so and believes the
cdef it is given.  Here the same two C objects (layout_sample_person and
layout_sample_record, constants in the library) are read through the
right declaration and through three wrong ones:

    swapped   the fields in another order
    narrow    a field declared smaller than it is
    packed    the padding forgotten (the struct declared packed)

A wrong declaration gives wrong numbers, and nothing complains.

Safety rule for this demonstration: a wrong declaration is never larger
than the real struct (checked against C's own sizeof below, at import),
so every read stays inside the C object: wrong values, never a read out
of bounds.
"""
# cdefs wrong on purpose: tests/test_cdefs.py skips this file
import os

import cffi

import _common
from _road2 import CDEF_FUNCTIONS, CDEF_PACKED, CDEF_STRUCTS

HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY = os.path.join(HERE, os.environ.get("FFI_BUILD", ""), "liblayout.so")

# [excerpt: wrong]
_WRONG = {
    "swapped": ("""
        struct person { uint32_t age; uint32_t height; };
        struct record { uint8_t tag; uint16_t flags; uint64_t id; };
    """, False),
    "narrow": ("""
        struct person { uint16_t height; uint16_t age; };
        struct record { uint8_t tag; uint32_t id; uint16_t flags; };
    """, False),
    "packed": (CDEF_STRUCTS, True),     # right fields, padding forgotten
}
# [/excerpt: wrong]
# Declared without `const`: cffi's dlopen() cannot read a const struct
# (it takes "const" globals for constants).  We only ever read them.
_SAMPLES = """
    extern struct person layout_sample_person;
    extern struct record layout_sample_record;
"""


# [excerpt: dlopen]
def _load(structs, packed):
    ffi = cffi.FFI()
    ffi.cdef(structs, packed=packed)
    ffi.cdef(_SAMPLES)
    # Nothing checks the cdef against the library: dlopen finds symbols
    # by name, and a name says nothing about the layout behind it.
    return ffi, ffi.dlopen(LIBRARY)
# [/excerpt: dlopen]


# The right declaration, and C's own numbers, read from the library.
_right_ffi = cffi.FFI()
_right_ffi.cdef(CDEF_STRUCTS)
_right_ffi.cdef(CDEF_PACKED, packed=True)
_right_ffi.cdef(CDEF_FUNCTIONS.replace("extern const", "extern"))
_c = _right_ffi.dlopen(LIBRARY)
_C_SIZES = {}
for _i in range(_c.layout_count()):
    _s = _c.layout_describe(_i)
    _C_SIZES[_right_ffi.string(_s.name).decode()] = _s.size

_LOADED = {"right": (_right_ffi, _c)}
for _name, (_structs, _packed) in _WRONG.items():
    _LOADED[_name] = _load(_structs, _packed)
    for _struct in ("person", "record"):
        # The safety rule: if this ever fails, the demonstration would
        # read past the end of a C object.  Refuse to load instead.
        if _LOADED[_name][0].sizeof("struct " + _struct) > _C_SIZES[_struct]:
            raise ImportError("declaration %r of struct %s is larger than "
                              "C's" % (_name, _struct))


def declarations():
    """The names of the declarations: 'right' first, then the wrong ones."""
    return tuple(_LOADED)


def _lookup(declaration, func):
    if not isinstance(declaration, str):
        raise _common.type_error("%s() argument 'declaration'" % func, "str",
                                 declaration)
    if declaration not in _LOADED:
        raise ValueError("%s() argument 'declaration' must be one of %s"
                         % (func, ", ".join(_LOADED)))
    return _LOADED[declaration]


def sizeof(declaration, struct):
    """sizeof(struct <struct>) according to that declaration."""
    ffi, _ = _lookup(declaration, "sizeof")
    if struct not in ("person", "record"):
        raise ValueError("sizeof() argument 'struct' must be 'person' or "
                         "'record'")
    return ffi.sizeof("struct " + struct)


# [excerpt: read]
def read_person(declaration):
    """C's sample person, read through a declaration: (height, age)."""
    ffi, lib = _lookup(declaration, "read_person")
    p = ffi.addressof(lib, "layout_sample_person")
    return (p.height, p.age)


def read_record(declaration):
    """C's sample record, read through a declaration: (tag, id, flags)."""
    ffi, lib = _lookup(declaration, "read_record")
    r = ffi.addressof(lib, "layout_sample_record")
    return (r.tag, r.id, r.flags)
# [/excerpt: read]
