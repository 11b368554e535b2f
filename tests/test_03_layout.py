"""Stage 03, data layout: one contract, run against three builds.

Road 1 is layout_capi (C API by hand) and the same source built against
the Limited API (layout_abi3.abi3.so); road 2 is layout_cffi (API mode).
layout_abi (ABI mode) is the wrong-declaration demonstration, tested on
its own.  Every layout number is read from C (layout()) and compared with
the Python declarations in 03-layout/_road2.py.

The contract is two mixins: LayoutExercise, the checks of exercise 3 in
the order of its parts (make check-3 runs them on the participant's
module, through TestCapiExercise), and LayoutContract, everything else.
That the .abi3.so also loads in newer CPythons is a gate:
tests/test_gate_03_abi3.py.
"""
import array
import ctypes
import functools
import gc
import glob
import inspect
import os
import shutil
import struct
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import tracemalloc
import unittest

import support

UINT32_MAX, UINT64_MAX = 2**32 - 1, 2**64 - 1


def declarations():
    return support.import_stage("03", "_road2")


# The Limited API build needs Py_buffer, which joined the Limited API in
# 3.11: the Makefile does not build it for 3.10, and run.py says so.
ABI3_MISSING = ("CPython 3.10: layout_abi3.abi3.so is not built, because "
                "the buffer protocol (Py_buffer) joined the Limited API in "
                "3.11")
HAVE_ABI3 = sys.version_info >= (3, 11)

# How ctypes describes each struct's items in the buffer protocol
# (memoryview(obj).format), on the versions this project supports.  3.12
# writes the padding ('7x') and gives a packed struct a real format
# instead of 'B'.  The memory is the same, so every road accepts all.
CTYPES_FORMATS = {
    "person": {"T{<I:height:<I:age:}": ("3.10", "3.11", "3.12", "3.13")},
    "record": {"T{<B:tag:<Q:id:<H:flags:}": ("3.10", "3.11"),
               "T{<B:tag:7x<Q:id:<H:flags:6x}": ("3.12", "3.13")},
    "record_packed": {"B": ("3.10", "3.11"),
                      "T{<B:tag:<Q:id:<H:flags:}": ("3.12", "3.13")},
}
# The same layouts spelled by hand: '=' (standard sizes, this machine's
# order) and '@' (native), no names, no T{...}, padding as 'x' or counts.
OTHER_SPELLINGS = {
    "person": ("T{=I:height:=I:age:}", "T{@I:height:@I:age:}", "T{II}",
               "II", "=II", "@II", "<2I"),
    "record": ("T{=B:tag:7x=Q:id:=H:flags:6x}", "T{@B:tag:@Q:id:@H:flags:}",
               "@BQH0Q", "<B7xQH6x", "=BxxxxxxxQHxxxxxx"),
    "record_packed": ("T{=B:tag:=Q:id:=H:flags:}", "=BQH", "<BQH",
                      "T{BQH}"),
}
EXPECTED = {"person": "bytes ('B'), uint32 ('I') or ctypes Person items",
            "record": "bytes ('B') or ctypes Record items",
            "record_packed": "bytes ('B') or ctypes RecordPacked items"}


class _PyBuffer(ctypes.Structure):
    """CPython's Py_buffer (Include/pybuffer.h), unchanged since 3.3."""
    _fields_ = [("buf", ctypes.c_void_p), ("obj", ctypes.c_void_p),
                ("len", ctypes.c_ssize_t), ("itemsize", ctypes.c_ssize_t),
                ("readonly", ctypes.c_int), ("ndim", ctypes.c_int),
                ("format", ctypes.c_void_p), ("shape", ctypes.c_void_p),
                ("strides", ctypes.c_void_p),
                ("suboffsets", ctypes.c_void_p),
                ("internal", ctypes.c_void_p)]


_memoryview_from_buffer = ctypes.pythonapi.PyMemoryView_FromBuffer
_memoryview_from_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]
_memoryview_from_buffer.restype = ctypes.py_object


class Exported:
    """`count` zeroed items of `itemsize` bytes whose buffer says its item
    format is `fmt`: what a C exporter (numpy, another library) hands out,
    made with PyMemoryView_FromBuffer.  `.view` is the memoryview to pass,
    `.memory` the bytes behind it; keep this object alive while using the
    view (the view points into its memory and at its format string)."""

    def __init__(self, fmt, itemsize, count=1):
        self.memory = ctypes.create_string_buffer(itemsize * count)
        self.format = ctypes.create_string_buffer(fmt.encode())
        self.shape = (ctypes.c_ssize_t * 1)(count)
        info = _PyBuffer(buf=ctypes.addressof(self.memory), obj=None,
                         len=itemsize * count, itemsize=itemsize,
                         readonly=0, ndim=1,
                         format=ctypes.addressof(self.format),
                         shape=ctypes.addressof(self.shape))
        self.view = _memoryview_from_buffer(info)


class Trap(Exception):
    """Raised by the hostile objects below: no library code raises it."""


class TrapInt(int):
    def __index__(self):
        raise Trap("__index__")

    def __le__(self, other):
        raise Trap("__le__")


class TrapStr(str):
    def __len__(self):
        raise Trap("__len__")


class TrapList(list):
    def __len__(self):
        raise Trap("__len__")

    def __iter__(self):
        raise Trap("__iter__")


class TrapFloat(float):
    def __repr__(self):
        raise Trap("__repr__")


class TrapClass:
    @property
    def __class__(self):
        raise Trap("__class__")


def compiler(testcase):
    """The C compiler ($CC, else cc), or skip the test that needs one."""
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        testcase.skipTest("no C compiler (sudo apt install gcc)")
    return cc


