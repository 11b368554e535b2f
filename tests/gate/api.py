"""What the hostile-input sweep and the reference-leak check call.

Everything is discovered, nothing is listed:

* public_modules(stage): the stage's public modules, as tests/README.md
  defines them: compiled extension modules whose names do not start with
  `_` (NAME<EXT_SUFFIX> or NAME.abi3.so in the build folder), and the
  `*_cffi.py` / `*_abi.py` wrappers (not the `build_*` scripts).
* Sweep(module).entries(): every public callable of the module (functions,
  classes, bound methods a cffi wrapper exports), then every public method
  of every object of the module's own types that a call returned, each
  called with the hostile table: no argument, too many, and each argument
  position in turn replaced by each hostile value.

Standard library only; imported by tests and by the child processes.
"""

import inspect
import math
import sys
import sysconfig
import types
from pathlib import Path

EXT_SUFFIXES = [sysconfig.get_config_var("EXT_SUFFIX"), ".abi3.so"]


class HostileError(Exception):
    """What the hostile objects below raise."""


class RaisingIndex:
    def __index__(self):
        raise HostileError("hostile __index__")

    def __int__(self):
        raise HostileError("hostile __int__")

    def __float__(self):
        raise HostileError("hostile __float__")


class RaisingLen:
    def __len__(self):
        raise HostileError("hostile __len__")

    def __getitem__(self, index):
        raise HostileError("hostile __getitem__")


class RaisingIter:
    def __iter__(self):
        raise HostileError("hostile __iter__")

    def __len__(self):
        return 3


class RaisingCall:
    def __call__(self, *args, **kwargs):
        raise HostileError("hostile __call__")


class RaisingBool:
    def __bool__(self):
        raise HostileError("hostile __bool__")


class LyingLen:
    """Says it has a million items and has none."""

    def __len__(self):
        return 10 ** 6

    def __iter__(self):
        return iter(())

    def __getitem__(self, index):
        raise IndexError(index)


# --- objects that lie: each method answers something other than the truth,
# so that code which asks the object (instead of reading what it is) is
# caught: C would read past the real bytes, or a list would change while
# C reads it.

class LyingBytes(bytes):
    def __len__(self):
        return 10 ** 6


class LyingStr(str):
    """A str whose methods lie about its contents."""

    def encode(self, *args, **kwargs):
        return LyingBytes(b"x")

    def __len__(self):
        return 10 ** 6

    def __contains__(self, item):
        return False

    def find(self, *args):
        return -1

    def index(self, *args):
        raise HostileError("hostile index")

    def __iter__(self):
        return iter(())


class LyingInt(int):
    """An int whose conversions give other numbers."""

    def __index__(self):
        return 2 ** 70

    def __int__(self):
        return -1

    def __float__(self):
        return float("nan")


class PosesAsInt:
    """Not an int, but says so: its __class__ is int (isinstance() believes
    it), its type() is not."""

    @property
    def __class__(self):
        return int


class ClearsItsList(PosesAsInt):
    """Poses as an int, and empties the list that holds it whenever it is
    converted."""

    def __init__(self, victim):
        self.victim = victim

    def _clear(self):
        self.victim.clear()
        return 1

    __index__ = __int__ = _clear


class LyingRangeInt(int):
    """An int whose comparisons and sums lie: every `<=` and `>=` is True,
    every `<` and `>` False, and a sum is 0, so that a range check written
    with the argument's own operators (`lo <= value <= hi`, `n < 0`,
    `a + b > MAX`) passes whatever its value.  Only its real value, read as
    a plain int (operator.index), tells the truth."""

    def __le__(self, other):
        return True

    __ge__ = __le__

    def __lt__(self, other):
        return False

    __gt__ = __lt__

    def __add__(self, other):
        return 0

    __radd__ = __sub__ = __rsub__ = __add__

    def __repr__(self):
        return "LyingRangeInt(%d)" % int.__index__(self)


class ClaimsToBeInt(PosesAsInt):
    """Poses as an int, converts to `value` and lies in every comparison as
    LyingRangeInt does."""

    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value

    __int__ = __index__
    __le__ = __ge__ = LyingRangeInt.__le__
    __lt__ = __gt__ = LyingRangeInt.__lt__
    __add__ = __radd__ = __sub__ = __rsub__ = LyingRangeInt.__add__

    def __repr__(self):
        return "ClaimsToBeInt(%d)" % self.value


def true_value(value):
    """What a lying int really is, as a plain int (else value itself)."""
    if type(value) is LyingRangeInt:
        return int.__index__(value)
    if type(value) is ClaimsToBeInt:
        return value.value
    return value


def clearing_list():
    victim = list(range(8))
    victim.append(ClearsItsList(victim))
    victim.extend(range(8))
    return victim


