"""Shared helpers for the test suite (standard library only).

Conventions every stage test follows:

* A stage's tests live in ``tests/test_NN_<topic>.py`` (NN = stage number).
* One behavioural contract per stage: a plain mixin class (not a TestCase)
  holding the test methods, and one ``TestCase`` subclass per road that
  inherits from it and from ``support.Road``, naming the stage and the
  module to import.  ``self.mod`` is that module.
* Compiled products are looked up in the stage's build folder:
  the stage folder itself, or ``<stage>/$FFI_BUILD`` when the environment
  variable ``FFI_BUILD`` is set (the exercise checker and the sanitizer
  gate use this).  A compiled module found anywhere else is an error, so a
  test can never silently run against the wrong build.
"""

import ctypes
import importlib
import importlib.machinery
import importlib.util
import os
import re
import signal
import subprocess
import sys
import sysconfig
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
# The tools that are not tests (the exercise checker, the skeleton and
# excerpt cutters, the doctor, the differential machinery, new_stage):
# importable by name once support is imported.
HARNESS = TESTS / "harness"
if str(HARNESS) not in sys.path:
    sys.path.insert(0, str(HARNESS))
EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")
PYTHON = sys.executable

# The one line that says cffi is missing, as make, make doctor and every
# stage's run.py say it: for this interpreter, with the command that
# installs it there (tests/harness/doctor.py knows which road that is).
import doctor  # noqa: E402  (tests/harness/, on sys.path just above)
CFFI_MISSING = doctor.cffi_missing()


def stages(root=ROOT):
    """Every stage folder under root (default: this checkout), in order:
    [Path('.../01-extern'), ...].  A stage is a NN-* folder with a Makefile."""
    return sorted(p for p in Path(root).glob("[0-9][0-9]-*")
                  if (p / "Makefile").is_file())


def stage_dir(stage):
    """The folder of a stage given as 1, '1', '01' or '01-extern'."""
    text = str(stage)
    number = text.split("-")[0]
    prefix = "%02d-" % int(number)
    for path in stages():
        if path.name.startswith(prefix):
            return path
    raise LookupError("no stage %r under %s" % (stage, ROOT))


def _makefile_name(stage_dir, variable):
    """The value of `VARIABLE := name` in a stage's Makefile, or None."""
    found = re.search(r"^%s\s*:?=\s*(\w+)" % variable,
                      (Path(stage_dir) / "Makefile").read_text(), re.M)
    return found.group(1) if found else None


def stage_topic(stage_dir):
    """The stage's TOPIC, as its Makefile sets it (None without one): the
    <topic> of <topic>_lib.c, <topic>_capi.c, build_<topic>_cffi.py..."""
    return _makefile_name(stage_dir, "TOPIC")


def capi_name(stage_dir):
    """The import name of the stage's road 1: CAPI_NAME where the Makefile
    names it (stage 05: tales_from_ffi), else <topic>_capi."""
    return (_makefile_name(stage_dir, "CAPI_NAME")
            or "%s_capi" % stage_topic(stage_dir))


def stage_test_file(stage_dir):
    """The stage's own test file: tests/test_NN_topic.py for NN-topic."""
    return TESTS / ("test_%s.py" % stage_dir.name.replace("-", "_"))


def stage_checks(stage_dir):
    """The stage's _checks.py, loaded as a module: what the shared tests
    need to know about a stage beyond its folder's shape (ISOLATION for
    tests/test_isolation.py, RUN_NEEDS for tests/test_run_output.py).
    An empty module when the stage has none."""
    path = Path(stage_dir) / "_checks.py"
    name = "_checks_" + Path(stage_dir).name.replace("-", "_")
    if name in sys.modules:
        return sys.modules[name]
    module = type(sys)(name)
    if path.is_file():
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


def build_dir(stage):
    """Where the compiled products of a stage are (see module docstring)."""
    base = stage_dir(stage)
    sub = os.environ.get("FFI_BUILD")
    return (base / sub).resolve() if sub else base


def scale(normal, small):
    """A test size: `normal`, or `small` under a slow checker (valgrind).

    The gates set FFI_SMALL=1; the behaviour checked is the same, only the
    number of elements or repetitions shrinks.
    """
    return small if os.environ.get("FFI_SMALL") else normal