@functools.lru_cache(maxsize=None)
def people_packed_four_ways():
    """(ages, [(label, buffer)]): the same array of struct person packed
    by the struct module, array, ctypes and (with cffi) cffi, made once
    for every road."""
    n = support.scale(100000, 500)
    ages = [i % 97 for i in range(n)]
    flat = [v for age in ages for v in (150 + age, age)]
    memory = struct.pack("@%dI" % (2 * n), *flat)
    Person = declarations().Person
    packed = [("struct", memory), ("array", array.array("I", flat)),
              ("ctypes", (Person * n).from_buffer_copy(memory))]
    ffi = declarations().cffi_ffi()
    if ffi is not None:     # cffi packs too: a cdata array's buffer
        cdata = ffi.new("struct person[]", n)
        ffi.memmove(cdata, memory, len(memory))
        packed.append(("cffi", ffi.buffer(cdata)))
    return ages, packed


class LayoutExercise:
    """The checks of exercise 3 (make check-3), in the order of its parts:
    1 person_older, 2 birthday, 3 walk.  They run on every road like the
    rest of the contract.  self.mod is the module under test."""

    def assertKeepsNothing(self, name, call, arguments):
        """Many calls of call() (a call of `name`) keep no Python memory
        and leave the reference counts of `arguments` as they were."""
        call()                              # warm up caches
        gc.collect()
        def counts():
            return [sys.getrefcount(argument) for argument in arguments]
        refs = counts()
        calls = support.scale(300, 30)
        # A leak grows every round; a cache that fills once (the
        # interpreter's, not ours) grows one round only.  So a round that
        # stays under the limit ends the check: the limit is the same.
        made = 0
        for _ in range(3):
            made += calls
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                for _ in range(calls):
                    call()
                gc.collect()
                grown = tracemalloc.get_traced_memory()[0] - before
            finally:
                tracemalloc.stop()
            if grown < 10_000:
                break
        changed = [after - before for after, before in zip(counts(), refs)]
        self.assertEqual(changed, [0] * len(arguments),
                         "%s() changed the reference counts of its arguments"
                         " by %s over %d calls (a Py_DECREF without its "
                         "Py_INCREF, or the other way round)"
                         % (name, changed, made))
        self.assertLess(grown, 10_000,
                        "%s() keeps Python memory: %d bytes more after %d "
                        "calls (a reference never given back?)"
                        % (name, grown, calls))

    def test_person_older_returns_a_new_person(self):
        mine = (180, 41)
        self.assertEqual(self.mod.person_older(mine, 10), (180, 51))
        self.assertEqual(mine, (180, 41))
        self.assertEqual(self.mod.person_older(person=(0, 0), years=0),
                         (0, 0))
        self.assertEqual(self.mod.person_older((UINT32_MAX, 1),
                                               UINT32_MAX - 1),
                         (UINT32_MAX, UINT32_MAX))
        self.assertEqual(self.mod.person_older((True, False), True), (1, 1))

    def test_person_older_names_the_bad_field(self):
        prefix = "person_older() argument 'person': field "
        for person, field in (((180, -1), "age"), ((2**32, 41), "height"),
                              ((180, 2**64), "age"), ((-2**70, 1), "height")):
            with self.assertRaises(OverflowError) as cm:
                self.mod.person_older(person, 1)
            self.assertEqual(str(cm.exception), prefix + "'%s' must be in "
                             "0..4294967295" % field)
        for person, field, kind in (((180, "41"), "age", "str"),
                                    ((1.5, 41), "height", "float"),
                                    ((None, 41), "height", "NoneType")):
            with self.assertRaises(TypeError) as cm:
                self.mod.person_older(person, 1)
            self.assertEqual(str(cm.exception),
                             prefix + "'%s' must be int, not %s"
                             % (field, kind))

    def test_person_older_wants_a_tuple_of_two(self):
        with self.assertRaises(TypeError) as cm:
            self.mod.person_older([180, 41], 1)
        self.assertEqual(str(cm.exception), "person_older() argument "
                         "'person' must be a (height, age) tuple, not list")
        with self.assertRaises(TypeError) as cm:
            self.mod.person_older((180, 41, 3), 1)
        self.assertEqual(str(cm.exception), "person_older() argument "
                         "'person' must be a (height, age) tuple of 2 items,"
                         " not 3")
        with self.assertRaises(TypeError) as cm:
            self.mod.person_older((180, 41), "1")
        self.assertEqual(str(cm.exception), "person_older() argument "
                         "'years' must be int, not str")

    def test_person_older_refuses_an_age_that_would_wrap(self):
        with self.assertRaises(OverflowError) as cm:
            self.mod.person_older((180, UINT32_MAX - 1), 2)
        self.assertEqual(str(cm.exception), "person_older(): age 4294967294"
                         " + 2 years does not fit in a uint32_t")

    def test_person_older_runs_no_method_of_an_int_subclass(self):
        self.assertEqual(self.mod.person_older((TrapInt(5), 6), TrapInt(1)),
                         (5, 7))

    def test_person_older_keeps_nothing(self):
        person = (2**31 + 5, 2**30)     # ints that are not cached
        self.assertKeepsNothing(
            "person_older", lambda: self.mod.person_older(person, 1),
            [person, person[0], person[1]])

    def test_birthday_changes_the_callers_ctypes_struct(self):
        someone = declarations().Person(height=180, age=41)
        self.assertEqual(self.mod.birthday(someone), 42)
        self.assertEqual((someone.height, someone.age), (180, 42))

    def test_birthday_changes_the_callers_bytearray(self):
        memory = bytearray(struct.pack("@II", 170, 9))
        self.assertEqual(self.mod.birthday(memory), 10)
        self.assertEqual(struct.unpack("@II", memory), (170, 10))
        # A view of part of a bigger buffer: C writes there, nowhere else.
        people = bytearray(struct.pack("@IIII", 1, 2, 3, 4))
        self.assertEqual(self.mod.birthday(memoryview(people)[8:]), 5)
        self.assertEqual(struct.unpack("@IIII", people), (1, 2, 3, 5))

    def test_birthday_at_the_largest_age_changes_nothing(self):
        someone = declarations().Person(height=1, age=UINT32_MAX)
        with self.assertRaises(OverflowError) as cm:
            self.mod.birthday(someone)
        self.assertEqual(str(cm.exception), "birthday(): age is already "
                         "4294967295, the largest uint32_t")
        self.assertEqual(someone.age, UINT32_MAX)

    def test_birthday_wants_one_writable_aligned_struct(self):
        prefix = "birthday() argument 'person' must be "
        for bad, kind in ((b"12345678", "bytes"), (None, "NoneType"),
                          ((180, 41), "tuple")):
            with self.assertRaises(TypeError) as cm:
                self.mod.birthday(bad)
            self.assertEqual(str(cm.exception), prefix + "a writable buffer"
                             " (bytearray, ctypes object), not %s" % kind)
        with self.assertRaises(ValueError) as cm:
            self.mod.birthday(bytearray(12))
        self.assertEqual(str(cm.exception), prefix + "exactly 8 bytes (one "
                         "struct person), not 12")
        with self.assertRaises(ValueError) as cm:
            self.mod.birthday(memoryview(bytearray(16))[::2])
        self.assertEqual(str(cm.exception), prefix + "C-contiguous memory "
                         "(an array of struct person has no gaps)")
        memory = bytearray(12)
        with self.assertRaises(ValueError) as cm:
            self.mod.birthday(memoryview(memory)[1:9])
        self.assertEqual(str(cm.exception), "birthday() argument 'person' "
                         "starts at an address that is not a multiple of "
                         "_Alignof(struct person) = 4")
        self.assertEqual(memory, bytearray(12))

    def test_every_spelling_of_each_struct_is_accepted(self):
        sizes = {name: info["size"]
                 for name, info in self.mod.layout().items()}
        for name in CTYPES_FORMATS:
            for fmt in (*CTYPES_FORMATS[name], *OTHER_SPELLINGS[name]):
                with self.subTest(struct=name, format=fmt):
                    if name == "person":
                        people = Exported(fmt, 8, 3)
                        people.memory[:] = struct.pack("@6I", 1, 20, 2, 30,
                                                       3, 40)
                        self.assertEqual(self.mod.total_age(people.view),
                                         90)
                        one = Exported(fmt, 8)
                        one.memory[:] = struct.pack("@II", 180, 41)
                        self.assertEqual(self.mod.birthday(one.view), 42)
                        continue
                    out = Exported(fmt, sizes[name])
                    getattr(self.mod, "fill_" + name)(
                        out.view, 7, 0x1122334455667788, 0xBEEF)
                    layout = "@BQH0Q" if name == "record" else "<BQH"
                    self.assertEqual(struct.unpack(layout, out.memory.raw),
                                     (7, 0x1122334455667788, 0xBEEF))

    def test_birthday_keeps_nothing(self):
        # A buffer that is never released keeps its exporter alive, and
        # a bytearray refuses to resize while it is exported.
        memory = bytearray(8)
        someone = declarations().Person(height=1, age=UINT32_MAX)
        self.assertKeepsNothing("birthday", lambda: self.mod.birthday(memory),
                                [memory])
        with self.assertRaises(OverflowError):
            self.mod.birthday(someone)
        memory.extend(b"x")     # BufferError if a view is still held
        self.assertKeepsNothing(
            "birthday", lambda: self.assertRaises(
                OverflowError, self.mod.birthday, someone), [someone])

    def test_walk_a_list_that_mixes_every_type(self):
        items = [42, 2.5, "text", b"raw", [1, 2, 3], {"k": "v"}, None,
                 True, {1}, 2**100, TrapClass()]
        self.assertEqual(self.mod.walk(items), [
            "int 42", "float 2.5", "str (len 4)", "bytes (len 3)",
            "list (len 3)", "dict (len 1)", "None", "bool True",
            "other: set", "int (does not fit in 64 bits)",
            "other: TrapClass"])
        self.assertEqual(self.mod.walk([]), [])
        self.assertEqual(self.mod.walk(TrapList([1.5])), ["float 1.5"])

    def test_walk_a_long_list(self):
        n = support.scale(100000, 500)
        items = list(range(n))
        self.assertEqual(self.mod.walk(items), ["int %d" % i for i in items])

    def test_walk_keeps_reference_counts(self):
        item = object()
        items = [item, item, "x"]
        before = sys.getrefcount(item)
        for _ in range(100):
            self.mod.walk(items)
        self.assertEqual(sys.getrefcount(item), before)

    def test_walk_keeps_nothing(self):
        item = object()
        items = [item, "x", 2**70, 2.5]
        self.assertKeepsNothing("walk", lambda: self.mod.walk(items),
                                [item, items])