class ShiftyBuffer:
    """A buffer exporter (Python's __buffer__, 3.12+) that hands out a
    different buffer each time: 64 bytes first, then 1 byte."""

    def __init__(self):
        self.count = 0

    def __buffer__(self, flags):
        self.count += 1
        return memoryview(bytearray(64 if self.count == 1 else 1))


class HostileSignal(Exception):
    """What the stateful sweep's signal handler raises, anywhere."""


def hostile_values(small=False):
    """(description, value) pairs: every kind of input the issue names."""
    big = 10 ** 4 if small else 10 ** 6
    return [
        ("None", None),
        ("True", True),
        ("0", 0),
        ("-1", -1),
        ("2**31", 2 ** 31),
        ("-2**31-1", -2 ** 31 - 1),
        ("2**63", 2 ** 63),
        ("-2**63-1", -2 ** 63 - 1),
        ("2**64", 2 ** 64),
        ("10**100", 10 ** 100),
        ("-10**100", -10 ** 100),
        ("1.5", 1.5),
        ("-0.0", -0.0),
        ("nan", math.nan),
        ("inf", math.inf),
        ("-inf", -math.inf),
        ("''", ""),
        ("'text'", "text"),
        ("'a\\x00b'", "a\x00b"),
        ("'\\ud800' (lone surrogate)", "\ud800"),
        ("'\\U0001f600'", "\U0001f600"),
        ("'x'*%d" % big, "x" * big),
        ("b''", b""),
        ("b'bytes'", b"bytes"),
        ("b'a\\x00b'", b"a\x00b"),
        ("b'\\xff\\xfe'", b"\xff\xfe"),
        ("b'x'*%d" % big, b"x" * big),
        ("bytearray(b'ab')", bytearray(b"ab")),
        ("memoryview(b'ab')", memoryview(b"ab")),
        ("[]", []),
        ("[1, 2, 3]", [1, 2, 3]),
        ("[None]", [None]),
        ("[1]*%d" % big, [1] * big),
        ("()", ()),
        ("{}", {}),
        ("object()", object()),
        ("RaisingIndex()", RaisingIndex()),
        ("RaisingLen()", RaisingLen()),
        ("RaisingIter()", RaisingIter()),
        ("RaisingCall()", RaisingCall()),
        ("RaisingBool()", RaisingBool()),
        ("LyingLen()", LyingLen()),
        ("LyingStr('text')", LyingStr("text")),
        ("LyingStr('a\\x00b')", LyingStr("a\x00b")),
        ("LyingInt(5)", LyingInt(5)),
        ("[.., ClearsItsList, ..]", clearing_list()),
        ("LyingRangeInt(-1)", LyingRangeInt(-1)),
        ("LyingRangeInt(2**31-1)", LyingRangeInt(2 ** 31 - 1)),
        ("LyingRangeInt(2**31)", LyingRangeInt(2 ** 31)),
        ("ClaimsToBeInt(-1)", ClaimsToBeInt(-1)),
        ("ClaimsToBeInt(2**31)", ClaimsToBeInt(2 ** 31)),
        ("ShiftyBuffer()", ShiftyBuffer()),
        ("print", print),
    ]


def plausible_args(func, reenter):
    """Argument tuples that a callable may well accept: small ints, text
    with and without ERROR, bytes, a writable buffer, a short list, a
    (height, age) pair, and `reenter` (a callback into the module), as
    many of each as the callable takes."""
    values = [0, 1, 64, "x\n", "ERROR x\n", b"12345678", bytearray(8),
              [1, 2, 3], (170, 41)]
    if reenter is not None:
        values.append(reenter)
    n = positional_count(func)
    arities = [n] if n is not None else [0, 1, 2]
    result = []
    for arity in arities:
        if arity == 0:
            result.append(())
            continue
        for value in values:
            result.append((value,) * arity)
        if arity >= 2:
            result.append((bytearray(8),) + (1,) * (arity - 1))
            result.append((64,) + ("x\n",) * (arity - 1))
            if reenter is not None:
                result.append((3, reenter) + (1,) * (arity - 2))
    return result


def public_modules(stage_dir, build_dir=None):
    """[(module name, is a cffi wrapper)] for one stage, sorted."""
    stage_dir = Path(stage_dir)
    build_dir = Path(build_dir or stage_dir)
    found = {}
    if build_dir.is_dir():
        for path in build_dir.iterdir():
            for suffix in EXT_SUFFIXES:
                if suffix and path.name.endswith(suffix):
                    name = path.name[:-len(suffix)]
                    if name.isidentifier() and not name.startswith("_"):
                        found[name] = False
    for pattern in ("*_cffi.py", "*_abi.py"):
        for path in stage_dir.glob(pattern):
            name = path.stem
            if not name.startswith(("_", "build_")):
                found[name] = True
    return sorted(found.items())


