"""make bench: what one crossing between Python and C costs, road by road.

    python3 bench.py            # the full run (a few minutes on 2 cores)
    python3 bench.py --quick    # every row, a few short rounds: proves it runs

Three tables, each with a pure-Python baseline that the ratios refer to:

1. one call from Python into C (the calling conventions of road 1, cffi's
   two modes, ctypes with and without argtypes, Cython, pybind11,
   nanobind);
2. one call from C back into Python (a C loop calls a Python function);
3. one element of a list that C sums: copied element by element, or read
   in place through the buffer protocol;
4. for scale, no FFI at all: one line sent to a child process through a
   pipe and read back (wall-clock time: the other process's work counts).

Rounds are interleaved: every round times every row once, each round in
another order, so that a slow moment of the machine falls on all rows
alike.  Time is the CPU time of this thread (time.thread_time), so that
other processes on the machine do not count.  Each table gives the median
of the rounds and the spread between the 25th and 75th percentile.  Then a Mermaid xychart-beta block per table,
which GitHub renders as a chart.

Build first (make does it): crossing_capi, _crossing_cffi and libcrossing.so
are needed; crossing_cython, crossing_pybind and crossing_nanobind are
optional, and a row whose module is missing says why instead of a number.

    python3 bench.py --tools    # for the Makefile: the optional tools
"""

import argparse
import array
import ctypes
import importlib
import os
import platform
import statistics
import struct
import sys
import sysconfig
import time
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE / "libcrossing.so"
WHY = HERE / "build-optional"

FULL = {"rounds": 31, "target": 0.03, "callbacks": 1000, "elements": 10_000}
QUICK = {"rounds": 3, "target": 0.0002, "callbacks": 50, "elements": 500}

TABLES = {
    "call": "One call from Python into C: ns per call",
    "callback": "One call from C back into Python: ns per call",
    "element": "One element of a list summed by C: ns per element",
    "ipc": "For scale, no FFI: one round trip to another process",
}
UNIT = {"call": "ns/call", "callback": "ns/call", "element": "ns/element",
        "ipc": "ns/trip"}
CHARTS = ("call", "callback", "element")


class Missing(Exception):
    """A road that cannot run here; the message says why."""


# --- the pure-Python baselines ---------------------------------------------

def py_add(a, b):
    return a + b


def echo(i):
    return i


def echo_ctx(ctx, i):
    return i


def py_call_back(fn, n):
    total = 0
    for i in range(n):
        total += fn(i)
    return total


def py_sum(values):
    total = 0
    for value in values:
        total += value
    return total


# --- the roads: each loader returns a namespace, or raises Missing ----------

def _import(name, optional=None):
    sys.path.insert(0, str(HERE))
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        if optional is None:
            raise Missing("%s is not built (make -C 01-extern/bench): %s"
                          % (name, exc)) from None
        why = WHY / (optional + sysconfig.get_config_var("EXT_SUFFIX")
                     + ".why")
        if why.is_file():
            raise Missing(why.read_text().strip()) from None
        raise Missing("not built (make -C 01-extern/bench builds it)") \
            from None
    finally:
        sys.path.remove(str(HERE))


def load_capi():
    return _import("crossing_capi")


def load_cffi_api():
    try:
        import cffi  # noqa: F401
    except ImportError:
        raise Missing("cffi is not installed for this interpreter") from None
    module = _import("_crossing_cffi")
    ffi, lib = module.ffi, module.lib

    # The callee of the callback row: compiled into the module as a C
    # function, so C calls it without any run-time trampoline.
    @ffi.def_extern()
    def py_call_back(ctx, i):
        return i

    return {"ffi": ffi, "lib": lib}


def load_cffi_abi():
    try:
        import cffi
    except ImportError:
        raise Missing("cffi is not installed for this interpreter") from None
    sys.path.insert(0, str(HERE))
    try:
        from build_crossing_cffi import CDEF
    finally:
        sys.path.remove(str(HERE))
    if not SHARED.is_file():
        raise Missing("libcrossing.so is not built (make -C 01-extern/bench)")
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    return {"ffi": ffi, "lib": ffi.dlopen(str(SHARED))}