class LayoutContract(LayoutExercise):
    """What every road must do, besides the exercise's checks.  self.mod
    is the module under test."""

    # --- the layout: C's numbers, and every Python declaration -----------

    def test_layout_describes_every_struct_consistently(self):
        c = self.mod.layout()
        self.assertEqual(list(c), list(declarations().NAMES))
        for name, info in c.items():
            self.assertEqual(info["size"] % info["align"], 0)
            end = 0
            for field, offset, size, align in info["fields"]:
                self.assertGreaterEqual(offset, end, field)
                end = offset + size
            self.assertLessEqual(end, info["size"])
        used = sum(f[2] for f in c["record"]["fields"])
        self.assertGreater(c["record"]["size"], used)      # has padding
        self.assertEqual(c["record_packed"]["size"], used)  # has none
        self.assertEqual(c["record_packed"]["align"], 1)

    def test_ctypes_structures_agree_with_c(self):
        c = self.mod.layout()
        for name in declarations().NAMES:
            self.assertEqual(declarations().ctypes_layout(name), c[name],
                             "ctypes, struct %s" % name)

    def test_cffi_cdef_agrees_with_c(self):
        ffi = declarations().cffi_ffi()
        if ffi is None:
            self.skipTest(support.CFFI_MISSING)
        c = self.mod.layout()
        for name in declarations().NAMES:
            self.assertEqual(declarations().cffi_layout(ffi, name),
                             c[name], "cffi cdef, struct %s" % name)

    def test_struct_formats_agree_with_c(self):
        c = self.mod.layout()
        d = declarations()
        for name in d.NAMES:
            want = [f[:3] for f in c[name]["fields"]]
            for fmt in d.FORMATS[name]:
                got = d.struct_layout(name, fmt)
                self.assertEqual(got["size"], c[name]["size"], fmt)
                self.assertEqual([f[:3] for f in got["fields"]], want, fmt)

    def test_the_tempting_wrong_struct_formats_disagree_with_c(self):
        c = self.mod.layout()
        d = declarations()
        for name, fmt in d.WRONG_FORMATS.items():
            got = d.struct_layout(name, fmt)
            self.assertNotEqual(
                (got["size"], [f[:3] for f in got["fields"]]),
                (c[name]["size"], [f[:3] for f in c[name]["fields"]]), fmt)

    # --- a struct by value ----------------------------------------------

    # --- a struct by pointer --------------------------------------------

    def test_the_buffer_checked_is_the_buffer_c_gets(self):
        # An object that hands out a different buffer each time it is
        # asked (3.12's __buffer__ lets Python code do it): the first one
        # passes the checks, a second one would be 1 byte long.  C must get
        # the first, or write past the end of the second.
        if sys.version_info < (3, 12):
            self.skipTest("__buffer__ (a buffer from Python code) is 3.12+")

        class Shifty:
            def __init__(self):
                self.given = [bytearray(8), bytearray(1)]

            def __buffer__(self, flags):
                return memoryview(self.given.pop(0) if len(self.given) > 1
                                  else self.given[0])

        shifty = Shifty()
        struct.pack_into("=II", shifty.given[0], 0, 170, 41)
        self.assertEqual(self.mod.birthday(shifty), 42)
        self.assertEqual(shifty.given, [bytearray(1)])

    def test_a_buffer_resized_by_another_thread_is_never_overrun(self):
        # While one thread calls birthday(), another resizes the bytearray
        # between 8 bytes (one struct person) and 1.  Each call either
        # sees 8 bytes and writes into them, or refuses: the resize waits
        # (BufferError) while C holds the buffer.
        data = bytearray(8)
        stop = threading.Event()

        def resize():
            while not stop.is_set():
                for size in (1, 8):
                    try:
                        data[:] = bytes(size)
                    except BufferError:
                        pass
                    time.sleep(0)           # let the other thread run

        thread = threading.Thread(target=resize)
        thread.start()
        try:
            for _ in range(support.scale(20000, 2000)):
                try:
                    self.mod.birthday(data)
                except ValueError as exc:
                    self.assertIn("must be exactly 8 bytes", str(exc))
        finally:
            stop.set()
            thread.join()

    # --- an array of structs, read where Python put it ------------------

    def test_total_age_reads_an_array_packed_three_ways(self):
        ages, packed = people_packed_four_ways()
        for label, people in packed:
            self.assertEqual(self.mod.total_age(people), sum(ages), label)

    def test_total_age_sees_only_the_structs_it_is_given(self):
        people = bytearray(struct.pack("@8I", 0, 1, 0, 10, 0, 100, 0, 1000))
        self.assertEqual(self.mod.total_age(memoryview(people)[8:24]), 110)
        self.assertEqual(self.mod.total_age(b""), 0)

    def test_total_age_does_not_wrap(self):
        n = support.scale(1000, 10)
        people = array.array("I", [0, UINT32_MAX] * n)
        self.assertEqual(self.mod.total_age(people), n * UINT32_MAX)

    def test_total_age_refuses_a_partial_struct(self):
        with self.assertRaises(ValueError) as cm:
            self.mod.total_age(bytes(10))
        self.assertEqual(str(cm.exception), "total_age() argument 'people' "
                         "has 10 bytes, which is not a multiple of "
                         "sizeof(struct person) = 8")
        with self.assertRaises(ValueError):
            self.mod.total_age(array.array("I", [1, 2, 3]))

    def test_total_age_refuses_the_wrong_item_format(self):
        record = declarations().Record()
        for bad, fields in ((array.array("d", [1.0]), "d"),
                            (array.array("H", [1, 2, 3, 4]), "H"),
                            (array.array("Q", [1]), "Q"),
                            (record, "BQH")):
            with self.assertRaises(TypeError) as cm:
                self.mod.total_age(bad)
            self.assertEqual(
                str(cm.exception), "total_age() argument 'people' has "
                "items of format '%s', which cannot hold struct person: "
                "fields '%s', not 'II' (expected bytes ('B'), uint32 ('I') "
                "or ctypes Person items)"
                % (memoryview(bad).format, fields))

    def test_total_age_refuses_what_is_not_a_buffer(self):
        for bad, kind in (("abc", "str"), ([1, 2], "list"), (7, "int")):
            with self.assertRaises(TypeError) as cm:
                self.mod.total_age(bad)
            self.assertEqual(str(cm.exception), "total_age() argument "
                             "'people' must be a buffer (bytes, bytearray, "
                             "array, ctypes), not %s" % kind)

    # --- item formats: compared by meaning, not by spelling -------------

    def test_this_pythons_ctypes_formats_are_in_the_table_and_accepted(self):
        # The table above is literal data from every supported version:
        # this interpreter's ctypes must spell each struct as it says.
        version = "%d.%d" % sys.version_info[:2]
        for name, cls in declarations().CTYPES.items():
            with self.subTest(struct=name):
                fmt = memoryview(cls()).format
                self.assertIn(fmt, CTYPES_FORMATS[name])
                self.assertIn(version, CTYPES_FORMATS[name][fmt])
        packed = declarations().RecordPacked()
        self.mod.fill_record_packed(packed, 1, 2**63 + 5, 3)
        self.assertEqual((packed.tag, packed.id, packed.flags),
                         (1, 2**63 + 5, 3))

    def test_a_format_that_does_not_match_says_what_is_wrong(self):
        cases = [
            ("person", "T{<I:height:<H:age:}", 8, "fields 'IH', not 'II'"),
            ("person", "T{<i:height:<i:age:}", 8, "fields 'ii', not 'II'"),
            ("record", "T{<Q:id:<B:tag:<H:flags:}", 24,
             "fields 'QBH', not 'BQH'"),
            ("record", "T{<B:tag:<Q:id:}", 24, "fields 'BQ', not 'BQH'"),
            ("record_packed", "T{<B:tag:7x<Q:id:<H:flags:6x}", 24,
             "items of 24 bytes, not 11"),
            ("record", "T{<B:tag:<Q:id:<H:flags:}", 11,
             "items of 11 bytes, not 24"),
            ("person", "T{>I:height:>I:age:}", 8,
             "big-endian fields on a little-endian machine"),
            ("person", "!II", 8,
             "big-endian fields on a little-endian machine"),
            ("record", "T{<B:tag:7x>Q:id:<H:flags:6x}", 24,
             "big-endian fields on a little-endian machine"),
            ("person", "T{<I:height:(2)<H:age:}", 8,
             "unreadable at '(2)<H:age:'"),
            ("person", "T{<I:height:T{<I:age:}}", 8,
             "unreadable at '{<I:age:}'"),
            ("person", "T{<I:height:<I:age", 8,
             "unreadable at '{<I:height:<I:age'"),
            ("person", "<100I", 8, "more than 16 fields"),
        ]
        if sys.byteorder != "little":
            self.skipTest("these cases are written for a little-endian "
                          "machine")
        for name, fmt, itemsize, why in cases:
            with self.subTest(struct=name, format=fmt):
                bad = Exported(fmt, itemsize)
                if name == "person":
                    func, arg, args = "total_age", "people", ()
                else:
                    func, arg, args = "fill_" + name, "buffer", (1, 2, 3)
                with self.assertRaises(TypeError) as cm:
                    getattr(self.mod, func)(bad.view, *args)
                self.assertEqual(
                    str(cm.exception),
                    "%s() argument '%s' has items of format '%s', which "
                    "cannot hold struct %s: %s (expected %s)"
                    % (func, arg, fmt, name, why, EXPECTED[name]))
                self.assertEqual(bad.memory.raw, bytes(itemsize))
        # A real one: ctypes.BigEndianStructure, the same fields and offsets.
        with self.assertRaises(TypeError) as cm:
            self.mod.total_age(declarations().PersonBigEndian(180, 41))
        self.assertIn("which cannot hold struct person: big-endian fields "
                      "on a little-endian machine", str(cm.exception))

    # --- a struct filled by C, read back in Python ----------------------

    def test_fill_record_writes_every_byte_padding_included(self):
        c = self.mod.layout()["record"]
        memory = bytearray(b"\xaa" * c["size"])    # old data in the holes
        self.mod.fill_record(memory, 7, 0x1122334455667788, 0xBEEF)
        self.assertEqual(struct.unpack("@BQH0Q", memory),
                         (7, 0x1122334455667788, 0xBEEF))
        holes = set(range(c["size"]))
        for _, offset, size, _ in c["fields"]:
            holes -= set(range(offset, offset + size))
        self.assertEqual(len(holes), c["size"] - 11)
        self.assertEqual({memory[i] for i in holes}, {0})

    def test_fill_record_into_a_ctypes_record(self):
        record = declarations().Record()
        self.mod.fill_record(record, tag=255, id=UINT64_MAX, flags=65535)
        self.assertEqual((record.tag, record.id, record.flags),
                         (255, UINT64_MAX, 65535))

    def test_fill_record_packed(self):
        memory = bytearray(self.mod.layout()["record_packed"]["size"])
        self.mod.fill_record_packed(memory, 1, 2**63 + 5, 3)
        self.assertEqual(struct.unpack("<BQH", memory), (1, 2**63 + 5, 3))
        copy = declarations().RecordPacked.from_buffer_copy(memory)
        self.assertEqual((copy.tag, copy.id, copy.flags), (1, 2**63 + 5, 3))

    def test_fill_record_names_the_bad_value(self):
        for kwargs, name, limit in (
                ({"tag": 256}, "tag", "0..255"),
                ({"tag": -1}, "tag", "0..255"),
                ({"id": 2**64}, "id", "0..18446744073709551615"),
                ({"id": -1}, "id", "0..18446744073709551615"),
                ({"flags": 2**16}, "flags", "0..65535")):
            args = dict({"tag": 1, "id": 2, "flags": 3}, **kwargs)
            for func in ("fill_record", "fill_record_packed"):
                memory = bytearray(self.mod.layout()[func[5:]]["size"])
                with self.assertRaises(OverflowError) as cm:
                    getattr(self.mod, func)(memory, **args)
                self.assertEqual(str(cm.exception), "%s() argument '%s' "
                                 "must be in %s" % (func, name, limit))
                self.assertEqual(memory, bytearray(len(memory)))

    def test_fill_record_wants_one_writable_struct(self):
        with self.assertRaises(TypeError) as cm:
            self.mod.fill_record(bytes(24), 1, 2, 3)
        self.assertEqual(str(cm.exception), "fill_record() argument 'buffer'"
                         " must be a writable buffer (bytearray, ctypes "
                         "object), not bytes")
        with self.assertRaises(ValueError) as cm:
            self.mod.fill_record(bytearray(11), 1, 2, 3)
        self.assertEqual(str(cm.exception), "fill_record() argument 'buffer'"
                         " must be exactly 24 bytes (one struct record), "
                         "not 11")
        # A padded Record has the packed struct's fields, in the same
        # order: its size tells them apart.
        record = declarations().Record()
        with self.assertRaises(TypeError) as cm:
            self.mod.fill_record_packed(record, 1, 2, 3)
        self.assertEqual(str(cm.exception), "fill_record_packed() argument "
                         "'buffer' has items of format '%s', which cannot "
                         "hold struct record_packed: items of 24 bytes, not "
                         "11 (expected bytes ('B') or ctypes RecordPacked "
                         "items)" % memoryview(record).format)

    # --- a generic object -------------------------------------------------

    def test_describe_every_kind(self):
        cases = [(42, "int 42"), (-2**63, "int -9223372036854775808"),
                 (2**63, "int (does not fit in 64 bits)"),
                 (True, "bool True"), (False, "bool False"),
                 (2.5, "float 2.5"), (1.0, "float 1.0"),
                 ("h\u00e9llo", "str (len 5)"), ("\udc80", "str (len 1)"),
                 (b"\x00\x01", "bytes (len 2)"), ([1, [2]], "list (len 2)"),
                 ({"a": 1}, "dict (len 1)"), (None, "None"),
                 ({1, 2}, "other: set"), ((1,), "other: tuple"),
                 (object(), "other: object"),
                 (bytearray(3), "other: bytearray")]
        for obj, text in cases:
            self.assertEqual(self.mod.describe(obj), text, repr(obj))

    def test_describe_floats_like_repr(self):
        for value in (0.1, -0.0, 1e300, 5e-324, float("inf"),
                      float("-inf"), float("nan"), 123456789.0):
            self.assertEqual(self.mod.describe(value), "float " + repr(value))

    def test_describe_runs_no_method_of_the_object(self):
        cases = [(TrapInt(7), "int 7"), (TrapStr("abc"), "str (len 3)"),
                 (TrapList([1, 2]), "list (len 2)"),
                 (TrapFloat(0.5), "float 0.5"),
                 (TrapClass(), "other: TrapClass")]
        for obj, text in cases:
            self.assertEqual(self.mod.describe(obj), text)

    def test_walk_near_the_recursion_limit_is_whole_or_raises(self):
        # walk() called at every depth close to the recursion limit: it
        # either describes every item or raises, never returns a short
        # list (the limit may be hit as C calls back into Python).
        items = [1, "a", None, 2.5]
        whole = self.mod.walk(items)

        def dive(k):
            return dive(k - 1) if k else self.mod.walk(items)

        old = sys.getrecursionlimit()
        here = len(inspect.stack(0))
        for depth in range(20, 42):
            with self.subTest(depth=depth):
                sys.setrecursionlimit(here + 40)
                try:
                    result = dive(depth)
                except (RecursionError, RuntimeError):
                    continue
                finally:
                    sys.setrecursionlimit(old)
                self.assertEqual(result, whole)

    def test_walk_wants_a_list(self):
        for bad, kind in (((1, 2), "tuple"), (None, "NoneType"),
                          ("abc", "str"), (iter([1]), "list_iterator")):
            with self.assertRaises(TypeError) as cm:
                self.mod.walk(bad)
            self.assertEqual(str(cm.exception),
                             "walk() argument 'items' must be list, not %s"
                             % kind)


