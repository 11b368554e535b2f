"""Stage 03, road 2, cffi API mode: layout_lib compiled into _layout_cffi.

The same public functions as layout_capi, with the same checks and the
same messages: layout, person_older, birthday, total_age, fill_record,
fill_record_packed, describe, walk.

cffi converts C values for us, but it truncates nothing silently only
because we check first: a struct field set from Python is range-checked by
cffi with a message that does not name the argument, so we check and name.
"""
import operator
import re
import string
import sys
import threading

import _common
from _layout_cffi import ffi, lib

UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX = (
    2**8 - 1, 2**16 - 1, 2**32 - 1, 2**64 - 1)


def layout():
    """C's sizeof, _Alignof and offsetof for every struct."""
    result = {}
    for i in range(lib.layout_count()):
        s = lib.layout_describe(i)
        fields = [(ffi.string(f.name).decode(), f.offset, f.size, f.align)
                  for f in s.fields[0:s.nfields]]
        result[ffi.string(s.name).decode()] = {
            "size": s.size, "align": s.align, "fields": fields}
    return result


class _Kind:
    """What a buffer of structs may look like (see buffer_kind in C): the
    struct's fields as struct-module codes, and an item type that is one
    field (or None)."""

    def __init__(self, ctype, fields, element, expected):
        self.ctype, self.fields, self.element = ctype, fields, element
        self.expected = expected
        self.size = ffi.sizeof(ctype)
        self.align = ffi.alignof(ctype)


_PERSON = _Kind("struct person", "II", "I",
                "bytes ('B'), uint32 ('I') or ctypes Person items")
_RECORD = _Kind("struct record", "BQH", None,
                "bytes ('B') or ctypes Record items")
_RECORD_PACKED = _Kind("struct record_packed", "BQH", None,
                       "bytes ('B') or ctypes RecordPacked items")

# Byte-order marks that mean this machine's order (see item_format in C).
if sys.byteorder == "little":
    _NATIVE_ORDER = "@=<"
    _FOREIGN_ORDER = "big-endian fields on a little-endian machine"
else:
    _NATIVE_ORDER = "@=>!"
    _FOREIGN_ORDER = "little-endian fields on a big-endian machine"
_MAX_FIELDS = 16
_CODES = string.ascii_letters + "?"


def _item_format(fmt):
    """Read a buffer's item format for its meaning, as layout_capi's
    item_format does: (the codes of its fields in order, None), or
    (None, what makes it unreadable).  T{...}, field names, padding and a
    native byte-order mark are spelling: "T{<B:tag:7x<Q:id:<H:flags:6x}"
    (ctypes from 3.12) and "T{<B:tag:<Q:id:<H:flags:}" (before) are both
    "BQH"."""
    if len(fmt) >= 3 and fmt.startswith("T{") and fmt.endswith("}"):
        fmt = fmt[2:-1]
    fields, i = "", 0
    while i < len(fmt):
        start, count = i, 1
        if fmt[i] in _NATIVE_ORDER:
            i += 1
            continue
        if fmt[i] in "<>!":
            return None, _FOREIGN_ORDER
        end = fmt.find(":", i + 1) if fmt[i] == ":" else -1
        if end >= 0:                            # a name: ":tag:"
            i = end + 1
            continue
        digits = re.match("[0-9]*", fmt[i:]).group()
        if digits:                              # a count: "7x", "2I"
            # 9 digits are plenty (more is more than _MAX_FIELDS anyway),
            # and int() refuses a string of thousands of digits.
            count = int(digits.lstrip("0")[:9] or "0")
            i += len(digits)
        code = fmt[i:i + 1]
        i += 1
        if code == "x":                         # padding
            continue
        if not code or code not in _CODES:
            return None, "unreadable at '%s'" % fmt[start:start + 40]
        if count > _MAX_FIELDS - len(fields):
            return None, "more than %d fields" % _MAX_FIELDS
        fields += code * count
    return fields, None


def _format_problem(view, kind):
    """None if items of this format and size can hold structs of `kind`,
    else what is wrong (see format_problem in C)."""
    fields, problem = _item_format(view.format)
    if problem is not None:
        return problem
    if fields in ("B", "b", "c") or fields == kind.element:
        return None
    if fields != kind.fields:
        return "fields '%s', not '%s'" % (fields, kind.fields)
    if view.itemsize != kind.size:
        return "items of %d bytes, not %d" % (view.itemsize, kind.size)
    return None


