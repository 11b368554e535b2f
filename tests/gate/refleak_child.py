"""Child process of the reference-leak check (tests/test_gate_refleak.py).

    python3-dbg refleak_child.py STAGE MODULE [--only NAME]

In the spirit of CPython's `regrtest -R`: each unit of work runs a few
times to warm up (caches, interned strings, first-time imports), then
REPS more times; after each run the garbage collector and the type cache
are cleared and the counters read.  A unit leaks when EVERY measured run
grew a counter (regrtest's rule: noise goes up and down, a leak only up).

Units: every public callable of the module with its hostile-input table
(tests/gate/api.py: error paths and the calls that succeed), every method
of the objects those calls returned, and every contract class of the
stage's tests that runs on this module (the valid-argument paths).

Counters: on a debug interpreter, sys.gettotalrefcount() (all references
in the process) and sys.getallocatedblocks().  On a release interpreter
(the fallback): sys.getrefcount() of every object passed in and of the
returned object when the same one comes back, and sys.getallocatedblocks().
One JSON line per unit on stdout.
"""
import gc
import json
import os
import sys
import types
import unittest
from pathlib import Path

GATE = Path(__file__).resolve().parent
sys.path.insert(0, str(GATE))
sys.path.insert(0, str(GATE.parent))
import api  # noqa: E402
import support  # noqa: E402

WARMUP, REPS = 3, 3          # regrtest -R 3:3
DEBUG = hasattr(sys, "gettotalrefcount")
TOTAL = "debug interpreter: sys.gettotalrefcount() + sys.getallocatedblocks()"
FALLBACK = ("fallback: sys.getrefcount() of arguments and results + "
            "sys.getallocatedblocks()")


def settle():
    gc.collect()
    sys._clear_type_cache()
    gc.collect()


def measure(run, watched, total):
    """Deltas per measured run: {"refs": [...], "blocks": [...]}, and the
    check that ran.  The debug total is used only while no release-built
    reference counting is loaded (_cffi_backend: a unit may import cffi
    during its warm-up, a contract test that compares with cffi does)."""
    def counters():
        settle()
        refs = (sys.gettotalrefcount() if total
                else sum(sys.getrefcount(obj) for obj in watched()))
        return refs, sys.getallocatedblocks()

    # Everything the measuring itself keeps is made before the first
    # reading: the lists exist already, an item is replaced, not added.
    refs, blocks = [0] * REPS, [0] * REPS
    for _ in range(WARMUP):
        run()
    total = total and "_cffi_backend" not in sys.modules
    before = counters()
    for rep in range(REPS):
        run()
        after = counters()
        refs[rep] = after[0] - before[0]
        blocks[rep] = after[1] - before[1]
        before = after
    return {"refs": refs, "blocks": blocks}, (TOTAL if total else FALLBACK)


class Sink:
    """A stdout that keeps nothing (a real file's buffer would grow)."""

    def write(self, text):
        return len(text)

    def flush(self):
        pass


def private(obj):
    """Whether the refcount of obj is ours to watch: not a singleton or a
    cached object that the whole interpreter shares (None, True, small
    ints, empty and one-character strings, builtins)."""
    if obj is None or isinstance(obj, (bool, types.BuiltinFunctionType)):
        return False
    if type(obj) is int and -5 <= obj <= 256:
        return False
    if isinstance(obj, (str, bytes, tuple)) and len(obj) <= 1:
        return False
    return True


def leaked(deltas):
    return any(values and all(d >= 1 for d in values)
               for values in deltas.values())


def calls_unit(calls):
    """run() and watched() for a list of (desc, func, args)."""
    results = {}

    def run():
        for number, (desc, func, args) in enumerate(calls):
            try:
                result = func(*args)
            except Exception:
                result = None
            # Watch a returned object only when the same one comes back
            # every time (a cached object, self): a new object each time
            # is freed by the caller and says nothing.
            if number not in results:
                results[number] = result
            elif results[number] is not result:
                results[number] = None          # varies: not watched
            del result

    def watched():
        objs = [a for _, _, args in calls for a in args]
        objs += [r for r in results.values() if r is not None]
        return [obj for obj in objs if private(obj)]

    return run, watched


def contract_units(stage, name):
    """(unit name, run) for each contract class of the stage on `name`."""
    units = []
    number = "%02d" % int(stage)
    counts = {}
    for path in sorted(support.TESTS.glob("test_%s_*.py" % number)):
        module = __import__(path.stem)
        for attr in sorted(dir(module)):
            cls = getattr(module, attr)
            if (isinstance(cls, type) and issubclass(cls, support.Road)
                    and cls is not support.Road and cls.module == name):
                key = "%s.%s" % (path.stem, attr)

                def run(cls=cls, key=key):
                    suite = unittest.defaultTestLoader.loadTestsFromTestCase(
                        cls)
                    result = unittest.TestResult()
                    suite.run(result)
                    counts[key] = result.testsRun
                units.append((key, run))
    return units, counts


def main():
    stage, name = sys.argv[1], sys.argv[2]
    only = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--only" \
        else None
    sys.stdout.reconfigure(line_buffering=True)
    real_stdout = sys.stdout
    sink = Sink()                         # what the calls print: nowhere
    module = api.import_public(stage, name)
    # A cffi module runs through _cffi_backend, which is a release build
    # even under a debug interpreter: its Py_INCREF/Py_DECREF do not touch
    # the total, which then drifts.  Such modules get the fallback check.
    total = DEBUG
    sweep = api.Sweep(module, small=True)
    by_callable = {}
    for desc, func, args in sweep.entries():
        if only is not None and desc.split("(")[0].split(".")[-1] != only:
            continue
        try:
            sweep.record(func(*args))       # collect the module's objects
        except Exception:
            pass
        key = desc.split("(")[0] if "(...)." not in desc else \
            desc[:desc.index("(", desc.index("(...).") + 6)]
        by_callable.setdefault(key, []).append((desc, func, args))
    units = [(key, calls_unit(calls)) for key, calls in by_callable.items()]
    units = [(key, run, watched) for key, (run, watched) in units]
    counts, classes = {}, set()
    if only is None and stage != "-":
        contracts, counts = contract_units(stage, name)
        units += [(key, run, lambda: []) for key, run in contracts]
        classes = {key for key, _ in contracts}
    for key, run, watched in units:
        # On 3.10 without a debug interpreter a contract class is measured
        # but not judged: there the allocated-block count of a whole
        # unittest run drifts up by a few blocks per run (2 to 20), also
        # for classes whose calls, made 100,000 times outside unittest,
        # keep no block.  Its functions are still judged one by one.
        judged = DEBUG or sys.version_info >= (3, 11) or key not in classes
        if only is not None and key.split(".")[-1] != only:
            continue
        # The calls may print (trace lines): keep them out of the report.
        sys.stdout = sink
        try:
            deltas, mode = measure(run, watched, total)
        finally:
            sys.stdout = real_stdout
        if not judged:
            mode += " (3.10: a contract class is not judged)"
        print(json.dumps({"unit": key, "mode": mode, "deltas": deltas,
                          "tests": counts.get(key),
                          "leak": judged and leaked(deltas)}), flush=True)


if __name__ == "__main__":
    main()