class TestCapiExercise(LayoutExercise, support.Road):
    """Road 1, the checks of exercise 3 (make check-3 runs this class)."""
    stage, module = "03", "layout_capi"


class TestCapi(LayoutContract, support.Road):
    """Road 1, the rest of the contract."""
    stage, module = "03", "layout_capi"

    # The exercise's checks run in TestCapiExercise, once.
    locals().update(support.tests_run_elsewhere(LayoutExercise))


@unittest.skipUnless(HAVE_ABI3, ABI3_MISSING)
class TestLimitedApi(LayoutContract, support.Road):
    stage, module = "03", "layout_abi3"

    def test_it_is_the_abi3_build(self):
        self.assertTrue(self.mod.__file__.endswith("layout_abi3.abi3.so"),
                        self.mod.__file__)
        self.assertEqual(os.path.dirname(self.mod.__file__),
                         str(support.build_dir("03")))

    def test_the_limited_api_hides_struct_internals(self):
        # What the .abi3.so buys: code that reads CPython's structs (which
        # change between versions) does not compile under Py_LIMITED_API.
        cc = compiler(self)
        source = ("#include <Python.h>\n"
                  "const char *name(PyObject *o)"
                  " { return Py_TYPE(o)->tp_name; }\n")
        include = sysconfig.get_paths()["include"]
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "peek.c")
            with open(path, "w") as f:
                f.write(source)
            def compile_(*flags):
                return subprocess.run(
                    [cc, "-std=c11", "-fsyntax-only", "-I" + include,
                     *flags, path], capture_output=True, text=True)
            full = compile_()
            limited = compile_("-DPy_LIMITED_API=0x030b0000")
        self.assertEqual(full.returncode, 0, full.stderr)
        self.assertNotEqual(limited.returncode, 0)
        self.assertIn("incomplete", limited.stderr)


