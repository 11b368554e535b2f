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
input stays in the stage's `examples`, so the short profile checks it for
ever.  What each stage declares, and how its roads are found: "what each
stage declares" below.
"""

import array
import copy
import ctypes
import importlib
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
    # Every generated class is skipped (HYPOTHESIS_MISSING); the stages'
    # tables may still name st, used only inside the tests.
    hypothesis = st = None

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

# Stage 03's own ctypes declarations of its structs (the ones its tests
# check against C), so that a struct here is the struct there.
_STRUCTS = support.import_stage("03", "_road2")

CTYPES = {"Person": _STRUCTS.Person, "Record": _STRUCTS.Record,
          "RecordPacked": _STRUCTS.RecordPacked,
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
        # A count (of calls, say), a number, a text: mostly plausible.
        self.small_n = st.one_of(st.integers(0, 20), self.int_or_wrong)
        self.number = st.one_of(self.floats, self.ints, self.wrong)
        self.text_or_wrong = st.one_of(self.text, st.text(max_size=300),
                                       self.wrong)

    def field(self, hi):
        """A field of a struct, 0..hi: mostly in range, so that calls with
        several fields get through to C."""
        fits = st.one_of(st.integers(0, hi), st.sampled_from([0, hi]))
        return st.one_of(fits, fits, fits, self.int_or_wrong)

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


# --- what each stage declares ------------------------------------------------
# Stage NN-topic declares its tables in its own test file,
# tests/test_NN_topic.py, as `differential(d)` (d: this module), which
# returns a dict of:
#
#   functions     {name: lambda s: (strategy, ...)}: the arguments of each
#                 function of road 1 (s: strategies(), the vocabulary
#                 above); every public function of road 1 must be there
#   seeds         {name: [argument tuple, ...]}: calls every run starts with
#   examples      {name: [argument tuple, ...]}: counterexamples found once
#   type_only     {name, ...}: results compared by type only (times, ids)
#   after         {name: lambda mod: ...}: what to undo after each call
#   stateful      [test function, ...]: tests of a program of calls, on
#                 self.one and self.two (run_machine() runs a state machine)
#   not_compared  {module: why}: a module of road 2's names that has none
#                 of road 1's functions
#   built_where   {module: (built here, why not)}: a module the stage
#                 builds only on some interpreters; elsewhere its pair is
#                 skipped with the reason
#
# The roads come from the folder: road 1 is the stage's C-API module
# (support.capi_name), every other public module of the stage (its
# <topic>_cffi and <topic>_abi wrappers, and any other extension module
# built there, such as stage 03's Limited API build) is compared with it.

EMPTY_STEP = Fresh("slice", ("array", "b", ()), 0, 2, False)   # [::2]


def declared(stage_dir):
    """What the stage's test file declares (see above), or None when it
    declares nothing."""
    path = support.stage_test_file(stage_dir)
    if not path.is_file():
        return None
    module = importlib.import_module(path.stem)
    tables = getattr(module, "differential", None)
    return None if tables is None else tables(sys.modules[__name__])


def pairs(stages=None):
    """[(stage, road 1, road 2, road 2 needs cffi, tables)] of every stage
    (default: support.stages()), found in the folders: road 1 is the C-API
    module, each other public module of the stage a road 2."""
    found = []
    for stage_dir in support.stages() if stages is None else stages:
        stage = stage_dir.name[:2]
        tables = declared(stage_dir) or {}
        road1 = support.capi_name(stage_dir)
        skipped = tables.get("not_compared", {})
        modules = dict(support.gate_api().public_modules(
            stage_dir, support.build_dir(stage)))
        for name in tables.get("built_where", {}):
            modules.setdefault(name, False)
        unknown = sorted(set(skipped) - set(modules))
        if unknown:
            raise LookupError("%s: not_compared names %s, not modules of "
                              "the stage" % (stage_dir.name, unknown))
        for road2, needs_cffi in sorted(modules.items()):
            if road2 != road1 and road2 not in skipped:
                found.append((stage, road1, road2, needs_cffi, tables))
    return found


def disagreement(what, names, results):
    return "the roads disagree on %s\n  %s: %r\n  %s: %r" % (
        what, names[0], results[0], names[1], results[1])


class DifferentialCase(unittest.TestCase):
    """Base of the generated classes: self.one and self.two are the two
    modules, self.settings the profile's hypothesis settings, self.tables
    what the stage declares."""

    stage = road1 = road2 = settings = tables = None

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
        after = self.tables.get("after", {})
        for mod in (self.one, self.two):
            made = [fresh(a) for a in args]
            func = getattr(mod, name)
            if name in self.tables.get("type_only", ()):
                got = outcome(lambda *a: type(func(*a)).__name__, *made)
            else:
                got = outcome(func, *made)
            if name in after:
                after[name](mod)
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
                   self.tables.get("seeds", {}).get(name, [])
                   + self.tables.get("examples", {}).get(name, []))
    test.__name__ = "test_" + name
    test.__doc__ = "%s(): the same result on both roads" % name
    return test


def undeclared(module, functions):
    """The public functions of `module` (road 1) that `functions` lacks."""
    api = support.gate_api()
    return sorted(name for name, _ in api.public_callables(module)
                  if name not in functions)


def _every_function_is_compared(self):
    """every public function of road 1 is in the tables"""
    where = support.stage_test_file(support.stage_dir(self.stage)).name
    self.assertEqual(undeclared(self.one, self.tables["functions"]), [],
                     "%s: give the arguments of each in differential() of "
                     "%s" % (self.road1, where))


def _the_stage_declares_its_tables(self):
    """the stage's test file has differential(d)"""
    self.fail("%s declares no differential(d): the tables of "
              "tests/harness/differential.py" % support.stage_test_file(
                  support.stage_dir(self.stage)).name)