def have_cffi():
    try:
        import cffi  # noqa: F401
    except ImportError:
        return False
    return True


def stage_path(stage):
    """The sys.path entries that make a stage's modules importable."""
    first = build_dir(stage)
    second = stage_dir(stage)
    return [str(first)] if first == second else [str(first), str(second)]


def forget_other_stages(stage):
    """Role names recur from stage to stage (every stage has a _common,
    01 and 03 each have a _road2): when one process imports from several
    stages, forget each module that another stage's folder gave and that
    this stage's folder has too, so that the next import finds this
    stage's.  (A module that imported the other one keeps its own.)"""
    folders = {Path(entry) for entry in stage_path(stage)}
    for name, module in list(sys.modules.items()):
        where = getattr(module, "__file__", None)
        if "." in name or not where:
            continue
        folder = Path(where).parent
        if folder.name == name:                 # a package: bugs/__init__
            folder = folder.parent
        if folder in folders or ROOT not in folder.parents:
            continue
        if any((f / (name + ".py")).exists() or (f / name).is_dir()
               for f in folders):
            del sys.modules[name]


def import_stage(stage, name):
    """Import module `name` of a stage, from the stage's build folder."""
    forget_other_stages(stage)
    for entry in reversed(stage_path(stage)):
        if entry in sys.path:
            sys.path.remove(entry)
        sys.path.insert(0, entry)
    module = importlib.import_module(name)
    where = Path(getattr(module, "__file__", "") or "")
    if any(where.name.endswith(suffix)
           for suffix in importlib.machinery.EXTENSION_SUFFIXES):
        expected = build_dir(stage)
        if where.parent.resolve() != expected:
            raise ImportError("%s was loaded from %s, expected the build in %s"
                              " (run make)" % (name, where.parent, expected))
    return module


class Road(unittest.TestCase):
    """Base of every road class: imports `module` of `stage` once, as
    ``self.mod``.

    Subclasses set ``stage`` (e.g. "01") and ``module`` (import name).  A
    road that needs cffi says so with the standard decorator, which skips
    each of its tests with the install hint when cffi is missing:

        @unittest.skipUnless(support.have_cffi(), support.CFFI_MISSING)
        class TestCffi(Contract, support.Road):
            stage, module = "01", "extern_cffi"
    """

    stage = None
    module = None
    mod = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mod = import_stage(cls.stage, cls.module)


def tests_run_elsewhere(mixin):
    """Class attributes that switch off every test_* of `mixin` in a road
    class that inherits them but whose checks run in another class, once:

        class TestCapi(TransferContract, support.Road):
            locals().update(support.tests_run_elsewhere(TransferExercise))
    """
    return {name: None for name in dir(mixin) if name.startswith("test_")}


def child_env(stage=None, **extra):
    """Environment for a child interpreter that can import a stage."""
    env = dict(os.environ)
    paths = [str(TESTS)]
    if stage is not None:
        paths = stage_path(stage) + paths
    old = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join(paths + ([old] if old else []))
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_python(code, stage=None, timeout=120, env=None, **kwargs):
    """Run `code` in a fresh interpreter; return the CompletedProcess.

    stdout and stderr are captured as text.  Used wherever a crash must not
    take the test runner down with it.
    """
    return subprocess.run([PYTHON, "-c", code], capture_output=True,
                          text=True, timeout=timeout,
                          env=env or child_env(stage), **kwargs)


def describe_exit(returncode):
    """'exit 0', 'exit 1' or 'killed by SIGSEGV' for a child's status
    (subprocess's returncode).  A string ("hung, killed after 60 s") is
    already a description and comes back unchanged."""
    if isinstance(returncode, str):
        return returncode
    if returncode is not None and returncode < 0:
        try:
            return "killed by " + signal.Signals(-returncode).name
        except ValueError:
            return "killed by signal %d" % -returncode
    return "exit %s" % returncode


def run_make(stage, target="run", timeout=600, env=None):
    """`make -s -C <stage> <target>` with stderr merged into stdout.

    Returns (returncode, output): what a person at a terminal would read.
    """
    proc = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(stage_dir(stage)),
         target, "PYTHON=" + PYTHON],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=timeout, env=env or dict(os.environ))
    return proc.returncode, proc.stdout


