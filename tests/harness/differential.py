"""Differential tests: the two roads of a stage must agree on any input.

The contract tests (tests/test_NN_*.py) check what each road does on
inputs someone thought of.  Here hypothesis generates the inputs: ints at
every C type's edges and beyond, bools, any unicode (lone surrogates and
NUL too), bytes, lists (empty, large, nested, of the wrong types), floats,
None and other wrong types, buffers of every format and shape (every
array.array typecode, bytes, bytearray, memoryview casts with shapes,
non-contiguous slices, read-only views, ctypes structs, empty ones), and
programs of calls on stage 04's Person and Block and stage 05's Logger.
Road 1 (the C-API module) and road 2 (cffi: API mode, and ABI mode where
the stage has it) get the same input and must give the same value, or
raise the same exception type with the same message, and leave the same
bytes in any buffer they were given.

    define(globals(), "short")   tests/test_differential.py, in make test
    define(globals(), "gate")    tests/test_gate_differential.py

The "short" profile runs few examples, derandomized: the same inputs on
every run, a few seconds in all.  The "gate" profile runs many, random
ones (fewer under the gates' checkers).  A disagreement hypothesis finds
is shrunk to a small input; once the road that was wrong is fixed, that
input stays in EXAMPLES below, so the short profile checks it for ever.
"""

import array
import copy
import ctypes
import gc
import math
import os
import sys
import unittest
import warnings

import doctor
import support

try:
    import hypothesis
    from hypothesis import HealthCheck, example, given, settings
    from hypothesis import strategies as st
    from hypothesis.stateful import (Bundle, RuleBasedStateMachine,
                                     initialize, invariant, multiple, rule,
                                     run_state_machine_as_test)
except ImportError:
    hypothesis = None

HYPOTHESIS_MISSING = "hypothesis is not installed for %s (install: %s)" % (
    sys.executable, doctor.install_package("hypothesis"))


def profile(name, stateful=False):
    """The hypothesis settings of a profile ("short" or "gate"), for a
    function's test or (stateful=True) for a program of calls.
    FFI_DIFF_EXAMPLES=N sets the gate's number of examples (a program of
    calls gets half as many)."""
    common = dict(deadline=None, database=None, print_blob=True,
                  suppress_health_check=list(HealthCheck))
    if name == "short":
        return settings(max_examples=5 if stateful else 25,
                        stateful_step_count=10, derandomize=True, **common)
    # Fewer under a checker: 60 under the sanitizers, 10 under valgrind.
    examples = int(os.environ.get("FFI_DIFF_EXAMPLES") or support.scale(
        60 if os.environ.get("FFI_GATE") else 300, 10))
    return settings(max_examples=examples // 2 if stateful else examples,
                    stateful_step_count=support.scale(30, 15), **common)


# --- what a call did ---------------------------------------------------------

class Boom(Exception):
    """What a generated callback raises: no library raises it by itself."""


class Halt(BaseException):
    """A BaseException a callback raises (as KeyboardInterrupt would be)."""


def normal(value):
    """A value in a form that compares across roads: floats by repr (so
    -0.0 and nan compare), containers item by item."""
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [normal(v) for v in value])
    if isinstance(value, dict):
        return ("dict", sorted((k, normal(v)) for k, v in value.items()))
    return value


def outcome(call, *args, **kwargs):
    """("value", result) or ("raised", exception type, message)."""
    try:
        result = call(*args, **kwargs)
    except (Exception, Halt) as exc:     # compared by the caller
        return ("raised", type(exc), str(exc))
    return ("value", normal(result))


# --- arguments made anew for each road ---------------------------------------

class Person(ctypes.Structure):
    _fields_ = [("height", ctypes.c_uint32), ("age", ctypes.c_uint32)]


class Record(ctypes.Structure):
    _fields_ = [("tag", ctypes.c_uint8), ("id", ctypes.c_uint64),
                ("flags", ctypes.c_uint16)]


class RecordPacked(ctypes.Structure):
    _pack_ = 1
    _fields_ = Record._fields_


CTYPES = {"Person": Person, "Record": Record, "RecordPacked": RecordPacked,
          "c_uint8": ctypes.c_uint8, "c_uint32": ctypes.c_uint32,
          "c_int64": ctypes.c_int64, "c_double": ctypes.c_double}


class Recorder:
    """A callback that records each argument and raises at step `stop`."""

    def __init__(self, stop, kind):
        self.stop, self.kind, self.seen = stop, kind, []

    def __call__(self, *args):
        self.seen.append(args)
        if len(self.seen) - 1 == self.stop:
            if self.kind == "halt":
                raise Halt("halt at step %d" % self.stop)
            raise Boom("boom at step %d" % self.stop)
        return len(self.seen)


