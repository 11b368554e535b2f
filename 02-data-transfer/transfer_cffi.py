"""Stage 02, road 2, cffi API mode: transfer_lib compiled into _transfer_cffi.

The same public functions as transfer_capi, with the same checks and the
same messages.  cffi converts scalars itself, but it does not know what
our arguments are called, which buffer formats make sense, or who frees
what: that part is written here, in Python.
"""
import _common
from _transfer_cffi import ffi, lib

LLONG_MIN, LLONG_MAX = -2**63, 2**63 - 1
INT_MIN, INT_MAX = -2**31, 2**31 - 1
TIME_C_LOOP_MAX = 100000


# ---- scalars ---------------------------------------------------------------


def _double_arg(value, func, name):
    if not isinstance(value, (int, float)):
        raise _common.type_error("%s() argument '%s'" % (func, name), "float",
                                 value)
    return float(value)       # a huge int: OverflowError, as in road 1


def clamp(value, lo, hi):
    value = _common.int_in_range(value, INT_MIN, INT_MAX,
                                 "clamp() argument 'value'")
    lo = _common.int_in_range(lo, INT_MIN, INT_MAX, "clamp() argument 'lo'")
    hi = _common.int_in_range(hi, INT_MIN, INT_MAX, "clamp() argument 'hi'")
    if lo > hi:
        raise ValueError("clamp() needs lo <= hi, got lo=%d, hi=%d" % (lo, hi))
    return lib.clamp_int(value, lo, hi)


# [excerpt: checked_add]
def checked_add(a, b):
    a = _common.int_in_range(a, LLONG_MIN, LLONG_MAX,
                             "checked_add() argument 'a'")
    b = _common.int_in_range(b, LLONG_MIN, LLONG_MAX,
                             "checked_add() argument 'b'")
    # A C out-parameter: cffi allocates one long long, owned by `total`
    # and freed when that cdata object is garbage collected.
    total = ffi.new("long long *")
    if not lib.add_ll(a, b, total):
        raise OverflowError("checked_add(%d, %d): the sum does not fit in a "
                            "C long long" % (a, b))
    return total[0]
# [/excerpt: checked_add]


def scale(x, factor):
    return lib.scale_double(_double_arg(x, "scale", "x"),
                            _double_arg(factor, "scale", "factor"))


def round_toward(x, up):
    x = _double_arg(x, "round_toward", "x")
    if not isinstance(up, bool):
        raise _common.type_error("round_toward() argument 'up'", "bool", up)
    return lib.round_double(x, up)


def is_nan(x):
    return lib.is_nan_double(_double_arg(x, "is_nan", "x"))   # a bool


# ---- strings ---------------------------------------------------------------

# [excerpt: utf8_arg]
def _utf8_arg(text, func, name):
    """The UTF-8 bytes of a str.  encode() makes a new bytes object; cffi
    passes a pointer into it to a `char *` parameter, without a copy.

    str.encode(text), not text.encode(): a str subclass may override
    encode() to return anything, even an object that lies about its len(),
    and C would then read past the end of the real bytes."""
    if not isinstance(text, str):
        raise _common.type_error("%s() argument '%s'" % (func, name), "str",
                                 text)
    return str.encode(text, "utf-8")    # a lone surrogate: UnicodeEncodeError
# [/excerpt: utf8_arg]


def char_count(text):
    data = _utf8_arg(text, "char_count", "text")
    return lib.utf8_count(data, len(data))


def char_count_nul(text):
    data = _utf8_arg(text, "char_count_nul", "text")
    nul = str.find(text, "\0")         # str's own find(), as above
    if nul >= 0:
        raise ValueError("char_count_nul() argument 'text' contains a NUL "
                         "character at index %d: C would stop reading there"
                         % nul)
    return lib.utf8_count_nul(data)


