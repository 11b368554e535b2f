"""Stage 02, data transfer: what is copied, what is shared, and what is
refused, checked the same way on both roads.

Road 1 is transfer_capi (C API by hand); road 2 is transfer_cffi (cffi API
mode behind a Python wrapper).  Both must give the same values, raise the
same exceptions with the same messages, and never crash.

The contract is two mixins: TransferExercise, the checks of exercise 2 in
the order of its parts (make check-2 runs them on the participant's
module, through TestCapiExercise), and TransferContract, everything else.
The million-element version of the same contract is a gate:
tests/test_gate_02_big.py.
"""
import array
import json
import math
import random
import sys
import textwrap
import unittest
import zlib

import support

sys.path.insert(0, str(support.TESTS / "gate"))
from api import (ClaimsToBeInt, ClearsItsList,  # noqa: E402
                 HostileError as Boom, LyingRangeInt, LyingStr,
                 RaisingIndex as BadIndex)

INT_MIN, INT_MAX = -2**31, 2**31 - 1
LLONG_MIN, LLONG_MAX = -2**63, 2**63 - 1
INT_RANGE = "-2147483648..2147483647"
LLONG_RANGE = "-9223372036854775808..9223372036854775807"

TEXTS = ["", "plain ASCII", "café crème", "Ελληνικά", "日本語",
         "emoji 🐍🦀 and more", "nul\0inside\0", "\0", "a\U0010FFFFz"]


class RaisesMidway:
    """An iterable whose iterator yields two ints, then raises Boom."""

    def __iter__(self):
        yield 1
        yield 2
        raise Boom("iteration failed at item 2")


class ListWithBadIter(list):
    """A list whose __iter__ raises: the function must honour it."""

    def __iter__(self):
        raise Boom("no iteration for you")










class IntLike:
    """Has __int__ (and so looks like a number to some converters), but is
    not an int."""

    def __int__(self):
        return 7