def built_module(stage, target, name):
    """`make -s -C <stage> <target>`, then module `name` of the stage
    (import_stage); an AssertionError with make's output if the build
    fails."""
    code, out = run_make(stage, target)
    if code != 0:
        raise AssertionError("make %s failed (%s):\n%s"
                             % (target, describe_exit(code), out[-3000:]))
    return import_stage(stage, name)


def run_variants(env=None):
    """[(what, environment)]: the two ways a stage's `make run` is checked,
    through a pipe with PYTHONUNBUFFERED unset and set."""
    variants = []
    for unbuffered in (False, True):
        run_env = dict(env or os.environ)
        run_env.pop("PYTHONUNBUFFERED", None)
        if unbuffered:
            run_env["PYTHONUNBUFFERED"] = "1"
        variants.append(("PYTHONUNBUFFERED %s" % ("set" if unbuffered
                                                   else "unset"), run_env))
    return variants


def make_run_outputs(stage, env=None):
    """Build a stage (`make -s all`), then `make -s run` it in each of
    run_variants().  Returns [("build", code, output), (what, code,
    output), ...]; stops after a failed build."""
    code, out = run_make(stage, "all", env=env)
    outputs = [("build", code, out)]
    if code == 0:
        for what, run_env in run_variants(env):
            outputs.append((what,) + run_make(stage, "run", env=run_env))
    return outputs


def assert_run_output(testcase, stage, env=None, replace=None, outputs=None):
    """Check `make -s run` of a stage against its expected-output.txt.

    Builds first (so that compiler lines are not part of the output), then
    runs twice, with PYTHONUNBUFFERED unset and set: the tour must print the
    same through a pipe either way (make_run_outputs; `outputs` is what it
    returned, when the runs were made already).  Returns the output of the
    last run.  replace=(old, new): one line that this interpreter prints
    differently, for a reason the stage states (it must occur exactly once).
    """
    if outputs is None:
        outputs = make_run_outputs(stage, env=env)
    what, code, out = outputs[0]
    testcase.assertEqual(code, 0, "make all failed (%s):\n%s"
                         % (describe_exit(code), out[-3000:]))
    expected = (stage_dir(stage) / "expected-output.txt").read_text()
    if replace is not None:
        testcase.assertEqual(expected.count(replace[0]), 1, replace[0])
        expected = expected.replace(*replace)
    for what, code, out in outputs[1:]:
        testcase.assertEqual(code, 0, "make run failed, %s (%s):\n%s"
                             % (what, describe_exit(code), out[-3000:]))
        problem = output_mismatch(out, expected)
        testcase.assertIsNone(problem, "%s: %s" % (what, problem))
    return out


# --- expected output -------------------------------------------------------
# An expected-output file is the real output with every part that changes
# from run to run (timings, addresses) written as <*>, which matches any
# run of characters within one line.

def _line_pattern(expected_line):
    parts = expected_line.split("<*>")
    return re.compile(".*".join(re.escape(p) for p in parts) + r"\Z")


def output_mismatch(actual, expected):
    """None when `actual` matches `expected` line by line, else a message."""
    got = actual.splitlines()
    want = expected.splitlines()
    for number, (g, w) in enumerate(zip(got, want), start=1):
        if not _line_pattern(w).match(g):
            return "line %d differs:\n  expected: %r\n  actual:   %r" % (
                number, w, g)
    if len(got) != len(want):
        return "expected %d lines, got %d; first extra line: %r" % (
            len(want), len(got),
            (got[len(want)] if len(got) > len(want) else want[len(got)]))
    return None


def find_run(block, expected):
    """True when the lines of `block` match a contiguous run of `expected`."""
    lines = block.splitlines()
    patterns = [_line_pattern(w) for w in expected.splitlines()]
    for start in range(len(patterns) - len(lines) + 1):
        if all(patterns[start + i].match(line)
               for i, line in enumerate(lines)):
            return True
    return False


# --- quality gates (tests/gate/, "Quality gates" in tests/README.md) --------