class Fresh:
    """An argument made anew for each road, from a description that
    hypothesis prints: a buffer C may write into, a callback that records
    its calls, a large list.  After the call, snapshot() says what the
    road left in it."""

    def __init__(self, *spec):
        self.spec = spec

    def __repr__(self):
        return "Fresh%r" % (self.spec,)

    def make(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # array 'u'
            return _make(self.spec)


def _make(spec):
    kind = spec[0]
    if kind == "array":
        return array.array(spec[1], spec[2])
    if kind == "bytes":
        return bytes(spec[1])
    if kind == "bytearray":
        return bytearray(spec[1])
    if kind == "cast":                   # fmt, shape, offset, data, readonly
        _, fmt, shape, offset, data, readonly = spec
        view = memoryview(bytearray(data))[offset:].cast(fmt, *[
            shape] if shape else [])
        return view.toreadonly() if readonly else view
    if kind == "slice":                  # base, start, step, readonly
        _, base, start, step, readonly = spec
        view = memoryview(_make(base))[start::step]
        return view.toreadonly() if readonly else view
    if kind == "ctypes":                 # type name, count or None, data
        _, name, count, data = spec
        ctype = CTYPES[name] if count is None else CTYPES[name] * count
        obj = ctype()
        ctypes.memmove(ctypes.addressof(obj), bytes(data),
                       min(len(data), ctypes.sizeof(obj)))
        return obj
    if kind == "range":                  # a large list, a tuple, an iterator
        _, container, start, count, step = spec
        return {"list": list, "tuple": tuple, "iter": iter}[container](
            range(start, start + count * step, step))
    if kind == "hostile":                # tests/gate/api.py's vocabulary
        return getattr(support.hostile, spec[1])()
    if kind == "callback":
        return Recorder(spec[1], spec[2])
    raise ValueError(spec)


def snapshot(obj):
    """What a call left in an argument it could write to."""
    if isinstance(obj, Recorder):
        return ("calls", obj.seen)
    try:
        with memoryview(obj) as view:
            return ("bytes", view.tobytes())
    except (TypeError, ValueError):
        return None


def fresh(value):
    """value for one road: a Fresh made, anything else copied."""
    if isinstance(value, Fresh):
        return value.make()
    if type(value) in (list, tuple):
        return type(value)(fresh(v) for v in value)
    if type(value) is dict:
        return {k: fresh(v) for k, v in value.items()}
    return copy.deepcopy(value)


# --- strategies --------------------------------------------------------------

INT_MIN, INT_MAX = -2**31, 2**31 - 1
LLONG_MIN, LLONG_MAX = -2**63, 2**63 - 1
C_RANGES = [(INT_MIN, INT_MAX), (LLONG_MIN, LLONG_MAX), (0, 2**8 - 1),
            (0, 2**16 - 1), (0, 2**32 - 1), (0, 2**64 - 1)]
EDGES = sorted({e + d for lo, hi in C_RANGES for e in (lo, hi)
                for d in (-1, 0, 1)}
               | {0, 1, -1, 2, 10**100, -10**100, 2**1000, 1 << 24,
                  (1 << 24) + 1, 2**30, 2**30 + 1})
ARRAY_FORMATS = list(array.typecodes)


def _cast_ok(fmt):
    try:
        memoryview(bytearray(16)).cast(fmt)
    except (ValueError, TypeError):
        return False
    return True


CAST_FORMATS = [f for f in "bBhHiIlLqQnNfd?ceP" if _cast_ok(f)]


class Strategies:
    """The strategies, made once hypothesis is known to be there."""

    def __init__(self):
        self.edge = st.sampled_from(EDGES)
        self.ints = st.one_of(self.edge, self.edge, st.integers(-40, 40),
                              st.integers(), st.booleans())
        self.text = st.text(st.characters(codec=None), max_size=12)
        self.floats = st.floats() | st.sampled_from(
            [0.0, -0.0, math.inf, -math.inf, math.nan, 1e308, 5e-324])
        self.wrong = st.one_of(
            st.none(), self.floats, self.text, st.binary(max_size=8),
            st.lists(st.integers(), max_size=3).map(tuple),
            st.builds(object), st.complex_numbers(),
            st.dictionaries(st.integers(), st.integers(), max_size=2),
            st.sampled_from([sum, int, range(3), frozenset([1]), ...]),
            self.hostile())
        self.int_or_wrong = st.one_of(self.ints, self.ints, self.wrong)
        leaf = st.one_of(self.ints, self.floats, self.wrong, self.text,
                         st.binary(max_size=8).map(bytearray))
        # Mostly one value (a container tends to hide what is inside it):
        # st.recursive alone makes containers nine times in ten.
        self.anything = st.one_of(leaf, leaf, st.recursive(
            leaf,
            lambda inner: st.one_of(st.lists(inner, max_size=3),
                                    st.lists(inner, max_size=3).map(tuple),
                                    st.dictionaries(self.text, inner,
                                                    max_size=2)),
            max_leaves=6))
        self.buffer = self.buffers()
        self.buffer_or_wrong = st.one_of(self.buffer, self.buffer,
                                         self.wrong, self.ints)
        # Buffers that a function takes, often: its happy path too.
        ll = st.one_of(st.integers(LLONG_MIN, LLONG_MAX), self.edge.filter(
            lambda v: LLONG_MIN <= v <= LLONG_MAX))
        q_array = st.lists(ll, max_size=6).map(
            lambda v: Fresh("array", "q", tuple(v)))
        self.ll_buffer = st.one_of(self.buffer_or_wrong, q_array, q_array)
        structs = st.builds(
            lambda name, count, data: Fresh("ctypes", name, count, data),
            st.sampled_from(["Person", "Record", "RecordPacked"]),
            st.sampled_from([None, 1, 2]), st.binary(max_size=48))
        sized = st.sampled_from([8, 11, 16, 24]).flatmap(
            lambda n: st.binary(min_size=n, max_size=n)).map(
            lambda data: Fresh("bytearray", data))
        self.struct_buffer = st.one_of(self.buffer_or_wrong, structs,
                                       sized, sized)

    @staticmethod
    def hostile():
        """The gates' objects whose __index__, __len__, __iter__,
        __call__ or __bool__ raise HostileError: every road must let
        the same exception through, or refuse the object the same way."""
        return st.sampled_from(["RaisingIndex", "RaisingLen", "RaisingIter",
                                "RaisingCall", "RaisingBool"]).map(
            lambda name: Fresh("hostile", name))

    def buffers(self):
        def array_spec(code):
            item = Fresh("array", code, ()).make().itemsize
            if code in "bhilq":
                values = st.integers(-2**(8 * item - 1),
                                     2**(8 * item - 1) - 1)
            elif code in "BHILQ":
                values = st.integers(0, 2**(8 * item) - 1)
            elif code in "fd":
                values = st.floats(width=32 if code == "f" else 64)
            else:                                           # 'u', 'w'
                values = st.characters(exclude_categories=["Cs"])
            return st.tuples(st.just("array"), st.just(code),
                             st.lists(values, max_size=6).map(tuple))

        arrays = st.sampled_from(ARRAY_FORMATS).flatmap(array_spec)
        sizes = st.one_of(st.integers(0, 33), st.sampled_from([8, 11, 24]))
        data = sizes.flatmap(lambda n: st.binary(min_size=n, max_size=n))
        plain = st.one_of(data.map(lambda d: ("bytes", d)),
                          data.map(lambda d: ("bytearray", d)))

        @st.composite
        def cast(draw):
            fmt = draw(st.sampled_from(CAST_FORMATS))
            # A shape has no zeros (memoryview.cast refuses them); None is
            # a 1-D cast, of any length, empty too.
            shape = draw(st.one_of(st.none(), st.lists(
                st.integers(1, 4), min_size=1, max_size=3).map(tuple)))
            offset = draw(st.sampled_from([0, 0, 1, 4]))
            count = draw(st.integers(0, 5)) if shape is None else 1
            for n in shape or ():
                count *= n
            size = memoryview(bytearray(16)).cast(fmt).itemsize
            body = draw(st.binary(min_size=size * count,
                                  max_size=size * count))
            return ("cast", fmt, shape, offset,
                    bytes(offset) + body, draw(st.booleans()))

        @st.composite
        def ctypes_spec(draw):
            name = draw(st.sampled_from(sorted(CTYPES)))
            count = draw(st.one_of(st.none(), st.integers(0, 3)))
            return ("ctypes", name, count, draw(st.binary(max_size=72)))

        slices = st.tuples(st.just("slice"), st.one_of(arrays, plain),
                           st.integers(0, 2), st.integers(1, 3),
                           st.booleans())
        return st.one_of(arrays, plain, cast(), ctypes_spec(),
                         slices).map(lambda spec: Fresh(*spec))

    def callback(self, max_stop=30):
        made = st.builds(lambda stop, kind: Fresh("callback", stop, kind),
                         st.integers(0, max_stop),
                         st.sampled_from(["boom", "boom", "halt"]))
        return st.one_of(made, made, made, self.wrong, self.ints)

    def int_list(self, lo=LLONG_MIN, hi=LLONG_MAX):
        items = st.one_of(st.integers(lo, hi), self.edge, st.booleans())
        large = st.builds(lambda container, start, count, step:
                          Fresh("range", container, start, count, step),
                          st.sampled_from(["list", "tuple"]),
                          st.sampled_from([0, -5000, LLONG_MAX - 10**6,
                                           LLONG_MIN]),
                          st.integers(0, 20000), st.sampled_from([1, 3, -1]))
        nested = st.lists(st.one_of(items, self.wrong,
                                    st.lists(items, max_size=2)), max_size=5)
        return st.one_of(st.lists(items, max_size=8),
                         st.lists(items, max_size=8).map(tuple),
                         st.lists(items, min_size=100, max_size=400),
                         large, nested, self.wrong, self.buffer,
                         st.builds(lambda n: Fresh("range", "iter", 0, n, 1),
                                   st.integers(0, 5)))



_STRATEGIES = []


def strategies():
    if not _STRATEGIES:
        _STRATEGIES.append(Strategies())
    return _STRATEGIES[0]


# --- the functions of stages 01-03, and what each is given -------------------

def _n(s):
    return st.one_of(st.integers(0, 20), s.int_or_wrong)


def _number(s):
    return st.one_of(s.floats, s.ints, s.wrong)


def _text(s):
    return st.one_of(s.text, st.text(max_size=300), s.wrong)


def _field(s, hi):
    """A field of a struct: mostly in range, so that calls with several
    fields get through to C."""
    fits = st.one_of(st.integers(0, hi), st.sampled_from([0, hi]))
    return st.one_of(fits, fits, fits, s.int_or_wrong)


def _person(s):
    u32 = _field(s, 2**32 - 1)
    return st.one_of(st.tuples(u32, u32), st.tuples(u32, u32),
                     st.lists(u32, max_size=3).map(tuple),
                     st.lists(u32, max_size=3), s.wrong)


FUNCTIONS = {
    "01": {
        "add": lambda s: (s.int_or_wrong, s.int_or_wrong),
        "call_n_times": lambda s: (_n(s), s.callback()),
        "call_on_thread": lambda s: (_n(s), s.callback()),
        "set_trace": lambda s: (s.anything,),
    },
    "02": {
        "clamp": lambda s: (s.int_or_wrong,) * 3,
        "checked_add": lambda s: (s.int_or_wrong,) * 2,
        "scale": lambda s: (_number(s), _number(s)),
        "round_toward": lambda s: (_number(s), st.one_of(st.booleans(),
                                                         s.int_or_wrong)),
        "is_nan": lambda s: (_number(s),),
        "char_count": lambda s: (_text(s),),
        "char_count_nul": lambda s: (_text(s),),
        "reversed_text": lambda s: (_text(s),),
        "checksum": lambda s: (s.buffer_or_wrong,),
        "address_of": lambda s: (s.buffer_or_wrong,),
        "sum_buffer": lambda s: (s.ll_buffer,),
        "scale_in_place": lambda s: (s.ll_buffer, s.int_or_wrong),
        "time_c_loop": lambda s: (s.ll_buffer,
                                  st.one_of(st.integers(1, 3),
                                            s.int_or_wrong)),
        "sum_list": lambda s: (s.int_list(),),
        "sorted_ints": lambda s: (s.int_list(),),
    },
    "03": {
        "layout": lambda s: (),
        "person_older": lambda s: (_person(s), _field(s, 2**32 - 1)),
        "birthday": lambda s: (s.struct_buffer,),
        "total_age": lambda s: (s.struct_buffer,),
        "fill_record": lambda s: (s.struct_buffer, _field(s, 255),
                                  _field(s, 2**64 - 1), _field(s, 2**16 - 1)),
        "fill_record_packed": lambda s: (s.struct_buffer, _field(s, 255),
                                         _field(s, 2**64 - 1),
                                         _field(s, 2**16 - 1)),
        "describe": lambda s: (s.anything,),
        "walk": lambda s: (st.one_of(st.lists(s.anything, max_size=6),
                                     s.anything),),
    },
}
# Results that cannot agree, of which only the type is compared: seconds,
# and the address of a fresh object.
TYPE_ONLY = {"address_of", "time_c_loop"}
# What to undo after each call, on each road.
AFTER = {"set_trace": lambda mod: mod.set_trace(False)}

# Counterexamples that hypothesis found once, each a disagreement fixed
# since: (stage, function) -> argument tuples, checked on every run.
EMPTY_STEP = Fresh("slice", ("array", "b", ()), 0, 2, False)   # [::2]
# Logger(callback, background=..., buffer_size=...) and then its calls.
EXAMPLES = {
    # An empty view with a step: road 1's PyBuffer_IsContiguous() calls
    # it contiguous, memoryview.c_contiguous does not; road 2 refused it.
    ("02", "address_of"): [(EMPTY_STEP,)],
    ("02", "checksum"): [(EMPTY_STEP,)],
    ("02", "sum_buffer"): [(Fresh("slice", ("array", "q", ()), 0, 2,
                                  False),)],
    ("03", "birthday"): [(EMPTY_STEP,)],
    ("03", "total_age"): [(EMPTY_STEP,)],
    # An empty buffer at an odd address: never read, so never refused.
    ("03", "fill_record"): [(Fresh("slice", ("bytearray", b"\0"), 1, 1,
                                   False), 0, 0, 0)],
    # Road 1's parser calls bool(background) before the callback is
    # checked; road 2 checked the callback first.
    ("05", "Logger"): [(("int", Fresh("hostile", "RaisingLen"), None), [])],
}

# One plain call of each function that takes several arguments or a
# buffer, and its edge: every run starts with these, so that even the
# short profile reaches C and compares what it did (generated calls with
# several arguments seldom get all of them right).
SEEDS = {
    ("01", "add"): [(2, 3), (INT_MAX, 1)],
    ("01", "call_n_times"): [(3, Fresh("callback", 30, "boom")),
                             (5, Fresh("callback", 2, "boom"))],
    ("01", "call_on_thread"): [(3, Fresh("callback", 30, "boom"))],
    ("02", "clamp"): [(5, 0, 3), (-5, 0, 3)],
    ("02", "checked_add"): [(2, 3), (LLONG_MAX, 1)],
    ("02", "scale"): [(1.5, 2)],
    ("02", "round_toward"): [(2.5, True), (2.5, False)],
    ("02", "char_count"): [("na\u00efve \U0001f40d",)],
    ("02", "reversed_text"): [("na\u00efve \U0001f40d",)],
    ("02", "char_count_nul"): [("a\0b",), ("ab",)],
    ("02", "checksum"): [(b"Wikipedia",)],
    ("02", "sum_buffer"): [(Fresh("array", "q", (1, 2, 3)),),
                           (Fresh("array", "q", (LLONG_MAX, 1)),)],
    ("02", "scale_in_place"): [(Fresh("array", "q", (1, -2, 3)), 3),
                               (Fresh("array", "q", (1, 2**62)), 2)],
    ("02", "time_c_loop"): [(Fresh("array", "q", (1, 2)), 1)],
    ("02", "sum_list"): [([1, 2, 3],), ([LLONG_MAX, 1],)],
    ("02", "sorted_ints"): [([3, 1, 2],)],
    ("03", "person_older"): [((180, 41), 1), ((180, 2**32 - 1), 1)],
    ("03", "birthday"): [(Fresh("bytearray", bytes(8)),),
                         (Fresh("ctypes", "Person", None, b"\1" * 8),)],
    ("03", "total_age"): [(Fresh("ctypes", "Person", 2, b"\1" * 16),)],
    ("03", "fill_record"): [(Fresh("bytearray", bytes(24)), 7, 2**64 - 1,
                             2**16 - 1)],
    ("03", "fill_record_packed"): [(Fresh("bytearray", bytes(11)), 7,
                                    2**64 - 1, 2**16 - 1)],
    ("03", "describe"): [(2.0,), (2**63,), ("x",)],
    ("03", "walk"): [([1, "x", None, 2.5],)],
}

# The roads of each stage: road 1's module, then each module that must
# agree with it.  A module whose name ends in _cffi or _abi needs cffi.
ROADS = {
    "01": ("extern_capi", ["extern_cffi", "extern_abi"]),
    "02": ("transfer_capi", ["transfer_cffi"]),
    "03": ("layout_capi", ["layout_cffi", "layout_abi3"]),
    "04": ("memory_capi", ["memory_cffi"]),
    "05": ("tales_from_ffi", ["logger_cffi"]),
}


# A module that this interpreter does not build: (built, why not).
BUILT = {"layout_abi3": (sys.version_info >= (3, 11),
                         "CPython 3.10: layout_abi3.abi3.so is not built, "
                         "because the buffer protocol (Py_buffer) joined the "
                         "Limited API in 3.11")}


def needs_cffi(module):
    return module.endswith(("_cffi", "_abi"))


def disagreement(what, names, results):
    return "the roads disagree on %s\n  %s: %r\n  %s: %r" % (
        what, names[0], results[0], names[1], results[1])


class DifferentialCase(unittest.TestCase):
    """Base of the generated classes: self.one and self.two are the two
    modules, self.settings the profile's hypothesis settings."""

    stage = road1 = road2 = settings = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.one = support.import_stage(cls.stage, cls.road1)
        cls.two = support.import_stage(cls.stage, cls.road2)

    def check(self, strategy, body, examples=()):
        """Run body(value) for values of strategy, under the profile."""
        def generated(value):
            body(value)
        test = given(strategy)(generated)
        for value in examples:
            test = example(value)(test)
        self.settings(test)()

    def compare(self, name, args):
        results = []
        for mod in (self.one, self.two):
            made = [fresh(a) for a in args]
            func = getattr(mod, name)
            if name in TYPE_ONLY:
                got = outcome(lambda *a: type(func(*a)).__name__, *made)
            else:
                got = outcome(func, *made)
            if name in AFTER:
                AFTER[name](mod)
            results.append((got, [snapshot(m) for m in made]))
            del made
        if results[0] != results[1]:
            self.fail(disagreement("%s%r" % (name, tuple(args)),
                                   (self.road1, self.road2), results))


def _function_test(name, arguments):
    def test(self):
        parts = arguments(strategies())
        strategy = st.tuples(*parts)
        if len(parts) > 1:          # and the same value everywhere:
            strategy = st.one_of(   # add(INT_MAX, INT_MAX), clamp(x, x, x)
                strategy, strategy,
                parts[0].map(lambda value: (value,) * len(parts)))
        self.check(strategy, lambda args: self.compare(name, args),
                   SEEDS.get((self.stage, name), [])
                   + EXAMPLES.get((self.stage, name), []))
    test.__name__ = "test_" + name
    test.__doc__ = "%s(): the same result on both roads" % name
    return test


def define(namespace, profile_name):
    """Put one TestCase per pair of roads into `namespace` (a test
    module's globals): TestDifferential01_extern_cffi, ...  The gates
    pass FFI_GATE_STAGES=01,03 when asked for some stages only."""
    wanted = [s for s in os.environ.get("FFI_GATE_STAGES", "").split(",")
              if s]
    for stage, (road1, others) in ROADS.items():
        if wanted and stage not in wanted:
            continue
        for road2 in others:
            stateful = stage not in FUNCTIONS
            body = {"stage": stage, "road1": road1, "road2": road2,
                    "settings": profile(profile_name, stateful) if hypothesis
                    else None}
            if not stateful:
                for name, arguments in FUNCTIONS[stage].items():
                    body["test_" + name] = _function_test(name, arguments)
            else:
                body.update(STATEFUL[stage])
            cls = type("TestDifferential%s_%s" % (stage, road2),
                       (DifferentialCase,), body)
            cls.__module__ = namespace["__name__"]
            cls.__doc__ = "Stage %s: %s and %s agree" % (stage, road1, road2)
            if road2 in BUILT:
                cls = unittest.skipUnless(*BUILT[road2])(cls)
            if needs_cffi(road2):
                cls = unittest.skipUnless(support.have_cffi(),
                                          support.CFFI_MISSING)(cls)
            cls = unittest.skipUnless(hypothesis, HYPOTHESIS_MISSING)(cls)
            namespace[cls.__name__] = cls


# --- stage 04: Person, handles, Block, views, the registry -------------------

class Pair:
    """One object of each road, made by the same call; kind says what."""

    def __init__(self, one, two, kind=None):
        self.roads, self.kind = (one, two), kind

    def __getitem__(self, i):
        return self.roads[i]

    def __repr__(self):
        return "Pair(%s)" % type(self.roads[0]).__name__


class Token:
    """What the registry holds: equal across roads when made equal."""

    def __init__(self, number):
        self.number = number

    def __eq__(self, other):
        return isinstance(other, Token) and other.number == self.number

    def __hash__(self):
        return self.number

    def __repr__(self):
        return "Token(%d)" % self.number


class RoadsMachine(RuleBasedStateMachine if hypothesis else object):
    """Two roads driven by the same rules; both() fails when they do not
    give the same outcome."""

    one = two = names = None

    def both(self, what, call):
        got = [outcome(call, 0, self.one), outcome(call, 1, self.two)]
        if got[0] != got[1]:
            raise AssertionError(disagreement(what, self.names, got))
        return got[0]

    def made(self, what, call, kind=None):
        """A Pair of what call(i, mod) made on each road, or nothing if
        both roads refused to make it.  Kept in self.made_pairs."""
        objs = [None, None]

        def make(i, mod):
            objs[i] = call(i, mod)     # types differ: a capsule, a class
        if self.both(what, make)[0] == "value":
            self.made_pairs.append(Pair(*objs, kind=kind))
            return self.made_pairs[-1]
        return multiple()


def _memory_machine():
    s = strategies()
    u32 = _field(s, 2**32 - 1)
    sizes = st.one_of(st.integers(0, 64), st.sampled_from(
        [-1, 1 << 24, (1 << 24) + 1, 2**63]), s.wrong)
    slots = st.one_of(st.integers(0, 7), s.int_or_wrong)

    class MemoryMachine(RoadsMachine):
        handles = Bundle("handles")
        persons = Bundle("persons")
        blocks = Bundle("blocks")
        views = Bundle("views")

        def __init__(self):
            super().__init__()
            for mod in (self.one, self.two):
                mod.fail_allocation(0)
                for slot in range(mod.REGISTRY_SLOTS):
                    try:
                        mod.registry_take(slot)
                    except LookupError:
                        pass
            gc.collect()
            self.start = [self.one.counters(), self.two.counters()]
            self.made_pairs = []

        # Every program starts with one of each, so that a few short
        # programs already use them.
        @initialize(target=handles)
        def first_handle(self):
            return self.made("person_new(180, 41)",
                             lambda i, m: m.person_new(180, 41), "handle")

        @initialize(target=persons)
        def first_person(self):
            return self.made("Person(170, 40)",
                             lambda i, m: m.Person(170, 40), "person")

        @initialize(target=blocks)
        def first_block(self):
            return self.made("Block(16)", lambda i, m: m.Block(16), "block")

        @rule(target=handles, height=u32, age=u32)
        def person_new(self, height, age):
            return self.made("person_new(%r, %r)" % (height, age),
                             lambda i, m: m.person_new(height, age),
                             "handle")

        @rule(handle=st.one_of(handles, s.anything),
              func=st.sampled_from(["person_get", "person_birthday",
                                    "person_free"]))
        def handle_call(self, handle, func):
            self.both("%s(%r)" % (func, handle), lambda i, m: getattr(
                m, func)(handle[i] if isinstance(handle, Pair)
                         else fresh(handle)))

        @rule(target=persons, height=u32, age=u32)
        def person(self, height, age):
            return self.made("Person(%r, %r)" % (height, age),
                             lambda i, m: m.Person(height, age), "person")

        @rule(person=persons, name=st.sampled_from(
            ["height_cm", "age", "closed", "birthday()", "close()",
             "with"]))
        def person_use(self, person, name):
            def use(i, m):
                if name == "with":
                    with person[i] as inside:
                        return inside is person[i]
                if name.endswith("()"):
                    return getattr(person[i], name[:-2])()
                return getattr(person[i], name)
            self.both("Person.%s" % name, use)

        @rule(target=blocks, size=sizes)
        def block(self, size):
            return self.made("Block(%r)" % (size,),
                             lambda i, m: m.Block(fresh(size)), "block")

        @rule(block=blocks, name=st.sampled_from(
            ["size", "closed", "exports", "close()"]))
        def block_use(self, block, name):
            self.both("Block.%s" % name, lambda i, m: (
                getattr(block[i], name[:-2])() if name.endswith("()")
                else getattr(block[i], name)))

        @rule(block=blocks, size=sizes)
        def resize(self, block, size):
            self.both("Block.resize(%r)" % (size,),
                      lambda i, m: block[i].resize(fresh(size)))

        @rule(target=views, block=blocks)
        def view(self, block):
            return self.made("Block.view()", lambda i, m: block[i].view(),
                             "view")

        @rule(view=views, start=st.integers(-3, 70),
              data=st.binary(max_size=8))
        def write(self, view, start, data):
            def write(i, m):
                view[i][start:start + len(data)] = data
            self.both("view[%d:] = %r" % (start, data), write)

        @rule(view=views)
        def read(self, view):
            self.both("the view", lambda i, m: (
                view[i].format, view[i].itemsize, view[i].readonly,
                view[i].shape, view[i].tobytes()))

        @rule(view=views)
        def release(self, view):
            self.both("view.release()", lambda i, m: view[i].release())

        @rule(number=st.integers(0, 20))
        def registry_put(self, number):
            self.both("registry_put(Token(%d))" % number,
                      lambda i, m: m.registry_put(Token(number)))

        @rule(slot=slots, func=st.sampled_from(["registry_get",
                                                "registry_take"]))
        def registry_read(self, slot, func):
            self.both("%s(%r)" % (func, slot),
                      lambda i, m: getattr(m, func)(fresh(slot)))

        @rule(nth=st.one_of(st.integers(0, 4), s.int_or_wrong))
        def fail_allocation(self, nth):
            self.both("fail_allocation(%r)" % (nth,),
                      lambda i, m: m.fail_allocation(fresh(nth)))

        @invariant()
        def counters_agree(self):
            def delta(i, m):
                now = m.counters()
                return {k: now[k] - self.start[i][k] for k in now}
            self.both("counters() since the start", delta)

        def teardown(self):
            """The end of every program: each object used once more, then
            closed or freed, twice, then used after that."""
            try:
                self.both("fail_allocation(0)",
                          lambda i, m: m.fail_allocation(0))
                for kind, steps in self.EPILOGUE:
                    for pair in self.made_pairs:
                        if pair.kind == kind:
                            for step in steps:
                                self.both("%s %s at the end" % (kind, step),
                                          lambda i, m: self.step(
                                              m, pair[i], step))
                self.counters_agree()
            finally:
                for mod in (self.one, self.two):
                    mod.fail_allocation(0)

        EPILOGUE = [
            # resize('x'): road 1 once said "closed" or "memoryview(s)
            # exist" before it looked at the argument.
            ("block", ["size", "exports", "close()", "resize(3)",
                       "resize('x')"]),
            ("view", ["read", "release()", "read"]),
            ("block", ["close()", "close()", "size", "view()",
                       "resize(3)", "resize('x')", "closed"]),
            ("person", ["age", "birthday()", "close()", "close()", "age",
                        "height_cm", "birthday()", "closed"]),
            ("handle", ["person_get", "person_birthday", "person_free",
                        "person_free", "person_get", "person_birthday"]),
        ]

        @staticmethod
        def step(mod, obj, step):
            if step == "read":
                return (obj.format, obj.readonly, obj.tobytes())
            if step.startswith("person_"):
                return getattr(mod, step)(obj)
            if step.startswith("resize("):
                return obj.resize({"resize(3)": 3, "resize('x')": "x"}[step])
            if step.endswith("()"):
                return getattr(obj, step[:-2])()
            return getattr(obj, step)

    return MemoryMachine


def _test_memory_machine(self):
    machine = type("MemoryMachine", (_memory_machine(),), {
        "one": self.one, "two": self.two,
        "names": (self.road1, self.road2)})
    run_state_machine_as_test(machine, settings=self.settings)


_test_memory_machine.__name__ = "test_calls_in_any_order"
_test_memory_machine.__doc__ = ("Person, handles, Block, views, registry: "
                                "any sequence of calls, the same outcomes")


# --- stage 05: the Logger, a program of calls and what it printed ------------

class Counting:
    """A callback that counts its calls and may raise."""

    def __init__(self, kind):
        self.kind, self.calls = kind, 0

    def __call__(self):
        self.calls += 1
        if self.kind == "raise":
            raise Boom("callback %d" % self.calls)


def _callback(kind, made):
    if kind in ("count", "raise"):
        made.append(Counting(kind))
        return made[-1]
    return {"none": None, "int": 5, "str": "x"}[kind]


def _logger_programs():
    s = strategies()
    kinds = st.sampled_from(["none", "count", "raise", "int", "str"])
    text = st.one_of(s.text, s.text.map(lambda t: t + "\n"),
                     s.text.map(lambda t: "[ERROR] " + t + "\n"),
                     st.integers(0, 200).map(lambda n: "L" * n + "\n"))
    ops = st.one_of(
        st.tuples(st.just("log"), st.one_of(text, text, text, s.wrong)),
        st.sampled_from([("flush",), ("close",), ("closed",),
                         ("buffer_size",), ("get_callback",),
                         ("del_callback",), ("repr",)]),
        st.tuples(st.just("set_callback"), kinds))
    start = st.tuples(kinds, st.one_of(st.booleans(), s.wrong),
                      st.one_of(st.integers(1, 64), st.sampled_from(
                          [65536, 0, -1, 2**30, 2**30 + 1]), s.wrong))
    return st.tuples(start, st.lists(ops, max_size=10))


def run_logger_program(mod, program):
    """Run a program on one road: what each step did, what went to fds 1
    and 2, the callbacks' calls and what destructors reported."""
    import test_05_logger           # its captured_fds()
    (kind, background, buffer_size), ops = program
    made, steps, reported = [], [], []
    old_hook = sys.unraisablehook
    sys.unraisablehook = lambda u: reported.append(
        (type(u.exc_value), str(u.exc_value)))
    try:
        with test_05_logger.captured_fds() as cap:
            lg = None

            def start():
                nonlocal lg
                lg = mod.Logger(_callback(kind, made),
                                background=fresh(background),
                                buffer_size=fresh(buffer_size))
            steps.append(outcome(start))
            for op in ops if lg is not None else ():
                steps.append(outcome(_logger_step, lg, op, made, mod))
            # The end of every program: each call once more, closed, and
            # after that.
            for op in EPILOGUE if lg is not None else ():
                steps.append(outcome(_logger_step, lg, op, made, mod))
            del lg          # no cycle holds it: freed here, on both roads
    finally:
        sys.unraisablehook = old_hook
    return (steps, cap.out, cap.err, [c.calls for c in made], reported)


EPILOGUE = [("log", "[ERROR] last\n"), ("flush",), ("close",), ("closed",),
            ("close",), ("log", "after\n"), ("flush",), ("repr",)]


def _logger_step(lg, op, made, mod):
    name = op[0]
    if name == "log":
        return lg.log(fresh(op[1]))
    if name in ("flush", "close"):
        return getattr(lg, name)()
    if name in ("closed", "buffer_size"):
        return getattr(lg, name)
    if name == "get_callback":
        callback = lg.callback
        return [i for i, c in enumerate(made) if c is callback] or callback
    if name == "set_callback":
        lg.callback = _callback(op[1], made)
        return None
    if name == "del_callback":
        del lg.callback
        return None
    return repr(lg).replace(mod.__name__ + ".", "MODULE.")


def _test_logger_programs(self):
    def body(program):
        results = [run_logger_program(self.one, program),
                   run_logger_program(self.two, program)]
        if results[0] != results[1]:
            self.fail(disagreement(repr(program), (self.road1, self.road2),
                                   results))
    self.check(_logger_programs(), body,
               EXAMPLES.get(("05", "Logger"), ()))


_test_logger_programs.__name__ = "test_programs_of_calls"
_test_logger_programs.__doc__ = ("Logger: any program of calls, the same "
                                 "outcomes, output and callbacks")

STATEFUL = {
    "04": {"test_calls_in_any_order": _test_memory_machine},
    "05": {"test_programs_of_calls": _test_logger_programs},
}