# [excerpt: reversed_text]
def reversed_text(text):
    data = _utf8_arg(text, "reversed_text", "text")
    # The caller allocates: from the moment ffi.new() returns, the cdata
    # owns the buffer and frees it when it goes, however this function
    # ends.  (Out of memory, ffi.new() raises MemoryError itself.)
    out = ffi.new("char[]", len(data))
    lib.utf8_reverse_into(data, len(data), out)
    # ffi.unpack copies exactly len(data) bytes; ffi.string(out) would stop
    # at the first NUL byte.  Either way the result is a copy.
    return ffi.unpack(out, len(data)).decode("utf-8")
# [/excerpt: reversed_text]


# ---- buffers ---------------------------------------------------------------

def _bytes_view(data, func, name):
    """A memoryview of a bytes-like object: shared, not copied."""
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError("%s() argument '%s' must be a bytes-like object, "
                        "not %s" % (func, name, type(data).__name__)) from None
    if not view.c_contiguous:
        empty = view.nbytes == 0
        view.release()
        if not empty:
            raise ValueError("%s() argument '%s' must be a C-contiguous "
                             "buffer" % (func, name))
        # Empty is contiguous to C's PyBuffer_IsContiguous() whatever its
        # step (memoryview(b"")[::2]), though not to memoryview, and cffi
        # will not share it.  C reads none of it: share an empty one.
        view = memoryview(b"")
    return view


# [excerpt: ll_view]
def _ll_view(data, func, name, writable=False):
    """A memoryview of a 1-D, C-contiguous buffer of C long long.

    ffi.from_buffer() only sees bytes: it would read a buffer of doubles
    as long longs without a word.  The checks are ours to make."""
    expected = ("a writable buffer of C long long (such as array('q'))"
                if writable else
                "a buffer of C long long (such as array('q'))")
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError("%s() argument '%s' must be %s, not %s"
                        % (func, name, expected,
                           type(data).__name__)) from None
    code = view.format[1:] if view.format.startswith("@") else view.format
    try:
        if writable and view.readonly:
            raise TypeError("%s() argument '%s' must be %s, not %s"
                            % (func, name, expected, type(data).__name__))
        if view.ndim != 1:
            raise ValueError("%s() argument '%s' must be 1-dimensional, not "
                             "%d-dimensional" % (func, name, view.ndim))
        if view.itemsize != ffi.sizeof("long long") or code not in ("q", "l"):
            raise ValueError("%s() argument '%s' must have item format 'q' "
                             "(C long long), not '%s'"
                             % (func, name, view.format))
        if not view.c_contiguous:
            if view.nbytes:
                raise ValueError("%s() argument '%s' must be a C-contiguous "
                                 "buffer" % (func, name))
            view.release()          # empty: as in _bytes_view
            view = memoryview(bytearray()).cast("q")
        with ffi.from_buffer(view) as start:
            address = int(ffi.cast("uintptr_t", start))
        if view.nbytes and address % ffi.alignof("long long"):
            raise ValueError("%s() argument '%s' must start at an address "
                             "aligned for a C long long (a multiple of %d)"
                             % (func, name, ffi.alignof("long long")))
    except BaseException:
        view.release()          # give the buffer back before we go
        raise
    return view
# [/excerpt: ll_view]


def checksum(data):
    with _bytes_view(data, "checksum", "data") as view:
        # The cdata borrows the buffer; `with` gives it back at the end.
        with ffi.from_buffer("unsigned char[]", view) as c_data:
            return lib.adler32_bytes(c_data, view.nbytes)


def address_of(data):
    with _bytes_view(data, "address_of", "data") as view:
        with ffi.from_buffer(view) as c_data:
            return int(ffi.cast("uintptr_t", c_data))


# [excerpt: sum_buffer]
def sum_buffer(data):
    with _ll_view(data, "sum_buffer", "data") as view:
        total = ffi.new("long long *")
        # A long long * into Python's own memory: nothing is converted.
        with ffi.from_buffer("long long[]", view) as values:
            ok = lib.sum_ll(values, len(view), total)
    if not ok:
        raise OverflowError("sum_buffer(): the sum does not fit in a "
                            "C long long")
    return total[0]