@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class TestCffiApiMode(LayoutContract, support.Road):
    stage, module = "03", "layout_cffi"

    def test_the_compiled_cdef_has_cs_layout(self):
        ffi = self.mod.ffi
        c = self.mod.layout()
        for name in declarations().NAMES:
            with self.subTest(struct=name):
                self.assertEqual(declarations().cffi_layout(ffi, name),
                                 c[name])

    def test_walk_hands_c_only_opaque_handles(self):
        ffi, lib = self.mod.ffi, self.mod.lib
        self.assertEqual(ffi.typeof(lib.py_visit).cname,
                         "int(*)(void *, size_t, void *)")
        item = ["a Python object"]
        handle = ffi.new_handle(item)
        self.assertIs(ffi.from_handle(handle), item)
        self.assertEqual(ffi.typeof(handle).cname, "void *")

    def test_api_mode_refuses_a_cdef_that_disagrees_with_c(self):
        # ABI mode would believe this cdef; API mode compiles C that
        # measures the real struct and refuses the import-time use.
        cc = compiler(self)
        stage = support.stage_dir("03")
        builder = (
            "import cffi\n"
            "ffi = cffi.FFI()\n"
            "ffi.cdef('struct record_packed { uint8_t tag; uint64_t id;"
            " uint16_t flags; };')\n"           # packed=True forgotten
            "ffi.set_source('_wrong_cffi', '#include \"layout_lib.h\"')\n"
            "ffi.emit_c_code('_wrong_cffi.c')\n")
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-c", builder], cwd=tmp,
                           check=True, capture_output=True)
            out = os.path.join(tmp, "_wrong_cffi" + support.EXT_SUFFIX)
            subprocess.run(
                [cc, "-shared", "-fPIC", "-I" + str(stage),
                 "-I" + sysconfig.get_paths()["include"], "-o", out,
                 os.path.join(tmp, "_wrong_cffi.c")],
                check=True, capture_output=True)
            proc = subprocess.run(
                [sys.executable, "-c",
                 "from _wrong_cffi import ffi\n"
                 # ffi.new: the first use that every cffi version checks
                 # (1.15 answers ffi.sizeof from the C compiler unchecked).
                 "ffi.new('struct record_packed *')\n"],
                cwd=tmp, capture_output=True, text=True)
        self.assertNotEqual(proc.returncode, 0, proc.stdout)
        self.assertIn("struct record_packed: wrong offset for field 'id' "
                      "(cdef says 8, but C compiler says 1)", proc.stderr)