# [excerpt: buffer_arg]
def _buffer_arg(obj, func, name, kind, writable, count):
    """Check `obj` the way layout_capi's buffer_arg does; return a cdata
    array of its structs that shares obj's memory (ffi.from_buffer copies
    nothing).  Use it in a `with` block: that releases the buffer.

    C gets the very buffer that was checked: the memoryview stays open
    until the `with` block ends.  Asking obj for its buffer a second time
    could get other memory (a bytearray resized in between)."""
    expected = ("a writable buffer (bytearray, ctypes object)" if writable
                else "a buffer (bytes, bytearray, array, ctypes)")
    try:
        view = memoryview(obj)
    except TypeError:
        raise _common.type_error("%s() argument '%s'" % (func, name), expected,
                                 obj) from None
    try:
        if writable and view.readonly:
            raise _common.type_error("%s() argument '%s'" % (func, name),
                                     expected, obj)
        if not view.c_contiguous and view.nbytes:
            raise ValueError("%s() argument '%s' must be C-contiguous memory"
                             " (an array of %s has no gaps)"
                             % (func, name, kind.ctype))
        problem = _format_problem(view, kind)
        if problem is not None:
            raise TypeError("%s() argument '%s' has items of format '%s', "
                            "which cannot hold %s: %s (expected %s)"
                            % (func, name, view.format, kind.ctype, problem,
                               kind.expected))
        size = view.nbytes
        if count >= 0 and size != count * kind.size:
            raise ValueError("%s() argument '%s' must be exactly %d bytes "
                             "(one %s), not %d"
                             % (func, name, kind.size, kind.ctype, size))
        if size % kind.size != 0:
            raise ValueError("%s() argument '%s' has %d bytes, which is not "
                             "a multiple of sizeof(%s) = %d"
                             % (func, name, size, kind.ctype, kind.size))
        # Empty is contiguous to C's PyBuffer_IsContiguous() whatever its
        # step (memoryview(b"")[::2]), though not to memoryview, and cffi
        # will not share it.  C reads none of it: share an empty one.
        structs = ffi.from_buffer(kind.ctype + "[]",
                                  view if size else bytearray(),
                                  require_writable=writable)
    except BaseException:
        view.release()
        raise
    shared = _Shared(structs, view)
    if size and int(ffi.cast("uintptr_t", structs)) % kind.align != 0:
        shared.release()
        raise ValueError("%s() argument '%s' starts at an address that is "
                         "not a multiple of _Alignof(%s) = %d"
                         % (func, name, kind.ctype, kind.align))
    return shared


class _Shared:
    """`with` gives the cdata; leaving gives the buffer back: first the
    cdata's hold on the memoryview, then the memoryview's hold on obj."""

    __slots__ = ("structs", "view")

    def __init__(self, structs, view):
        self.structs, self.view = structs, view

    def release(self):
        ffi.release(self.structs)
        self.view.release()

    def __enter__(self):
        return self.structs

    def __exit__(self, *exc):
        self.release()
        return False
# [/excerpt: buffer_arg]


def _person_arg(obj, func):
    if not issubclass(type(obj), tuple):
        raise _common.type_error("%s() argument 'person'" % func,
                                 "a (height, age) tuple", obj)
    items = tuple.__getitem__(obj, slice(None))   # no subclass methods run
    if len(items) != 2:
        raise TypeError("%s() argument 'person' must be a (height, age) "
                        "tuple of 2 items, not %d" % (func, len(items)))
    what = "%s() argument 'person': field " % func
    height = _common.uint_in_range(items[0], UINT32_MAX, what + "'height'")
    age = _common.uint_in_range(items[1], UINT32_MAX, what + "'age'")
    return height, age


# [excerpt: by_value]
def person_older(person, years):
    """A struct person by value: return (height, age + years)."""
    height, age = _person_arg(person, "person_older")
    years = _common.uint_in_range(years, UINT32_MAX,
                                  "person_older() argument 'years'")
    if age + years > UINT32_MAX:
        raise OverflowError("person_older(): age %d + %d years does not fit "
                            "in a uint32_t" % (age, years))
    # A struct cdata passed where C wants a struct (not a pointer) is
    # copied into the call; the struct C returns is a new cdata.
    older = lib.person_older({"height": height, "age": age}, years)
    return (older.height, older.age)
# [/excerpt: by_value]


# [excerpt: by_pointer]
def birthday(person):
    """A struct person by pointer: C adds 1 to its age in place."""
    with _buffer_arg(person, "birthday", "person", _PERSON, True, 1) as p:
        if lib.person_birthday(p) < 0:
            raise OverflowError("birthday(): age is already %d, the largest "
                                "uint32_t" % p[0].age)
        return p[0].age