def gate_api():
    """tests/gate/api.py, the one hostile-object vocabulary: RaisingIndex,
    RaisingLen, RaisingIter, RaisingCall, RaisingBool, LyingLen, LyingStr,
    LyingBytes, LyingInt, ClearsItsList / clearing_list(), ShiftyBuffer,
    all raising HostileError, and hostile_values().  Also `support.hostile`."""
    gate = str(TESTS / "gate")
    if gate not in sys.path:
        sys.path.insert(0, gate)
    import api
    return api


def __getattr__(name):
    # support.hostile: the module above, imported on first use.
    if name == "hostile":
        return gate_api()
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def add_module_tests(cls, what, sweep):
    """Give `cls` one test_<stage>_<module> per public module of every stage
    (tests/gate/api.py finds them).  Each calls sweep(stage, module), which
    returns a list of problems, and fails with all of them unless the list
    is empty; a cffi module is skipped where cffi is missing.  The gates
    pass FFI_GATE_STAGES=01,03 when asked for some stages only."""
    api = gate_api()
    wanted = [s for s in os.environ.get("FFI_GATE_STAGES", "").split(",") if s]
    for stage_dir in stages():
        stage = stage_dir.name[:2]
        if wanted and stage not in wanted:
            continue
        for module, needs_cffi in api.public_modules(stage_dir,
                                                     build_dir(stage)):
            def test(self, stage=stage, module=module, needs_cffi=needs_cffi):
                if needs_cffi and not have_cffi():
                    self.skipTest(CFFI_MISSING)
                problems = sweep(stage, module)
                self.assertEqual(problems, [], "\n\n".join(problems))
            test.__doc__ = "%s: %s %s" % (what, stage_dir.name, module)
            setattr(cls, "test_%s_%s" % (stage, module), test)


def sweep_of_source(sweep, module, source):
    """What sweep(stage, module, prefix, env) finds in a module written
    from `source` into a temporary folder: a sweep's self-test, which
    shows that it can fail.  The child's crash is deliberate, so it runs
    without any gate's checker."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, module + ".py").write_text(source)
        env = without_gates(child_env(None))
        env["PYTHONPATH"] = folder + os.pathsep + env["PYTHONPATH"]
        return sweep(None, module, prefix=[], env=env)


def gate_child_prefix():
    """The command to put in front of a python child that the gate should
    check too: under `make memcheck` (FFI_GATE=memcheck) a valgrind command
    line, empty otherwise.  Only for children that are not meant to fail:
    a child that shows a deliberate bug runs without it."""
    import json
    prefix = os.environ.get("FFI_GATE_CHILD_PREFIX")
    return json.loads(prefix) if prefix else []


def without_gates(env=None):
    """A copy of `env` (default os.environ) without the gates' settings:
    for a child that shows a deliberate bug under its own checker, so that
    a running gate neither loads its sanitizer into it nor counts its
    expected report."""
    env = dict(os.environ if env is None else env)
    for name in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                 "LSAN_OPTIONS", "FFI_GATE", "FFI_GATE_CHILD_PREFIX"):
        env.pop(name, None)
    return env


# --- subinterpreters --------------------------------------------------------
# CPython has no public Python API for subinterpreters before 3.14, but each
# version 3.10-3.13 ships a private module that makes one: _xxsubinterpreters
# (3.10-3.12; isolated, with its own GIL, from 3.12) and _interpreters (3.13).

def subinterpreters_module():
    """The private module that creates subinterpreters, or None."""
    for name in ("_interpreters", "_xxsubinterpreters"):
        try:
            return __import__(name)
        except ImportError:
            pass
    return None


def run_in_subinterpreter(code, shared_gil=False):
    """Run `code` (a string) in a new subinterpreter of this process, then
    destroy it.  Returns None when the code ran to the end, else the text
    of the exception it raised ("ImportError: ...").

    From 3.12 the subinterpreter is isolated, with its own GIL, unless
    shared_gil is true: then it shares the main interpreter's GIL, as every
    subinterpreter does before 3.12 (3.13 calls that config "legacy")."""
    interpreters = subinterpreters_module()
    if interpreters is None:
        raise unittest.SkipTest("this interpreter has no subinterpreter module"
                                " (_interpreters or _xxsubinterpreters)")
    if sys.version_info < (3, 12):
        interp = interpreters.create()
    elif sys.version_info < (3, 13):
        interp = interpreters.create(isolated=not shared_gil)
    else:
        interp = interpreters.create("legacy" if shared_gil else "isolated")
    try:
        try:
            failure = interpreters.run_string(interp, code)
        except Exception as exc:        # 3.10-3.12: RunFailedError, whose
            # text is "<class 'ValueError'>: message"
            return re.sub(r"^<class '(?:\w+\.)*(\w+)'>", r"\1", str(exc))
        if failure is None:
            return None
        # 3.13: an exception snapshot
        return "%s: %s" % (failure.type.__name__, failure.msg)
    finally:
        interpreters.destroy(interp)


def interrupt_at_code(module):
    """Python source that imports `module` as m and defines
    interrupt_at(n, wanted, exc): a trace function that raises exc at the
    nth `wanted` event ("line" or "opcode") in m's own frames, where a
    signal handler's exception could surface.  Never on a `with` line: the
    event there as the block ends comes before __exit__, and raising then
    leaves the lock held, which no code of the module can prevent.  For a
    child process (support.run_python): use it with sys.settrace.  It also
    defines interrupt_each_bytecode(make, left_behind, finish), which
    interrupts make() at each of its bytecodes in turn and checks that C
    is left holding nothing each time."""
    return """