def run_machine(case, machine):
    """Run a RoadsMachine subclass on the two roads of a DifferentialCase,
    under its profile."""
    run_state_machine_as_test(type(machine.__name__, (machine,), {
        "one": case.one, "two": case.two,
        "names": (case.road1, case.road2)}), settings=case.settings)


def define(namespace, profile_name):
    """Put one TestCase per pair of roads into `namespace` (a test
    module's globals): TestDifferential01_extern_cffi, ...  The gates
    pass FFI_GATE_STAGES=01,03 when asked for some stages only."""
    wanted = [s for s in os.environ.get("FFI_GATE_STAGES", "").split(",")
              if s]
    for stage, road1, road2, needs_cffi, tables in pairs():
        if wanted and stage not in wanted:
            continue
        stateful = tables.get("stateful", [])
        body = {"stage": stage, "road1": road1, "road2": road2,
                "tables": tables,
                "settings": profile(profile_name, bool(stateful))
                if hypothesis else None}
        for name, arguments in tables.get("functions", {}).items():
            body["test_" + name] = _function_test(name, arguments)
        if "functions" in tables:
            body["test_every_function_is_compared"] = \
                _every_function_is_compared
        for test in stateful:
            body[test.__name__] = test
        if not tables:
            body["test_the_stage_declares_its_tables"] = \
                _the_stage_declares_its_tables
        cls = type("TestDifferential%s_%s" % (stage, road2),
                   (DifferentialCase,), body)
        cls.__module__ = namespace["__name__"]
        cls.__doc__ = "Stage %s: %s and %s agree" % (stage, road1, road2)
        if road2 in tables.get("built_where", {}):
            cls = unittest.skipUnless(*tables["built_where"][road2])(cls)
        if needs_cffi:
            cls = unittest.skipUnless(support.have_cffi(),
                                      support.CFFI_MISSING)(cls)
        cls = unittest.skipUnless(hypothesis, HYPOTHESIS_MISSING)(cls)
        namespace[cls.__name__] = cls


# --- a program of calls on both roads ----------------------------------------

class Pair:
    """One object of each road, made by the same call; kind says what."""

    def __init__(self, one, two, kind=None):
        self.roads, self.kind = (one, two), kind

    def __getitem__(self, i):
        return self.roads[i]

    def __repr__(self):
        return "Pair(%s)" % type(self.roads[0]).__name__


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