class TransferExercise:
    """The checks of exercise 2 (make check-2), in the order of its parts:
    1 reversed_text, 2 sorted_ints, 3 scale_in_place.  They run on both
    roads like the rest of the contract.  self.mod is the module under
    test."""

    BIG = support.scale(100_000, 1_000)   # a big input (the gates: 10**6)

    def assertMessage(self, exc_type, message, func, *args):
        with self.assertRaises(exc_type) as cm:
            func(*args)
        self.assertEqual(str(cm.exception), message)

    def assertKeepsNothing(self, name):
        """Many calls of `name` (good and failing) keep no memory, C's or
        Python's, and no reference to their arguments."""
        report = keeps(self.module, self.stage).get(name)
        if report is None or "unfinished" in report:
            raise NotImplementedError(report and report["unfinished"])
        self.assertLess(report["python_bytes"], PYTHON_LIMIT,
                        "%s() keeps Python memory: %d bytes more after %d "
                        "calls (a reference never given back?)"
                        % (name, report["python_bytes"], report["calls"]))
        self.assertLess(report["c_bytes"], C_LIMIT,
                        "%s() keeps C memory: %d bytes more after %d calls, "
                        "by %s (memory C allocated and nobody freed?)"
                        % (name, report["c_bytes"], report["calls"],
                           report["meter"]))
        self.assertEqual(report["argument_refs"], 0,
                        "%s() changed the reference count of its arguments "
                        "by %+d over %d calls (a Py_DECREF without its "
                        "Py_INCREF, or the other way round)"
                        % (name, report["argument_refs"], report["calls"]))

    def test_reversed_text_builds_a_new_string_in_c(self):
        for text in TEXTS + ["ab🐍" * (self.BIG // 3)]:
            with self.subTest(text=text[:20]):
                result = self.mod.reversed_text(text)
                self.assertEqual(result, text[::-1])
                self.assertEqual(self.mod.reversed_text(result), text)
        # A new object, not the argument (nor a cached one-character str:
        # CPython keeps one of those per Latin-1 character).
        text = "".join(["ab", "c"])
        self.assertIsNot(self.mod.reversed_text(text), text)
        self.assertIsNot(self.mod.reversed_text(text[::-1]), text)

    def test_reversed_text_frees_what_c_allocated(self):
        self.assertKeepsNothing("reversed_text")

    def test_sorted_ints_returns_a_new_list(self):
        values = [5, -3, LLONG_MAX, LLONG_MIN, 0, 5]
        result = self.mod.sorted_ints(values)
        self.assertEqual(result, sorted(values))
        self.assertEqual(values, [5, -3, LLONG_MAX, LLONG_MIN, 0, 5])
        self.assertIsNot(result, values)
        self.assertEqual(self.mod.sorted_ints([]), [])

    def test_sorted_ints_accepts_any_iterable(self):
        self.assertEqual(self.mod.sorted_ints((3, 1, 2)), [1, 2, 3])
        self.assertEqual(self.mod.sorted_ints(range(5, 0, -1)),
                         [1, 2, 3, 4, 5])
        self.assertEqual(self.mod.sorted_ints(x % 3 for x in range(6)),
                         [0, 0, 1, 1, 2, 2])
        self.assertEqual(self.mod.sorted_ints({7: "a", -7: "b"}), [-7, 7])
        self.assertEqual(self.mod.sorted_ints(array.array("q", [2, 1])),
                         [1, 2])

    def test_sorted_ints_round_trips_many_elements(self):
        values = list(range(self.BIG, 0, -1))
        self.assertEqual(self.mod.sorted_ints(values), values[::-1])

    def test_sorted_ints_keeps_nothing(self):
        self.assertKeepsNothing("sorted_ints")

    def test_scale_in_place_changes_python_memory(self):
        numbers = array.array("q", [1, -2, 3])
        self.assertIsNone(self.mod.scale_in_place(numbers, 10))
        self.assertEqual(numbers.tolist(), [10, -20, 30])
        raw = bytearray(16)
        raw[0] = 7                      # little or big end, C sees an int
        view = memoryview(raw).cast("q")
        before = view[0]
        self.mod.scale_in_place(data=view, factor=3)
        self.assertEqual(memoryview(raw).cast("q")[0], before * 3)
        big = array.array("q", range(self.BIG))
        self.mod.scale_in_place(big, -1)
        self.assertEqual(big[-1], -(self.BIG - 1))
        self.mod.scale_in_place(array.array("q"), 5)        # empty: nothing

    def test_scale_in_place_is_all_or_nothing(self):
        numbers = array.array("q", [1, 2**62, 3])
        self.assertMessage(OverflowError,
                           "scale_in_place(): item 1 (4611686018427387904) "
                           "times 2 does not fit in a C long long; the "
                           "buffer is unchanged",
                           self.mod.scale_in_place, numbers, 2)
        self.assertEqual(numbers.tolist(), [1, 2**62, 3])

    def test_scale_in_place_matches_python_arithmetic(self):
        rng = random.Random(4)
        edges = [0, 1, -1, 2, -2, LLONG_MAX, LLONG_MIN, 2**31, -2**31,
                 3037000499, -3037000500]
        for _ in range(support.scale(3000, 300)):
            value = rng.choice(edges + [rng.randint(LLONG_MIN, LLONG_MAX)])
            factor = rng.choice(edges + [rng.randint(-2**33, 2**33)])
            cell = array.array("q", [value])
            if LLONG_MIN <= value * factor <= LLONG_MAX:
                self.mod.scale_in_place(cell, factor)
                self.assertEqual(cell[0], value * factor, (value, factor))
            else:
                with self.assertRaises(OverflowError, msg=(value, factor)):
                    self.mod.scale_in_place(cell, factor)
                self.assertEqual(cell[0], value)

    def test_buffer_is_released_after_every_call(self):
        # A bytearray cannot grow, and a memoryview cannot be released,
        # while anyone holds its buffer: a call that forgot to release it
        # makes them raise BufferError.
        big = [2**62, 1]                        # times 2: overflows
        calls = (
            ("checksum", lambda data, view: self.mod.checksum(data)),
            ("address_of", lambda data, view: self.mod.address_of(data)),
            ("sum_buffer", lambda data, view: self.mod.sum_buffer(view)),
            ("sum_buffer", lambda data, view:
                self.mod.sum_buffer(view[::2].cast("B"))),    # refused
            ("scale_in_place", lambda data, view:
                self.mod.scale_in_place(view, 2)),
            ("scale_in_place", lambda data, view:
                self.mod.scale_in_place(view, 4)),            # overflows
        )
        for name, call in calls:
            with self.subTest(function=name):
                grow = bytearray(array.array("q", big).tobytes())
                view = memoryview(grow).cast("q")
                try:
                    call(grow, view)
                except (ValueError, OverflowError):
                    pass
                try:
                    view.release()
                    grow.extend(b"more")
                except BufferError:
                    self.fail("%s() did not release the buffer it took "
                              "(PyBuffer_Release, on every path)" % name)
                self.assertEqual(len(grow), 20)

    def test_scale_in_place_keeps_nothing(self):
        self.assertKeepsNothing("scale_in_place")


class TransferContract(TransferExercise):
    """What every road must do, besides the exercise's checks.  self.mod
    is the module under test."""

    # --- scalars: copied by value ----------------------------------------

    def test_clamp_copies_c_ints_both_ways(self):
        self.assertEqual(self.mod.clamp(15, 0, 10), 10)
        self.assertEqual(self.mod.clamp(-5, 0, 10), 0)
        self.assertEqual(self.mod.clamp(7, 0, 10), 7)
        self.assertEqual(self.mod.clamp(value=INT_MIN, lo=INT_MIN, hi=INT_MAX),
                         INT_MIN)
        self.assertEqual(self.mod.clamp(INT_MAX, INT_MIN, INT_MAX), INT_MAX)
        self.assertEqual(self.mod.clamp(True, 0, 10), 1)   # bool is an int

    def test_clamp_refuses_ints_beyond_c_int(self):
        for args, name in (((INT_MAX + 1, 0, 1), "value"),
                           ((0, INT_MIN - 1, 1), "lo"),
                           ((0, 0, 10**30), "hi")):
            self.assertMessage(OverflowError,
                               "clamp() argument '%s' must be in %s"
                               % (name, INT_RANGE),
                               self.mod.clamp, *args)

    def test_clamp_refuses_a_float_and_other_types(self):
        self.assertMessage(TypeError,
                           "clamp() argument 'value' must be int, not float",
                           self.mod.clamp, 2.0, 0, 10)
        self.assertMessage(TypeError,
                           "clamp() argument 'hi' must be int, not NoneType",
                           self.mod.clamp, 1, 0, None)
        # __index__ is not called: an int is wanted, not "int-like".
        self.assertMessage(TypeError,
                           "clamp() argument 'lo' must be int, "
                           "not RaisingIndex",
                           self.mod.clamp, 1, BadIndex(), 2)

    def test_clamp_refuses_an_empty_range(self):
        self.assertMessage(ValueError,
                           "clamp() needs lo <= hi, got lo=5, hi=1",
                           self.mod.clamp, 3, 5, 1)

    def test_functions_name_themselves_when_arguments_are_missing(self):
        for func, args in ((self.mod.clamp, (1, 2)),
                           (self.mod.checked_add, (1,)),
                           (self.mod.scale, ()),
                           (self.mod.char_count, ()),
                           (self.mod.sum_list, ([1], [2]))):
            with self.subTest(func=func.__name__):
                with self.assertRaises(TypeError) as cm:
                    func(*args)
                self.assertIn(func.__name__ + "()", str(cm.exception))

    def test_checked_add_uses_the_whole_long_long_range(self):
        self.assertEqual(self.mod.checked_add(2**62, 2**62 - 1), LLONG_MAX)
        self.assertEqual(self.mod.checked_add(LLONG_MIN, 0), LLONG_MIN)
        self.assertEqual(self.mod.checked_add(LLONG_MAX, LLONG_MIN), -1)
        self.assertEqual(self.mod.checked_add(a=-40, b=82), 42)

    def test_checked_add_reports_overflow_instead_of_wrapping(self):
        self.assertMessage(OverflowError,
                           "checked_add(9223372036854775807, 1): the sum "
                           "does not fit in a C long long",
                           self.mod.checked_add, LLONG_MAX, 1)
        with self.assertRaises(OverflowError):
            self.mod.checked_add(LLONG_MIN, -1)
        self.assertMessage(OverflowError,
                           "checked_add() argument 'b' must be in "
                           + LLONG_RANGE,
                           self.mod.checked_add, 0, 2**63)
        self.assertMessage(TypeError,
                           "checked_add() argument 'a' must be int, not float",
                           self.mod.checked_add, 1.0, 1)

    def test_scale_passes_ieee_specials_through(self):
        self.assertEqual(self.mod.scale(1.5, 4), 6.0)
        result = self.mod.scale(3, 2)          # ints become C doubles
        self.assertEqual((result, type(result)), (6.0, float))
        self.assertEqual(self.mod.scale(1e308, 10), math.inf)
        self.assertEqual(self.mod.scale(-1e308, 10), -math.inf)
        self.assertTrue(math.isnan(self.mod.scale(math.inf, 0)))
        self.assertTrue(math.isnan(self.mod.scale(math.nan, 1)))
        self.assertEqual(self.mod.scale(5e-324, 0.5), 0.0)   # underflow
        self.assertEqual(math.copysign(1, self.mod.scale(-0.0, 1)), -1)

    def test_scale_refuses_what_is_not_a_number(self):
        self.assertMessage(TypeError,
                           "scale() argument 'x' must be float, not str",
                           self.mod.scale, "1.5", 2)
        self.assertMessage(TypeError,
                           "scale() argument 'factor' must be float, "
                           "not NoneType", self.mod.scale, 1.5, None)
        with self.assertRaises(OverflowError) as cm:
            self.mod.scale(10**400, 1)
        self.assertIn("too large to convert to float", str(cm.exception))

    def test_round_toward_takes_a_c_bool(self):
        self.assertEqual(self.mod.round_toward(-2.5, False), -3.0)
        self.assertEqual(self.mod.round_toward(-2.5, True), -2.0)
        self.assertEqual(self.mod.round_toward(2, True), 2.0)
        self.assertEqual(self.mod.round_toward(-math.inf, True), -math.inf)
        self.assertTrue(math.isnan(self.mod.round_toward(math.nan, False)))
        for up, name in ((1, "int"), (None, "NoneType"), ("yes", "str")):
            self.assertMessage(TypeError,
                               "round_toward() argument 'up' must be bool, "
                               "not %s" % name,
                               self.mod.round_toward, 1.5, up)

    def test_round_toward_takes_its_arguments_by_keyword_too(self):
        # Road 1 parses METH_FASTCALL | METH_KEYWORDS by hand: a keyword
        # lands in its slot, whatever the order, and an unknown, repeated
        # or missing one is refused and named.
        self.assertEqual(self.mod.round_toward(-2.5, up=True), -2.0)
        self.assertEqual(self.mod.round_toward(up=False, x=-2.5), -3.0)
        self.assertEqual(self.mod.round_toward(x=2.5, up=True), 3.0)
        self.assertMessage(TypeError,
                           "round_toward() argument 'up' must be bool, "
                           "not int", lambda: self.mod.round_toward(x=1.5, up=1))
        for kwargs, named in ((dict(down=True), "'down'"),
                              (dict(x=2.5, up=True), "'x'"),
                              (dict(), "'up'")):
            with self.subTest(kwargs=kwargs), \
                    self.assertRaisesRegex(TypeError, named):
                self.mod.round_toward(1.5, **kwargs)
        with self.assertRaises(TypeError):
            self.mod.round_toward(1.5, True, False)

    def test_is_nan_returns_a_c_bool_as_a_python_bool(self):
        self.assertIs(self.mod.is_nan(math.nan), True)
        self.assertIs(self.mod.is_nan(-math.nan), True)
        self.assertIs(self.mod.is_nan(math.inf), False)
        self.assertIs(self.mod.is_nan(0), False)
        self.assertIs(self.mod.is_nan(self.mod.scale(math.inf, 0)), True)
        self.assertMessage(TypeError,
                           "is_nan() argument 'x' must be float, not str",
                           self.mod.is_nan, "nan")
        with self.assertRaises(OverflowError):
            self.mod.is_nan(10**400)

    # --- strings: str as UTF-8 plus a length -----------------------------

    def test_char_count_round_trips_every_kind_of_text(self):
        for text in TEXTS + ["x" * self.BIG, "🐍" * self.BIG]:
            with self.subTest(text=text[:20]):
                self.assertEqual(self.mod.char_count(text), len(text))

    def test_char_count_nul_agrees_without_a_nul(self):
        for text in TEXTS:
            if "\0" not in text:
                self.assertEqual(self.mod.char_count_nul(text), len(text))

    def test_char_count_nul_refuses_an_embedded_nul(self):
        self.assertMessage(ValueError,
                           "char_count_nul() argument 'text' contains a NUL "
                           "character at index 3: C would stop reading there",
                           self.mod.char_count_nul, "nul\0inside")
        self.assertMessage(ValueError,
                           "char_count_nul() argument 'text' contains a NUL "
                           "character at index 1: C would stop reading there",
                           self.mod.char_count_nul, "é\0")

    def test_lone_surrogates_raise_unicode_encode_error(self):
        for func in (self.mod.char_count, self.mod.char_count_nul,
                     self.mod.reversed_text):
            for text in ("\udc80", "ok \ud800 not ok", "🐍\udfff"):
                with self.subTest(func=func.__name__, text=ascii(text)):
                    with self.assertRaises(UnicodeEncodeError) as cm:
                        func(text)
                    self.assertIn("surrogates not allowed",
                                  str(cm.exception))

    def test_string_functions_refuse_what_is_not_str(self):
        for func in (self.mod.char_count, self.mod.char_count_nul,
                     self.mod.reversed_text):
            for value, name in ((b"bytes", "bytes"), (None, "NoneType"),
                                (65, "int")):
                self.assertMessage(TypeError,
                                   "%s() argument 'text' must be str, not %s"
                                   % (func.__name__, name), func, value)

    def test_checksum_reads_raw_bytes_like_zlib(self):
        data = random.Random(2).randbytes(self.BIG)
        for value in (b"", b"Wikipedia", b"\0\0\0", bytearray(b"abc\xff"),
                      memoryview(b"xxWikipedia")[2:], data,
                      array.array("q", [1, -1, 2**40])):
            with self.subTest(value=bytes(value)[:12]):
                self.assertEqual(self.mod.checksum(value),
                                 zlib.adler32(bytes(value)))

    def test_checksum_refuses_str_and_strided_buffers(self):
        self.assertMessage(TypeError,
                           "checksum() argument 'data' must be a bytes-like "
                           "object, not str", self.mod.checksum, "text")
        self.assertMessage(TypeError,
                           "checksum() argument 'data' must be a bytes-like "
                           "object, not NoneType", self.mod.checksum, None)
        self.assertMessage(ValueError,
                           "checksum() argument 'data' must be a C-contiguous "
                           "buffer",
                           self.mod.checksum, memoryview(b"abcd")[::2])

    # --- sequences: copied element by element ----------------------------

    def test_str_subclasses_cannot_lie_about_their_bytes(self):
        for text in ("plain", "café", "a\0b", ""):
            lying = LyingStr(text)
            with self.subTest(text=text):
                self.assertEqual(self.mod.char_count(lying), len(text))
                self.assertEqual(self.mod.reversed_text(lying), text[::-1])
                if "\0" in text:
                    with self.assertRaisesRegex(ValueError, "index 1"):
                        self.mod.char_count_nul(lying)
                else:
                    self.assertEqual(self.mod.char_count_nul(lying),
                                     len(text))

    def test_items_cannot_change_the_list_while_it_is_copied(self):
        for func in (self.mod.sum_list, self.mod.sorted_ints):
            with self.subTest(func=func.__name__):
                victim = list(range(100))
                victim[50] = ClearsItsList(victim)
                with self.assertRaisesRegex(
                        TypeError, "item 50 must be int, not ClearsItsList"):
                    func(victim)
                self.assertEqual(len(victim), 100)   # nobody ran __int__

    def test_a_list_changed_between_two_bytecodes_is_never_read(self):
        # Another thread may run between any two bytecodes of the road's
        # Python code.  Play that thread before each bytecode in turn: it
        # puts an item at the front of the caller's list that empties the
        # list when converted.  C must read a list nobody else can change:
        # the answer is that of the list as it was, or TypeError for the
        # new item, never a read of the freed items (a big list's item
        # array goes back to the system when it is emptied: SIGSEGV).
        code = textwrap.dedent("""
            import sys
            sys.path.insert(0, %(gate)r)
            from api import ClearsItsList
            import %(module)s as m
            N = %(n)d

            def call(func, n):
                victim = list(range(N))
                seen = [0]
                def local(frame, event, arg):
                    if event == "opcode":
                        seen[0] += 1
                        if seen[0] == n:
                            victim.insert(0, ClearsItsList(victim))
                    return local
                def tracer(frame, event, arg):
                    if frame.f_code.co_filename != getattr(m, "__file__",
                                                           None):
                        return None
                    frame.f_trace_opcodes = True
                    return local
                if n == 0:                  # before the call itself
                    victim.insert(0, ClearsItsList(victim))
                sys.settrace(tracer)
                try:
                    result = func(victim)
                except TypeError as exc:
                    result = str(exc)
                finally:
                    sys.settrace(None)
                return seen[0], result

            for func, right in ((m.sum_list, N * (N - 1) // 2),
                                (m.sorted_ints, list(range(N)))):
                call(func, -1)      # 3.12+: no opcode events the 1st time
                for n in range(1000):
                    seen, result = call(func, n)
                    assert result == right or result.endswith(
                        "item 0 must be int, not ClearsItsList"), (
                        func.__name__, n, str(result)[:200])
                    if seen < n:
                        break
                print(func.__name__, n)
            """) % {"gate": str(support.TESTS / "gate"),
                    "module": self.module, "n": support.scale(20000, 2000)}
        # glibc: every block of 128 KiB or more is mmap()ed and unmapped
        # when freed, so a read of freed items crashes (tests/
        # test_gate_stateful.py says why the limit must be set).
        env = support.child_env("02", MALLOC_MMAP_THRESHOLD_="131072")
        proc = support.run_python(code, stage="02", env=env)
        self.assertEqual(proc.returncode, 0, "%s\n%s" % (
            support.describe_exit(proc.returncode), proc.stderr[-2000:]))
        self.assertIn("sum_list ", proc.stdout)
        self.assertIn("sorted_ints ", proc.stdout)

    def test_range_checks_ask_the_value_not_its_operators(self):
        # An int subclass may lie in <, <=, > and +: the checks must read
        # its value.  An object that claims to be an int (__class__) is not.
        self.assertEqual(self.mod.clamp(LyingRangeInt(7), 0, 9), 7)
        with self.assertRaisesRegex(ValueError,
                                    "clamp.. needs lo <= hi, got lo=10, "
                                    "hi=0"):
            self.mod.clamp(5, LyingRangeInt(10), LyingRangeInt(0))
        with self.assertRaisesRegex(OverflowError, "clamp.. argument 'hi' "
                                    "must be in " + INT_RANGE):
            self.mod.clamp(5, 0, LyingRangeInt(2**31))
        with self.assertRaisesRegex(OverflowError, "time_c_loop.. argument "
                                    "'number' must be in 1..100000"):
            self.mod.time_c_loop(array.array("q", [1]),
                                 LyingRangeInt(100001))
        with self.assertRaisesRegex(OverflowError, "time_c_loop.. argument "
                                    "'number' must be in 1..100000"):
            self.mod.time_c_loop(array.array("q", [1]), LyingRangeInt(0))
        with self.assertRaisesRegex(OverflowError, "checked_add.. argument "
                                    "'a' must be in " + LLONG_RANGE):
            self.mod.checked_add(LyingRangeInt(2**63), 1)
        data = array.array("q", [1])
        with self.assertRaisesRegex(OverflowError, "scale_in_place.. "
                                    "argument 'factor' must be in "):
            self.mod.scale_in_place(data, LyingRangeInt(-2**63 - 1))
        for args in ((ClaimsToBeInt(5), 0, 9), (5, ClaimsToBeInt(10), 0)):
            with self.assertRaisesRegex(TypeError, "must be int, not "
                                        "ClaimsToBeInt"):
                self.mod.clamp(*args)
        with self.assertRaisesRegex(TypeError, "must be int, not "
                                    "ClaimsToBeInt"):
            self.mod.time_c_loop(data, ClaimsToBeInt(2**40))

    def test_objects_with_only_int_are_not_ints(self):
        for func in (self.mod.sum_list, self.mod.sorted_ints):
            with self.subTest(func=func.__name__):
                with self.assertRaisesRegex(
                        TypeError, "item 1 must be int, not IntLike"):
                    func([1, IntLike(), 3])

    def test_sum_list_copies_then_sums(self):
        self.assertEqual(self.mod.sum_list([1, 2, 3]), 6)
        self.assertEqual(self.mod.sum_list([]), 0)
        big = self.BIG
        self.assertEqual(self.mod.sum_list(range(big)), big * (big - 1) // 2)
        self.assertEqual(self.mod.sum_list([LLONG_MAX, LLONG_MIN]), -1)
        self.assertEqual(self.mod.sum_list([True, True]), 2)

    def test_sum_list_reports_overflow_of_the_running_total(self):
        for values in ([LLONG_MAX, 1], [LLONG_MIN, -1],
                       [2**62, 2**62, -2**62]):
            self.assertMessage(OverflowError,
                               "sum_list(): the sum does not fit in a C long "
                               "long", self.mod.sum_list, values)

    def test_bad_element_names_its_index_and_type(self):
        for values, index, name in (([1, 2, "3", 4], 2, "str"),
                                    ([1.0], 0, "float"),
                                    ((1, None), 1, "NoneType"),
                                    ([0] * 10 + [BadIndex()], 10,
                                     "RaisingIndex")):
            for func in (self.mod.sum_list, self.mod.sorted_ints):
                self.assertMessage(TypeError,
                                   "%s() argument 'values': item %d must be "
                                   "int, not %s"
                                   % (func.__name__, index, name),
                                   func, values)
        self.assertMessage(OverflowError,
                           "sum_list() argument 'values': item 1 does not fit "
                           "in a C long long",
                           self.mod.sum_list, [1, 2**63, "later"])

    def test_sequence_functions_refuse_non_iterables(self):
        for value, name in ((42, "int"), (None, "NoneType"), (1.5, "float")):
            self.assertMessage(TypeError,
                               "sum_list() argument 'values' must be an "
                               "iterable of ints, not %s" % name,
                               self.mod.sum_list, value)

    def test_an_iterator_that_raises_midway_surfaces_unchanged(self):
        for func in (self.mod.sum_list, self.mod.sorted_ints):
            with self.assertRaisesRegex(Boom, "iteration failed at item 2"):
                func(RaisesMidway())
            with self.assertRaisesRegex(Boom, "no iteration for you"):
                func(ListWithBadIter([1, 2, 3]))

    # --- buffers: shared, not copied -------------------------------------

    def test_c_reads_the_buffer_where_python_keeps_it(self):
        numbers = array.array("q", [1, 2, 3])
        where = numbers.buffer_info()[0]
        self.assertEqual(self.mod.address_of(numbers), where)
        self.assertEqual(self.mod.address_of(memoryview(numbers)[1:]),
                         where + 8)
        grow = bytearray(b"0123456789")
        self.assertEqual(self.mod.address_of(memoryview(grow)[4:]),
                         self.mod.address_of(grow) + 4)
        # A bytes object keeps its bytes inside the object itself, right
        # after a fixed header (CPython: sys.getsizeof(b"") - 1 bytes).
        data = b"shared, not copied"
        self.assertEqual(self.mod.address_of(data),
                         id(data) + sys.getsizeof(b"") - 1)

    def test_sum_buffer_reads_long_long_items(self):
        self.assertEqual(self.mod.sum_buffer(array.array("q", [1, 2, 3])), 6)
        self.assertEqual(self.mod.sum_buffer(array.array("q")), 0)
        self.assertEqual(self.mod.sum_buffer(
            memoryview(bytearray(16)).cast("q")), 0)
        if array.array("l").itemsize == 8:
            self.assertEqual(self.mod.sum_buffer(array.array("l", [4, 5])), 9)
        big = array.array("q", range(self.BIG))
        self.assertEqual(self.mod.sum_buffer(big),
                         self.BIG * (self.BIG - 1) // 2)
        self.assertMessage(OverflowError,
                           "sum_buffer(): the sum does not fit in a C long "
                           "long", self.mod.sum_buffer,
                           array.array("q", [LLONG_MAX, 1]))

    def test_buffer_of_the_wrong_shape_is_refused_naming_it(self):
        four = array.array("q", [1, 2, 3, 4])
        cases = (
            (array.array("d", [1.0]), ValueError,
             "must have item format 'q' (C long long), not 'd'"),
            (b"12345678", ValueError,
             "must have item format 'q' (C long long), not 'B'"),
            (array.array("i", [1, 2]), ValueError,
             "must have item format 'q' (C long long), not 'i'"),
            (memoryview(four).cast("B").cast("q", (2, 2)), ValueError,
             "must be 1-dimensional, not 2-dimensional"),
            (memoryview(four)[::2], ValueError,
             "must be a C-contiguous buffer"),
            (memoryview(bytearray(17))[1:].cast("q"), ValueError,
             "must start at an address aligned for a C long long "
             "(a multiple of 8)"),
            ([1, 2, 3], TypeError,
             "must be a buffer of C long long (such as array('q')), not list"),
            (None, TypeError,
             "must be a buffer of C long long (such as array('q')), "
             "not NoneType"),
        )
        for value, exc_type, tail in cases:
            with self.subTest(tail=tail):
                self.assertMessage(exc_type,
                                   "sum_buffer() argument 'data' " + tail,
                                   self.mod.sum_buffer, value)

    def test_scale_in_place_refuses_read_only_buffers(self):
        # Read-only or no buffer at all: one refusal, type_error()'s words.
        for value, name in ((array.array("q", [1]).tobytes(), "bytes"),
                            (memoryview(array.array("q", [1])).toreadonly(),
                             "memoryview"),
                            ([1], "list")):
            self.assertMessage(TypeError,
                               "scale_in_place() argument 'data' must be a "
                               "writable buffer of C long long (such as "
                               "array('q')), not %s" % name,
                               self.mod.scale_in_place, value, 2)
        self.assertMessage(TypeError,
                           "scale_in_place() argument 'factor' must be int, "
                           "not float",
                           self.mod.scale_in_place, array.array("q"), 2.0)

    def test_time_c_loop_returns_seconds(self):
        seconds = self.mod.time_c_loop(array.array("q", range(100)), 10)
        self.assertIsInstance(seconds, float)
        self.assertGreaterEqual(seconds, 0.0)
        self.assertLess(seconds, 10.0)
        for number in (0, -1, 100001, 2**40):
            self.assertMessage(OverflowError,
                               "time_c_loop() argument 'number' must be in "
                               "1..100000",
                               self.mod.time_c_loop, array.array("q"), number)


    def test_the_other_functions_keep_nothing(self):
        for name in ("sum_list", "char_count_nul", "checksum", "sum_buffer",
                     "checked_add"):
            with self.subTest(function=name):
                self.assertKeepsNothing(name)


# What each function is called with, good and failing, to see that it keeps
# nothing.  Run in a child (tracemalloc's bookkeeping would confuse
# valgrind), once per module; the child prints one JSON object.
KEEPS_CHILD = """
import array, gc, json, sys, tracemalloc
import %(module)s as mod

def midway():
    yield 1
    raise KeyError("midway")

TEXT = "ça 🐍 " * 2000
NUMBERS = list(range(10**6 + 200, 10**6, -1))   # not cached ints
QS = array.array("q", range(100))
CALLS = {
    "reversed_text": [lambda: mod.reversed_text(TEXT),
                      lambda: mod.reversed_text("\\udc80"),
                      lambda: mod.reversed_text(None)],
    "sorted_ints": [lambda: mod.sorted_ints(NUMBERS),
                    lambda: mod.sorted_ints(midway()),
                    lambda: mod.sorted_ints([1, 2, "x"]),
                    lambda: mod.sorted_ints(x for x in range(100))],
    "scale_in_place": [lambda: mod.scale_in_place(QS, 1),
                       lambda: mod.scale_in_place(
                           array.array("q", [1, 2**62]), 4),
                       lambda: mod.scale_in_place(b"12345678", 2),
                       lambda: mod.scale_in_place(array.array("d", [1.0]), 2)],
    "sum_list": [lambda: mod.sum_list([1, 2, "x"]),
                 lambda: mod.sum_list([1, 2**64]),
                 lambda: mod.sum_list(x for x in range(100))],
    "char_count_nul": [lambda: mod.char_count_nul("a\\0b"),
                       lambda: mod.char_count_nul(TEXT)],
    "checksum": [lambda: mod.checksum(bytearray(100))],
    "sum_buffer": [lambda: mod.sum_buffer(array.array("d", [1.0])),
                   lambda: mod.sum_buffer(array.array("q", [2**62, 2**62])),
                   lambda: mod.sum_buffer(QS)],
    "checked_add": [lambda: mod.checked_add(2**62, 2**62)],
}
ARGUMENTS = [TEXT, NUMBERS, QS]
ROUNDS = %(rounds)d
C_LIMIT, PYTHON_LIMIT = %(c_limit)d, %(python_limit)d

# The bytes malloc has handed out: ASan's count when it is loaded (glibc's
# mallinfo2() reads 0 then), else mallinfo2's.
from support import c_heap_meter
METER, c_heap = c_heap_meter()
if c_heap is None:
    raise SystemExit("no way to measure C memory here: neither ASan nor "
                     "glibc's mallinfo2()")

def counts():
    return [sys.getrefcount(argument) for argument in ARGUMENTS]

def run(calls):
    for call in calls:
        try:
            call()
        except NotImplementedError:
            raise
        except (TypeError, ValueError, OverflowError, KeyError,
                UnicodeEncodeError):
            pass

report = {}
for name, calls in CALLS.items():
    try:
        run(calls)              # warm up caches
    except NotImplementedError as exc:
        report[name] = {"unfinished": str(exc)}
        continue
    # A leak grows every batch of ROUNDS; a cache of the interpreter's
    # (not ours) that fills once grows one batch only.  So a batch under
    # the limit ends the measure: up to three batches, the limits the same.
    gc.collect()
    refs = counts()
    for _ in range(3):
        heap = c_heap()
        for _ in range(ROUNDS):
            run(calls)
        gc.collect()
        c_bytes = c_heap() - heap
        if c_bytes < C_LIMIT:
            break
    refs = sum(after - before for after, before in zip(counts(), refs))
    for _ in range(3):
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(ROUNDS):
            run(calls)
        gc.collect()            # garbage cycles are not leaks
        python_bytes = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        if python_bytes < PYTHON_LIMIT:
            break
    report[name] = {"calls": ROUNDS * len(calls), "c_bytes": c_bytes,
                    "meter": METER,
                    "python_bytes": python_bytes, "argument_refs": refs}
print(json.dumps(report))
"""

_KEEPS = {}
# What a batch of calls may keep: a leak of one buffer per call of the
# reversed 18 KB text keeps 100 x 18 KB (20 x 18 KB under FFI_SMALL), one
# int or list item per call far more than 10 KB of Python memory; what the
# interpreter's own caches fill once stays under both.
C_LIMIT, PYTHON_LIMIT = 200_000, 10_000


def keeps(module, stage):
    """What KEEPS_CHILD reports for `module`: run once, then remembered."""
    if module not in _KEEPS:
        proc = support.run_python(KEEPS_CHILD % {
            "module": module, "rounds": support.scale(100, 20),
            "c_limit": C_LIMIT, "python_limit": PYTHON_LIMIT}, stage=stage)
        if proc.returncode != 0:
            raise AssertionError("the child that calls every function of %s"
                                 " many times failed (%s):\n%s" % (
                                     module,
                                     support.describe_exit(proc.returncode),
                                     proc.stderr[-3000:]))
        _KEEPS[module] = json.loads(proc.stdout)
    return _KEEPS[module]


class TestCapiExercise(TransferExercise, support.Road):
    """Road 1, the checks of exercise 2 (make check-2 runs this class)."""
    stage, module = "02", "transfer_capi"


class TestCapi(TransferContract, support.Road):
    """Road 1, the rest of the contract."""
    stage, module = "02", "transfer_capi"

    # The exercise's checks run in TestCapiExercise, once.
    locals().update(support.tests_run_elsewhere(TransferExercise))


@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class TestCffiApi(TransferContract, support.Road):
    stage, module = "02", "transfer_cffi"

    def test_an_exception_at_any_bytecode_of_reversed_text_leaks_nothing(self):
        # A pointer that C allocated is dropped if a signal handler's
        # exception surfaces before Python code owns it.  Raise one before
        # each bytecode of this module's Python in turn (more places than
        # CPython runs handlers at) while it reverses a string, then ask
        # the library how many of its buffers are still out.
        code = support.interrupt_at_code("transfer_cffi") + textwrap.dedent("""
            result = interrupt_each_bytecode(
                lambda: m.reversed_text("naïve 🐍"),
                m.lib.transfer_live_buffers)
            assert result == "🐍 evïan", result
            """)
        proc = support.run_python(code, stage="02")
        self.assertEqual(proc.returncode, 0, "%s\n%s" % (
            support.describe_exit(proc.returncode), proc.stderr[-2000:]))


EXERCISE = ["TestCapiExercise"]


# Argument values of every awkward kind, each made by its own function so
# that a call gets fresh ones (some calls write into their buffer) without
# making all of them for every call.
HOSTILE = [
    lambda: None, lambda: 0, lambda: -1, lambda: 7, lambda: True,
    lambda: 2**31, lambda: -2**31 - 1, lambda: 2**63, lambda: -2**63 - 1,
    lambda: 10**100, lambda: 1.5, lambda: math.nan, lambda: math.inf,
    lambda: -0.0, lambda: "", lambda: "x", lambda: "a\0b",
    lambda: "\udc80", lambda: "🐍", lambda: b"", lambda: b"12345678",
    lambda: bytearray(16), lambda: memoryview(b"abcdefgh")[::2],
    lambda: array.array("q", [1, 2**62, -3]),
    lambda: array.array("d", [1.0]),
    lambda: memoryview(array.array("q", [5])).toreadonly(),
    lambda: memoryview(bytearray(32)).cast("q", (2, 2)),
    lambda: memoryview(bytearray(17))[1:].cast("q"),
    lambda: [], lambda: [3, 1, 2], lambda: [1, "x"], lambda: [2**64],
    lambda: (4, 5), lambda: {1: 2}, lambda: range(5), lambda: iter([1, 2]),
    lambda: RaisesMidway(), lambda: ListWithBadIter([1]),
    lambda: BadIndex(), lambda: object(),
]


def outcome(func, args):
    """What a call did: ("value", result) or ("raised", type, message)."""
    try:
        result = func(*args)
    except Exception as exc:        # compared below, never swallowed
        return ("raised", type(exc), str(exc))
    if func.__name__ in ("time_c_loop", "address_of"):
        # Seconds, and the address of a fresh object: only the type can
        # agree (the contract checks addresses against Python's own).
        return ("value", type(result))
    if isinstance(result, float):
        if math.isnan(result):
            return ("value", "nan")
    return ("value", result)


@unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
class TestRoadsAgree(unittest.TestCase):
    """Road 2 must behave exactly like road 1, also on input that no
    test above thought of: the same values, or the same exception with
    the same message, for every public function and awkward argument."""

    # Every public function and how many arguments it takes.  (A wrong
    # number of arguments is refused by Python itself, in its own words,
    # which differ between a C function and a Python one.)
    ARITY = {"clamp": 3, "checked_add": 2, "scale": 2, "round_toward": 2,
             "is_nan": 1,
             "char_count": 1, "char_count_nul": 1, "reversed_text": 1,
             "checksum": 1, "address_of": 1, "sum_buffer": 1,
             "scale_in_place": 2, "time_c_loop": 2, "sum_list": 1,
             "sorted_ints": 1}

    @classmethod
    def setUpClass(cls):
        cls.capi = support.import_stage("02", "transfer_capi")
        cls.cffi = support.import_stage("02", "transfer_cffi")

    def test_public_functions_are_the_same_on_both_roads(self):
        public = lambda mod: sorted(
            name for name in dir(mod) if not name.startswith("_")
            and callable(getattr(mod, name))
            and name not in ("ffi", "lib"))
        self.assertEqual(public(self.capi), sorted(self.ARITY))
        self.assertEqual(public(self.cffi), sorted(self.ARITY))

    def test_every_awkward_argument_gets_the_same_answer(self):
        count = len(HOSTILE)
        pairs = [(i, j) for i in range(count) for j in range(count)]
        pairs = pairs[::support.scale(1, 7)]
        checked = 0
        for name, arity in self.ARITY.items():
            road1, road2 = getattr(self.capi, name), getattr(self.cffi, name)
            calls = {1: [(i,) for i in range(count)], 2: pairs,
                     3: [(i, j, j) for i, j in pairs]
                        + [(j, i, i) for i, j in pairs]}[arity]
            for indices in calls:
                first = [HOSTILE[i]() for i in indices]
                second = [HOSTILE[i]() for i in indices]
                want, got = outcome(road1, first), outcome(road2, second)
                if want != got:
                    self.fail("%s%r: road 1 %r, road 2 %r"
                              % (name, tuple(first), want, got))
                checked += 1
        self.assertGreater(checked, 1000)



# --- the differential tests (tests/harness/differential.py) ----------------

def differential(d):
    """What tests/harness/differential.py gives each function of road 1
    (strategies of d's vocabulary, `s`), the calls every run starts with,
    and the counterexamples found once."""
    st = d.st
    return {
        "functions": {
            "clamp": lambda s: (s.int_or_wrong,) * 3,
            "checked_add": lambda s: (s.int_or_wrong,) * 2,
            "scale": lambda s: (s.number, s.number),
            "round_toward": lambda s: (s.number, st.one_of(
                st.booleans(), s.int_or_wrong)),
            "is_nan": lambda s: (s.number,),
            "char_count": lambda s: (s.text_or_wrong,),
            "char_count_nul": lambda s: (s.text_or_wrong,),
            "reversed_text": lambda s: (s.text_or_wrong,),
            "checksum": lambda s: (s.buffer_or_wrong,),
            "address_of": lambda s: (s.buffer_or_wrong,),
            "sum_buffer": lambda s: (s.ll_buffer,),
            "scale_in_place": lambda s: (s.ll_buffer, s.int_or_wrong),
            "time_c_loop": lambda s: (s.ll_buffer, st.one_of(
                st.integers(1, 3), s.int_or_wrong)),
            "sum_list": lambda s: (s.int_list(),),
            "sorted_ints": lambda s: (s.int_list(),),
        },
        # Results that cannot agree, of which only the type is compared:
        # seconds, and the address of a fresh object.
        "type_only": {"address_of", "time_c_loop"},
        "seeds": {
            "clamp": [(5, 0, 3), (-5, 0, 3)],
            "checked_add": [(2, 3), (LLONG_MAX, 1)],
            "scale": [(1.5, 2)],
            "round_toward": [(2.5, True), (2.5, False)],
            "char_count": [("na\u00efve \U0001f40d",)],
            "reversed_text": [("na\u00efve \U0001f40d",)],
            "char_count_nul": [("a\0b",), ("ab",)],
            "checksum": [(b"Wikipedia",)],
            "sum_buffer": [(d.Fresh("array", "q", (1, 2, 3)),),
                           (d.Fresh("array", "q", (LLONG_MAX, 1)),)],
            "scale_in_place": [(d.Fresh("array", "q", (1, -2, 3)), 3),
                               (d.Fresh("array", "q", (1, 2**62)), 2)],
            "time_c_loop": [(d.Fresh("array", "q", (1, 2)), 1)],
            "sum_list": [([1, 2, 3],), ([LLONG_MAX, 1],)],
            "sorted_ints": [([3, 1, 2],)],
        },
        "examples": {
            # An empty view with a step: road 1's PyBuffer_IsContiguous()
            # calls it contiguous, memoryview.c_contiguous does not; road
            # 2 refused it.
            "address_of": [(d.EMPTY_STEP,)],
            "checksum": [(d.EMPTY_STEP,)],
            "sum_buffer": [(d.Fresh("slice", ("array", "q", ()), 0, 2,
                                    False),)],
        },
    }


# The mistakes `make check-2` must catch in this stage's exercise: each
# is an edit of the reference, with the words one of the checker's hints
# must print (tests/test_gate_exercises.py makes each edit and runs the
# checker; its top explains the form).
MUTANTS = r"""
@@ stage 2, part 1: C-heap leak (free forgotten)
hint: transfer_free
-    transfer_free(out);
     return result;
@@ stage 2, part 1: double free
hint: double-free
hint: transfer_free
+    transfer_free(out);
     transfer_free(out);
     return result;
@@ stage 2, part 2: reference leak
hint: PyList_SET_ITEM
hint: leak
-        PyList_SET_ITEM(result, i, item);   /* steals the reference */
+        PyList_SET_ITEM(result, i, Py_NewRef(item));
@@ stage 2, part 2: C-heap leak (free forgotten)
hint: PyMem_Free
 done:
-    PyMem_Free(values);
     return result;
@@ stage 2, part 3: buffer not released on the error path
hint: PyBuffer_Release
-        goto done;
+        return NULL;
     }
     result = Py_NewRef(Py_None);
-done:
@@ stage 2, part 3: buffer never released
hint: PyBuffer_Release
 done:
-    PyBuffer_Release(&view);
     return result;
     /* [stub]
@@ stage 2, part 3: integer overflow not refused
hint: OverflowError
hint: scale_ll_in_place
-    if (done != n) {
+    if (0 && done != n) {
         PyErr_Format(PyExc_OverflowError,
                      "scale_in_place(): item %zu (%lld) times %lld does not "
@@ stage 2, part 3: reference leak (of None: immortal from 3.12 on)
hint: Py_NewRef
hint: leak
before: 3.12
-    result = Py_NewRef(Py_None);
+    result = Py_NewRef(Py_NewRef(Py_None));
 done:
     PyBuffer_Release(&view);
"""


if __name__ == "__main__":
    unittest.main()