import gc, linecache, sys
import %(module)s as m

def interrupt_at(n, wanted, exc):
    seen = [0]
    def local(frame, event, arg):
        text = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
        if event == wanted and not text.lstrip().startswith("with "):
            seen[0] += 1
            if seen[0] == n:
                raise exc
        return local
    def tracer(frame, event, arg):
        if frame.f_code.co_filename != m.__file__:
            return None
        frame.f_trace_opcodes = wanted == "opcode"
        return local
    return tracer

class Interrupt(Exception):
    pass

# Call make() again and again, raising Interrupt before its 1st, 2nd, ...
# bytecode in m's frames, until one call runs to its end; return what that
# call made.  After each interrupted call, collect garbage and check that
# left_behind() (what C still holds) is 0.
def interrupt_each_bytecode(make, left_behind, finish=lambda made: None):
    # Once without raising (finish() disposes of what it made): 3.12
    # and 3.13 give no opcode events the first time a traced function runs.
    sys.settrace(interrupt_at(0, "opcode", Interrupt))
    finish(make())
    sys.settrace(None)
    for n in range(1, 1000):
        sys.settrace(interrupt_at(n, "opcode", Interrupt))
        try:
            made = make()
        except Interrupt:
            made = None
        finally:
            sys.settrace(None)
        if made is not None:            # not interrupted: all done
            break
        gc.collect()
        left = left_behind()
        assert left == 0, "interrupted before bytecode %%d: %%r left" %% (
            n, left)
    assert n > 5, n                     # it did interrupt
    return made
""" % {"module": module}


# --- measuring C memory ------------------------------------------------------

class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks "
                "uordblks fordblks keepcost".split()]


def c_heap_meter():
    """(name, function) where function() gives the bytes that malloc has
    handed out in this process and not had back, or (None, None).

    Under AddressSanitizer it is ASan's own count: ASan replaces malloc,
    and glibc's mallinfo2() then reads 0 whatever is allocated (100
    mallocs of 18 KB: +0 bytes).  Otherwise glibc's mallinfo2() (2.33):
    bytes in use in the heap plus those in mmap()ed chunks.  Python's
    small objects live in pymalloc's arenas, which are mmap()ed and not
    counted by either: this is C's memory, and Python's large blocks."""
    process = ctypes.CDLL(None)
    try:
        asan = process.__sanitizer_get_current_allocated_bytes
    except AttributeError:
        pass
    else:
        asan.restype, asan.argtypes = ctypes.c_size_t, []
        return "AddressSanitizer's allocated bytes", asan
    try:
        mallinfo2 = process.mallinfo2
    except AttributeError:
        return None, None
    mallinfo2.restype, mallinfo2.argtypes = _MallInfo2, []

    def glibc():
        info = mallinfo2()
        return info.uordblks + info.hblkhd
    return "glibc's mallinfo2()", glibc


def c_heap_bytes():
    """The bytes malloc has handed out and not had back (c_heap_meter),
    or None where no meter works."""
    meter = c_heap_meter()[1]
    return None if meter is None else meter()