def load_ctypes(argtypes):
    if not SHARED.is_file():
        raise Missing("libcrossing.so is not built (make -C 01-extern/bench)")
    lib = ctypes.CDLL(str(SHARED))   # each CDLL has its own function objects
    # The result type is always declared: without it ctypes reads a C int.
    lib.cross_add.restype = ctypes.c_longlong
    lib.cross_sum.restype = ctypes.c_longlong
    lib.cross_call_back.restype = ctypes.c_longlong
    callback_type = ctypes.CFUNCTYPE(ctypes.c_longlong, ctypes.c_void_p,
                                     ctypes.c_int)
    if argtypes:
        lib.cross_add.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.cross_sum.argtypes = [ctypes.POINTER(ctypes.c_longlong),
                                  ctypes.c_size_t]
        lib.cross_call_back.argtypes = [callback_type, ctypes.c_void_p,
                                        ctypes.c_int]
    return {"lib": lib, "callback_type": callback_type}


def load_cython():
    return _import("crossing_cython", optional="cython")


def load_pybind11():
    return _import("crossing_pybind", optional="pybind11")


def load_nanobind():
    return _import("crossing_nanobind", optional="nanobind")


ROADS = {
    "python": lambda: None,
    "capi": load_capi,
    "cffi-api": load_cffi_api,
    "cffi-abi": load_cffi_abi,
    "ctypes": lambda: load_ctypes(argtypes=True),
    "ctypes-guess": lambda: load_ctypes(argtypes=False),
    "cython": load_cython,
    "pybind11": load_pybind11,
    "nanobind": load_nanobind,
    "subprocess": lambda: None,
}