EXERCISE = ["TestCapiExercise"]


@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class TestWrongDeclarations(support.Road):
    """layout_abi: the same C bytes read through right and wrong cdefs."""

    stage, module = "03", "layout_abi"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The raw bytes of C's samples, taken from the library by symbol
        # name with ctypes, as many as C's own sizeof says: the truth the
        # declarations are compared against.
        api = support.import_stage("03", "layout_capi")
        cls.c_sizes = {name: info["size"]
                       for name, info in api.layout().items()}
        library = ctypes.CDLL(str(support.build_dir("03") / "liblayout.so"))

        def raw(symbol, struct_name):
            size = cls.c_sizes[struct_name]
            return bytes((ctypes.c_char * size).in_dll(library, symbol))
        cls.person_bytes = raw("layout_sample_person", "person")
        cls.record_bytes = raw("layout_sample_record", "record")

    def test_the_right_declaration_reads_cs_values(self):
        self.assertEqual(self.mod.read_person("right"),
                         struct.unpack("@II", self.person_bytes))
        self.assertEqual(self.mod.read_record("right"),
                         struct.unpack("@BQH0Q", self.record_bytes))

    def test_each_wrong_declaration_reads_other_bytes(self):
        p, r = self.person_bytes, self.record_bytes
        # What each wrong cdef reads, spelled as struct formats on the
        # same bytes (fields in the order read_* returns them).
        expected = {
            "swapped": (struct.unpack("@II", p)[::-1],
                        (struct.unpack_from("@B", r)[0],
                         struct.unpack_from("@Q", r, 8)[0],
                         struct.unpack_from("@H", r, 2)[0])),
            "narrow": (struct.unpack_from("@HH", p),
                       struct.unpack_from("@BIH", r)),
            "packed": (struct.unpack("@II", p),
                       struct.unpack_from("<BQH", r)),
        }
        right = (self.mod.read_person("right"), self.mod.read_record("right"))
        for name, (person, record) in expected.items():
            with self.subTest(declaration=name):
                got = (self.mod.read_person(name), self.mod.read_record(name))
                self.assertEqual(got, (person, record))
                self.assertNotEqual(got, right)

    def test_no_wrong_declaration_is_larger_than_c(self):
        # The safety rule of the demonstration: reads stay in bounds.
        self.assertEqual(self.mod.declarations()[0], "right")
        for name in self.mod.declarations():
            for struct_name in ("person", "record"):
                with self.subTest(declaration=name, struct=struct_name):
                    self.assertLessEqual(self.mod.sizeof(name, struct_name),
                                         self.c_sizes[struct_name])

    def test_unknown_declarations_are_refused(self):
        with self.assertRaises(ValueError) as cm:
            self.mod.read_person("left")
        self.assertEqual(str(cm.exception), "read_person() argument "
                         "'declaration' must be one of right, swapped, "
                         "narrow, packed")
        with self.assertRaises(TypeError) as cm:
            self.mod.read_record(None)
        self.assertEqual(str(cm.exception), "read_record() argument "
                         "'declaration' must be str, not NoneType")
        with self.assertRaises(ValueError):
            self.mod.sizeof("right", "record_packed")


