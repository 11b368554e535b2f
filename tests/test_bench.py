"""make bench runs: every row of 01-extern/bench/bench.py gives a number
(or, for an optional tool, says why not), every chart is a well-formed
Mermaid xychart-beta block, and the recorded run that the When-to-FFI chapter shows is
complete.  `bench.py --quick` takes well under a second: it proves the rows
run, it measures nothing."""
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import support

BENCH = support.ROOT / "01-extern" / "bench"
RECORDED = BENCH / "measured-output.txt"
OPTIONAL_ROADS = {"cython", "pybind11", "nanobind"}
BINDING_NAMES = {"cython": "Cython", "pybind11": "pybind11",
                 "nanobind": "nanobind"}
CFFI_ROADS = {"cffi-api", "cffi-abi"}

ROW = re.compile(r"^(?P<label>\S.*?)\s{2,}(?P<median>\d+(?:\.\d+)?)\s+"
                 r"(?P<q1>\d+(?:\.\d+)?)-(?P<q3>\d+(?:\.\d+)?)\s+"
                 r"(?P<ratio>\d+(?:\.\d+)?)$")
SKIPPED = re.compile(r"^(?P<label>\S.*?)\s{2,}-\s+skipped: (?P<reason>.+)$")


def load_bench():
    spec = importlib.util.spec_from_file_location("bench",
                                                  BENCH / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_report(text):
    """({table title: {label: ('row', median, q1, q3, ratio) or
    ('skipped', reason)}}, [chart lines]) of one bench.py report."""
    tables, charts, title = {}, [], None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("== ") and line.endswith(" =="):
            title = line[3:-3]
            tables[title] = {}
        elif line == "```mermaid":
            end = lines.index("```", i + 1)
            charts.append(lines[i + 1:end])
            i = end
            title = None
        elif title is not None and line and not line.startswith("row "):
            match = ROW.match(line)
            if match:
                tables[title][match["label"]] = (
                    "row", float(match["median"]), float(match["q1"]),
                    float(match["q3"]), float(match["ratio"]))
            else:
                match = SKIPPED.match(line)
                if match is None:
                    raise ValueError("not a row: %r" % line)
                tables[title][match["label"]] = ("skipped", match["reason"])
        i += 1
    return tables, charts


def _quoted_list(text):
    return re.findall(r'"([^"]*)"', text)


def chart_problems(chart):
    """What is wrong with one xychart-beta block (its lines, no fences)."""
    problems = []
    if not chart or not re.match(r"^xychart-beta( horizontal)?$", chart[0]):
        return ["does not start with xychart-beta: %r" % chart[:1]]
    fields = {}
    for line in chart[1:]:
        key = line.strip().split(" ", 1)[0]
        fields[key] = line.strip()[len(key):].strip()
    for key in ("title", "x-axis", "y-axis", "bar"):
        if key not in fields:
            problems.append("no %s line" % key)
    if problems:
        return problems
    if not re.fullmatch(r'"[^"]+"', fields["title"]):
        problems.append("title is not one quoted string")
    axis = re.fullmatch(r"\[(.*)\]", fields["x-axis"])
    bars = re.fullmatch(r"\[(.*)\]", fields["bar"])
    y_axis = re.fullmatch(r'"[^"]+" (\d+(?:\.\d+)?) --> (\d+(?:\.\d+)?)',
                          fields["y-axis"])
    if not (axis and bars and y_axis):
        return problems + ["x-axis, y-axis or bar is malformed"]
    labels = _quoted_list(axis.group(1))
    if ", ".join('"%s"' % label for label in labels) != axis.group(1):
        problems.append("x-axis labels are not a list of quoted strings")
    values = [float(v) for v in bars.group(1).split(", ")]
    if len(labels) != len(values) or not values:
        problems.append("%d labels for %d bars" % (len(labels), len(values)))
    low, high = float(y_axis.group(1)), float(y_axis.group(2))
    if not low <= min(values) or not max(values) <= high:
        problems.append("bars outside the y-axis range")
    return problems


class TestChartCheck(unittest.TestCase):
    """The chart check itself can fail."""

    GOOD = ['xychart-beta horizontal', '    title "t"',
            '    x-axis ["a", "b"]', '    y-axis "ns" 0 --> 100',
            '    bar [1.5, 90]']

    def test_accepts_a_good_chart(self):
        self.assertEqual(chart_problems(self.GOOD), [])

    def test_finds_what_is_wrong(self):
        self.assertTrue(chart_problems(["graph LR"] + self.GOOD[1:]))
        self.assertTrue(chart_problems(self.GOOD[:4] + ["    bar [1.5]"]))
        self.assertTrue(chart_problems(self.GOOD[:4] + ["    bar [1, 900]"]))
        self.assertTrue(chart_problems(self.GOOD[:2] + ['    x-axis [a, b]']
                                       + self.GOOD[3:]))
        self.assertTrue(chart_problems(self.GOOD[:3] + self.GOOD[4:]))


def optional_pieces():
    """{road: [what it needs that this interpreter or machine lacks]}: the
    binding library importable here, and for C++ a compiler (the one the
    Makefile picks: $CXX, else clang++ with CC=clang, else g++)."""
    cc = os.environ.get("CC", "")
    cxx = os.environ.get("CXX") or ("clang++" if "clang" in cc else "g++")
    have_cxx = shutil.which(cxx.split()[0]) is not None
    lacks = {}
    for road, module, needs_cxx in (("cython", "Cython", False),
                                    ("pybind11", "pybind11", True),
                                    ("nanobind", "nanobind", True)):
        lacks[road] = [] if importlib.util.find_spec(module) else [module]
        if needs_cxx and not have_cxx:
            lacks[road].append(cxx)
    return lacks


class TestBench(unittest.TestCase):
    """`bench.py --quick` after `make -C 01-extern/bench all`: every row
    of every road is measured, or says which piece is missing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Every module, the optional ones too: their first build takes
        # about 30 s (nanobind's runtime most of it), later ones nothing.
        cls.lacks = optional_pieces()
        code, out = cls._make_all()
        if code != 0:
            raise AssertionError("make -C 01-extern/bench all:\n" + out)
        cls.bench = load_bench()
        proc = subprocess.run([support.PYTHON, str(BENCH / "bench.py"),
                               "--quick"], capture_output=True, text=True,
                              timeout=60)
        cls.proc = proc
        cls.tables, cls.charts = ({}, []) if proc.returncode else \
            parse_report(proc.stdout)

    @classmethod
    def _make_all(cls):
        # Make starts the interpreter several times to ask it about
        # itself: skip it when every product is newer than its sources.
        names = ["crossing_capi" + support.EXT_SUFFIX, "libcrossing.so"]
        if support.have_cffi():
            names.append("_crossing_cffi" + support.EXT_SUFFIX)
        modules = {"cython": "crossing_cython", "pybind11": "crossing_pybind",
                   "nanobind": "crossing_nanobind"}
        names += [modules[road] + support.EXT_SUFFIX
                  for road, lacks in cls.lacks.items() if not lacks]
        # A road that lacks a piece has its reason written instead.
        names += ["build-optional/%s%s.why" % (road,
                                               support.EXT_SUFFIX)
                  for road, lacks in cls.lacks.items() if lacks]
        products = [BENCH / name for name in names]
        sources = [BENCH / name for name in (
            "crossing_capi.c", "crossing_lib.c", "crossing_lib.h",
            "build_crossing_cffi.py", "crossing_cython.pyx",
            "crossing_pybind.cpp", "crossing_nanobind.cpp",
            "crossing_callback.hpp", "Makefile")]
        if all(p.is_file() for p in products) and \
                min(p.stat().st_mtime for p in products) >= \
                max(p.stat().st_mtime for p in sources):
            return 0, ""
        proc = subprocess.run(
            ["make", "-s", "--no-print-directory", "-C", str(BENCH),
             "all", "PYTHON=" + support.PYTHON],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=600)
        return proc.returncode, proc.stdout

    def specs(self):
        rows, _, _ = self.bench._rows(self.bench.QUICK)
        return rows

    def test_quick_run_succeeds(self):
        self.assertEqual(self.proc.returncode, 0,
                         support.describe_exit(self.proc.returncode)
                         + "\n" + self.proc.stderr[-3000:])

    def test_every_row_runs_or_says_why(self):
        titles = list(self.tables)
        self.assertEqual(len(titles), len(self.bench.TABLES), titles)
        by_table = dict(zip(self.bench.TABLES, titles))
        for table, road, label, *_ in self.specs():
            with self.subTest(row=label):
                got = self.tables[by_table[table]].get(label)
                self.assertIsNotNone(got, "row missing from the report")
                if got[0] == "row":
                    median, q1, q3, ratio = got[1:]
                    self.assertLessEqual(q1, median)
                    self.assertLessEqual(median, q3)
                    continue
                reason = got[1]
                if road in CFFI_ROADS:
                    self.assertFalse(support.have_cffi(), reason)
                    self.assertIn("cffi", reason)
                else:
                    self.assertIn(road, OPTIONAL_ROADS,
                                  "a core row was skipped: " + reason)
                    # Skipped only for a piece this machine lacks, and
                    # the reason names it.
                    self.assertTrue(self.lacks[road], "%s has everything it "
                                    "needs here, yet: %s" % (road, reason))
                    for piece in self.lacks[road]:
                        self.assertIn(piece + " is not installed", reason)

    def test_header_names_the_binding_libraries(self):
        header = self.proc.stdout.split("\n\n", 1)[0]
        match = re.search(r"^binding libraries: (.*)$", header, re.M)
        present = [road for road, lacks in self.lacks.items() if not lacks]
        if not present:
            self.assertIsNone(match, header)
            return
        self.assertIsNotNone(match, header)
        names = [part.split()[0] for part in match.group(1).split(", ")]
        self.assertEqual(names, [BINDING_NAMES[road] for road in present])
        for part in match.group(1).split(", "):
            self.assertRegex(part, r"^\w+ \d+\.\d+\.\d+")

    def test_capi_messages_name_the_function_and_the_argument(self):
        # Road 1's house form, as in every stage: "f() argument 'x' ...".
        capi = self.bench.load_capi()
        cases = [
            (lambda: capi.inc("1"), TypeError,
             "inc() argument 'x' must be int, not str"),
            (lambda: capi.inc(2**31 - 1), OverflowError,
             "inc() argument 'x' must be in -2147483648..2147483646"),
            (lambda: capi.add(1, 2.0), TypeError,
             "add() argument 'b' must be int, not float"),
            (lambda: capi.call_back(None, 1), TypeError,
             "call_back() argument 'fn' must be callable, not NoneType"),
            (lambda: capi.call_back(abs, -1), OverflowError,
             "call_back() argument 'n' must be in 0..2147483647"),
            (lambda: capi.sum_list(1), TypeError,
             "sum_list() argument 'values' must be a sequence")]
        for call, error, message in cases:
            with self.subTest(message):
                with self.assertRaises(error) as caught:
                    call()
                self.assertEqual(str(caught.exception), message)

    def test_cython_add_takes_the_fast_convention(self):
        # The When-to-FFI chapter: Cython makes `def add(int a, int b)` a function of
        # METH_FASTCALL | METH_KEYWORDS, road 1's fast convention plus names.
        if self.lacks["cython"]:
            self.skipTest("Cython is not installed for this interpreter")
        generated = BENCH / "build-optional" / (
            "crossing_cython" + os.path.splitext(support.EXT_SUFFIX)[0] + ".c")
        table = re.search(r'static PyMethodDef __pyx_mdef_\w+add = '
                          r'\{"add", [^;]*;', generated.read_text())
        self.assertIsNotNone(table, "no method table entry for add")
        self.assertRegex(table.group(0),
                         r"\b(__Pyx_)?METH_FASTCALL\|METH_KEYWORDS, ")

    def test_ratios_refer_to_the_pure_python_row(self):
        for title, rows in self.tables.items():
            with self.subTest(table=title):
                first = next(iter(rows.values()))
                self.assertEqual(first[0], "row")
                self.assertEqual(first[4], 1.0)

    def test_every_chart_is_well_formed(self):
        self.assertEqual(len(self.charts), len(self.bench.CHARTS))
        for chart, (title, rows) in zip(self.charts, self.tables.items()):
            with self.subTest(table=title):
                self.assertEqual(chart_problems(chart), [])
                measured = [r for r in rows.values() if r[0] == "row"]
                bars = re.search(r"bar \[(.*)\]", "\n".join(chart)).group(1)
                self.assertEqual(len(bars.split(", ")), len(measured))


class MutantRoad:
    """A binding module as the optional roads build it, with one function
    made wrong on request."""
    built_with = "mutant 0.0.0"

    def __init__(self, wrong):
        self.wrong = wrong

    def nothing(self):
        return 0

    def add(self, a, b):
        return a + b + (self.wrong == "add")

    def call_back(self, fn, n):
        # The mutant forgets the last call.
        return sum(fn(i) for i in range(n - (self.wrong == "call_back")))

    def sum_list(self, values):
        return sum(values)

    def sum_buffer(self, values):
        # The mutant reads one element too few.
        return sum(values[:len(values) - (self.wrong == "sum_buffer")])


class TestSelfCheck(unittest.TestCase):
    """Every row checks the answer of its statement before it is timed: a
    road that computes something else fails the run, naming the row."""

    def build_with(self, road, module):
        bench = load_bench()

        def missing():
            raise bench.Missing("not in this test")
        bench.ROADS = {name: (lambda: module) if name == road
                       else bench.ROADS[name] if name == "python"
                       else missing for name in bench.ROADS}
        return bench.build_rows(bench.QUICK)

    def test_a_correct_road_passes(self):
        for road in sorted(OPTIONAL_ROADS):
            with self.subTest(road=road):
                rows, missing, built_with = self.build_with(
                    road, MutantRoad(None))
                self.assertEqual(built_with, ["mutant 0.0.0"])
                self.assertEqual({r.road for r in rows}, {"python", road})

    def test_a_wrong_road_fails(self):
        label = {"add": "nanobind", "call_back": "nanobind, std::function",
                 "sum_buffer": "nanobind, nb::ndarray"}
        for wrong, row in label.items():
            with self.subTest(wrong=wrong):
                with self.assertRaisesRegex(AssertionError,
                                            "^%s: " % re.escape(row)):
                    self.build_with("nanobind", MutantRoad(wrong))


class TestMissingPieces(unittest.TestCase):
    """`make optional` without a binding library or a C++ compiler: one
    line per road names what is missing and how to install it, the .why
    file bench.py prints holds the same line, and make succeeds."""

    def make_optional(self, env_extra, *args):
        with tempfile.TemporaryDirectory() as build:
            env = dict(os.environ, **env_extra)
            proc = subprocess.run(
                ["make", "-s", "--no-print-directory", "-C", str(BENCH),
                 "PYTHON=" + support.PYTHON, "BUILD=" + build] + list(args),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                env=env, timeout=300)
            why = {}
            for path in Path(build, "build-optional").glob("*.why"):
                why[path.name.split(".")[0]] = path.read_text().strip()
        self.assertEqual(proc.returncode, 0, proc.stdout)
        skips = dict(re.findall(r"^  SKIP      (\w+): (.*)$", proc.stdout,
                                re.M))
        self.assertEqual(skips, why)
        return skips

    def test_a_missing_binding_library(self):
        # Each library's import fails, as it does where it is not installed.
        with tempfile.TemporaryDirectory() as shadow:
            for name in ("Cython", "pybind11", "nanobind"):
                Path(shadow, name + ".py").write_text(
                    "raise ImportError('hidden by the test')\n")
            skips = self.make_optional({"PYTHONPATH": shadow}, "optional")
        python = support.PYTHON
        for road, name in BINDING_NAMES.items():
            with self.subTest(road=road):
                self.assertEqual(skips[road], "%s is not installed for %s: "
                                 "%s -m pip install %s"
                                 % (name, python, python, name))

    def test_a_missing_cxx_compiler(self):
        skips = self.make_optional({}, "CXX=no-such-c++", "pybind11",
                                   "nanobind")
        self.assertEqual(set(skips), {"pybind11", "nanobind"})
        for road, line in skips.items():
            with self.subTest(road=road):
                self.assertTrue(line.endswith(
                    "no C++ compiler: no-such-c++ is not installed "
                    "(sudo apt-get install g++)"), line)


class TestRecordedRun(unittest.TestCase):
    """The run the When-to-FFI chapter shows: every row measured, every chart sound."""

    def test_recorded_run_is_complete(self):
        tables, charts = parse_report(RECORDED.read_text())
        bench = load_bench()
        rows, _, _ = bench._rows(bench.QUICK)
        labels = {label for rows_ in tables.values() for label in rows_}
        for table, road, label, *_ in rows:
            with self.subTest(row=label):
                self.assertIn(label, labels)
        for title, rows_ in tables.items():
            for label, got in rows_.items():
                with self.subTest(table=title, row=label):
                    self.assertEqual(got[0], "row", got)
        self.assertEqual(len(charts), len(bench.CHARTS))
        for chart in charts:
            self.assertEqual(chart_problems(chart), [])


if __name__ == "__main__":
    unittest.main()