def pipe_round_trip():
    """f() sends one line to `cat` in a child process and reads it back."""
    import atexit
    import subprocess
    child = subprocess.Popen(["cat"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, bufsize=0)

    def stop():
        child.stdin.close()
        child.wait()
        child.stdout.close()
    atexit.register(stop)
    write, readline = child.stdin.write, child.stdout.readline

    def f():
        write(b"3\n")
        return int(readline())
    return {"f": f}


# --- the rows ---------------------------------------------------------------
# (table, road, label, short label for the chart, statement, make(road, cfg))
# `make` returns the globals the statement runs with; `per` divides the
# time of one statement (callbacks or elements per call).

def _rows(cfg):
    n_cb, n_el = cfg["callbacks"], cfg["elements"]
    values = list(range(n_el))
    buffer = array.array("q", values)
    ll_array = ctypes.c_longlong * n_el

    def cffi_copy(r):
        ffi, lib = r["ffi"], r["lib"]
        return {"f": lambda v: lib.cross_sum(ffi.new("long long[]", v), len(v)),
                "data": values}

    def cffi_shared(r):
        ffi, lib = r["ffi"], r["lib"]
        return {"f": lambda b: lib.cross_sum(
            ffi.from_buffer("long long[]", b), len(b)), "data": buffer}

    def cffi_abi_callback(r):
        ffi, lib = r["ffi"], r["lib"]
        # Made once, outside the timing: libffi builds a trampoline for it.
        callback = ffi.callback("long long(void *, int)", echo_ctx)
        return {"f": lambda n: lib.cross_call_back(callback, ffi.NULL, n),
                "keep": callback, "n": n_cb}

    def ctypes_callback(r):
        callback = r["callback_type"](echo_ctx)
        lib = r["lib"]
        return {"f": lambda n: lib.cross_call_back(callback, None, n),
                "keep": callback, "n": n_cb}

    def ctypes_copy(r):
        lib = r["lib"]
        return {"f": lambda v: lib.cross_sum(ll_array(*v), len(v)),
                "data": values}

    def ctypes_shared(r):
        lib = r["lib"]
        return {"f": lambda b: lib.cross_sum(ll_array.from_buffer(b), len(b)),
                "data": buffer}

    # What most rows time: the library's own add() or call_back(), or, for
    # the cffi and ctypes rows, C's cross_add() through their `lib`.
    def own_add(r):
        return {"add": r.add}

    def lib_add(r):
        return {"add": r["lib"].cross_add}

    def own_call_back(r):
        return {"f": r.call_back, "echo": echo, "n": n_cb}

    call = "call"
    rows = [
        (call, "python", "Python function", "Python", "add(1, 2)",
         lambda r: {"add": py_add}),
        (call, "python", "empty timing loop (reference)", "loop", "pass",
         lambda r: {}),
        (call, "capi", "C API, METH_NOARGS", "NOARGS", "nothing()",
         lambda r: {"nothing": r.nothing}),
        (call, "capi", "C API, METH_O", "O", "inc(1)",
         lambda r: {"inc": r.inc}),
        (call, "capi", "C API, METH_FASTCALL", "FASTCALL", "add(1, 2)",
         own_add),
        (call, "capi", "C API, METH_VARARGS", "VARARGS", "add(1, 2)",
         lambda r: {"add": r.add_varargs}),
        (call, "capi", "C API, METH_VARARGS|METH_KEYWORDS", "KEYWORDS",
         "add(1, 2)", lambda r: {"add": r.add_keywords}),
        (call, "capi", "C API, METH_VARARGS|METH_KEYWORDS, by name",
         "KEYWORDS a=,b=", "add(a=1, b=2)", lambda r: {"add": r.add_keywords}),
        (call, "cffi-api", "cffi API mode", "cffi API", "add(1, 2)", lib_add),
        (call, "cffi-abi", "cffi ABI mode (dlopen)", "cffi ABI", "add(1, 2)",
         lib_add),
        (call, "ctypes", "ctypes, argtypes set", "ctypes", "add(1, 2)",
         lib_add),
        (call, "ctypes-guess", "ctypes, no argtypes", "ctypes guess",
         "add(1, 2)", lib_add),
        (call, "cython", "Cython", "Cython", "add(1, 2)", own_add),
        (call, "pybind11", "pybind11", "pybind11", "add(1, 2)", own_add),
        (call, "nanobind", "nanobind", "nanobind", "add(1, 2)", own_add),

        ("callback", "python", "Python calls a Python function", "Python",
         "f(echo, n)", lambda r: {"f": py_call_back, "echo": echo, "n": n_cb}),
        ("callback", "capi", "C API, PyObject_CallOneArg", "C API",
         "f(echo, n)", own_call_back),
        ("callback", "cffi-api", 'cffi API mode, extern "Python"',
         "cffi extern", "f(ffi.NULL, n)",
         lambda r: {"f": lambda ctx, n: r["lib"].cross_call_back(
             r["lib"].py_call_back, ctx, n), "ffi": r["ffi"], "n": n_cb}),
        ("callback", "cffi-abi", "cffi ABI mode, ffi.callback", "cffi callback",
         "f(n)", cffi_abi_callback),
        ("callback", "ctypes", "ctypes, CFUNCTYPE", "ctypes", "f(n)",
         ctypes_callback),
        ("callback", "cython", "Cython, cdef function", "Cython",
         "f(echo, n)", own_call_back),
        ("callback", "pybind11", "pybind11, std::function", "pybind11",
         "f(echo, n)", own_call_back),
        ("callback", "nanobind", "nanobind, std::function", "nanobind",
         "f(echo, n)", own_call_back),

        ("element", "python", "Python for loop over a list", "Python loop",
         "f(data)", lambda r: {"f": py_sum, "data": values}),
        ("element", "python", "built-in sum() of a list (C inside)",
         "sum()", "f(data)", lambda r: {"f": sum, "data": values}),
        ("element", "capi", "C API, list copied", "C API copy", "f(data)",
         lambda r: {"f": r.sum_list, "data": values}),
        ("element", "capi", "C API, buffer shared", "C API shared",
         "f(data)", lambda r: {"f": r.sum_buffer, "data": buffer}),
        ("element", "cffi-api", "cffi API mode, ffi.new copy", "cffi API copy",
         "f(data)", cffi_copy),
        ("element", "cffi-api", "cffi API mode, ffi.from_buffer",
         "cffi API shared", "f(data)", cffi_shared),
        ("element", "cffi-abi", "cffi ABI mode, ffi.new copy", "cffi ABI copy",
         "f(data)", cffi_copy),
        ("element", "cffi-abi", "cffi ABI mode, ffi.from_buffer",
         "cffi ABI shared", "f(data)", cffi_shared),
        ("element", "ctypes", "ctypes, array copy", "ctypes copy", "f(data)",
         ctypes_copy),
        ("element", "ctypes", "ctypes, from_buffer", "ctypes shared",
         "f(data)", ctypes_shared),
        ("element", "cython", "Cython, list copied", "Cython copy", "f(data)",
         lambda r: {"f": r.sum_list, "data": values}),
        ("element", "cython", "Cython, typed memoryview", "Cython shared",
         "f(data)", lambda r: {"f": r.sum_buffer, "data": buffer}),
        ("element", "pybind11", "pybind11, std::vector copy", "pybind11 copy",
         "f(data)", lambda r: {"f": r.sum_list, "data": values}),
        ("element", "pybind11", "pybind11, py::buffer", "pybind11 shared",
         "f(data)", lambda r: {"f": r.sum_buffer, "data": buffer}),
        ("element", "nanobind", "nanobind, std::vector copy",
         "nanobind copy", "f(data)",
         lambda r: {"f": r.sum_list, "data": values}),
        ("element", "nanobind", "nanobind, nb::ndarray", "nanobind shared",
         "f(data)", lambda r: {"f": r.sum_buffer, "data": buffer}),

        ("ipc", "python", "Python function (as in the first table)",
         "Python", "add(1, 2)", lambda r: {"add": py_add}),
        ("ipc", "subprocess", "a line to cat through a pipe, and back",
         "pipe", "f()", lambda r: pipe_round_trip()),
    ]
    per = {"call": 1, "callback": n_cb, "element": n_el, "ipc": 1}
    expected = {"call": 3, "callback": sum(range(n_cb)),
                "element": sum(values), "ipc": 3}
    return rows, per, expected


class Row:
    def __init__(self, table, road, label, short, stmt, namespace, per):
        self.table, self.road, self.label, self.short = table, road, label, short
        self.stmt, self.namespace, self.per = stmt, namespace, per
        # CPU time of this thread: time the machine gave to other
        # processes meanwhile does not count.  A round trip to another
        # process is mostly waiting for it, so that table takes wall time.
        clock = time.perf_counter if table == "ipc" else time.thread_time
        self.timer = timeit.Timer(stmt, timer=clock, globals=namespace)
        self.number = 1
        self.samples = []

    def calibrate(self, target):
        """Find how many runs of the statement take about `target` s."""
        while True:
            took = self.timer.timeit(self.number)
            if took >= target / 4 or self.number >= 10 ** 8:
                break
            self.number *= 4 if took < target / 40 else 2
        self.number = max(1, int(self.number * target / max(took, 1e-9)))

    def measure(self):
        took = self.timer.timeit(self.number)
        self.samples.append(took / self.number / self.per * 1e9)

    def stats(self):
        """(median, 25th percentile, 75th percentile) of the samples, ns."""
        ordered = sorted(self.samples)
        if len(ordered) < 2:
            return ordered[0], ordered[0], ordered[0]
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        return statistics.median(ordered), q1, q3


def build_rows(cfg):
    """[Row] for the roads that load, [(table, label, reason)] for the
    rest, and what built the binding libraries' modules ("Cython 3.3.1")."""
    specs, per, expected = _rows(cfg)
    loaded, missing_roads = {}, {}
    for name, loader in ROADS.items():
        try:
            loaded[name] = loader()
        except Missing as exc:
            missing_roads[name] = str(exc)
    built_with = [getattr(loaded[name], "built_with", "%s (version unknown)"
                          % name)
                  for name in ("cython", "pybind11", "nanobind")
                  if name in loaded]
    rows, missing = [], []
    for table, road, label, short, stmt, make in specs:
        if road in missing_roads:
            missing.append((table, label, missing_roads[road]))
            continue
        namespace = make(loaded[road])
        # Every row computes the same answer, or it is not the same work.
        if table in ("call", "ipc"):
            want = {"pass": None, "nothing()": 0, "inc(1)": 2}.get(stmt, 3)
        else:
            want = expected[table]
        got = None if stmt == "pass" else eval(stmt, dict(namespace))
        if got != want:
            raise AssertionError("%s: %s gave %r, expected %r"
                                 % (label, stmt, got, want))
        rows.append(Row(table, road, label, short, stmt, namespace,
                        per[table]))
    return rows, missing, built_with


def run(cfg):
    rows, missing, built_with = build_rows(cfg)
    for row in rows:
        row.calibrate(cfg["target"])
    for round_number in range(cfg["rounds"]):
        shift = round_number % len(rows)
        for row in rows[shift:] + rows[:shift]:
            row.measure()
    return rows, missing, built_with


# --- what each module weighs ------------------------------------------------

MODULES = (("C API", "crossing_capi"), ("cffi API", "_crossing_cffi"),
           ("Cython", "crossing_cython"), ("pybind11", "crossing_pybind"),
           ("nanobind", "crossing_nanobind"))


def loaded_size(path):
    """Bytes of code and data the loader maps for an ELF shared object (the
    sum of its PT_LOAD segments, debug information not counted), or None
    for a file that is not 64-bit ELF."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None
    order = "<" if data[5] == 1 else ">"
    (phoff,) = struct.unpack_from(order + "Q", data, 0x20)
    entry_size, count = struct.unpack_from(order + "HH", data, 0x36)
    total = 0
    for i in range(count):
        header = phoff + i * entry_size
        (kind,) = struct.unpack_from(order + "I", data, header)
        if kind == 1:   # PT_LOAD; p_memsz is at offset 0x28
            total += struct.unpack_from(order + "Q", data, header + 0x28)[0]
    return total


def module_sizes():
    """["C API 9.2 KB", ...] for the modules built for this interpreter."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    sizes = []
    for name, stem in MODULES:
        path = HERE / (stem + suffix)
        size = loaded_size(path) if path.is_file() else None
        if size is not None:
            sizes.append("%s %s KB" % (name, _number(size / 1000)))
    return sizes


# --- the tools the Makefile asks about --------------------------------------

def tool_facts():
    """Six words for the Makefile: Cython's version; pybind11's version and
    include folder; nanobind's version, include and source folders.  "-"
    stands for what this interpreter cannot import."""
    def find(name):
        try:
            return importlib.import_module(name)
        except ImportError:
            return None
    cython, pybind11, nanobind = map(find, ("Cython", "pybind11", "nanobind"))
    return [cython.__version__ if cython else "-",
            pybind11.__version__ if pybind11 else "-",
            pybind11.get_include() if pybind11 else "-",
            nanobind.__version__ if nanobind else "-",
            nanobind.include_dir() if nanobind else "-",
            nanobind.source_dir() if nanobind else "-"]


# --- the report -------------------------------------------------------------

def _number(ns):
    return "%.1f" % ns if ns < 100 else "%.0f" % ns


def _ratio(x):
    return "%.2f" % x if x < 10 else "%.1f" % x if x < 100 else "%.0f" % x


def report(rows, missing, cfg, compilers, built_with):
    out = []
    out.append("make bench: Python %s (%s), %s %s"
               % (platform.python_version(), platform.python_implementation(),
                  platform.system(), platform.machine()))
    out.append("modules built with: %s" % "; ".join(compilers))
    if built_with:
        out.append("binding libraries: %s" % ", ".join(built_with))
    sizes = module_sizes()
    if sizes:
        out.append("module size (code and data loaded): %s"
                   % ", ".join(sizes))
    out.append("%d rounds, interleaved; thread CPU time (the last table: "
               "wall time);" % cfg["rounds"])
    out.append("median and 25th-75th percentile of the rounds;")
    out.append("x = median / the median of the table's first row "
               "(pure Python)")
    for table, title in TABLES.items():
        in_table = [r for r in rows if r.table == table]
        skipped = [m for m in missing if m[0] == table]
        if not in_table:
            continue
        base = in_table[0].stats()[0]
        if table == "callback":
            title += " (%d calls per crossing)" % cfg["callbacks"]
        elif table == "element":
            title += " (%d elements per call)" % cfg["elements"]
        elif table == "ipc":
            title += " (wall time)"
        out.append("")
        out.append("== %s ==" % title)
        width = max(len(r.label) for r in in_table) + 2
        width = max([width] + [len(m[1]) + 2 for m in skipped])
        out.append("%-*s %10s %17s %8s" % (width, "row", UNIT[table],
                                           "p25-p75", "x"))
        for row in in_table:
            median, q1, q3 = row.stats()
            out.append("%-*s %10s %17s %8s"
                       % (width, row.label, _number(median),
                          "%s-%s" % (_number(q1), _number(q3)),
                          _ratio(median / base)))
        for _, label, reason in skipped:
            out.append("%-*s %10s   skipped: %s" % (width, label, "-", reason))
    for table, title in TABLES.items():
        in_table = [r for r in rows if r.table == table]
        if in_table and table in CHARTS:
            out.append("")
            out.extend(chart(in_table, title, UNIT[table]))
    return "\n".join(out)


def chart(rows, title, unit):
    """A Mermaid xychart-beta block: one bar per row, the medians."""
    medians = [row.stats()[0] for row in rows]
    top = max(medians)
    step = 10 ** max(0, len(str(int(top))) - 1)
    top = (int(top // step) + 1) * step
    labels = ", ".join('"%s"' % row.short for row in rows)
    values = ", ".join(_number(m) for m in medians)
    return ["```mermaid",
            "xychart-beta horizontal",
            '    title "%s"' % title.replace('"', "'"),
            "    x-axis [%s]" % labels,
            '    y-axis "%s (median)" 0 --> %d' % (unit, top),
            "    bar [%s]" % values,
            "```"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="every row, few short rounds (a test, not a "
                             "measurement)")
    parser.add_argument("--compiler", default=os.environ.get("CC", "cc"),
                        help="the C compiler line to print")
    parser.add_argument("--cxx-compiler",
                        help="the C++ compiler line to print")
    parser.add_argument("--tools", action="store_true",
                        help="print the optional tools (for the Makefile) "
                             "and exit")
    args = parser.parse_args(argv)
    if args.tools:
        print(" ".join(tool_facts()))
        return 0
    cfg = QUICK if args.quick else FULL
    rows, missing, built_with = run(cfg)
    compilers = [args.compiler] + ([args.cxx_compiler]
                                   if args.cxx_compiler else [])
    print(report(rows, missing, cfg, compilers, built_with))
    return 0


if __name__ == "__main__":
    sys.exit(main())