class TestStaticAssert(unittest.TestCase):
    def test_the_build_stops_when_a_layout_assumption_breaks(self):
        # -fpack-struct packs every struct: record loses its padding, and
        # the _Static_assert in layout_lib.c must stop the compile.
        cc = compiler(self)
        stage = support.stage_dir("03")
        base = [cc, "-std=c11", "-fsyntax-only", "-I" + str(stage),
                str(stage / "layout_lib.c")]
        normal = subprocess.run(base, capture_output=True, text=True)
        self.assertEqual(normal.returncode, 0, normal.stderr)
        packed = subprocess.run(base + ["-fpack-struct"],
                                capture_output=True, text=True)
        self.assertNotEqual(packed.returncode, 0)
        self.assertIn("7 padding bytes after tag", packed.stderr)



# --- the differential tests (tests/harness/differential.py) ----------------

def differential(d):
    """What tests/harness/differential.py gives each function of road 1
    (strategies of d's vocabulary, `s`), the calls every run starts with,
    the counterexamples found once, and the module of this folder that is
    not a second road to compare."""
    st = d.st

    def person(s):
        u32 = s.field(2**32 - 1)
        return st.one_of(st.tuples(u32, u32), st.tuples(u32, u32),
                         st.lists(u32, max_size=3).map(tuple),
                         st.lists(u32, max_size=3), s.wrong)

    def record(s):
        return (s.struct_buffer, s.field(255), s.field(2**64 - 1),
                s.field(2**16 - 1))
    return {
        "functions": {
            "layout": lambda s: (),
            "person_older": lambda s: (person(s), s.field(2**32 - 1)),
            "birthday": lambda s: (s.struct_buffer,),
            "total_age": lambda s: (s.struct_buffer,),
            "fill_record": record,
            "fill_record_packed": record,
            "describe": lambda s: (s.anything,),
            "walk": lambda s: (st.one_of(st.lists(s.anything, max_size=6),
                                         s.anything),),
        },
        "not_compared": {
            "layout_abi": "ABI mode here reads the library's sample structs "
                          "through wrong declarations: none of road 1's "
                          "functions",
        },
        # A module this stage builds only where it can: compared there,
        # skipped with the reason elsewhere.
        "built_where": {"layout_abi3": (HAVE_ABI3, ABI3_MISSING)},
        "seeds": {
            "person_older": [((180, 41), 1), ((180, 2**32 - 1), 1)],
            "birthday": [(d.Fresh("bytearray", bytes(8)),),
                         (d.Fresh("ctypes", "Person", None, b"\1" * 8),)],
            "total_age": [(d.Fresh("ctypes", "Person", 2, b"\1" * 16),)],
            "fill_record": [(d.Fresh("bytearray", bytes(24)), 7, 2**64 - 1,
                             2**16 - 1)],
            "fill_record_packed": [(d.Fresh("bytearray", bytes(11)), 7,
                                    2**64 - 1, 2**16 - 1)],
            "describe": [(2.0,), (2**63,), ("x",)],
            "walk": [([1, "x", None, 2.5],)],
        },
        "examples": {
            # An empty view with a step (stage 02 has the same).
            "birthday": [(d.EMPTY_STEP,)],
            "total_age": [(d.EMPTY_STEP,)],
            # An empty buffer at an odd address: never read, so never
            # refused.
            "fill_record": [(d.Fresh("slice", ("bytearray", b"\0"), 1, 1,
                                     False), 0, 0, 0)],
        },
    }