# [/excerpt: by_pointer]


def total_age(people):
    """Sum the ages of an array of struct person, read in place."""
    with _buffer_arg(people, "total_age", "people", _PERSON, False,
                     -1) as p:
        return lib.people_total_age(p, len(p))


def _record_args(func, kind, buffer, tag, id, flags):
    what = "%s() argument " % func
    tag = _common.uint_in_range(tag, UINT8_MAX, what + "'tag'")
    id = _common.uint_in_range(id, UINT64_MAX, what + "'id'")
    flags = _common.uint_in_range(flags, UINT16_MAX, what + "'flags'")
    return _buffer_arg(buffer, func, "buffer", kind, True, 1), tag, id, flags


def fill_record(buffer, tag, id, flags):
    """C fills one struct record in a writable buffer."""
    out, tag, id, flags = _record_args("fill_record", _RECORD, buffer, tag,
                                       id, flags)
    with out as record:
        lib.record_fill(record, tag, id, flags)


def fill_record_packed(buffer, tag, id, flags):
    """C fills one struct record_packed in a writable buffer."""
    out, tag, id, flags = _record_args("fill_record_packed", _RECORD_PACKED,
                                       buffer, tag, id, flags)
    with out as record:
        lib.record_packed_fill(record, tag, id, flags)


# [excerpt: describe]
def describe(obj):
    """Say what kind of object obj is, exactly as layout_capi does.
    type(obj), not isinstance: an object can fake its __class__, not its
    type.  The base classes' own methods read the values, so no method of
    a subclass runs (C reads the object's memory; this is the Python
    spelling of that)."""
    t = type(obj)
    if obj is None:
        return "None"
    if issubclass(t, bool):
        return "bool True" if obj is True else "bool False"
    if issubclass(t, int):
        value = operator.index(obj)
        if not -2**63 <= value < 2**63:
            return "int (does not fit in 64 bits)"
        return "int %d" % value
    if issubclass(t, float):
        return "float " + float.__repr__(obj)
    for base in (str, bytes, list, dict):
        if issubclass(t, base):
            return "%s (len %d)" % (base.__name__, base.__len__(obj))
    return "other: " + t.__name__
# [/excerpt: describe]


class _Walk:
    """What one walk() call needs inside the callback."""

    __slots__ = ("results", "error")

    def __init__(self):
        self.results = []
        self.error = None


class _Active(threading.local):
    """The walk() calls running on this thread, innermost last."""

    def __init__(self):
        self.walks = []


_active = _Active()


def _visit_onerror(exc_type, exc, traceback):
    """An exception escaped _py_visit itself, before its `try:` ran (a
    signal handler's, or a RecursionError on the way in): keep it for the
    innermost walk() on this thread, and ask C to stop."""
    _active.walks[-1].error = exc
    return 1


# [excerpt: walk]
@ffi.def_extern(name="py_visit", error=1, onerror=_visit_onerror)
def _py_visit(context, index, item):
    """Called by C's walk_items for each item.  C holds only opaque
    handles: turning one back into a Python object is Python's job."""
    walk = ffi.from_handle(context)
    try:
        walk.results.append(describe(ffi.from_handle(item)))
    except BaseException as exc:    # must not escape into C
        walk.error = exc
        return 1
    return 0


def walk(items):
    """describe() every item of a list, with C doing the walking."""
    if not issubclass(type(items), list):
        raise _common.type_error("walk() argument 'items'", "list", items)
    items = list.copy(items)
    # One handle per item: a void * that C can store and pass back but
    # not read.  Each is valid only while its handle object is alive, so
    # `handles` (and `context`) stay referenced until C has returned.
    # [excerpt: walk_handles]
    handles = [ffi.new_handle(item) for item in items]
    walk = _Walk()
    context = ffi.new_handle(walk)
    _active.walks.append(walk)
    try:
        lib.walk_items(ffi.new("void *[]", handles), len(handles),
                       lib.py_visit, context)
    finally:
        _active.walks.pop()
    # [/excerpt: walk_handles]
    if walk.error is not None:
        raise walk.error
    if len(walk.results) != len(items):
        # Even _visit_onerror could not run: cffi printed the exception
        # and returned error=1, so C stopped early.
        raise RuntimeError("walk(): visiting item %d failed and its "
                           "exception was lost (cffi printed it above)"
                           % len(walk.results))
    return walk.results
# [/excerpt: walk]