def public_callables(module):
    """[(name, object)]: what the module itself defines or exports."""
    result = []
    for name in sorted(dir(module)):
        if name.startswith("_"):
            continue
        obj = getattr(module, name, None)
        if obj is None or isinstance(obj, types.ModuleType):
            continue
        if not callable(obj):
            continue
        owner = getattr(obj, "__module__", None)
        if owner == module.__name__ or inspect.ismethod(obj):
            result.append((name, obj))
    return result


def positional_count(func):
    """How many positional arguments a callable takes; None when unknown
    (a C function without a text signature) or variable."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    count = 0
    for param in sig.parameters.values():
        if param.kind == param.VAR_POSITIONAL:
            return None
        if param.kind in (param.POSITIONAL_ONLY,
                          param.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def call_list(qualname, func, values):
    """(description, func, args) for one callable: the hostile table.

    No argument; each wrong count of plain arguments (1); then every
    argument position in turn gets every hostile value, the others 1.  When
    the number of arguments is unknown, each of 1, 2 and 3 is tried."""
    n = positional_count(func)
    arities = [n] if n is not None else [1, 2, 3]
    calls = [("%s()" % qualname, func, ())]
    for count in range(1, min(max(arities) + 2, 6)):
        if count not in arities:
            calls.append(("%s(%s)" % (qualname, ", ".join(["1"] * count)),
                          func, (1,) * count))
    for arity in arities:
        for position in range(min(max(arity, 1), 4)):
            for desc, value in values:
                args = [1] * max(arity, 1)
                args[position] = value
                shown = ["1"] * len(args)
                shown[position] = desc
                calls.append(("%s(%s)" % (qualname, ", ".join(shown)),
                              func, tuple(args)))
    return calls


class Sweep:
    """The calls for one module, in a fixed order.

    entries() yields (description, func, args); record(result) is told what
    each call returned, so that objects of the module's own types are
    swept too (their public methods, after the module-level callables).
    """

    def __init__(self, module, small=False):
        self.module = module
        self.values = hostile_values(small)
        self.instances = {}

    def record(self, result):
        kind = type(result)
        if (getattr(kind, "__module__", None) == self.module.__name__
                and kind not in self.instances):
            self.instances[kind] = result

    def _own_type(self, obj):
        return (isinstance(obj, type)
                and getattr(obj, "__module__", None) == self.module.__name__)

    def entries(self):
        name = self.module.__name__
        for attr, obj in public_callables(self.module):
            for entry in call_list("%s.%s" % (name, attr), obj, self.values):
                yield entry
        done = set()
        while True:
            todo = [k for k in self.instances if k not in done]
            if not todo:
                return
            for kind in todo:
                done.add(kind)
                instance = self.instances[kind]
                for attr in sorted(dir(kind)):
                    if attr.startswith("_"):
                        continue
                    try:
                        method = getattr(instance, attr)
                    except Exception:           # a property that raises
                        continue
                    if not callable(method) or self._own_type(method):
                        continue
                    qual = "%s.%s(...).%s" % (name, kind.__name__, attr)
                    for entry in call_list(qual, method, self.values):
                        yield entry


# What a function raises for a bad argument.  A lying int may be refused
# where its true value is accepted, never accepted where its true value is
# refused with one of these (other errors, such as a full registry, may
# come from the state the first call left).
ARGUMENT_ERRORS = (TypeError, ValueError, OverflowError)


def lie_accepted(func, args):
    """After func(*args) returned: None, or what is wrong if an argument
    was a lying int whose true value func refuses (asked now, with the
    true values in place of the lying ones)."""
    true_args = tuple(true_value(arg) for arg in args)
    if all(true is arg for true, arg in zip(true_args, args)):
        return None             # no lying int among them
    try:
        func(*true_args)
    except ARGUMENT_ERRORS as exc:
        return ("accepted a lying int, but refuses its true value %r: "
                "%s: %s" % (true_args, type(exc).__name__, exc))
    except Exception:           # noqa: B902 - not an argument error
        return None
    return None


def describe_exception(exc):
    """None when exc is a clear Python exception, else what is wrong."""
    if isinstance(exc, SystemError):
        return "SystemError (the C code broke the C-API error protocol): %s" % exc
    if not isinstance(exc, Exception):
        return "%s is not an Exception" % type(exc).__name__
    if not str(exc).strip() and not isinstance(exc, (HostileError,
                                                     MemoryError)):
        return "%s with an empty message" % type(exc).__name__
    return None


def import_public(stage, name):
    """Import a public module of a stage the way the tests do (stage "-":
    a plain import from sys.path, for the sweep's own self-test)."""
    if stage == "-":
        import importlib
        return importlib.import_module(name)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import support
    return support.import_stage(stage, name)