# [/excerpt: sum_buffer]


def scale_in_place(data, factor):
    factor = _common.int_in_range(factor, LLONG_MIN, LLONG_MAX,
                                  "scale_in_place() argument 'factor'")
    with _ll_view(data, "scale_in_place", "data", writable=True) as view:
        with ffi.from_buffer("long long[]", view,
                             require_writable=True) as values:
            done = lib.scale_ll_in_place(values, len(view), factor)
            if done != len(view):
                raise OverflowError(
                    "scale_in_place(): item %d (%d) times %d does not fit in "
                    "a C long long; the buffer is unchanged"
                    % (done, values[done], factor))


def time_c_loop(data, number):
    number = _common.int_in_range(number, 1, TIME_C_LOOP_MAX,
                                  "time_c_loop() argument 'number'")
    with _ll_view(data, "time_c_loop", "data") as view:
        with ffi.from_buffer("long long[]", view) as values:
            return lib.time_sum_ll(values, len(view), number)


# ---- sequences -------------------------------------------------------------

# [excerpt: ll_array]
def _ll_array(values, func, name):
    """Copy an iterable of ints into a new C array (a cdata that owns its
    memory).  cffi converts the items in C, fast, but its error does not
    say which item was wrong: on failure, find it and say so."""
    if type(values) is list:
        # The caller's list can change under us: another thread runs
        # between any two lines here.  Check and copy a private tuple,
        # made in one step in C, that nobody else can change.
        values = tuple(values)
    elif type(values) is not tuple:
        try:
            iterator = iter(values)
        except TypeError:
            raise TypeError("%s() argument '%s' must be an iterable of ints, "
                            "not %s" % (func, name, type(values).__name__)
                            ) from None
        values = list(iterator)
    # cffi would convert any object with an __int__, by calling it, and it
    # reads a list by index meanwhile: an __int__ that empties the list
    # makes it read freed memory.  So first make sure that every item is
    # an exact int, by its real type, in C (set and map): then no Python
    # code can run while cffi copies.
    if not _EXACT_INT.issuperset(map(type, values)):
        values = _checked_ints(values, func, name)
    try:
        return ffi.new("long long[]", values), len(values)
    except OverflowError:
        for index, item in enumerate(values):
            if not LLONG_MIN <= item <= LLONG_MAX:
                raise OverflowError("%s() argument '%s': item %d does not fit"
                                    " in a C long long" % (func, name, index)
                                    ) from None
        raise                   # no bad item found: cffi's own reason


_EXACT_INT = frozenset([int])


def _checked_ints(values, func, name):
    """The slow road, for anything but exact ints: a new list of exact
    ints, or the error for the first bad item, in order.  The type is read
    with type(), which cannot be faked (isinstance() asks __class__), and
    the value with int.__index__, not with the item's own methods."""
    items = []
    for index, item in enumerate(tuple(values)):
        if not issubclass(type(item), int):
            raise _common.type_error("%s() argument '%s': item %d"
                                     % (func, name, index), "int", item)
        item = int.__index__(item)
        if not LLONG_MIN <= item <= LLONG_MAX:
            raise OverflowError("%s() argument '%s': item %d does not fit in "
                                "a C long long" % (func, name, index))
        items.append(item)
    return items
# [/excerpt: ll_array]


def sum_list(values):
    array, n = _ll_array(values, "sum_list", "values")
    total = ffi.new("long long *")
    if not lib.sum_ll(array, n, total):
        raise OverflowError("sum_list(): the sum does not fit in a C long "
                            "long")
    return total[0]


# [excerpt: sorted_ints]
def sorted_ints(values):
    array, n = _ll_array(values, "sorted_ints", "values")
    lib.sort_ll(array, n)
    return ffi.unpack(array, n)     # a new list: one int object per item
# [/excerpt: sorted_ints]