# The mistakes `make check-3` must catch in this stage's exercise: each
# is an edit of the reference, with the words one of the checker's hints
# must print (tests/test_gate_exercises.py makes each edit and runs the
# checker; its top explains the form).
MUTANTS = r"""
@@ stage 3, part 1: integer overflow not refused
hint: UINT32_MAX
hint: OverflowError
-    if (person.age + years > UINT32_MAX) {
+    if (0 && person.age + years > UINT32_MAX) {
@@ stage 3, part 1: exception swallowed
hint: uint_in_range
                       "person_older() argument 'years'", &years) < 0) {
-        return NULL;
+        PyErr_Clear();
+        years = 0;
@@ stage 3, part 1: reference leak
hint: new reference
hint: leak
-    return Py_BuildValue("(kk)", (unsigned long)older.height,
-                         (unsigned long)older.age);
+    PyObject *result = Py_BuildValue("(kk)", (unsigned long)older.height,
+                                     (unsigned long)older.age);
+    Py_XINCREF(result);
+    return result;
@@ stage 3, part 2: buffer not released on the error path
hint: PyBuffer_Release
-        goto done;
+        return NULL;
     }
     result = PyLong_FromUnsignedLong(person->age);
-done:
@@ stage 3, part 2: error status ignored
hint: person_birthday() returns -1
hint: OverflowError
-    if (person_birthday(person) < 0) {
+    if (person_birthday(person) < 0 && 0) {
@@ stage 3, part 3: missing INCREF (borrowed reference given away)
hint: Py_INCREF
hint: borrowed
-        Py_INCREF(item);    /* ours now, whatever happens to the list */
@@ stage 3, part 3: reference leak
hint: Py_DECREF
hint: leak
         int rc = PyList_Append(result, text);
-        Py_DECREF(text);
# (Part 3's error paths, a failing describe_object() or PyList_Append(),
# are reached only when memory runs out: no mutant there.)
"""


if __name__ == "__main__":
    unittest.main()
